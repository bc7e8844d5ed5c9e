"""The fast submit path (issue 9): cached reference data never goes stale, the one-statement
insert writes exactly what the ORM wrote, and numbers come from the per-year sequence."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from smartsupport_core import admin_config, numbering, refdata, tickets
from smartsupport_core.errors import ValidationError
from smartsupport_core.models import AuditLog, EmailNotification, Holiday, Ticket, TicketStatusHistory
from smartsupport_core.text_input import MSG_CONTROL
from tests.factories import run_together
from tests.ticket_helpers import IT_DATA, T0, Clock, People, clock_fixture, people_fixture  # noqa: F401


def test_the_returned_ticket_is_the_stored_row(session: Session, people: People, clock: Clock) -> None:
    ticket = tickets.submit_ticket(session, people.requester, IT_DATA)
    assert ticket in session and ticket.id is not None
    number = ticket.ticket_number
    assert number.startswith(f"TKT{T0.year}") and len(number) == 13
    assert ticket.assigned_to_id is None and ticket.time_closed is None  # loaded, not expired
    session.commit()
    session.expire_all()
    row = session.get(Ticket, ticket.id)
    assert (row.ticket_number, row.status, row.version, row.department) == (number, "New", 1, "IT Department")
    assert row.submit_date == T0 and row.sla_resolution_due_at is not None
    assert row.dynamic_data == {"device_type": "Laptop"}
    history = session.scalars(select(TicketStatusHistory).where(TicketStatusHistory.ticket_id == row.id)).all()
    assert [(h.from_status, h.to_status, h.changed_by_id, h.changed_at) for h in history] == [
        (None, "New", people.requester.id, T0)
    ]
    audit = session.scalars(select(AuditLog).where(AuditLog.record_id == row.id)).one()
    assert audit.new_values["ticket_number"] == number and audit.user_id == people.requester.id
    mails = session.scalars(select(EmailNotification).order_by(EmailNotification.id)).all()
    assert [m.recipient_email for m in mails] == [people.requester.email, people.admin.email]
    for m in mails:  # the placeholder was replaced everywhere
        assert number in m.subject and number in m.body and number in m.html_body
        assert m.template_data["ticket_number"] == number
        assert "TKT" not in m.body.replace(number, "")
        assert m.related_ticket_id == row.id and f"id={row.id}" in m.body


def test_sla_target_change_applies_to_the_next_submission(session: Session, people: People, clock: Clock) -> None:
    first = tickets.submit_ticket(session, people.requester, {**IT_DATA, "priority": "High"})
    session.commit()
    admin_config.update_sla_target(
        session, people.admin, "High",
        response_minutes=30, response_clock="calendar", resolution_minutes=120, resolution_clock="calendar",
    )  # fmt: skip
    session.commit()
    second = tickets.submit_ticket(session, people.requester, {**IT_DATA, "priority": "High"})
    assert second.sla_response_due_at == T0 + dt.timedelta(minutes=30)
    assert second.sla_resolution_due_at == T0 + dt.timedelta(minutes=120)
    assert first.sla_resolution_due_at != second.sla_resolution_due_at


def test_a_change_by_any_writer_is_seen(session: Session, people: People, clock: Clock) -> None:
    """Not only admin_config: a holiday added with plain SQL moves the business due date."""
    session.commit()
    before = tickets.submit_ticket(session, people.requester, IT_DATA).sla_resolution_due_at
    session.rollback()
    ref, _ = refdata.current(session)
    assert ref is refdata.current(session)[0]  # unchanged data: the cached object
    session.add(Holiday(day=T0.date() + dt.timedelta(days=1), name="Surprise day off"))
    session.flush()
    after = tickets.submit_ticket(session, people.requester, IT_DATA).sla_resolution_due_at
    assert after > before
    session.rollback()
    session.execute(text("UPDATE core_ticketcategory SET is_active = false WHERE name = 'IT Support'"))
    with pytest.raises(ValidationError) as info:
        tickets.submit_ticket(session, people.requester, IT_DATA)
    assert "IT Support" not in info.value.errors["category"]


def test_nul_is_refused_naming_the_field(session: Session, people: People) -> None:
    with pytest.raises(ValidationError) as info:
        tickets.submit_ticket(session, people.requester, {**IT_DATA, "subject": "Laptop \x00 broken"})
    assert info.value.errors == {"subject": MSG_CONTROL}  # the text rule, before any number is taken


def test_refused_submission_takes_no_number(session: Session, people: People, clock: Clock) -> None:
    first = tickets.submit_ticket(session, people.requester, IT_DATA).ticket_number
    with pytest.raises(ValidationError):
        tickets.submit_ticket(session, people.requester, {**IT_DATA, "subject": "x"})
    second = tickets.submit_ticket(session, people.requester, IT_DATA).ticket_number
    assert int(second[-6:]) == int(first[-6:]) + 1


def test_first_ticket_of_a_year_continues_after_the_counter(
    clean_db, session: Session, people: People, clock: Clock
) -> None:
    """Numbers given out before the sequences (the counter row) are never handed out again,
    and concurrent first tickets of a year create the sequence once."""
    session.commit()
    with Session(clean_db) as s:
        s.execute(text("INSERT INTO core_ticketcounter (year, last_value) VALUES (2026, 41)"))
        s.commit()
    numbers: list[str] = []

    def worker() -> None:
        with Session(clean_db) as s:
            numbers.append(tickets.submit_ticket(s, people.requester, IT_DATA).ticket_number)
            s.commit()

    run_together(worker, 4)
    assert sorted(numbers) == [f"TKT2026{i:06d}" for i in range(42, 46)]
    with Session(clean_db) as s:
        assert numbering.sequence_names(s) == ["core_ticket_number_2026"]
        assert numbering.used_numbers(s)[2026] == 45
        first = numbering.reserve_block(s, 2026, 10)
        assert first == 46 and numbering.used_numbers(s)[2026] == 55
        assert numbering.next_ticket_number(s, T0) == "TKT2026000056"
