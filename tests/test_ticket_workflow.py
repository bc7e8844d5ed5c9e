"""The status workflow: every move for every kind of actor, timing, notifications, conflicts."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartsupport_core import tickets, workflow
from smartsupport_core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from smartsupport_core.models import AuditLog, EmailNotification, Ticket, TicketStatusHistory
from smartsupport_core.vocab import TicketStatus
from tests.factories import make_employee
from tests.ticket_helpers import IT_DATA, T0, Clock, People, clock_fixture, people_fixture, ticket_in  # noqa: F401

S = TicketStatus
ACTORS = ("requester", "other", "coord", "other_coord", "admin")


def _actor(p: People, name: str):
    return getattr(p, name)


def _expected(name: str, frm: S, to: S, *, within_window: bool = True) -> bool:
    """Independent statement of the rules (not read from the table under test)."""
    if name == "admin":
        return (frm, to) in {
            (S.NEW, S.OPEN), (S.NEW, S.REJECTED),
            (S.OPEN, S.IN_PROGRESS), (S.OPEN, S.ON_HOLD), (S.OPEN, S.RESOLVED),
            (S.IN_PROGRESS, S.OPEN), (S.IN_PROGRESS, S.ON_HOLD), (S.IN_PROGRESS, S.RESOLVED),
            (S.ON_HOLD, S.OPEN), (S.ON_HOLD, S.IN_PROGRESS), (S.ON_HOLD, S.RESOLVED),
            (S.RESOLVED, S.CLOSED), (S.RESOLVED, S.IN_PROGRESS),
        }  # fmt: skip
    if name == "coord":
        return _expected("admin", frm, to) and frm is not S.NEW
    if name == "requester":
        if to is S.WITHDRAWN:
            return frm in (S.NEW, S.OPEN, S.IN_PROGRESS, S.ON_HOLD)
        return (frm, to) == (S.RESOLVED, S.CLOSED) or ((frm, to) == (S.RESOLVED, S.OPEN) and within_window)
    return False  # another employee, a coordinator of another department


def test_table_matches_the_rules() -> None:
    """The data table says exactly what the rules above say (for every pair and role)."""
    for frm, to in itertools.product(S, S):
        for name, role, is_req in (
            ("admin", "System Admin", False),
            ("coord", "Ticket Coordinator", False),
            ("requester", "Employee", True),
            ("other", "Employee", False),
        ):
            got = workflow.may_move(role, is_req, frm, to, since_resolved=dt.timedelta(days=1))
            assert got == _expected(name, frm, to), (name, frm, to)


@pytest.mark.parametrize("frm", list(S), ids=lambda s: str(s).replace(" ", ""))
def test_every_move_for_every_actor(session: Session, people: People, clock: Clock, frm: S) -> None:
    """Through the service: each (from, to) pair for each kind of actor (one DB reset per from)."""
    for to, name in itertools.product(S, ACTORS):
        actor = _actor(people, name)
        ticket = ticket_in(session, people.requester, frm, at=clock.now, assigned_to_id=people.coord.id)
        before = (ticket.status, ticket.version)
        note = "Not a help desk matter" if to is S.REJECTED else None
        sp = session.begin_nested()
        try:
            tickets.change_status(session, actor, ticket.id, to.value, note=note, expected_version=1)
        except NotFound:
            sp.rollback()
            assert name in ("other", "other_coord"), (name, frm, to)
            continue
        except (PermissionDenied, ValidationError):
            sp.rollback()
            assert not _expected(name, frm, to), f"{name} should be allowed {frm} -> {to}"
            session.refresh(ticket)
            assert (ticket.status, ticket.version) == before
            continue
        sp.commit()
        assert _expected(name, frm, to), f"{name} must not move {frm} -> {to}"
        session.refresh(ticket)
        assert ticket.status == to.value
        assert ticket.version == 2
        hist = session.scalars(
            select(TicketStatusHistory)
            .where(TicketStatusHistory.ticket_id == ticket.id)
            .order_by(TicketStatusHistory.id.desc())
        ).first()
        assert (hist.from_status, hist.to_status, hist.changed_by_id) == (frm.value, to.value, actor.id)


def test_requester_reopen_window(session: Session, people: People, clock: Clock) -> None:
    t = ticket_in(session, people.requester, S.RESOLVED, at=clock.now)
    clock.advance(days=7, seconds=1)
    with pytest.raises(PermissionDenied, match="within 7 days"):
        tickets.change_status(session, people.requester, t.id, "Open")
    t2 = ticket_in(session, people.requester, S.RESOLVED, at=clock.now)
    clock.advance(days=6, hours=23)
    tickets.reopen_ticket(session, people.requester, t2.id)
    assert t2.status == "Open" and t2.reopen_count == 1


def test_reject_needs_reason_and_notifies(session: Session, people: People, clock: Clock) -> None:
    t = tickets.submit_ticket(session, people.requester, IT_DATA)
    with pytest.raises(ValidationError) as err:
        tickets.reject_ticket(session, people.admin, t.id, "  ")
    assert "reason" in err.value.errors
    assert t.status == "New"
    with pytest.raises(PermissionDenied):
        tickets.reject_ticket(session, people.coord, t.id, "no")
    tickets.reject_ticket(session, people.admin, t.id, "Duplicate of TKT2026000001")
    assert t.status == "Rejected" and t.rejection_reason == "Duplicate of TKT2026000001"
    mail = session.scalars(select(EmailNotification).where(EmailNotification.template_name == "ticket_rejected")).one()
    assert mail.recipient_email == people.requester.email and "Duplicate" in mail.body


def test_approve_only_from_new(session: Session, people: People, clock: Clock) -> None:
    t = ticket_in(session, people.requester, S.ON_HOLD)
    tickets.change_status(session, people.admin, t.id, "In Progress")
    with pytest.raises(ValidationError):
        tickets.approve_ticket(session, people.admin, t.id)


def test_submit_routes_and_notifies(session: Session, people: People, clock: Clock) -> None:
    admin2 = make_employee(session, role="System Admin", department="Finance")
    t = tickets.submit_ticket(session, people.requester, IT_DATA)
    assert t.ticket_number.startswith("TKT2026") and t.status == "New"
    assert t.department == "IT Department" and t.priority == "Medium" and t.version == 1
    assert t.sla_response_due_at is not None
    mails = session.scalars(select(EmailNotification).order_by(EmailNotification.id)).all()
    got = {(m.template_name, m.recipient_email) for m in mails}
    assert got == {
        ("ticket_submitted", people.requester.email),
        ("ticket_awaiting_approval", people.admin.email),
        ("ticket_awaiting_approval", admin2.email),
    }
    hist = session.scalars(select(TicketStatusHistory).where(TicketStatusHistory.ticket_id == t.id)).one()
    assert (hist.from_status, hist.to_status) == (None, "New")
    assert session.scalars(select(AuditLog).where(AuditLog.table_name == "core_ticket")).one().action_type == "CREATE"


def test_auto_assign_least_loaded_on_approval(session: Session, people: People, clock: Clock) -> None:
    # Cora already holds two open tickets, Cole one: Cole is least loaded.
    for _ in range(2):
        ticket_in(session, people.other, S.IN_PROGRESS, assigned_to_id=people.coord.id)
    ticket_in(session, people.other, S.OPEN, assigned_to_id=people.coord2.id)
    ticket_in(session, people.other, S.CLOSED, assigned_to_id=people.coord2.id)  # closed: not load
    make_employee(session, role="Ticket Coordinator", department="IT Department", status="Suspended")
    t = tickets.submit_ticket(session, people.requester, IT_DATA)  # IT Support: auto_assign on
    tickets.approve_ticket(session, people.admin, t.id, expected_version=1)
    assert t.status == "Open" and t.assigned_to_id == people.coord2.id
    templates = {
        (m.template_name, m.recipient_email)
        for m in session.scalars(select(EmailNotification).where(EmailNotification.related_ticket_id == t.id))
    }
    assert ("ticket_assigned", people.coord2.email) in templates
    assert ("ticket_opened", people.requester.email) in templates


def test_no_auto_assign_when_category_off(session: Session, people: People, clock: Clock) -> None:
    make_employee(session, role="Ticket Coordinator", department="Operations")
    data = {"category": "Others", "subject": "Broken chair", "description": "The chair at desk 4 is broken."}
    t = tickets.submit_ticket(session, people.requester, data)
    tickets.approve_ticket(session, people.admin, t.id)
    assert t.assigned_to_id is None


def test_manual_assignment_rules(session: Session, people: People, clock: Clock) -> None:
    t = ticket_in(session, people.requester, S.OPEN)
    with pytest.raises(PermissionDenied):
        tickets.assign_ticket(session, people.requester, t.id, people.coord.id)
    with pytest.raises(ValidationError, match="coordinator of Finance"):
        tickets.assign_ticket(session, people.coord, t.id, people.other_coord.id)
    with pytest.raises(ValidationError, match="coordinators or admins"):
        tickets.assign_ticket(session, people.admin, t.id, people.other.id)
    suspended = make_employee(session, role="Ticket Coordinator", department="IT Department", status="Suspended")
    with pytest.raises(ValidationError, match="active"):
        tickets.assign_ticket(session, people.admin, t.id, suspended.id)
    with pytest.raises(NotFound):  # a coordinator of another department cannot see it
        tickets.assign_ticket(session, people.other_coord, t.id, people.other_coord.id)
    tickets.assign_ticket(session, people.coord, t.id, people.coord2.id, expected_version=1)
    assert t.assigned_to_id == people.coord2.id and t.version == 2
    mail = session.scalars(select(EmailNotification).where(EmailNotification.template_name == "ticket_assigned")).one()
    assert mail.recipient_email == people.coord2.email
    tickets.assign_ticket(session, people.admin, t.id, people.admin.id)  # admins of any department
    assert t.assigned_to_id == people.admin.id
    tickets.assign_ticket(session, people.admin, t.id, None)
    assert t.assigned_to_id is None and t.version == 4


def test_stale_update_conflict_names_who(session: Session, people: People, clock: Clock) -> None:
    t = ticket_in(session, people.requester, S.OPEN)
    tickets.set_priority(session, people.coord, t.id, "High", expected_version=1)
    assert t.version == 2
    with pytest.raises(Conflict) as err:
        tickets.change_status(session, people.coord2, t.id, "In Progress", expected_version=1)
    msg = str(err.value)
    assert msg.startswith(f"Ticket {t.ticket_number} was changed by {people.coord.full_name} at ")
    assert msg.endswith("reload and try again")
    for call in (
        lambda: tickets.assign_ticket(session, people.coord2, t.id, people.coord2.id, expected_version=1),
        lambda: tickets.set_priority(session, people.coord2, t.id, "Low", expected_version=1),
    ):
        with pytest.raises(Conflict):
            call()
    session.refresh(t)
    assert (t.status, t.priority, t.assigned_to_id, t.version) == ("Open", "High", None, 2)
    tickets.change_status(session, people.coord2, t.id, "In Progress", expected_version=2)
    assert t.version == 3


def test_concurrent_sessions_conflict(clean_db, people_committed=None) -> None:
    """Two sessions read version 1; the second writer is refused after the first commits."""
    from sqlalchemy.orm import Session as S2

    with S2(clean_db, expire_on_commit=False) as s:
        admin = make_employee(s, role="System Admin", department="IT Department")
        req = make_employee(s)
        t = ticket_in(s, req, S.OPEN)
        s.commit()
        tid = t.id
    with S2(clean_db) as a, S2(clean_db) as b:
        seen_a = tickets.get_ticket(a, a.get(type(admin), admin.id), tid).version
        seen_b = tickets.get_ticket(b, b.get(type(admin), admin.id), tid).version
        tickets.set_priority(a, a.get(type(admin), admin.id), tid, "Critical", expected_version=seen_a)
        a.commit()
        with pytest.raises(Conflict):
            tickets.set_priority(b, b.get(type(admin), admin.id), tid, "Low", expected_version=seen_b)
        b.rollback()
    with S2(clean_db) as c:
        assert c.get(Ticket, tid).priority == "Critical"


def test_timing_across_reopen(session: Session, people: People, clock: Clock) -> None:
    t = tickets.submit_ticket(session, people.requester, IT_DATA)
    assert t.submit_date == T0
    clock.advance(minutes=30)
    tickets.approve_ticket(session, people.admin, t.id)
    assert t.response_time is None  # approval is not a response
    clock.advance(minutes=30)
    tickets.add_comment(session, people.coord, t.id, "Internal: check warranty", internal=True)
    tickets.add_comment(session, people.requester, t.id, "Any news?")
    assert t.response_time is None  # internal notes and the requester's own replies do not count
    clock.advance(minutes=60)
    tickets.add_comment(session, people.coord, t.id, "Looking at it now.")
    assert t.response_time == dt.timedelta(hours=2) and t.first_response_at == T0 + dt.timedelta(hours=2)
    clock.advance(hours=1)
    tickets.change_status(session, people.coord, t.id, "On Hold")
    clock.advance(hours=2)
    tickets.change_status(session, people.coord, t.id, "In Progress")
    assert t.sla_hold_minutes == pytest.approx(120)
    clock.advance(hours=1)
    tickets.change_status(session, people.coord, t.id, "Resolved")
    first_resolution = dt.timedelta(hours=6)
    assert t.resolution_time == first_resolution and t.time_closed is None
    clock.advance(days=2)
    tickets.reopen_ticket(session, people.requester, t.id, note="Still broken")
    assert t.status == "Open" and t.reopen_count == 1
    clock.advance(hours=1)
    tickets.change_status(session, people.coord, t.id, "Resolved")
    assert t.resolution_time == first_resolution and t.response_time == dt.timedelta(hours=2)
    clock.advance(hours=1)
    tickets.close_ticket(session, people.requester, t.id)
    assert t.time_closed == clock.now and t.status == "Closed"
    hist = [(h.from_status, h.to_status, h.note) for h in tickets.list_history(session, people.requester, t.id)]
    assert hist == [
        (None, "New", None),
        ("New", "Open", None),
        ("Open", "On Hold", None),
        ("On Hold", "In Progress", None),
        ("In Progress", "Resolved", None),
        ("Resolved", "Open", "Still broken"),
        ("Open", "Resolved", None),
        ("Resolved", "Closed", None),
    ]


def test_status_change_out_of_open_is_first_response(session: Session, people: People, clock: Clock) -> None:
    t = ticket_in(session, people.requester, S.OPEN, at=clock.now)
    clock.advance(minutes=45)
    tickets.change_status(session, people.coord, t.id, "In Progress")
    assert t.response_time == dt.timedelta(hours=2, minutes=45)
    w = ticket_in(session, people.requester, S.OPEN, at=clock.now)
    tickets.withdraw_ticket(session, people.requester, w.id)
    assert w.response_time is None and w.status == "Withdrawn"


def test_auto_close(session: Session, people: People, clock: Clock) -> None:
    old = ticket_in(session, people.requester, S.RESOLVED, at=T0 - dt.timedelta(days=8))
    recent = ticket_in(session, people.requester, S.RESOLVED, at=T0 - dt.timedelta(days=6))
    open_ = ticket_in(session, people.requester, S.OPEN)
    closed = tickets.auto_close(session, T0)
    assert closed == [old.ticket_number]
    session.refresh(old)
    assert old.status == "Closed" and old.time_closed == T0
    assert (recent.status, open_.status) == ("Resolved", "Open")
    hist = session.scalars(
        select(TicketStatusHistory).where(
            TicketStatusHistory.ticket_id == old.id, TicketStatusHistory.to_status == "Closed"
        )
    ).one()
    assert hist.changed_by_id is None and "automatically" in hist.note
    mail = session.scalars(select(EmailNotification).where(EmailNotification.template_name == "ticket_closed")).one()
    assert mail.recipient_email == people.requester.email
    assert tickets.auto_close(session, T0) == []


def test_maintenance_cli(clean_db, monkeypatch) -> None:
    from click.testing import CliRunner
    from sqlalchemy.orm import Session as S2

    from smartsupport_core.cli import main

    with S2(clean_db, expire_on_commit=False) as s:
        req = make_employee(s)
        now = dt.datetime.now(dt.UTC)
        t = ticket_in(s, req, S.RESOLVED, at=now - dt.timedelta(days=10))
        s.commit()
    result = CliRunner().invoke(main, ["maintenance"])
    assert result.exit_code == 0, result.output
    assert f"auto-closed 1 resolved ticket(s): {t.ticket_number}" in result.output
    with S2(clean_db) as s:
        assert s.get(Ticket, t.id).status == "Closed"


def test_notifications_go_to_the_other_side(session: Session, people: People, clock: Clock) -> None:
    t = ticket_in(session, people.requester, S.OPEN, assigned_to_id=people.coord.id)
    tickets.add_comment(session, people.coord, t.id, "Please restart it.")
    tickets.change_status(session, people.coord, t.id, "On Hold")
    tickets.add_comment(session, people.requester, t.id, "Restarted, same problem.")
    tickets.add_comment(session, people.coord, t.id, "note to self", internal=True)
    tickets.change_status(session, people.coord, t.id, "Resolved")
    rows = session.scalars(select(EmailNotification).order_by(EmailNotification.id)).all()
    assert [(m.template_name, m.recipient_email) for m in rows] == [
        ("ticket_comment", people.requester.email),
        ("ticket_status_changed", people.requester.email),
        ("ticket_requester_replied_on_hold", people.coord.email),
        ("ticket_resolved", people.requester.email),
    ]


def test_comments_visibility_and_edit_window(session: Session, people: People, clock: Clock) -> None:
    t = ticket_in(session, people.requester, S.OPEN)
    pub = tickets.add_comment(session, people.requester, t.id, "Hello")
    note = tickets.add_comment(session, people.coord, t.id, "Secret note", internal=True)
    assert [c.id for c in tickets.list_comments(session, people.requester, t.id)] == [pub.id]
    assert [c.id for c in tickets.list_comments(session, people.coord, t.id)] == [pub.id, note.id]
    with pytest.raises(PermissionDenied):
        tickets.add_comment(session, people.requester, t.id, "sneaky", internal=True)
    with pytest.raises(NotFound):
        tickets.list_comments(session, people.other, t.id)
    with pytest.raises(NotFound):
        tickets.add_comment(session, people.other, t.id, "hi")
    with pytest.raises(NotFound):
        tickets.edit_comment(session, people.requester, note.id, "changed")
    with pytest.raises(PermissionDenied):
        tickets.edit_comment(session, people.coord, pub.id, "not mine")
    clock.advance(minutes=14)
    tickets.edit_comment(session, people.requester, pub.id, "Hello there")
    assert pub.comment == "Hello there"
    row = session.scalars(
        select(AuditLog).where(AuditLog.table_name == "core_ticketcomment", AuditLog.action_type == "UPDATE")
    ).one()
    assert row.old_values == {"comment": "Hello"} and row.new_values == {"comment": "Hello there"}
    clock.advance(minutes=2)
    with pytest.raises(PermissionDenied, match="15 minutes"):
        tickets.edit_comment(session, people.requester, pub.id, "too late")
    with pytest.raises(ValidationError):
        tickets.add_comment(session, people.requester, t.id, "   ")


def test_employee_cannot_read_others_tickets(session: Session, people: People, clock: Clock) -> None:
    t = ticket_in(session, people.requester, S.OPEN)
    for fn in (tickets.get_ticket, tickets.list_comments, tickets.list_history, tickets.list_attachments):
        with pytest.raises(NotFound):
            fn(session, people.other, t.id)
    assert tickets.list_my_tickets(session, people.other) == []
    assert [x.id for x in tickets.list_my_tickets(session, people.requester)] == [t.id]
    with pytest.raises(NotFound):
        tickets.get_ticket(session, people.other_coord, t.id)
    assert tickets.get_ticket(session, people.coord, t.id).id == t.id
