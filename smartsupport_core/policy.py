"""Who may do what: one table of role x action, and the ticket visibility rule.

Every service function calls `require` (or the ticket fetchers below) before it reads or
writes; the portal only hides what this module already forbids. Visibility is per
department: an employee sees their own tickets, a coordinator sees their department's
tickets plus those assigned to them (and, like every employee, the ones they filed
themselves), an admin sees all. Child objects (comments,
attachments, history, ratings) are always reached through their ticket.

Seeing a ticket is not the same as working it. Staff powers on a ticket (internal notes,
assignment, priority, approval, staff status moves, canned replies, the reply assistant)
come from `acts_as_staff(actor, ticket)`, never from the role alone: an admin acts as staff
everywhere, a coordinator only on tickets of their own department or assigned to them. On a
ticket a coordinator sees only because they filed it (another department, not assigned to
them) they are its requester and nothing more: public conversation, requester moves.
`TICKET_STAFF_ACTIONS` lists the actions that need it; `allowed_on_ticket` applies both the
role table and that rule, and `staff_scope` is the same rule as SQL for queries.

Besides roles there are *grants*: role-independent, held per department by whoever the data
names (`GRANTS`). A department head (`core_department.head_email`, case-insensitive) of any
role reads the SLA reports of that department and the summaries of its tickets - never
their comments, attachments or history, which follow the role rules alone. Grants are read
from the database per request (`grants_of`), so an admin's change of a head e-mail applies
at once; every check that a grant can widen takes the `Grants` explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select, true
from sqlalchemy.orm import Session

from .errors import NotFound, PermissionDenied
from .models import Department, Employee, Ticket
from .session_memo import remembered
from .vocab import AccountStatus, Role


class Action(StrEnum):
    VIEW_OWN_TICKETS = "see own tickets"
    VIEW_DEPARTMENT_TICKETS = "see department tickets"
    VIEW_ALL_TICKETS = "see all tickets"
    CREATE_TICKET = "create a ticket"
    COMMENT_PUBLIC = "comment publicly"
    COMMENT_INTERNAL = "comment internally"
    VIEW_INTERNAL_COMMENTS = "see internal comments"
    ASSIGN_TICKET = "assign tickets"
    CHANGE_STATUS = "change ticket status"
    CHANGE_PRIORITY = "change ticket priority"
    APPROVE_TICKET = "approve or reject tickets"
    MANAGE_ACCOUNTS = "manage accounts"
    MANAGE_CONFIG = "manage categories, departments and SLA"
    VIEW_REPORTS = "view reports"
    VIEW_AUDIT_LOG = "view the audit log"
    DOWNLOAD_ATTACHMENT = "download an attachment of a ticket"
    UPLOAD_ATTACHMENT = "attach a file to a ticket"
    VIEW_OUTBOX = "view the e-mail outbox"
    RESEND_EMAIL = "resend e-mails from the outbox"
    MANAGE_OWN_NOTIFICATIONS = "change your notification settings"
    MANAGE_ARTICLES = "write help articles"
    READ_ARTICLES = "read help articles"
    USE_ASSISTANT = "use the assistant"
    USE_QUEUE = "work the ticket queue"
    MANAGE_SHARED_CANNED = "manage shared canned responses"
    RATE_TICKET = "rate a resolved ticket"
    VIEW_TICKET_SUMMARY = "see a ticket's summary"
    MANAGE_INBOUND_MAIL = "manage inbound mailboxes"


E, C, A = Role.EMPLOYEE, Role.COORDINATOR, Role.ADMIN

#: The role x action table. Per-ticket actions are additionally limited to tickets the
#: actor can see (`ticket_visibility`), and requester-only moves live in the workflow table.
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.VIEW_OWN_TICKETS: frozenset({E, C, A}),
    Action.VIEW_DEPARTMENT_TICKETS: frozenset({C, A}),
    Action.VIEW_ALL_TICKETS: frozenset({A}),
    Action.CREATE_TICKET: frozenset({E, C, A}),
    Action.COMMENT_PUBLIC: frozenset({E, C, A}),
    Action.COMMENT_INTERNAL: frozenset({C, A}),
    Action.VIEW_INTERNAL_COMMENTS: frozenset({C, A}),
    Action.ASSIGN_TICKET: frozenset({C, A}),
    Action.CHANGE_STATUS: frozenset({E, C, A}),
    Action.CHANGE_PRIORITY: frozenset({C, A}),
    Action.APPROVE_TICKET: frozenset({A}),
    Action.MANAGE_ACCOUNTS: frozenset({A}),
    Action.MANAGE_CONFIG: frozenset({A}),
    Action.VIEW_REPORTS: frozenset({C, A}),
    Action.VIEW_AUDIT_LOG: frozenset({A}),
    Action.DOWNLOAD_ATTACHMENT: frozenset({E, C, A}),
    Action.UPLOAD_ATTACHMENT: frozenset({E, C, A}),
    Action.VIEW_OUTBOX: frozenset({A}),
    Action.RESEND_EMAIL: frozenset({A}),
    Action.MANAGE_OWN_NOTIFICATIONS: frozenset({E, C, A}),
    Action.MANAGE_ARTICLES: frozenset({C, A}),
    Action.READ_ARTICLES: frozenset({E, C, A}),
    Action.USE_ASSISTANT: frozenset({E, C, A}),
    Action.USE_QUEUE: frozenset({C, A}),
    Action.MANAGE_SHARED_CANNED: frozenset({A}),
    Action.RATE_TICKET: frozenset({E, C, A}),
    Action.VIEW_TICKET_SUMMARY: frozenset({E, C, A}),
    Action.MANAGE_INBOUND_MAIL: frozenset({A}),
}


class Grant(StrEnum):
    """Kinds of role-independent grant; each is held for a set of departments."""

    DEPARTMENT_HEAD = "department head"


#: Grant kind -> what it allows on the tickets of the departments it is held for, whatever
#: the holder's role. Comments, attachments, history and internal notes are deliberately
#: absent: a head who is not staff on a ticket sees its summary, never its conversation.
GRANTS: dict[Grant, frozenset[Action]] = {
    Grant.DEPARTMENT_HEAD: frozenset({Action.VIEW_REPORTS, Action.VIEW_TICKET_SUMMARY}),
}


@dataclass(frozen=True)
class Grants:
    """The grants one actor holds: kind -> departments (empty: none)."""

    held: Mapping[Grant, frozenset[str]] = field(default_factory=dict)

    def departments(self, action: Action) -> frozenset[str]:
        """The departments on whose tickets some grant allows `action`."""
        out: frozenset[str] = frozenset()
        for kind, departments in self.held.items():
            if action in GRANTS[kind]:
                out |= departments
        return out

    def key(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """Hashable identity (part of every cache key of what grants widen)."""
        return tuple((str(k), tuple(sorted(v))) for k, v in sorted(self.held.items()) if v)


NO_GRANTS = Grants()


def headed_departments(session: Session, actor: Employee | None) -> frozenset[str]:
    """Active departments whose head e-mail is the actor's (case-insensitive)."""
    if not is_active_account(actor):
        return frozenset()
    assert actor is not None
    if not actor.email:
        return frozenset()
    return frozenset(
        session.scalars(
            select(Department.name).where(
                func.lower(Department.head_email) == actor.email.strip().lower(),
                Department.is_active.is_not(False),
            )
        )
    )


