"""The access policy: every role x every action asserted cell by cell, and ticket visibility.

The expected table is written out here independently of `policy.PERMISSIONS`, so a change
to the policy has to be made (and reviewed) in two places. An action added to the policy
without a row here fails `test_matrix_covers_every_action`.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartsupport_core import accounts, policy
from smartsupport_core.errors import NotFound, PermissionDenied
from smartsupport_core.models import Employee, Ticket
from smartsupport_core.policy import Action
from smartsupport_core.vocab import AccountStatus, Role
from tests.factories import make_employee, make_ticket

# Columns: Employee, Ticket Coordinator, System Admin ("x" = allowed, "-" = refused)
EXPECTED = """
see own tickets                          x x x
see department tickets                   - x x
see all tickets                          - - x
create a ticket                          x x x
comment publicly                         x x x
comment internally                       - x x
see internal comments                    - x x
assign tickets                           - x x
change ticket status                     x x x
change ticket priority                   - x x
approve or reject tickets                - - x
manage accounts                          - - x
manage categories, departments and SLA   - - x
view reports                             - x x
view the audit log                       - - x
download an attachment of a ticket       x x x
attach a file to a ticket                x x x
view the e-mail outbox                   - - x
resend e-mails from the outbox           - - x
change your notification settings        x x x
write help articles                      - x x
read help articles                       x x x
use the assistant                        x x x
work the ticket queue                    - x x
manage shared canned responses           - - x
rate a resolved ticket                   x x x
see a ticket's summary                   x x x
manage inbound mailboxes                 - - x
"""

ROLES = (Role.EMPLOYEE, Role.COORDINATOR, Role.ADMIN)


def _parse() -> dict[tuple[Role, str], bool]:
    table: dict[tuple[Role, str], bool] = {}
    for line in EXPECTED.strip().splitlines():
        *words, e, c, a = line.split()
        for role, mark in zip(ROLES, (e, c, a), strict=True):
            table[(role, " ".join(words))] = mark == "x"
    return table


MATRIX = _parse()
CELLS = [(role, action) for role in ROLES for action in Action]


def person(role: Role, **state: object) -> Employee:
    """An in-memory account: the role table needs no database (the services test below does)."""
    values: dict[str, object] = {"status": AccountStatus.APPROVED.value, "is_active": True, **state}
    return Employee(id=1, role=role.value, department="IT Department", session_version=1, **values)


def test_matrix_covers_every_action() -> None:
    assert {a for _, a in MATRIX} == {a.value for a in Action}


@pytest.mark.parametrize(("role", "action"), CELLS, ids=[f"{r.value}|{a.value}" for r, a in CELLS])
def test_cell(role: Role, action: Action) -> None:
    actor = person(role)
    expected = MATRIX[(role, action.value)]
    assert policy.allowed(actor, action) is expected
    if expected:
        assert policy.require(actor, action) is actor
    else:
        with pytest.raises(PermissionDenied, match=action.value):
            policy.require(actor, action)


@pytest.mark.parametrize(
    "state",
    [
        {"status": AccountStatus.PENDING},
        {"status": AccountStatus.REJECTED},
        {"status": AccountStatus.SUSPENDED},
        {"is_active": False},
    ],
    ids=["Pending", "Rejected", "Suspended", "deactivated"],
)
@pytest.mark.parametrize("role", ROLES)
def test_unusable_accounts_may_do_nothing(role: Role, state: dict[str, object]) -> None:
    actor = person(role, **state)
    assert [a for a in Action if policy.allowed(actor, a)] == []
    assert policy.allowed(None, Action.VIEW_OWN_TICKETS) is False


@pytest.mark.parametrize("role", ROLES)
def test_manage_accounts_cell_holds_in_the_service(session: Session, role: Role) -> None:
    """The account services enforce the same cell (not only `allowed`)."""
    actor = make_employee(session, role=role, department="IT Department")
    target = make_employee(session, status=AccountStatus.PENDING)
    if MATRIX[(role, Action.MANAGE_ACCOUNTS.value)]:
        accounts.approve_account(session, actor, target.id)
        assert target.status == "Approved"
        assert accounts.list_accounts(session, actor)
    else:
        with pytest.raises(PermissionDenied):
            accounts.approve_account(session, actor, target.id)
        with pytest.raises(PermissionDenied):
            accounts.list_accounts(session, actor)
        assert target.status == "Pending"


# --- Visibility ----------------------------------------------------------------------------------


@pytest.fixture
def world(session: Session) -> dict[str, object]:
    """Two departments' worth of people and tickets."""
    p = {
        "emp": make_employee(session, department="Sales"),
        "emp2": make_employee(session, department="Sales"),
        "it_coord": make_employee(session, role=Role.COORDINATOR, department="IT Department"),
        "hr_coord": make_employee(session, role=Role.COORDINATOR, department="Human Resources"),
        "admin": make_employee(session, role=Role.ADMIN, department="IT Department"),
    }
    t = {
        "it_by_emp": make_ticket(session, p["emp"], department="IT Department"),
        "hr_by_emp": make_ticket(session, p["emp"], department="Human Resources", category="Others"),
        "it_by_emp2": make_ticket(session, p["emp2"], department="IT Department"),
        "hr_by_emp2": make_ticket(session, p["emp2"], department="Human Resources", category="Others"),
        # an HR ticket explicitly assigned to the IT coordinator
        "hr_assigned_it": make_ticket(
            session, p["emp2"], department="Human Resources", category="Others", assigned_to_id=p["it_coord"].id
        ),
        "it_by_hr_coord": make_ticket(session, p["hr_coord"], department="IT Department"),
    }
    return {**p, **t}


