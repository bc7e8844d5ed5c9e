"""SLA clocks: business time, due dates, and the numbers stored when events happen.

Targets (core_slatarget) give, per priority, a first-response and a resolution target in
minutes of either *business* time (the core_businesscalendar's working days and hours in
its time zone, minus core_holiday days) or *calendar* time. The ticket workflow calls the
hooks in `sla_clock` at the moment each event happens, so reports aggregate stored numbers instead
of recomputing business time over millions of rows:

* `start_clocks` (submit): due dates for response and resolution.
* `record_first_response`: first public staff response -> `first_response_at`,
  `response_time` (wall clock), `sla_response_minutes` (target's clock), `sla_response_met`.
* `hold_started` / `hold_ended`: the resolution clock pauses while On Hold; the paused
  time (in the resolution target's clock) accumulates in `sla_hold_minutes` and pushes the
  resolution due date out.
* `record_resolution`: first time Resolved -> `resolved_at`, `resolution_time`,
  `sla_resolution_minutes` (hold excluded), `sla_resolution_met`. A reopened ticket keeps
  these first values (the reopen is counted in `reopen_count`); later resolutions do not
  overwrite them.
* `on_priority_change`: due dates follow the new priority's targets, from submission.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import BusinessCalendar, Holiday, SlaTarget
from .vocab import SlaClock

UTC = dt.UTC


@dataclass(frozen=True)
class Calendar:
    """A working week: days (Monday=0), hours, time zone and holidays."""

    tz: ZoneInfo
    working_days: frozenset[int]
    day_start: dt.time
    day_end: dt.time
    holidays: tuple[dt.date, ...] = ()  # sorted

    @property
    def day_minutes(self) -> float:
        start = dt.datetime.combine(dt.date(2000, 1, 1), self.day_start)
        end = dt.datetime.combine(dt.date(2000, 1, 1), self.day_end)
        return (end - start).total_seconds() / 60

    def is_working_day(self, day: dt.date) -> bool:
        if day.weekday() not in self.working_days:
            return False
        i = bisect.bisect_left(self.holidays, day)
        return not (i < len(self.holidays) and self.holidays[i] == day)

    def window(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """The working window of a local day, as aware datetimes."""
        return (
            dt.datetime.combine(day, self.day_start, tzinfo=self.tz),
            dt.datetime.combine(day, self.day_end, tzinfo=self.tz),
        )

    def working_days_between(self, first: dt.date, last: dt.date) -> int:
        """Working, non-holiday days in [first, last] (inclusive), without a day-by-day walk."""
        if last < first:
            return 0
        total_days = (last - first).days + 1
        weeks, rest = divmod(total_days, 7)
        count = weeks * len(self.working_days)
        for i in range(rest):  # the partial week
            if (first + dt.timedelta(days=weeks * 7 + i)).weekday() in self.working_days:
                count += 1
        lo = bisect.bisect_left(self.holidays, first)
        hi = bisect.bisect_right(self.holidays, last)
        count -= sum(1 for h in self.holidays[lo:hi] if h.weekday() in self.working_days)
        return count


DEFAULT_CALENDAR = Calendar(ZoneInfo("UTC"), frozenset(range(5)), dt.time(9), dt.time(17))


def load_calendar(session: Session) -> Calendar:
    row = session.scalars(select(BusinessCalendar).order_by(BusinessCalendar.id).limit(1)).first()
    if row is None:
        return DEFAULT_CALENDAR
    holidays = tuple(sorted(session.scalars(select(Holiday.day))))
    return Calendar(
        ZoneInfo(row.timezone), frozenset(int(d) for d in row.working_days), row.day_start, row.day_end, holidays
    )


def _overlap_minutes(start: dt.datetime, end: dt.datetime, lo: dt.datetime, hi: dt.datetime) -> float:
    a, b = max(start, lo), min(end, hi)
    return max(0.0, (b - a).total_seconds() / 60)


def business_minutes(cal: Calendar, start: dt.datetime, end: dt.datetime) -> float:
    """Working minutes between two instants (0 when end <= start)."""
    if end <= start:
        return 0.0
    s, e = start.astimezone(cal.tz), end.astimezone(cal.tz)
    first, last = s.date(), e.date()
    if first == last:
        return _overlap_minutes(s, e, *cal.window(first)) if cal.is_working_day(first) else 0.0
    total = 0.0
    if cal.is_working_day(first):
        total += _overlap_minutes(s, e, *cal.window(first))
    if cal.is_working_day(last):
        total += _overlap_minutes(s, e, *cal.window(last))
    middle = cal.working_days_between(first + dt.timedelta(days=1), last - dt.timedelta(days=1))
    return total + middle * cal.day_minutes


def add_business_minutes(cal: Calendar, start: dt.datetime, minutes: float) -> dt.datetime:
    """The instant `minutes` working minutes after `start` (returned in UTC)."""
    if not cal.working_days or cal.day_minutes <= 0:
        raise ValueError("the business calendar has no working time")
    remaining = max(0.0, minutes)
    cursor = start.astimezone(cal.tz)
    day = cursor.date()
    while True:
        if cal.is_working_day(day):
            lo, hi = cal.window(day)
            begin = max(cursor, lo)
            if begin < hi:
                available = (hi - begin).total_seconds() / 60
                if remaining <= available:
                    return (begin + dt.timedelta(minutes=remaining)).astimezone(UTC)
                remaining -= available
        day += dt.timedelta(days=1)
        cursor = dt.datetime.combine(day, dt.time(0), tzinfo=cal.tz)


@dataclass(frozen=True)
class Target:
    response_minutes: int
    response_clock: SlaClock
    resolution_minutes: int
    resolution_clock: SlaClock


def targets(session: Session) -> dict[str, Target]:
    return {
        t.priority: Target(
            t.response_minutes, SlaClock(t.response_clock), t.resolution_minutes, SlaClock(t.resolution_clock)
        )
        for t in session.scalars(select(SlaTarget))
    }


def elapsed(cal: Calendar, clock: SlaClock, start: dt.datetime, end: dt.datetime) -> float:
    """Minutes between two instants on the given clock."""
    if clock is SlaClock.CALENDAR:
        return max(0.0, (end - start).total_seconds() / 60)
    return business_minutes(cal, start, end)


def due(cal: Calendar, clock: SlaClock, start: dt.datetime, minutes: float) -> dt.datetime:
    """The deadline `minutes` after `start` on the given clock."""
    if clock is SlaClock.CALENDAR:
        return (start + dt.timedelta(minutes=minutes)).astimezone(UTC)
    return add_business_minutes(cal, start, minutes)
