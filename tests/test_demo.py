"""`smartsupport demo`: idempotence, consistent histories, SLA numbers, accounts, no side effects."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from smartsupport_core import demo, login, migrate, sla, workflow
from smartsupport_core.accounts import PASSWORD_LOCAL_PART_MESSAGE
from smartsupport_core.cli import main
from smartsupport_core.db import ensure_database
from smartsupport_core.demo.tickets import AUTO_CLOSE_NOTE, Timeline
from smartsupport_core.errors import Conflict, ValidationError
from smartsupport_core.login import LoginOutcome
from smartsupport_core.models import (
    Employee,
    Ticket,
    TicketComment,
    TicketCounter,
    TicketRating,
    TicketStatusHistory,
)
from smartsupport_core.numbering import next_ticket_number, ticket_year
from smartsupport_core.passwords import verify_password
from smartsupport_core.vocab import AccountStatus, Role, TicketStatus

TICKETS = 300
EMPLOYEES = 120
TABLES = (
    "core_employee",
    "core_ticket",
    "core_ticketstatushistory",
    "core_ticketcomment",
    "core_ticketrating",
    "core_ticketcounter",
    "core_jobrun",
    "core_emailnotification",
    "core_auditlog",
)


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


@pytest.fixture(scope="module")
def loaded(db_url: str) -> Iterator[Engine]:
    """One demo load shared by the read-only tests, in a database of its own.

    WHY its own database: other tests reset the shared test database before each test, and
    loading once instead of per test keeps this module quick.
    """
    base = make_url(db_url)
    url = base.set(database=f"{base.database}_demo").render_as_string(hide_password=False)
    ensure_database(url)
    engine = create_engine(url)
    migrate.upgrade(engine)
    demo.load_demo(engine, tickets=TICKETS, seed=7, employees=EMPLOYEES)
    yield engine
    engine.dispose()
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{base.database}_demo" WITH (FORCE)'))
    admin.dispose()


def test_demo_twice_leaves_the_same_counts(clean_db: Engine) -> None:
    assert demo.database_is_empty(clean_db)
    first = demo.load_demo(clean_db, tickets=TICKETS, seed=7, employees=EMPLOYEES)
    assert first.loaded and first.tickets == TICKETS and first.employees == EMPLOYEES + 1
    after_first = counts(clean_db)
    assert after_first["core_ticket"] == TICKETS
    assert not demo.database_is_empty(clean_db)

    lines: list[str] = []
    second = demo.load_demo(clean_db, tickets=TICKETS * 2, seed=8, password="Other#Pass99", echo=lines.append)
    assert not second.loaded and (second.tickets, second.employees) == (TICKETS, EMPLOYEES + 1)
    assert counts(clean_db) == after_first
    assert any("already loaded" in line for line in lines)
    # The rerun changed no password either.
    with Session(clean_db) as s:
        stored = s.scalar(select(Employee.password).where(Employee.email == "admin@example.com"))
    assert verify_password(demo.DEFAULT_PASSWORD, stored)


def test_every_history_agrees_with_its_ticket(loaded: Engine) -> None:
    with Session(loaded) as s:
        tickets = {t.id: t for t in s.scalars(select(Ticket))}
        history: dict[int, list[TicketStatusHistory]] = defaultdict(list)
        for h in s.scalars(select(TicketStatusHistory).order_by(TicketStatusHistory.id)):
            history[h.ticket_id].append(h)
        comments: dict[int, list[TicketComment]] = defaultdict(list)
        for c in s.scalars(select(TicketComment)):
            comments[c.ticket_id].append(c)
        people = {e.id: e for e in s.scalars(select(Employee))}
        now = dt.datetime.now(dt.UTC)

    assert len(tickets) == TICKETS
    for t in tickets.values():
        rows = history[t.id]
        assert rows, t.ticket_number
        # A chain from None -> New to the current status, in time order.
        assert rows[0].from_status is None and rows[0].to_status == TicketStatus.NEW
        assert rows[0].changed_at == t.submit_date and rows[0].changed_by_id == t.employee_id
        for prev, cur in itertools.pairwise(rows):
            assert cur.from_status == prev.to_status, t.ticket_number
            assert cur.changed_at >= prev.changed_at
        assert t.status == rows[-1].to_status
        for h in rows[1:]:  # every move exists in the workflow table and was made by someone allowed to
            move = workflow.move(h.from_status, h.to_status)
            assert move is not None, (t.ticket_number, h.from_status, h.to_status)
            if h.changed_by_id is None:
                assert h.to_status == "Closed" and h.note == AUTO_CLOSE_NOTE
            elif h.changed_by_id == t.employee_id:
                assert move.requester, (h.from_status, h.to_status)
            else:
                assert people[h.changed_by_id].role in move.staff, (h.from_status, h.to_status)
        assert t.submit_date <= t.update_date <= now
        assert t.update_date >= rows[-1].changed_at
        assert t.version >= len(rows)
        for c in comments[t.id]:
            assert t.submit_date <= c.created_at <= t.update_date

        # Timing fields agree with the history.
        if t.first_response_at is None:
            assert t.response_time is None
        else:
            assert t.response_time == t.first_response_at - t.submit_date
            staff_moves = [
                h.changed_at for h in rows if h.from_status == "Open" and h.changed_by_id not in (None, t.employee_id)
            ]
            staff_replies = [c.created_at for c in comments[t.id] if not c.is_internal and c.user_id != t.employee_id]
            assert t.first_response_at == min(staff_moves + staff_replies)
        resolved = [h.changed_at for h in rows if h.to_status == "Resolved"]
        if t.status in ("Resolved", "Closed"):
            assert t.resolution_time is not None and t.resolved_at is not None
        if resolved:
            assert t.resolved_at == resolved[0]  # a reopen keeps the first resolution
            assert t.resolution_time == t.resolved_at - t.submit_date
        else:
            assert t.resolved_at is None and t.resolution_time is None
        reopens = sum(1 for h in rows if h.from_status == "Resolved" and h.to_status != "Closed")
        assert t.reopen_count == reopens
        if t.status == "Closed":
            assert t.time_closed == rows[-1].changed_at
        else:
            assert t.time_closed is None
        if t.status == "Rejected":
            assert t.rejection_reason and rows[-1].note == t.rejection_reason
        assert (t.on_hold_since is not None) == (t.status == "On Hold")

        # Routing and assignment.
        if t.assigned_to_id is not None:
            assignee = people[t.assigned_to_id]
            assert assignee.role == Role.COORDINATOR and assignee.department == t.department
        requester = people[t.employee_id]
        assert requester.role == Role.EMPLOYEE and requester.status == AccountStatus.APPROVED


def test_ticket_numbers_are_unique_and_the_counter_continues_after_them(loaded: Engine) -> None:
    with Session(loaded) as s:
        rows = s.execute(select(Ticket.ticket_number, Ticket.submit_date, Ticket.id).order_by(Ticket.id)).all()
        numbers = [r.ticket_number for r in rows]
        assert len(set(numbers)) == len(numbers) == TICKETS
        per_year: dict[int, list[int]] = defaultdict(list)
        for number, submitted, _id in rows:
            m = re.fullmatch(r"TKT(\d{4})(\d{6})", number)
            assert m, number
            assert int(m.group(1)) == ticket_year(submitted)
            per_year[int(m.group(1))].append(int(m.group(2)))
        # Numbers follow submission order and the counter is at (or past) the highest one.
        assert [r.submit_date for r in rows] == sorted(r.submit_date for r in rows)
        for year, values in per_year.items():
            assert values == sorted(values)
            assert s.get(TicketCounter, year).last_value >= max(values)
        live = next_ticket_number(s)
        assert live not in numbers
        s.rollback()


def test_sla_fields_match_the_sla_module_and_some_breach(loaded: Engine) -> None:
    with Session(loaded) as s:
        cal = sla.load_calendar(s)
        targets = sla.targets(s)
        tickets = list(s.scalars(select(Ticket)))
    for t in tickets:
        target = targets[t.priority]
        assert t.sla_response_due_at == sla.due(cal, target.response_clock, t.submit_date, target.response_minutes)
        assert t.sla_resolution_due_at == sla.due(
            cal, target.resolution_clock, t.submit_date, target.resolution_minutes + t.sla_hold_minutes
        )
        if t.first_response_at is None:
            assert t.sla_response_minutes is None and t.sla_response_met is None
        else:
            minutes = sla.elapsed(cal, target.response_clock, t.submit_date, t.first_response_at)
            assert t.sla_response_minutes == pytest.approx(minutes)
            assert t.sla_response_met == (minutes <= target.response_minutes)
        if t.resolved_at is None:
            assert t.sla_resolution_minutes is None and t.sla_resolution_met is None
        else:
            assert t.sla_resolution_minutes is not None
            assert t.sla_resolution_met == (t.sla_resolution_minutes <= target.resolution_minutes)
        assert t.sla_hold_minutes >= 0
    met = Counter(t.sla_response_met for t in tickets if t.sla_response_met is not None)
    assert met[True] > met[False] > 0  # mostly met, some breaches
    met = Counter(t.sla_resolution_met for t in tickets if t.sla_resolution_met is not None)
    assert met[True] > met[False] > 0
    assert any(t.sla_hold_minutes > 0 for t in tickets)


def test_realistic_mix_of_statuses_comments_and_ratings(loaded: Engine) -> None:
    now = dt.datetime.now(dt.UTC)
    with Session(loaded) as s:
        tickets = list(s.scalars(select(Ticket)))
        internal = s.scalar(select(func.count()).where(TicketComment.is_internal.is_(True)))
        public = s.scalar(select(func.count()).where(TicketComment.is_internal.is_(False)))
        ratings = list(s.scalars(select(TicketRating)))
        categories = {c for (c,) in s.execute(text("SELECT name FROM core_ticketcategory"))}
    statuses = Counter(t.status for t in tickets)
    for status in ("Closed", "Resolved", "Rejected", "Withdrawn"):
        assert statuses[status] > 0, statuses
    assert sum(statuses[s] for s in ("New", "Open", "In Progress", "On Hold")) > 0
    old = [t for t in tickets if t.submit_date < now - dt.timedelta(days=60)]
    assert sum(t.status in ("Closed", "Resolved", "Rejected", "Withdrawn") for t in old) / len(old) > 0.9
    assert statuses["Closed"] > len(tickets) / 2
    assert min(t.submit_date for t in tickets) >= now - dt.timedelta(days=181)
    assert {t.category for t in tickets} == categories
    assert any(t.reopen_count > 0 for t in tickets)
    assert internal > 0 and public > internal
    by_id = {t.id: t for t in tickets}
    assert ratings
    for r in ratings:
        t = by_id[r.ticket_id]
        assert t.status in ("Resolved", "Closed") and r.employee_id == t.employee_id
        assert 1 <= r.rating <= 5 and r.created_at >= t.resolved_at
    # Office hours dominate arrivals (the calendar's 09:00-17:00, UTC by default).
    in_hours = sum(9 <= t.submit_date.astimezone(dt.UTC).hour < 17 for t in tickets)
    assert in_hours / len(tickets) > 0.6


def test_category_fields_are_plausible(loaded: Engine) -> None:
    with Session(loaded) as s:
        tickets = list(s.scalars(select(Ticket)))
    seen = Counter()
    for t in tickets:
        assert len(t.description) >= 10 and t.subject
        if t.category in ("Asset Check Out", "Asset Check In"):
            assert t.asset_name and t.serial_number and t.location
            seen[t.category] += 1
        if t.category == "Asset Check Out":
            assert t.expected_return_date >= t.submit_date.date()
        if t.category == "Asset Check In":
            assert t.issue_type
            assert (t.other_issue is not None) == (t.issue_type == "Other")
        if t.category == "New Budget Proposal":
            total = sum(round(i["quantity"] * i["unit_cost"] * 100) for i in t.cost_items)
            assert int(t.requested_budget * 100) == total
            assert t.performance_start_date < t.performance_end_date and t.approved_by
            seen[t.category] += 1
        if t.category == "IT Support":
            assert t.dynamic_data["device_type"] in ("Laptop", "Printer", "Projector", "Monitor", "Other")
            assert t.sub_category
            seen[t.category] += 1
    assert len(seen) == 4


def test_demo_accounts_can_sign_in(loaded: Engine) -> None:
    with Session(loaded) as s:
        accounts = {e.email: e for e in s.scalars(select(Employee))}
        for acc in demo.DEMO_ACCOUNTS:
            e = accounts[acc.email]
            assert (e.role, e.department, e.company_id) == (acc.role, acc.department, acc.company_id)
            assert e.status == AccountStatus.APPROVED and e.is_active
            assert verify_password(demo.DEFAULT_PASSWORD, e.password)
            assert not verify_password("wrong-Password1!", e.password)
        coordinators = Counter(e.department for e in accounts.values() if e.role == Role.COORDINATOR)
        departments = list(s.scalars(text("SELECT name FROM core_department")))
        for d in departments:
            assert 1 <= coordinators[d] <= 3, d
        for d in ("Asset Department", "Finance", "Human Resources", "Operations"):
            assert coordinators[d] >= 2
        employees = [e for e in accounts.values() if e.role == Role.EMPLOYEE]
        assert len(employees) == EMPLOYEES + 1
        assert {e.status for e in employees} >= {AccountStatus.APPROVED, AccountStatus.PENDING}
        assert all(re.fullmatch(r"MA\d{4}", e.company_id) for e in accounts.values())
        mine = s.scalar(select(func.count()).where(Ticket.employee_id == accounts["employee@example.com"].id))
        assert mine >= 5  # the demo employee has tickets to look at


def test_demo_accounts_sign_in_through_the_login_service(loaded: Engine) -> None:
    with Session(loaded) as s:
        pending = s.scalar(select(Employee.email).where(Employee.status == AccountStatus.PENDING).limit(1))
        coordinator = s.scalar(select(Employee.email).where(Employee.email.like("finance.coordinator%")).limit(1))
        for email in [a.email for a in demo.DEMO_ACCOUNTS] + [coordinator]:
            result = login.authenticate(s, email, demo.DEFAULT_PASSWORD)
            assert result.ok, (email, result.message)
        assert login.authenticate(s, "admin@example.com", "Wrong#Pass123").outcome is LoginOutcome.BAD_CREDENTIALS
        assert login.authenticate(s, pending, demo.DEFAULT_PASSWORD).outcome is LoginOutcome.PENDING
        s.rollback()


def test_no_mail_and_no_audit_for_invented_history(loaded: Engine) -> None:
    c = counts(loaded)
    assert c["core_emailnotification"] == 0
    assert c["core_auditlog"] == 0


def test_bad_password_is_refused_and_nothing_is_written(clean_db: Engine) -> None:
    with pytest.raises(ValidationError) as err:
        demo.load_demo(clean_db, tickets=10, password="short")
    assert "password" in err.value.errors
    with pytest.raises(ValidationError) as err:
        demo.load_demo(clean_db, tickets=10, password="nodigits#Here")
    assert "digit" in err.value.errors["password"]
    with pytest.raises(ValidationError) as err:
        demo.load_demo(clean_db, tickets=10, password="Admin#2026pass")  # contains the e-mail's local part
    assert err.value.errors == {"password": PASSWORD_LOCAL_PART_MESSAGE}
    assert demo.database_is_empty(clean_db)


def test_same_seed_same_data(clean_db: Engine) -> None:
    now = dt.datetime(2026, 3, 4, 15, 30, tzinfo=dt.UTC)
    demo.load_demo(clean_db, tickets=40, seed=3, employees=30, now=now)
    with clean_db.connect() as conn:
        first = conn.execute(text("SELECT subject, status, priority, category FROM core_ticket ORDER BY id")).all()
        conn.execute(text("TRUNCATE core_ticket, core_employee, core_jobrun, core_ticketcounter CASCADE"))
        conn.commit()
    demo.load_demo(clean_db, tickets=40, seed=3, employees=30, now=now)
    with clean_db.connect() as conn:
        second = conn.execute(text("SELECT subject, status, priority, category FROM core_ticket ORDER BY id")).all()
    assert first == second


def test_planning_timeline_agrees_with_sla_business_time(session: Session) -> None:
    cal = sla.load_calendar(session)
    now = dt.datetime(2026, 6, 3, 12, 0, tzinfo=dt.UTC)
    line = Timeline(cal, now - dt.timedelta(days=30), now + dt.timedelta(days=30))
    start = now - dt.timedelta(days=20)
    for i in range(200):
        a = start + dt.timedelta(minutes=i * 97)
        b = a + dt.timedelta(minutes=i * 53)
        assert line.minutes(a, b) == pytest.approx(sla.business_minutes(cal, a, b))
        assert abs((line.add(a, i * 7) - sla.add_business_minutes(cal, a, i * 7)).total_seconds()) < 1e-3 or (
            # At a window's end the two may pick this evening or the next morning: same business position.
            sla.business_minutes(cal, line.add(a, i * 7), sla.add_business_minutes(cal, a, i * 7)) == 0
        )


def test_cli_demo_prints_the_accounts(clean_db: Engine) -> None:
    result = CliRunner().invoke(main, ["demo", "--tickets", "20", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "admin@example.com" in result.output and "Demo#2026pass" in result.output
    assert "100%" in result.output
    again = CliRunner().invoke(main, ["demo", "--tickets", "20"])
    assert again.exit_code == 0 and "already loaded" in again.output
    bad = CliRunner().invoke(main, ["demo", "--password", "weak"])
    assert bad.exit_code == 2


def test_a_load_larger_than_a_years_numbers_is_spread_over_more_days(
    clean_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """TKT{YEAR}{######} has 999,999 numbers a year; a million tickets must not overflow it."""
    monkeypatch.setattr(demo.loader, "MAX_NUMBERS_PER_YEAR", 60)
    with pytest.raises(Conflict):  # 4 calendar years of 60 numbers cannot hold 300 tickets
        demo.load_demo(clean_db, tickets=300, employees=20, now=dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC))
    assert demo.database_is_empty(clean_db)

    lines: list[str] = []
    demo.load_demo(
        clean_db, tickets=100, employees=20, now=dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC), echo=lines.append
    )
    assert any("spreading them over the last" in line for line in lines)
    with Session(clean_db) as s:
        numbers = list(s.scalars(select(Ticket.ticket_number)))
        counters = {c.year: c.last_value for c in s.scalars(select(TicketCounter))}
    assert len(numbers) == 100 and all(re.fullmatch(r"TKT\d{4}\d{6}", n) for n in numbers)
    per_year = Counter(n[3:7] for n in numbers)
    assert len(per_year) >= 2 and max(per_year.values()) <= 60
    assert all(v <= 60 for v in counters.values())


def test_demo_includes_the_help_centre_articles(loaded: Engine) -> None:
    from smartsupport_core.demo.articles import ARTICLES
    from smartsupport_core.models import HelpArticle

    with Session(loaded) as s:
        titles = set(s.scalars(select(HelpArticle.title).where(HelpArticle.is_published.is_(True))))
    assert titles == {a["title"] for a in ARTICLES} and len(titles) >= 25


def test_demo_leaves_the_dashboard_rows_packed(loaded: Engine) -> None:
    """The first dashboard read after `smartsupport demo` has no day left to pack."""
    from smartsupport_core.models import ReportDay, ReportDirty

    with Session(loaded) as s:
        assert s.scalar(select(func.count()).select_from(ReportDirty)) == 0
        assert s.scalar(select(func.sum(ReportDay.tickets))) == s.scalar(select(func.count()).select_from(Ticket))