EXPECTED_VISIBLE = {
    "emp": {"it_by_emp", "hr_by_emp"},
    "emp2": {"it_by_emp2", "hr_by_emp2", "hr_assigned_it"},
    "it_coord": {"it_by_emp", "it_by_emp2", "hr_assigned_it", "it_by_hr_coord"},
    "hr_coord": {"hr_by_emp", "hr_by_emp2", "hr_assigned_it", "it_by_hr_coord"},
    "admin": {"it_by_emp", "hr_by_emp", "it_by_emp2", "hr_by_emp2", "hr_assigned_it", "it_by_hr_coord"},
}
TICKET_KEYS = ("it_by_emp", "hr_by_emp", "it_by_emp2", "hr_by_emp2", "hr_assigned_it", "it_by_hr_coord")


@pytest.mark.parametrize("who", list(EXPECTED_VISIBLE))
def test_visibility(session: Session, world: dict[str, object], who: str) -> None:
    actor = world[who]
    assert isinstance(actor, Employee)
    names = {world[k].id: k for k in TICKET_KEYS}  # type: ignore[attr-defined]
    listed = {names[t.id] for t in session.scalars(select(Ticket).where(policy.ticket_visibility(actor)))}
    assert listed == EXPECTED_VISIBLE[who]
    for key in TICKET_KEYS:
        ticket = world[key]
        assert isinstance(ticket, Ticket)
        visible = key in EXPECTED_VISIBLE[who]
        assert policy.can_see_ticket(actor, ticket) is visible, key
        if visible:
            assert policy.visible_ticket(session, actor, ticket.id).id == ticket.id
        else:
            with pytest.raises(NotFound):
                policy.visible_ticket(session, actor, ticket.id)


def test_coordinator_sees_nothing_of_other_departments(session: Session, world: dict[str, object]) -> None:
    it_coord = world["it_coord"]
    assert isinstance(it_coord, Employee)
    depts = set(session.scalars(select(Ticket.department).where(policy.ticket_visibility(it_coord))))
    # the only HR ticket is the one assigned to them personally
    hr = list(
        session.scalars(
            select(Ticket).where(policy.ticket_visibility(it_coord), Ticket.department == "Human Resources")
        )
    )
    assert depts == {"IT Department", "Human Resources"}
    assert [t.assigned_to_id for t in hr] == [it_coord.id]


@pytest.mark.parametrize(
    "state",
    [{"status": "Pending"}, {"status": "Rejected"}, {"status": "Suspended"}, {"is_active": False}],
    ids=["Pending", "Rejected", "Suspended", "deactivated"],
)
@pytest.mark.parametrize("who", ["emp", "it_coord", "admin"])
def test_unusable_accounts_see_nothing(session: Session, world: dict[str, object], who: str, state: dict) -> None:
    actor = world[who]
    assert isinstance(actor, Employee)
    for key, value in state.items():
        setattr(actor, key, value)
    session.flush()
    assert session.scalars(select(Ticket).where(policy.ticket_visibility(actor))).all() == []
    for key in TICKET_KEYS:
        ticket = world[key]
        assert isinstance(ticket, Ticket)
        assert policy.can_see_ticket(actor, ticket) is False
        with pytest.raises(NotFound):
            policy.visible_ticket(session, actor, ticket.id)
    assert session.scalars(select(Ticket).where(policy.ticket_visibility(None))).all() == []


# --- The same matrix through the core services -------------------------------------------------------

DENIED = (PermissionDenied, NotFound)


def _services_world(session: Session, role: Role) -> dict[str, object]:
    """The actor (IT Department) with their own ticket, a colleague's IT ticket, an HR ticket."""
    from smartsupport_core import tickets
    from tests.ticket_helpers import IT_DATA, PNG

    actor = make_employee(session, role=role, department="IT Department")
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    colleague = make_employee(session, department="IT Department")
    outsider = make_employee(session, department="Legal")
    own = tickets.submit_ticket(session, actor, IT_DATA, [("screen.png", PNG)])
    tickets.add_comment(session, admin, own.id, "Internal triage note.", internal=True)
    dept = make_ticket(session, colleague, department="IT Department")
    other = make_ticket(session, outsider, department="Human Resources", category="Others")
    session.flush()
    return {"actor": actor, "own": own.id, "dept": dept.id, "other": other.id}


