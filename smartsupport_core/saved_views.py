"""Saved queue views: a coordinator's named filter sets.

A view is a `QueueFilters` stored as JSON under a name unique per owner. Everyone also has
built-in views (not rows: they cannot be deleted or overwritten), chosen by role so the
queue opens on the work that needs the user: an admin's first view is "Needs
approval", a coordinator's "Mine and unassigned in my department"; Home's tiles are these
views (same filters, so the tile's count is the number the queue shows). Views are
personal: only their owner lists, replaces or deletes them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, policy
from .errors import NotFound, ValidationError
from .models import Employee, SavedView
from .policy import Action
from .queue import DEFAULT_FILTERS, DEFAULT_VIEW_NAME, QueueFilters, validate_filters
from .text_input import text_errors
from .ticket_states import TicketState
from .vocab import AuditAction, Role

NAME_MAX = 100


@dataclass(frozen=True)
class View:
    id: int | None  # None: a built-in view
    name: str
    filters: QueueFilters
    key: str | None = None  # a built-in view's stable name in links (`/queue?view=<key>`)

    @property
    def builtin(self) -> bool:
        return self.id is None


DEFAULT_VIEW = View(None, DEFAULT_VIEW_NAME, DEFAULT_FILTERS, "assigned-to-me-not-closed")
_BY_SLA = {"sort": "sla"}


def builtin_views(actor: Employee) -> list[View]:
    """The actor's built-in views, their default first (`ticket_states` names the states)."""
    if actor.role == Role.ADMIN.value:
        views = [
            View(None, "Needs approval", QueueFilters(states=(TicketState.AWAITING_APPROVAL,), **_BY_SLA),
                 "needs-approval"),
            View(None, "Breached", QueueFilters(states=(TicketState.BREACHED,), **_BY_SLA), "breached"),
            View(None, "Unassigned", QueueFilters(states=(TicketState.UNASSIGNED,), **_BY_SLA), "unassigned"),
        ]
    else:
        views = [
            View(
                None,
                "Mine and unassigned in my department",
                QueueFilters(states=(TicketState.OPEN,), assignee="mine_or_department", **_BY_SLA),
                "mine-and-department",
            ),
            View(None, "Assigned to me", QueueFilters(states=(TicketState.OPEN,), assignee="me", **_BY_SLA),
                 "assigned-to-me"),
            View(
                None,
                "Unassigned in my department",
                QueueFilters(states=(TicketState.UNASSIGNED,), department=actor.department, **_BY_SLA),
                "unassigned-in-department",
            ),
            View(None, "Breached or due within 4 business hours",
                 QueueFilters(states=(TicketState.URGENT,), **_BY_SLA), "urgent"),
            View(None, "Updated by the requester since I last looked",
                 QueueFilters(states=(TicketState.UPDATED_BY_REQUESTER,), assignee="me", **_BY_SLA),
                 "updated-by-requester"),
        ]
    return [*views, DEFAULT_VIEW]


def _all_builtin_names() -> frozenset[str]:
    someone = {role: Employee(role=role, department="") for role in (Role.ADMIN.value, Role.COORDINATOR.value)}
    return frozenset(v.name.casefold() for who in someone.values() for v in builtin_views(who))


#: No saved view may take a built-in view's name (whoever's built-in it is: names stay unambiguous).
BUILTIN_NAMES = _all_builtin_names()


def builtin_view(actor: Employee, key: str) -> View | None:
    return next((v for v in builtin_views(actor) if v.key == key), None)


def list_views(session: Session, actor: Employee) -> list[View]:
    """The built-in views first (the default view first of all), then the actor's own by name."""
    policy.require(actor, Action.USE_QUEUE)
    rows = session.scalars(select(SavedView).where(SavedView.owner_id == actor.id).order_by(SavedView.name))
    return [*builtin_views(actor), *(View(r.id, r.name, QueueFilters.from_dict(r.filters)) for r in rows)]


def save_view(session: Session, actor: Employee, name: str, filters: QueueFilters, *, overwrite: bool = False) -> View:
    """Store `filters` as `name`; an existing name is replaced only with `overwrite`."""
    policy.require(actor, Action.USE_QUEUE)
    errors = text_errors({"name": name}, {"name": NAME_MAX})
    name = name.strip() if isinstance(name, str) else ""
    if errors:
        pass
    elif not name:
        errors["name"] = "a view needs a name"
    elif len(name) > NAME_MAX:
        errors["name"] = f"at most {NAME_MAX} characters"
    elif name.casefold() in BUILTIN_NAMES:
        errors["name"] = f"'{name}' is a built-in view; choose another name"
    try:
        validate_filters(filters)
    except ValidationError as exc:
        errors.update({f"filters.{k}": v for k, v in exc.errors.items()})
    existing = None
    if "name" not in errors:
        existing = session.scalars(
            select(SavedView).where(SavedView.owner_id == actor.id, SavedView.name == name)
        ).one_or_none()
        if existing is not None and not overwrite:
            errors["name"] = f"you already have a view named '{name}'; choose another name or replace it"
    if errors:
        raise ValidationError(errors)
    data = filters.to_dict()
    if existing is None:
        row = SavedView(owner_id=actor.id, name=name, filters=data)
        session.add(row)
        session.flush()
        audit.record(session, actor, "core_savedview", row.id, AuditAction.CREATE, None, {"name": name, **data})
    else:
        row = existing
        old = dict(row.filters)
        row.filters = data
        session.flush()
        audit.record(session, actor, "core_savedview", row.id, AuditAction.UPDATE, old, data)
    return View(row.id, row.name, filters)


def delete_view(session: Session, actor: Employee, view_id: int) -> None:
    """Delete one of the actor's views (someone else's view is "not found")."""
    policy.require(actor, Action.USE_QUEUE)
    row = session.scalars(
        select(SavedView).where(SavedView.id == view_id, SavedView.owner_id == actor.id)
    ).one_or_none()
    if row is None:
        raise NotFound(f"Saved view {view_id} was not found.")
    audit.record(session, actor, "core_savedview", row.id, AuditAction.DELETE, {"name": row.name, **row.filters}, None)
    session.delete(row)
    session.flush()
