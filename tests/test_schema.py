"""The spec's physical model holds on the real database: constraints, cascades, trigger,
race-free ticket numbers, and migrations that go up, down and up again."""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from smartsupport_core import db as core_db
from smartsupport_core import migrate
from smartsupport_core.models import Department, Employee, Ticket, TicketCategory, TicketComment
from smartsupport_core.numbering import next_ticket_number, sequence_names
from smartsupport_core.seed import SEED_CATEGORIES
from smartsupport_core.vocab import SEED_DEPARTMENTS, TicketStatus
from tests.factories import make_employee, make_ticket, run_together


def _fails(session: Session, sql: str, params: dict | None = None) -> None:
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(text(sql), params or {})


@pytest.mark.parametrize(
    ("column", "value"),
    [("role", "Manager"), ("status", "Sleeping"), ("department", "Nowhere")],
)
def test_employee_rejects_bad_vocab(session: Session, column: str, value: str) -> None:
    row = {
        "first_name": "A",
        "last_name": "B",
        "email": "a@example.com",
        "company_id": "MA1234",
        "department": "Sales",
        "password": "x",
        column: value,
    }
    cols = ", ".join(row)
    _fails(session, f"INSERT INTO core_employee ({cols}) VALUES ({', '.join(':' + c for c in row)})", row)


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("priority", "Urgent"),
        ("status", "Lost"),
        ("requested_budget", Decimal("-1.00")),
        ("category", "No Such Category"),
        ("department", "Nowhere"),
    ],
)
def test_ticket_rejects_bad_values(session: Session, column: str, value: object) -> None:
    emp = make_employee(session)
    row = {
        "ticket_number": "TKT2026999999",
        "subject": "Broken thing",
        "category": "IT Support",
        "description": "Something is broken",
        "department": "IT Department",
        "employee_id": emp.id,
        column: value,
    }
    cols = ", ".join(row)
    _fails(session, f"INSERT INTO core_ticket ({cols}) VALUES ({', '.join(':' + c for c in row)})", row)


def test_ticket_accepts_withdrawn(session: Session) -> None:
    t = make_ticket(session, make_employee(session), status=TicketStatus.WITHDRAWN.value)
    assert t.status == "Withdrawn"


@pytest.mark.parametrize("size", [0, 10485761])
def test_attachment_size_check(session: Session, size: int) -> None:
    t = make_ticket(session, make_employee(session))
    _fails(
        session,
        "INSERT INTO core_ticketattachment (file_name, file_size, file, ticket_id, uploaded_by_id) "
        "VALUES ('a.pdf', :s, 'x/a', :t, :u)",
        {"s": size, "t": t.id, "u": t.employee_id},
    )


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO core_slatarget (priority, response_minutes, resolution_minutes) VALUES ('Urgent', 1, 1)",
        "UPDATE core_slatarget SET response_minutes = 0",
        "UPDATE core_slatarget SET response_clock = 'lunar'",
        "UPDATE core_businesscalendar SET day_end = day_start",
        "UPDATE core_ticketcategory SET default_priority = 'Urgent'",
    ],
)
def test_configuration_checks(session: Session, sql: str) -> None:
    _fails(session, sql)


def test_rating_and_history_and_outbox_checks(session: Session) -> None:
    emp = make_employee(session)
    t = make_ticket(session, emp)
    _fails(
        session,
        "INSERT INTO core_ticketrating (ticket_id, employee_id, rating) VALUES (:t, :e, 6)",
        {"t": t.id, "e": emp.id},
    )
    _fails(session, "INSERT INTO core_ticketstatushistory (ticket_id, to_status) VALUES (:t, 'Lost')", {"t": t.id})
    _fails(
        session,
        "INSERT INTO core_emailnotification (recipient_email, subject, body, template_name, status) "
        "VALUES ('a@b.c', 's', 'b', 't', 'lost')",
    )
    _fails(
        session, "INSERT INTO core_chatmessage (employee_id, role, content) VALUES (:e, 'system', 'x')", {"e": emp.id}
    )
    _fails(session, "INSERT INTO core_helparticle (title, body, visibility) VALUES ('t', 'b', 'Guest')")


