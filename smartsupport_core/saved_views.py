"""Saved queue views: a coordinator's named filter sets.

A view is a `QueueFilters` stored as JSON under a name unique per owner. Everyone also has
the built-in default view "Assigned to me, not closed" (not a row: it cannot be deleted or
overwritten). Views are personal: only their owner lists, replaces or deletes them.
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
from .vocab import AuditAction

NAME_MAX = 100


@dataclass(frozen=True)
class View:
    id: int | None  # None: the built-in default view
    name: str
    filters: QueueFilters

    @property
    def builtin(self) -> bool:
        return self.id is None


DEFAULT_VIEW = View(None, DEFAULT_VIEW_NAME, DEFAULT_FILTERS)


def list_views(session: Session, actor: Employee) -> list[View]:
    """The default view first, then the actor's own views by name."""
    policy.require(actor, Action.USE_QUEUE)
    rows = session.scalars(select(SavedView).where(SavedView.owner_id == actor.id).order_by(SavedView.name))
    return [DEFAULT_VIEW, *(View(r.id, r.name, QueueFilters.from_dict(r.filters)) for r in rows)]


def save_view(session: Session, actor: Employee, name: str, filters: QueueFilters, *, overwrite: bool = False) -> View:
    """Store `filters` as `name`; an existing name is replaced only with `overwrite`."""
    policy.require(actor, Action.USE_QUEUE)
    name = (name or "").strip()
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = "a view needs a name"
    elif len(name) > NAME_MAX:
        errors["name"] = f"at most {NAME_MAX} characters"
    elif name.casefold() == DEFAULT_VIEW_NAME.casefold():
        errors["name"] = f"'{DEFAULT_VIEW_NAME}' is the built-in default view; choose another name"
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