def grants_of(session: Session, actor: Employee | None) -> Grants:
    """The grants `actor` holds now: read from the database once per session until it
    writes (`session_memo`: one portal click asks it in the navigation, the page and each
    report service; the next click is a new session and reads it again)."""
    if actor is None:
        return NO_GRANTS

    def read() -> Grants:
        heads = headed_departments(session, actor)
        return Grants({Grant.DEPARTMENT_HEAD: heads}) if heads else NO_GRANTS

    return remembered(session, ("policy.grants_of", actor.id, (actor.email or "").strip().lower()), read)


def is_active_account(actor: Employee | None) -> bool:
    return bool(actor is not None and actor.is_active and actor.status == AccountStatus.APPROVED.value)


def role_allows(actor: Employee | None, action: Action) -> bool:
    """True when the actor's role alone may perform `action` (and the account is usable)."""
    if not is_active_account(actor):
        return False
    assert actor is not None
    return Role(actor.role) in PERMISSIONS[action]


def allowed(actor: Employee | None, action: Action, grants: Grants = NO_GRANTS) -> bool:
    """True when the actor's role, or a grant held for at least one department, allows `action`."""
    return role_allows(actor, action) or (is_active_account(actor) and bool(grants.departments(action)))


def require(actor: Employee | None, action: Action, grants: Grants = NO_GRANTS) -> Employee:
    """Raise `PermissionDenied` unless `allowed`; returns the actor for chaining."""
    if not allowed(actor, action, grants):
        raise PermissionDenied(f"You are not allowed to {action.value}.")
    assert actor is not None
    return actor


def ticket_visibility(actor: Employee | None) -> ColumnElement[bool]:
    """SQL condition on `Ticket` selecting exactly the tickets `actor` may see: those they
    work as staff (`staff_scope`) and their own requests (to any department)."""
    if not is_active_account(actor):
        return false()
    assert actor is not None
    return or_(staff_scope(actor), Ticket.employee_id == actor.id)  # or_(true(), x) is true()


def action_scope(actor: Employee | None, action: Action, grants: Grants = NO_GRANTS) -> ColumnElement[bool]:
    """SQL condition on `Ticket`: the tickets on which `actor` may perform `action` - those it
    sees when its role allows the action, plus those of the departments a grant allows it for."""
    parts: list[ColumnElement[bool]] = []
    if role_allows(actor, action):
        parts.append(ticket_visibility(actor))
    departments = grants.departments(action) if is_active_account(actor) else frozenset()
    if departments:
        parts.append(Ticket.department.in_(sorted(departments)))
    return or_(*parts) if parts else false()


