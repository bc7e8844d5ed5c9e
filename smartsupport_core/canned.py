"""Canned responses: reply templates with a few safe placeholders.

Personal templates belong to their owner (any queue user); shared ones (`owner_id` NULL)
are visible to every queue user and managed only by admins
(`Action.MANAGE_SHARED_CANNED`). Placeholders are a closed list substituted by plain string
replacement (never `str.format`, which would let a template reach attributes); the rendered
text is a reply like any other and is shown escaped wherever comments are shown.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from . import audit, policy
from .errors import NotFound, PermissionDenied, ValidationError
from .models import CannedResponse, Employee
from .policy import Action
from .text_input import text_errors
from .vocab import AuditAction

TITLE_MAX = 100
BODY_MAX = 5000

#: Placeholder -> what it stands for (shown to authors).
PLACEHOLDERS: dict[str, str] = {
    "requester_first_name": "the requester's first name",
    "ticket_number": "the ticket number, e.g. TKT2026000123",
    "subject": "the ticket's subject",
    "agent_name": "your full name",
}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class Canned:
    id: int
    title: str
    body: str
    shared: bool
    owner_id: int | None


def _view(row: CannedResponse) -> Canned:
    return Canned(row.id, row.title, row.body, row.owner_id is None, row.owner_id)


def list_canned(session: Session, actor: Employee) -> list[Canned]:
    """Shared templates, then the actor's own, each by title."""
    policy.require(actor, Action.USE_QUEUE)
    rows = session.scalars(
        select(CannedResponse)
        .where(or_(CannedResponse.owner_id.is_(None), CannedResponse.owner_id == actor.id))
        .order_by(CannedResponse.owner_id.is_not(None), CannedResponse.title, CannedResponse.id)
    )
    return [_view(r) for r in rows]


def _validate(title: str, body: str) -> tuple[str, str]:
    errors = text_errors({"title": title, "body": body}, {"title": TITLE_MAX, "body": BODY_MAX})
    if errors:
        raise ValidationError(errors)
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        errors["title"] = "a canned response needs a title"
    elif len(title) > TITLE_MAX:
        errors["title"] = f"at most {TITLE_MAX} characters"
    if not body:
        errors["body"] = "the text cannot be empty"
    elif len(body) > BODY_MAX:
        errors["body"] = f"at most {BODY_MAX} characters"
    else:
        unknown = sorted({m for m in _PLACEHOLDER.findall(body) if m not in PLACEHOLDERS})
        if unknown:
            allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
            errors["body"] = f"unknown placeholder {', '.join('{' + u + '}' for u in unknown)}; use {allowed}"
    if errors:
        raise ValidationError(errors)
    return title, body


def _require_manage(actor: Employee, shared: bool) -> None:
    policy.require(actor, Action.USE_QUEUE)
    if shared:
        policy.require(actor, Action.MANAGE_SHARED_CANNED)


def create_canned(session: Session, actor: Employee, title: str, body: str, *, shared: bool = False) -> Canned:
    _require_manage(actor, shared)
    title, body = _validate(title, body)
    row = CannedResponse(title=title, body=body, owner_id=None if shared else actor.id)
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "core_cannedresponse",
        row.id,
        AuditAction.CREATE,
        None,
        {"title": title, "body": body, "shared": shared},
    )
    return _view(row)


def _editable(session: Session, actor: Employee, canned_id: int) -> CannedResponse:
    row = session.get(CannedResponse, canned_id)
    if row is None or (row.owner_id is not None and row.owner_id != actor.id):
        raise NotFound(f"Canned response {canned_id} was not found.")
    if row.owner_id is None and not policy.allowed(actor, Action.MANAGE_SHARED_CANNED):
        raise PermissionDenied(f"You are not allowed to {Action.MANAGE_SHARED_CANNED.value}.")
    return row


def update_canned(session: Session, actor: Employee, canned_id: int, title: str, body: str) -> Canned:
    policy.require(actor, Action.USE_QUEUE)
    row = _editable(session, actor, canned_id)
    title, body = _validate(title, body)
    old, new = audit.changes(row, ["title", "body"], {"title": title, "body": body})
    if new:
        row.title, row.body = title, body
        row.updated_at = dt.datetime.now(dt.UTC)
        session.flush()
        audit.record(session, actor, "core_cannedresponse", row.id, AuditAction.UPDATE, old, new)
    return _view(row)


def delete_canned(session: Session, actor: Employee, canned_id: int) -> None:
    policy.require(actor, Action.USE_QUEUE)
    row = _editable(session, actor, canned_id)
    audit.record(
        session,
        actor,
        "core_cannedresponse",
        row.id,
        AuditAction.DELETE,
        {"title": row.title, "body": row.body, "shared": row.owner_id is None},
        None,
    )
    session.delete(row)
    session.flush()


def render_text(body: str, values: dict[str, str]) -> str:
    """Replace known {placeholders}; anything else is left exactly as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def render_canned(session: Session, actor: Employee, canned_id: int, ticket_id: int) -> str:
    """The template filled in for a ticket the actor works as staff (`policy.acts_as_staff`)."""
    policy.require(actor, Action.USE_QUEUE)
    row = session.get(CannedResponse, canned_id)
    if row is None or (row.owner_id is not None and row.owner_id != actor.id):
        raise NotFound(f"Canned response {canned_id} was not found.")
    ticket = policy.visible_ticket(session, actor, ticket_id)
    policy.require_on_ticket(actor, Action.USE_QUEUE, ticket)
    requester = session.get(Employee, ticket.employee_id)
    values = {
        "requester_first_name": requester.first_name if requester else "",
        "ticket_number": ticket.ticket_number,
        "subject": ticket.subject,
        "agent_name": actor.full_name,
    }
    return render_text(row.body, values)
