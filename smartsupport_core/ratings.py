"""Satisfaction ratings: the requester rates a resolved ticket 1-5 with an optional comment.

Why these rules: only the person who asked for help can say whether it helped (so only the
requester, and only for a ticket they can see); a rating of work not yet finished means
nothing (so only Resolved or Closed tickets); one rating per ticket keeps the average
honest, but the requester may change their mind (a second call updates the same row, and
the audit trail keeps the old value). The dashboard averages these rows by their
`created_at`, which an update moves to the time of the latest rating.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, policy
from .errors import PermissionDenied, ValidationError
from .models import Employee, TicketRating
from .policy import Action
from .vocab import RESOLVED_STATUS_VALUES, AuditAction

RATEABLE_STATUSES = RESOLVED_STATUS_VALUES
MIN_RATING, MAX_RATING = 1, 5
MAX_COMMENT = 2000


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def get_rating(session: Session, actor: Employee, ticket_id: int) -> TicketRating | None:
    """The ticket's rating, for anyone who may see the ticket (NotFound otherwise)."""
    ticket = policy.visible_ticket(session, actor, ticket_id)
    return session.scalars(select(TicketRating).where(TicketRating.ticket_id == ticket.id)).one_or_none()


def can_rate(actor: Employee | None, ticket) -> bool:
    """Whether the page should offer the rating form (the service checks again)."""
    return (
        policy.allowed(actor, Action.RATE_TICKET)
        and actor is not None
        and ticket.employee_id == actor.id
        and ticket.status in RATEABLE_STATUSES
    )


def rate_ticket(
    session: Session, actor: Employee, ticket_id: int, rating: object, comment: str | None = None
) -> TicketRating:
    """Record (or update) the requester's rating of their resolved ticket; audited."""
    policy.require(actor, Action.RATE_TICKET)
    ticket = policy.visible_ticket(session, actor, ticket_id, for_update=True)
    if ticket.employee_id != actor.id:
        raise PermissionDenied("Only the requester of a ticket can rate it.")
    errors: dict[str, str] = {}
    if ticket.status not in RATEABLE_STATUSES:
        errors["ticket"] = f"only a Resolved or Closed ticket can be rated (this one is {ticket.status})"
    if isinstance(rating, bool) or not isinstance(rating, int) or not MIN_RATING <= rating <= MAX_RATING:
        errors["rating"] = f"must be a whole number from {MIN_RATING} to {MAX_RATING}"
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        errors["comment"] = f"at most {MAX_COMMENT} characters"
    if errors:
        raise ValidationError(errors)
    assert isinstance(rating, int)
    existing = session.scalars(
        select(TicketRating).where(TicketRating.ticket_id == ticket.id).with_for_update()
    ).one_or_none()
    new_values = {"rating": rating, "comment": text or None}
    if existing is None:
        row = TicketRating(ticket_id=ticket.id, employee_id=actor.id, created_at=_now(), **new_values)
        session.add(row)
        session.flush()
        audit.record(session, actor, "core_ticketrating", row.id, AuditAction.CREATE, None, new_values)
        return row
    old, new = audit.changes(existing, ["rating", "comment"], new_values)
    if new:
        existing.rating = rating
        existing.comment = text or None
        existing.created_at = _now()
        session.flush()
        audit.record(session, actor, "core_ticketrating", existing.id, AuditAction.UPDATE, old, new)
    return existing