def action_scope_mask(
    actor: Employee | None,
    action: Action,
    grants: Grants,
    in_departments: Callable[[frozenset[str]], Any],
    assigned_to_id: Any,
    employee_id: Any,
) -> Any:
    """Vectorised mirror of `action_scope` over numpy columns; `in_departments(names)` gives
    the bool array of tickets in those departments."""
    import numpy as np

    n = len(employee_id)
    out = np.zeros(n, dtype=bool)
    if role_allows(actor, action):
        assert actor is not None
        own = in_departments(frozenset({actor.department})) if actor.department else np.zeros(n, dtype=bool)
        out |= ticket_visibility_mask(actor, own, assigned_to_id, employee_id)
    departments = grants.departments(action) if is_active_account(actor) else frozenset()
    if departments:
        out |= in_departments(departments)
    return out


def ticket_visibility_mask(actor: Employee | None, own_department: Any, assigned_to_id: Any, employee_id: Any) -> Any:
    """Vectorised mirror of `ticket_visibility` over numpy columns (the dashboard's packed
    rows): `own_department` is a bool array (ticket in the actor's department)."""
    import numpy as np

    n = len(employee_id)
    if not is_active_account(actor):
        return np.zeros(n, dtype=bool)
    assert actor is not None
    role = Role(actor.role)
    if role is Role.ADMIN:
        return np.ones(n, dtype=bool)
    if role is Role.COORDINATOR:
        return own_department | (assigned_to_id == actor.id) | (employee_id == actor.id)
    return employee_id == actor.id


def can_see_ticket(actor: Employee | None, ticket: Ticket) -> bool:
    """Python mirror of `ticket_visibility` for a row already loaded."""
    if not is_active_account(actor):
        return False
    assert actor is not None
    return acts_as_staff(actor, ticket) or ticket.employee_id == actor.id


def is_staff(actor: Employee | None) -> bool:
    """The role is a staff role (coordinator or admin). Says nothing about a given ticket:
    use `acts_as_staff` for anything done on or read from a ticket."""
    return allowed(actor, Action.VIEW_DEPARTMENT_TICKETS)


def acts_as_staff(actor: Employee | None, ticket: Ticket) -> bool:
    """True when `actor` works `ticket` as staff: an admin on every ticket, a coordinator on
    tickets of their own department or assigned to them. Anyone else who sees the ticket (its
    requester, a coordinator included) acts only as its requester."""
    if not is_active_account(actor):
        return False
    assert actor is not None
    role = Role(actor.role)
    if role is Role.ADMIN:
        return True
    if role is Role.COORDINATOR:
        return ticket.department == actor.department or (
            ticket.assigned_to_id is not None and ticket.assigned_to_id == actor.id
        )
    return False


def staff_scope(actor: Employee | None) -> ColumnElement[bool]:
    """SQL condition on `Ticket`: exactly the tickets on which `acts_as_staff(actor, t)`."""
    if not is_active_account(actor):
        return false()
    assert actor is not None
    role = Role(actor.role)
    if role is Role.ADMIN:
        return true()
    if role is Role.COORDINATOR:
        return or_(Ticket.department == actor.department, Ticket.assigned_to_id == actor.id)
    return false()


#: Per-ticket actions that need the actor to act as staff on *that* ticket (`acts_as_staff`),
#: besides their role allowing the action. Everything else done on a visible ticket (public
#: replies, attachments, ratings, requester moves) is open to its requester as well.
TICKET_STAFF_ACTIONS: frozenset[Action] = frozenset(
    {
        Action.COMMENT_INTERNAL,
        Action.VIEW_INTERNAL_COMMENTS,
        Action.ASSIGN_TICKET,
        Action.CHANGE_PRIORITY,
        Action.APPROVE_TICKET,
        Action.USE_QUEUE,  # canned replies, the reply assistant: the queue's tools on a ticket
    }
)


def allowed_on_ticket(actor: Employee | None, action: Action, ticket: Ticket) -> bool:
    """`allowed` for an action done on (or read from) one ticket the actor can see."""
    if not allowed(actor, action) or not can_see_ticket(actor, ticket):
        return False
    return action not in TICKET_STAFF_ACTIONS or acts_as_staff(actor, ticket)


def require_on_ticket(actor: Employee | None, action: Action, ticket: Ticket) -> Employee:
    """Raise `PermissionDenied` unless `allowed_on_ticket`; returns the actor."""
    if not allowed_on_ticket(actor, action, ticket):
        if allowed(actor, action) and can_see_ticket(actor, ticket):
            raise PermissionDenied(
                f"You are not allowed to {action.value} on ticket {ticket.ticket_number}: "
                "you are its requester, not staff of its department."
            )
        raise PermissionDenied(f"You are not allowed to {action.value}.")
    assert actor is not None
    return actor


def visible_ticket(session: Session, actor: Employee | None, ticket_id: int, *, for_update: bool = False) -> Ticket:
    """The ticket if `actor` may see it; `NotFound` otherwise (never reveals existence)."""
    stmt = select(Ticket).where(Ticket.id == ticket_id, ticket_visibility(actor))
    if for_update:
        stmt = stmt.with_for_update()
    ticket = session.scalars(stmt).one_or_none()
    if ticket is None:
        raise NotFound(f"Ticket {ticket_id} was not found.")
    return ticket
