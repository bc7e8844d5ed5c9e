"""The SLA hooks the ticket workflow calls when an event happens (submit, first response,
hold, resolution, reopen, priority change): they store the numbers the reports aggregate.

They need the current calendar and targets (`refdata.current`, cached), and refdata is built
from `sla`'s calendar arithmetic; keeping the hooks here lets `sla` stay pure arithmetic and
removes the old sla <-> refdata import cycle. What each hook stores: the `sla` module docstring.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from .models import Ticket
from .refdata import current
from .sla import Calendar, Target, due, elapsed
from .vocab import SlaClock


def _context(session: Session, ticket: Ticket) -> tuple[Calendar, Target | None]:
    ref, _ = current(session)
    return ref.calendar, ref.targets.get(ticket.priority or "Medium")


def _set_due_dates(cal: Calendar, target: Target, ticket: Ticket) -> None:
    submitted = ticket.submit_date
    assert submitted is not None
    if ticket.first_response_at is None:
        ticket.sla_response_due_at = due(cal, target.response_clock, submitted, target.response_minutes)
    ticket.sla_resolution_due_at = due(
        cal, target.resolution_clock, submitted, target.resolution_minutes + (ticket.sla_hold_minutes or 0)
    )


def start_clocks(
    session: Session, ticket: Ticket, at: dt.datetime, context: tuple[Calendar, Target | None] | None = None
) -> None:
    """`context`: the calendar and the ticket's target when the caller already has them."""
    cal, target = context or _context(session, ticket)
    if ticket.submit_date is None:
        ticket.submit_date = at
    ticket.sla_hold_minutes = 0.0
    if target is not None:
        _set_due_dates(cal, target, ticket)


def on_priority_change(session: Session, ticket: Ticket, at: dt.datetime) -> None:
    cal, target = _context(session, ticket)
    if target is None:
        return
    _set_due_dates(cal, target, ticket)
    if ticket.first_response_at is not None and ticket.sla_response_minutes is not None:
        ticket.sla_response_met = ticket.sla_response_minutes <= target.response_minutes
    if ticket.resolved_at is not None and ticket.sla_resolution_minutes is not None:
        ticket.sla_resolution_met = ticket.sla_resolution_minutes <= target.resolution_minutes


def record_first_response(session: Session, ticket: Ticket, at: dt.datetime) -> None:
    if ticket.first_response_at is not None:
        return
    cal, target = _context(session, ticket)
    assert ticket.submit_date is not None
    ticket.first_response_at = at
    ticket.response_time = at - ticket.submit_date
    if target is not None:
        ticket.sla_response_minutes = elapsed(cal, target.response_clock, ticket.submit_date, at)
        ticket.sla_response_met = ticket.sla_response_minutes <= target.response_minutes


def hold_started(ticket: Ticket, at: dt.datetime) -> None:
    if ticket.on_hold_since is None:
        ticket.on_hold_since = at


def hold_ended(session: Session, ticket: Ticket, at: dt.datetime) -> None:
    if ticket.on_hold_since is None:
        return
    cal, target = _context(session, ticket)
    clock = target.resolution_clock if target is not None else SlaClock.CALENDAR
    ticket.sla_hold_minutes = (ticket.sla_hold_minutes or 0) + elapsed(cal, clock, ticket.on_hold_since, at)
    ticket.on_hold_since = None
    if target is not None:
        _set_due_dates(cal, target, ticket)


def record_resolution(session: Session, ticket: Ticket, at: dt.datetime) -> None:
    hold_ended(session, ticket, at)
    if ticket.resolved_at is not None:
        return  # reopened earlier: the first resolution's numbers stay
    cal, target = _context(session, ticket)
    assert ticket.submit_date is not None
    ticket.resolved_at = at
    ticket.resolution_time = at - ticket.submit_date
    if target is not None:
        worked = elapsed(cal, target.resolution_clock, ticket.submit_date, at) - (ticket.sla_hold_minutes or 0)
        ticket.sla_resolution_minutes = max(0.0, worked)
        ticket.sla_resolution_met = ticket.sla_resolution_minutes <= target.resolution_minutes


def reopened(session: Session, ticket: Ticket, at: dt.datetime) -> None:
    ticket.reopen_count = (ticket.reopen_count or 0) + 1
