"""Department heads as report viewers (issue 15 item 1): the `Grant.DEPARTMENT_HEAD` grant.

An employee of any role whose e-mail is a department's `head_email` (case-insensitive) reads
the SLA reports of that department and the summaries of its tickets, never their comments,
attachments or history unless their role lets them work the ticket anyway. Checked for every
role x every seeded department, for heads of 0, 1 and 2 departments, in the core services
(reports, drill-down, summary read, ticket readers), and for an admin's change of a head
e-mail, which applies at once.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartsupport_core import admin_config, attachments, policy, reporting, ticket_summary, tickets
from smartsupport_core.errors import NotFound, PermissionDenied
from smartsupport_core.models import Department, Employee, Ticket
from smartsupport_core.policy import Action, Grant
from smartsupport_core.reporting import ReportFilters
from smartsupport_core.vocab import SEED_DEPARTMENTS, Role
from tests.factories import make_employee, make_ticket
from tests.ticket_helpers import PNG

DEPARTMENTS = [name for name, _ in SEED_DEPARTMENTS]
ROLES = (Role.EMPLOYEE, Role.COORDINATOR, Role.ADMIN)
NOW = dt.datetime.now(dt.UTC)
TODAY = NOW.date()
FILTERS = ReportFilters(start=TODAY - dt.timedelta(days=29), end=TODAY + dt.timedelta(days=1))


@pytest.fixture
def tickets_by_department(session: Session, private_data_dir: Path) -> dict[str, Ticket]:
    """One ticket per seeded department, each filed by a requester of that department, with a
    public reply, an internal note and an attachment (what a head must not read)."""
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    out: dict[str, Ticket] = {}
    for name in DEPARTMENTS:
        requester = make_employee(session, department=name)
        ticket = make_ticket(session, requester, department=name, subject=f"Printer in {name}", category="Others")
        tickets.add_comment(session, admin, ticket.id, "We are on it.")
        tickets.add_comment(session, admin, ticket.id, "Internal: vendor contract expired.", internal=True)
        tickets.add_attachments(session, requester, ticket.id, [("shot.png", PNG)])
        out[name] = ticket
    session.flush()
    return out


def _make_head(session: Session, email: str, departments: list[str]) -> None:
    for name in departments:
        dept = session.scalars(select(Department).where(Department.name == name)).one()
        dept.head_email = email
    session.flush()


def _role_visible(actor: Employee, ticket: Ticket) -> bool:
    return policy.can_see_ticket(actor, ticket)


HEADS = [[], ["Finance"], ["Finance", "Legal"]]


@pytest.mark.parametrize("headed", HEADS, ids=["head of 0", "head of 1", "head of 2"])
@pytest.mark.parametrize("role", ROLES)
def test_head_reads_reports_and_summaries_of_their_departments_only(
    session: Session, tickets_by_department: dict[str, Ticket], role: Role, headed: list[str]
) -> None:
    actor = make_employee(session, role=role, department="Sales", email="Boss.Person@Example.com")
    _make_head(session, "boss.person@example.com", headed)  # case differs from the account's
    grants = policy.grants_of(session, actor)
    assert grants.departments(Action.VIEW_REPORTS) == frozenset(headed)

    may_report = role is not Role.EMPLOYEE or bool(headed)
    assert policy.allowed(actor, Action.VIEW_REPORTS, grants) is may_report
    if not may_report:
        with pytest.raises(PermissionDenied):
            reporting.dashboard(session, actor, FILTERS)
        with pytest.raises(PermissionDenied):
            reporting.drilldown(session, actor, FILTERS, "department", "Finance")
        with pytest.raises(PermissionDenied):
            reporting.filter_options(session, actor)
    else:
        created = reporting.dashboard(session, actor, FILTERS, now=NOW).breakdowns["department"]
        counted = dict(zip(created["key"], created["created"], strict=True))
        for name, ticket in tickets_by_department.items():
            expected = 1 if (name in headed or _role_visible(actor, ticket)) else 0
            assert counted.get(name, 0) == expected, name
            drill = reporting.drilldown(session, actor, FILTERS, "department", name, now=NOW)
            assert drill.total == expected, name
            assert list(drill.tickets["ticket_number"]) == ([ticket.ticket_number] if expected else [])
            # the filter box offers a head whose role gives no reports only their departments
        options = reporting.filter_options(session, actor)
        assert options.heads_only is (role is Role.EMPLOYEE)
        assert options.departments == (sorted(headed) if role is Role.EMPLOYEE else sorted(DEPARTMENTS))

    for name, ticket in tickets_by_department.items():
        role_sees = _role_visible(actor, ticket)
        if name in headed or role_sees:
            summary = ticket_summary.get_summary(session, actor, ticket.id)
            assert (summary.ticket_number, summary.department, summary.full_access) == (
                ticket.ticket_number,
                name,
                role_sees,
            )
            assert not hasattr(summary, "description")
        else:
            with pytest.raises(NotFound):
                ticket_summary.get_summary(session, actor, ticket.id)
        if not role_sees:  # the grant opens the summary only: nothing of the conversation or files
            for read in (tickets.get_ticket, tickets.list_comments, tickets.list_history, tickets.list_attachments):
                with pytest.raises(NotFound):
                    read(session, actor, ticket.id)
            attachment_id = tickets.list_attachments(session, make_admin(session), ticket.id)[0].id
            with pytest.raises((NotFound, PermissionDenied)):
                attachments.download_token(session, actor, attachment_id)
            with pytest.raises((NotFound, PermissionDenied)):
                attachments.preview_content(session, actor, attachment_id)


def make_admin(session: Session) -> Employee:
    return make_employee(session, role=Role.ADMIN, department="IT Department")


def test_head_who_coordinates_another_department(session: Session, tickets_by_department: dict[str, Ticket]) -> None:
    """A coordinator of IT who heads Finance: IT tickets in full (internal notes too), Finance
    in the reports and as summaries, and nothing of Finance's conversation."""
    coord = make_employee(session, role=Role.COORDINATOR, department="IT Department")
    _make_head(session, coord.email, ["Finance"])
    it, finance, legal = (tickets_by_department[d] for d in ("IT Department", "Finance", "Legal"))

    assert any(c.is_internal for c in tickets.list_comments(session, coord, it.id))
    assert ticket_summary.get_summary(session, coord, finance.id).full_access is False
    with pytest.raises(NotFound):
        tickets.list_comments(session, coord, finance.id)
    with pytest.raises(NotFound):
        ticket_summary.get_summary(session, coord, legal.id)
    totals = {
        d: reporting.drilldown(session, coord, FILTERS, "department", d, now=NOW).total
        for d in ("IT Department", "Finance", "Legal")
    }
    assert totals == {"IT Department": 1, "Finance": 1, "Legal": 0}
    # what the head may see is the union: a filter narrows it, never widens it
    only_legal = ReportFilters(FILTERS.start, FILTERS.end, department="Legal")
    assert {k.key: k.value for k in reporting.kpis(session, coord, only_legal, now=NOW)}["created"] == 0