def test_unique_email_company_id_ticket_number(session: Session) -> None:
    emp = make_employee(session, email="same@example.com", company_id="MA0042")
    with pytest.raises(IntegrityError), session.begin_nested():
        make_employee(session, email="same@example.com", company_id="MA0043")
    with pytest.raises(IntegrityError), session.begin_nested():
        make_employee(session, email="other@example.com", company_id="MA0042")
    t = make_ticket(session, emp)
    with pytest.raises(IntegrityError), session.begin_nested():
        make_ticket(session, emp, ticket_number=t.ticket_number)


def test_delete_employee_cascades_as_spec(session: Session) -> None:
    requester = make_employee(session)
    coordinator = make_employee(session, role="Ticket Coordinator", department="IT Department")
    own = make_ticket(session, requester, assigned_to_id=coordinator.id)
    session.add(TicketComment(ticket_id=own.id, user_id=coordinator.id, comment="On it"))
    other = make_ticket(session, coordinator, assigned_to_id=requester.id)
    session.commit()
    own_id, other_id = own.id, other.id

    session.delete(coordinator)  # the coordinator's own ticket goes, their assignment is cleared
    session.commit()
    session.expunge_all()
    assert session.get(Ticket, other_id) is None
    assert session.get(Ticket, own_id).assigned_to_id is None
    assert session.scalar(select(func.count()).select_from(TicketComment)) == 0

    session.delete(session.get(Employee, requester.id))
    session.commit()
    session.expunge_all()
    assert session.get(Ticket, own_id) is None


def test_trigger_moves_update_date(session: Session) -> None:
    t = make_ticket(session, make_employee(session))
    session.commit()
    before = session.scalar(select(Ticket.update_date).where(Ticket.id == t.id))
    time.sleep(0.01)
    session.execute(text("UPDATE core_ticket SET subject = 'Changed subject' WHERE id = :i"), {"i": t.id})
    session.commit()
    after = session.scalar(select(Ticket.update_date).where(Ticket.id == t.id))
    assert after > before


def test_seed_rows(session: Session) -> None:
    names = set(session.scalars(select(Department.name)))
    assert names == {n for n, _ in SEED_DEPARTMENTS}
    cats = {c.name: c for c in session.scalars(select(TicketCategory))}
    assert list(cats) == [c["name"] for c in SEED_CATEGORIES]
    assert cats["Asset Check Out"].assigned_department == "Asset Department"
    assert "Data Backup/Restore" in cats["IT Support"].sub_categories
    assert {f["name"] for f in cats["New Budget Proposal"].required_fields} >= {
        "performance_start_date",
        "performance_end_date",
        "cost_items",
        "approved_by",
    }


def test_spec_indexes_exist(engine) -> None:
    insp = inspect(engine)
    names = {
        i["name"]
        for t in ("core_employee", "core_ticket", "core_ticketattachment", "core_ticketcomment")
        for i in insp.get_indexes(t)
    }
    expected = {
        "idx_employee_email",
        "idx_employee_company_id",
        "idx_employee_status",
        "idx_employee_role",
        "idx_ticket_number",
        "idx_ticket_employee",
        "idx_ticket_assigned_to",
        "idx_ticket_status",
        "idx_ticket_category",
        "idx_ticket_submit_date",
        "idx_ticket_dynamic_data",
        "idx_attachment_ticket",
        "idx_attachment_uploader",
        "idx_attachment_upload_date",
        "idx_comment_ticket",
        "idx_comment_user",
        "idx_comment_created_at",
        "idx_ticket_employee_status",
        "idx_ticket_assigned_status_priority",
        "idx_employee_dept_role",
        "idx_active_employees",
        "idx_open_tickets",
        "idx_ticket_search",
    }
    assert expected <= names
    with engine.connect() as conn:
        defs = dict(
            conn.execute(
                text(
                    "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
                    "('idx_active_employees', 'idx_open_tickets', 'idx_ticket_search', "
                    "'idx_ticket_dynamic_data')"
                )
            ).all()
        )
    assert "WHERE (is_active = true)" in defs["idx_active_employees"]
    assert "WHERE" in defs["idx_open_tickets"] and "In Progress" in defs["idx_open_tickets"]
    assert "gin (search_vector)" in defs["idx_ticket_search"]
    with engine.connect() as conn:
        generated = conn.execute(
            text(
                "SELECT generation_expression FROM information_schema.columns "
                "WHERE table_name = 'core_ticket' AND column_name = 'search_vector' AND is_generated = 'ALWAYS'"
            )
        ).scalar_one()
    assert generated.startswith("to_tsvector('english'")
    assert "gin (dynamic_data)" in defs["idx_ticket_dynamic_data"]