def _probe(action: Action):
    """A core-service call that exercises exactly `action` for the actor."""
    from smartsupport_core import (
        admin_config,
        assistant,
        attachments,
        audit_log,
        canned,
        inbound_admin,
        knowledge,
        notifications,
        outbox,
        queue,
        ratings,
        reporting,
        ticket_summary,
        tickets,
    )
    from tests.ticket_helpers import IT_DATA, PNG

    def internal_comments_visible(s: Session, a: Employee, w: dict) -> None:
        if not any(c.is_internal for c in tickets.list_comments(s, a, w["own"])):
            raise PermissionDenied("internal comments hidden")

    def download(s: Session, a: Employee, w: dict) -> None:
        (att,) = tickets.list_attachments(s, a, w["own"])
        attachments.preview_content(s, a, att.id)

    probes = {
        Action.VIEW_OWN_TICKETS: lambda s, a, w: tickets.list_my_tickets(s, a),
        Action.VIEW_DEPARTMENT_TICKETS: lambda s, a, w: tickets.get_ticket(s, a, w["dept"]),
        Action.VIEW_ALL_TICKETS: lambda s, a, w: tickets.get_ticket(s, a, w["other"]),
        Action.CREATE_TICKET: lambda s, a, w: tickets.submit_ticket(s, a, IT_DATA),
        Action.COMMENT_PUBLIC: lambda s, a, w: tickets.add_comment(s, a, w["own"], "Any news on this?"),
        Action.COMMENT_INTERNAL: lambda s, a, w: tickets.add_comment(s, a, w["own"], "Note.", internal=True),
        Action.VIEW_INTERNAL_COMMENTS: internal_comments_visible,
        Action.ASSIGN_TICKET: lambda s, a, w: tickets.assign_ticket(s, a, w["own"], a.id),
        Action.CHANGE_STATUS: lambda s, a, w: tickets.change_status(s, a, w["own"], "Withdrawn"),
        Action.CHANGE_PRIORITY: lambda s, a, w: tickets.set_priority(s, a, w["own"], "High"),
        Action.APPROVE_TICKET: lambda s, a, w: tickets.approve_ticket(s, a, w["own"]),
        Action.MANAGE_ACCOUNTS: lambda s, a, w: accounts.list_accounts(s, a),
        Action.MANAGE_CONFIG: lambda s, a, w: admin_config.list_departments(s, a),
        Action.VIEW_REPORTS: lambda s, a, w: reporting.filter_options(s, a),
        Action.VIEW_AUDIT_LOG: lambda s, a, w: audit_log.audit_users(s, a),
        Action.DOWNLOAD_ATTACHMENT: download,
        Action.UPLOAD_ATTACHMENT: lambda s, a, w: attachments.save_attachment(
            s, a, tickets.get_ticket(s, a, w["own"]), "more.png", PNG
        ),
        Action.VIEW_OUTBOX: lambda s, a, w: outbox.list_messages(s, a),
        Action.RESEND_EMAIL: lambda s, a, w: outbox.resend(s, a, []),
        Action.MANAGE_OWN_NOTIFICATIONS: lambda s, a, w: notifications.set_notification_preference(s, a, True),
        Action.MANAGE_ARTICLES: lambda s, a, w: knowledge.list_all_articles(s, a),
        Action.READ_ARTICLES: lambda s, a, w: knowledge.article_categories(s, a),
        Action.USE_ASSISTANT: lambda s, a, w: assistant.history(s, a),
        Action.USE_QUEUE: lambda s, a, w: queue.filter_choices(s, a),
        Action.MANAGE_SHARED_CANNED: lambda s, a, w: canned.create_canned(s, a, "Greeting", "Hello!", shared=True),
        Action.RATE_TICKET: lambda s, a, w: ratings.rate_ticket(s, a, w["own"], 5),
        Action.VIEW_TICKET_SUMMARY: lambda s, a, w: ticket_summary.get_summary(s, a, w["own"]),
        Action.MANAGE_INBOUND_MAIL: lambda s, a, w: inbound_admin.list_mailboxes(s, a),
    }
    return probes[action]


@pytest.mark.parametrize(("role", "action"), CELLS, ids=[f"{r.value}|{a.value}" for r, a in CELLS])
def test_cell_through_services(session: Session, role: Role, action: Action) -> None:
    """Allowed cells are never refused by the policy; refused cells always are."""
    from smartsupport_core.errors import DomainError

    world = _services_world(session, role)
    actor = world["actor"]
    probe = _probe(action)
    expected = MATRIX[(role, action.value)]
    try:
        with session.begin_nested():
            probe(session, actor, world)
    except DENIED as exc:
        assert not expected, f"{role.value} was refused '{action.value}': {exc}"
    except DomainError as exc:
        # a business rule (state, input) answered, i.e. the policy let the call through
        assert expected, f"{role.value} got past the policy for '{action.value}' ({exc})"
    else:
        assert expected, f"{role.value} was allowed to '{action.value}'"
