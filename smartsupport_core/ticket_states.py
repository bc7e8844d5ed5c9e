"""One definition of each ticket state that a person works by: open, breached, due soon, ...

Home's tiles, the queue's filters, My tickets and the dashboard's "now" figures all build
their SQL from these functions, so a count on one page is the number of rows the next page
lists. Each function returns a SQL condition on `Ticket` (a `ColumnElement[bool]`); the
caller ANDs it with the actor's visibility (`policy.ticket_visibility`).

The definitions, and why:

* **open** — work remains: New, Open, In Progress or On Hold (`vocab.OPEN_STATUSES`).
  Resolved is *not* open: the help desk's work is done and the ticket waits for the
  requester to confirm (close) or reopen it ("awaiting confirmation" below). Closed,
  Withdrawn and Rejected are final.
* **breached** — an open ticket one of whose *running* clocks has run out now: it has no
  first response and its response due time has passed, or its resolution due time has
  passed. The resolution clock is paused while On Hold, so an On Hold ticket compares its
  resolution due time with the moment it was put on hold (`on_hold_since`). A first
  response that was given late is *not* "breached now": it is history, counted by the
  response-SLA KPI (`sla_response_met`), and the ticket may be well on time otherwise.
* **due soon** (at risk) — open, not breached, and a still-running due time falls within
  the next `DUE_SOON_BUSINESS_MINUTES` business minutes (4 business hours on the business
  calendar, `sla.add_business_minutes`: on a Friday at 16:00 that reaches into Monday).
* **urgent** — breached or due soon (the coordinator's "needs me first" tile).
* **awaiting approval** — New: submitted, waiting for an admin to open or reject it.
* **unassigned** — approved and still open (Open, In Progress, On Hold) with nobody assigned.
  New tickets are left out: they are "awaiting approval" first (approval assigns them).
* **waiting for the requester** — On Hold, and the requester has not posted a public reply
  since it was put on hold (On Hold is how staff say "we need something from you").
* **awaiting confirmation** — Resolved: the requester is asked to confirm (close) or reopen
  it, and to rate it.
* **updated by the requester** (for one viewer) — open, and the requester posted a public
  reply after the viewer last opened the ticket (`core_ticketseen`, written by `mark_seen`
  when the ticket page is shown). Never opened: any requester reply. Open only: at a million
  tickets "open or Resolved" matched thousands of long-resolved tickets nobody had opened
  since, and the coordinator's tile waited seconds for them; a requester who is not satisfied reopens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, null, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from . import sla
from .models import Ticket, TicketComment, TicketSeen
from .vocab import OPEN_STATUSES, TicketStatus

#: "Due soon" looks this many business minutes ahead (4 business hours).
DUE_SOON_BUSINESS_MINUTES = 4 * 60

OPEN = tuple(s.value for s in OPEN_STATUSES)
WORKING = tuple(s.value for s in OPEN_STATUSES if s is not TicketStatus.NEW)


class TicketState(StrEnum):
    """The states a queue view can be narrowed to (stored in saved views by value)."""

    OPEN = "open"
    BREACHED = "breached"
    DUE_SOON = "due_soon"
    URGENT = "urgent"
    AWAITING_APPROVAL = "awaiting_approval"
    UNASSIGNED = "unassigned"
    WAITING_FOR_REQUESTER = "waiting_for_requester"
    AWAITING_CONFIRMATION = "awaiting_confirmation"
    UPDATED_BY_REQUESTER = "updated_by_requester"


#: The states a requester narrows their own tickets by (My tickets, the employee's Home).
MY_STATES: tuple[TicketState, ...] = (
    TicketState.OPEN,
    TicketState.WAITING_FOR_REQUESTER,
    TicketState.AWAITING_CONFIRMATION,
)

STATE_LABELS: dict[str, str] = {
    TicketState.OPEN: "Open (work remains)",
    TicketState.BREACHED: "Breached",
    TicketState.DUE_SOON: "Due within 4 business hours",
    TicketState.URGENT: "Breached or due within 4 business hours",
    TicketState.AWAITING_APPROVAL: "Awaiting approval",
    TicketState.UNASSIGNED: "Unassigned",
    TicketState.WAITING_FOR_REQUESTER: "Waiting for the requester",
    TicketState.AWAITING_CONFIRMATION: "Resolved, awaiting confirmation",
    TicketState.UPDATED_BY_REQUESTER: "Updated by the requester since I last looked",
}


def _at(when: dt.datetime) -> ColumnElement[Any]:
    return literal(when, type_=Ticket.sla_response_due_at.type)


def is_open() -> ColumnElement[bool]:
    return Ticket.status.in_(OPEN)


def awaiting_response() -> ColumnElement[bool]:
    """The response clock is running: no first response yet."""
    return Ticket.first_response_at.is_(None)


def _breached_clock(now: dt.datetime) -> ColumnElement[bool]:
    now_p = _at(now)
    # Each arm matches a partial index (migrations 0002/0003): a BitmapOr of small scans.
    return or_(
        and_(awaiting_response(), Ticket.sla_response_due_at < now_p),
        and_(Ticket.on_hold_since.is_(None), Ticket.sla_resolution_due_at < now_p),
        and_(Ticket.on_hold_since.is_not(None), Ticket.sla_resolution_due_at < Ticket.on_hold_since),
    )


def _due_clock(until: dt.datetime) -> ColumnElement[bool]:
    """A running clock is due by `until` (the resolution clock does not run On Hold)."""
    until_p = _at(until)
    return or_(
        and_(awaiting_response(), Ticket.sla_response_due_at <= until_p),
        and_(Ticket.on_hold_since.is_(None), Ticket.sla_resolution_due_at <= until_p),
    )


def breached(now: dt.datetime) -> ColumnElement[bool]:
    return and_(is_open(), _breached_clock(now))


def due_soon(now: dt.datetime, until: dt.datetime) -> ColumnElement[bool]:
    """Open, not breached, a running clock due by `until` (see `due_soon_until`)."""
    return and_(is_open(), ~func.coalesce(_breached_clock(now), False), _due_clock(until))


def urgent(now: dt.datetime, until: dt.datetime) -> ColumnElement[bool]:
    return and_(is_open(), or_(_breached_clock(now), _due_clock(until)))


def next_due() -> ColumnElement[Any]:
    """The earliest running due time of an open ticket (NULL when none runs)."""
    response_due = case((awaiting_response(), Ticket.sla_response_due_at), else_=null())
    resolution_due = case((Ticket.on_hold_since.is_(None), Ticket.sla_resolution_due_at), else_=null())
    return case((is_open(), func.least(response_due, resolution_due)), else_=null())


def awaiting_approval() -> ColumnElement[bool]:
    return Ticket.status == TicketStatus.NEW.value


def unassigned() -> ColumnElement[bool]:
    return and_(Ticket.status.in_(WORKING), Ticket.assigned_to_id.is_(None))


def _requester_reply_after(after: ColumnElement[Any]) -> ColumnElement[bool]:
    return exists(
        select(TicketComment.id).where(
            TicketComment.ticket_id == Ticket.id,
            TicketComment.user_id == Ticket.employee_id,
            TicketComment.is_internal.is_not(True),
            TicketComment.created_at > after,
        )
    )


def waiting_for_requester() -> ColumnElement[bool]:
    return and_(
        Ticket.status == TicketStatus.ON_HOLD.value,
        ~_requester_reply_after(func.coalesce(Ticket.on_hold_since, Ticket.submit_date)),
    )


def awaiting_confirmation() -> ColumnElement[bool]:
    return Ticket.status == TicketStatus.RESOLVED.value


def updated_by_requester(viewer_id: int) -> ColumnElement[bool]:
    last_look = (
        select(TicketSeen.seen_at)
        .where(TicketSeen.employee_id == viewer_id, TicketSeen.ticket_id == Ticket.id)
        .correlate_except(TicketSeen)
        .scalar_subquery()
    )
    never = literal(dt.datetime(1970, 1, 1, tzinfo=dt.UTC), type_=Ticket.submit_date.type)
    return and_(is_open(), _requester_reply_after(func.coalesce(last_look, never)))


def due_soon_until(session: Session, now: dt.datetime) -> dt.datetime:
    """`now` plus 4 business hours on the business calendar (holidays and weekends skipped)."""
    from .refdata import current  # refdata builds on sla, which this module uses

    ref, _ = current(session)
    return sla.add_business_minutes(ref.calendar, now, DUE_SOON_BUSINESS_MINUTES)


def condition(state: str, *, now: dt.datetime, until: dt.datetime, viewer_id: int) -> ColumnElement[bool]:
    """The SQL condition of one `TicketState` (for a viewer, at `now`; `until`: due soon)."""
    builders: dict[str, Callable[[], ColumnElement[bool]]] = {
        TicketState.OPEN: is_open,
        TicketState.BREACHED: lambda: breached(now),
        TicketState.DUE_SOON: lambda: due_soon(now, until),
        TicketState.URGENT: lambda: urgent(now, until),
        TicketState.AWAITING_APPROVAL: awaiting_approval,
        TicketState.UNASSIGNED: unassigned,
        TicketState.WAITING_FOR_REQUESTER: waiting_for_requester,
        TicketState.AWAITING_CONFIRMATION: awaiting_confirmation,
        TicketState.UPDATED_BY_REQUESTER: lambda: updated_by_requester(viewer_id),
    }
    return builders[TicketState(state)]()


def mark_seen(session: Session, viewer_id: int, ticket_id: int, at: dt.datetime | None = None) -> None:
    """Record that `viewer_id` looked at the ticket now (the ticket page calls this after it
    has checked the viewer may see the ticket); one row per viewer and ticket."""
    at = at or dt.datetime.now(dt.UTC)
    stmt = insert(TicketSeen).values(employee_id=viewer_id, ticket_id=ticket_id, seen_at=at)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[TicketSeen.employee_id, TicketSeen.ticket_id],
            set_={"seen_at": func.greatest(TicketSeen.seen_at, stmt.excluded.seen_at)},
        )
    )


__all__ = [
    "DUE_SOON_BUSINESS_MINUTES",
    "MY_STATES",
    "STATE_LABELS",
    "TicketState",
    "awaiting_approval",
    "awaiting_confirmation",
    "breached",
    "condition",
    "due_soon",
    "due_soon_until",
    "is_open",
    "mark_seen",
    "next_due",
    "unassigned",
    "updated_by_requester",
    "urgent",
    "waiting_for_requester",
]