def test_an_admins_change_of_the_head_email_applies_at_once(
    session: Session, tickets_by_department: dict[str, Ticket]
) -> None:
    admin = make_admin(session)
    person = make_employee(session, department="Sales", email="new.head@example.com")
    finance_id = session.scalars(select(Department.id).where(Department.name == "Finance")).one()
    finance_ticket = tickets_by_department["Finance"]

    with pytest.raises(PermissionDenied):
        reporting.kpis(session, person, FILTERS, now=NOW)
    admin_config.update_department(session, admin, finance_id, {"head_email": "New.Head@Example.com"})
    assert policy.grants_of(session, person).held == {Grant.DEPARTMENT_HEAD: frozenset({"Finance"})}
    assert {k.key: k.value for k in reporting.kpis(session, person, FILTERS, now=NOW)}["created"] == 1
    assert ticket_summary.get_summary(session, person, finance_ticket.id).ticket_number == finance_ticket.ticket_number

    admin_config.update_department(session, admin, finance_id, {"head_email": "someone.else@example.com"})
    with pytest.raises(PermissionDenied):
        reporting.kpis(session, person, FILTERS, now=NOW)
    with pytest.raises(NotFound):
        ticket_summary.get_summary(session, person, finance_ticket.id)


@pytest.mark.parametrize(
    "state", [{"status": "Suspended"}, {"is_active": False}], ids=["suspended", "deactivated"]
)
def test_an_unusable_account_holds_no_grant(session: Session, state: dict) -> None:
    person = make_employee(session, department="Sales", **state)
    _make_head(session, person.email, ["Finance"])
    assert policy.grants_of(session, person) == policy.NO_GRANTS
    assert not policy.allowed(person, Action.VIEW_REPORTS, policy.grants_of(session, person))


def test_a_deactivated_department_grants_nothing(session: Session) -> None:
    person = make_employee(session, department="Sales")
    _make_head(session, person.email, ["Finance"])
    session.scalars(select(Department).where(Department.name == "Finance")).one().is_active = False
    session.flush()
    assert policy.grants_of(session, person) == policy.NO_GRANTS


def test_grants_table_gives_heads_reports_and_summaries_only() -> None:
    """The grant is data: reports and ticket summaries, never a ticket's conversation or files."""
    assert {Grant.DEPARTMENT_HEAD: frozenset({Action.VIEW_REPORTS, Action.VIEW_TICKET_SUMMARY})} == policy.GRANTS