def test_ticket_numbers_race_free(clean_db) -> None:
    """16 threads x 50 tickets at once: 800 distinct numbers, consecutive since none failed.

    Per-year sequences (issue 9): unique and never reused; a transaction that rolls back
    after taking its number leaves a gap (checked at the end)."""
    with Session(clean_db) as s:
        requester = make_employee(s)
        s.commit()
        requester_id = requester.id
    numbers: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            with Session(clean_db) as s, s.begin():
                number = next_ticket_number(s)
                s.add(
                    Ticket(
                        ticket_number=number,
                        subject="Concurrent",
                        description="Concurrent ticket",
                        category="Others",
                        department="Operations",
                        employee_id=requester_id,
                    )
                )
            with lock:
                numbers.append(number)

    run_together(worker, 16)
    assert len(numbers) == 800 == len(set(numbers))
    year = dt.datetime.now(dt.UTC).year
    assert sorted(numbers) == [f"TKT{year}{i:06d}" for i in range(1, 801)]
    with Session(clean_db) as s:
        assert next_ticket_number(s) == f"TKT{year}000801"
        s.rollback()  # its number is not handed out again: a gap
        assert next_ticket_number(s) == f"TKT{year}000802"


@pytest.fixture
def scratch_engine(db_url: str):
    """A separate empty database for migration round trips."""
    base = make_url(db_url)
    url = base.set(database=f"ss_mig_{uuid.uuid4().hex[:10]}")
    core_db.ensure_database(url.render_as_string(hide_password=False))
    engine = create_engine(url)
    yield engine
    engine.dispose()
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_up_down_up_and_check(scratch_engine) -> None:
    migrate.upgrade(scratch_engine)
    assert migrate.current(scratch_engine) == migrate.head()
    migrate.check(scratch_engine)  # models and migrations agree
    migrate.downgrade(scratch_engine, "base")
    assert migrate.current(scratch_engine) is None
    remaining = set(inspect(scratch_engine).get_table_names()) - {"alembic_version"}
    assert remaining == set()
    migrate.upgrade(scratch_engine)
    migrate.check(scratch_engine)
    with scratch_engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM core_department")) == len(SEED_DEPARTMENTS)


T2026 = dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC)


def test_downgrade_hands_the_sequences_back_to_the_counter(scratch_engine) -> None:
    migrate.upgrade(scratch_engine)
    with Session(scratch_engine) as s:
        assert next_ticket_number(s, T2026) == "TKT2026000001"
        assert next_ticket_number(s, T2026) == "TKT2026000002"
        s.commit()
    migrate.downgrade(scratch_engine, "0003_queue_on_hold_index")
    with Session(scratch_engine) as s:
        assert sequence_names(s) == []
        assert s.scalar(text("SELECT last_value FROM core_ticketcounter WHERE year = 2026")) == 2
    migrate.upgrade(scratch_engine)
    with Session(scratch_engine) as s:
        assert next_ticket_number(s, T2026) == "TKT2026000003"
