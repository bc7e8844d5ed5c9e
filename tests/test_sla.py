"""Business time and the SLA hooks, on hand-worked examples."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from smartsupport_core import sla, sla_clock
from smartsupport_core.models import Holiday
from smartsupport_core.vocab import SlaClock
from tests.factories import make_employee, make_ticket

UTC = dt.UTC
CAL = sla.Calendar(ZoneInfo("UTC"), frozenset(range(5)), dt.time(9), dt.time(17), (dt.date(2026, 12, 25),))


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        (at(1, 10), at(1, 11), 60),  # Tue, inside the day
        (at(1, 7), at(1, 10), 60),  # before opening counts from 09:00
        (at(1, 16), at(2, 10), 120),  # overnight
        (at(4, 16), at(7, 10), 120),  # Fri -> Mon skips the weekend
        (at(24, 16), at(28, 10), 120),  # Thu 24 -> Mon 28 skips Christmas (Fri) and the weekend
        (at(1, 9), at(15, 17), 11 * 480),  # two whole weeks plus a day
        (at(5, 10), at(6, 12), 0),  # weekend only
        (at(1, 12), at(1, 11), 0),  # reversed
    ],
)
def test_business_minutes(start, end, minutes) -> None:
    assert sla.business_minutes(CAL, start, end) == pytest.approx(minutes)


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        (at(1, 10), 60, at(1, 11)),
        (at(1, 16), 120, at(2, 10)),
        (at(4, 16), 120, at(7, 10)),
        (at(24, 16), 120, at(28, 10)),
        (at(5, 12), 30, at(7, 9, 30)),  # Saturday -> Monday
        (at(1, 18), 480, at(2, 17)),
    ],
)
def test_add_business_minutes(start, minutes, expected) -> None:
    assert sla.add_business_minutes(CAL, start, minutes) == expected
    assert sla.business_minutes(CAL, start, expected) == pytest.approx(minutes)


def test_time_zone_of_calendar() -> None:
    manila = sla.Calendar(ZoneInfo("Asia/Manila"), frozenset(range(5)), dt.time(9), dt.time(17))
    # 01:00 UTC = 09:00 in Manila (UTC+8)
    assert sla.business_minutes(manila, at(1, 1), at(1, 2)) == pytest.approx(60)
    assert sla.business_minutes(manila, at(1, 9), at(1, 10)) == 0


def test_hooks_with_hold_and_reopen(session: Session) -> None:
    session.add(Holiday(day=dt.date(2026, 12, 25), name="Christmas"))
    t = make_ticket(session, make_employee(session), priority="High", submit_date=at(1, 10))
    sla_clock.start_clocks(session, t, at(1, 10))
    assert t.sla_response_due_at == at(1, 14)  # 4 business hours
    assert t.sla_resolution_due_at == at(2, 10)  # 1 business day = 480 min
    sla_clock.record_first_response(session, t, at(1, 15))
    assert t.response_time == dt.timedelta(hours=5)
    assert t.sla_response_minutes == pytest.approx(300) and t.sla_response_met is False
    sla_clock.hold_started(t, at(1, 16))
    sla_clock.hold_ended(session, t, at(2, 11))  # 60 min on the 1st + 120 on the 2nd = 180 paused
    assert t.sla_hold_minutes == pytest.approx(180)
    assert t.sla_resolution_due_at == at(2, 13)
    sla_clock.record_resolution(session, t, at(2, 12))
    assert t.sla_resolution_minutes == pytest.approx(420 + 180 - 180)  # worked 1st 10-17, 2nd 9-12; held 180
    assert t.sla_resolution_met is True
    first = (t.resolved_at, t.resolution_time, t.sla_resolution_minutes)
    sla_clock.reopened(session, t, at(3, 9))
    sla_clock.record_resolution(session, t, at(10, 9))
    assert (t.resolved_at, t.resolution_time, t.sla_resolution_minutes) == first
    assert t.reopen_count == 1


def test_calendar_clock_target(session: Session) -> None:
    from sqlalchemy import update

    from smartsupport_core.models import SlaTarget

    session.execute(
        update(SlaTarget)
        .where(SlaTarget.priority == "Critical")
        .values(response_clock=SlaClock.CALENDAR.value, response_minutes=60)
    )
    t = make_ticket(session, make_employee(session), priority="Critical", submit_date=at(5, 12))  # Saturday
    sla_clock.start_clocks(session, t, at(5, 12))
    assert t.sla_response_due_at == at(5, 13)
