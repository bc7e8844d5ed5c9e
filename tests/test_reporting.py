"""Reporting on a small hand-built data set whose right answers are worked out here.

Calendar: the seeded Mon-Fri 09:00-17:00 (UTC) plus a holiday on Wed 2026-03-04. Targets
(business minutes): Critical 60/240, High 240/480, Medium 480/1440, Low 960/2400. The SLA
numbers are produced by the real `sla` hooks at the given instants.

Report period 2026-03-02 (Mon) .. 2026-03-15 (Sun); previous period 2026-02-16 .. 03-01.
"now" is Fri 2026-03-20 12:00.

  T1 High IT     sub Mon 03-02 10:00, resp 11:00 (60 met), resolved 15:00 (300 met), rated 5
  T2 High IT     sub Tue 03-03 16:00, resp Thu 03-05 10:00 (60 + holiday 0 + 60 = 120 met),
                 resolved Thu 16:00 (60 + 420 = 480 met; without the holiday 960 = breached), rated 2
  T3 Medium IT   sub Fri 03-06 16:00, resp Mon 03-09 12:00 (240 met), On Hold Mon 13:00 -> Wed
                 03-11 13:00 (960 paused), resolved Thu 03-12 11:00 (1620 - 960 = 660 met;
                 without the pause 1620 > 1440 = breached)
  T4 Critical Finance (assigned to someone else), sub Tue 03-10 09:00, resp 11:00 (120 breached),
                 resolved 16:00 (420 breached), reopened 03-11, now In Progress
  T5 Low IT      sub Wed 03-11 10:00, Open, never answered: response due Fri 03-13 10:00
  T6 Medium IT   sub Sat 03-14 10:00, New: response due Mon 03-16 17:00
  T9 Medium IT   sub Mon 03-09 10:00, Rejected 12:00, never answered (not counted for compliance)
  previous period:
  T7 High IT     sub Mon 02-16 10:00, resp 15:00 (300 breached), resolved Tue 02-17 10:00 (480 met),
                 rated 4
  T8 Low IT      sub Thu 02-26 10:00, resp Fri 02-27 10:00 (480 met), In Progress; resolution due
                 Fri 03-06 10:00 (holiday skipped)
  after the period (backlog / due-soon only):
  T10 Critical IT sub Fri 03-20 11:30, Open: response due 12:30 (due soon)
  T11 Medium IT  sub Wed 03-18 09:00, resp 10:00, On Hold since 11:00 (paused: not due soon)
  T12 High IT    sub Thu 03-19 13:00, resp 13:30, In Progress: resolution due Fri 03-20 13:00
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from smartsupport_core import reporting, sla_clock
from smartsupport_core.errors import PermissionDenied, ValidationError
from smartsupport_core.models import Employee, Holiday, Ticket, TicketRating
from smartsupport_core.reporting import ReportFilters
from smartsupport_core.vocab import Role, TicketStatus
from tests.factories import make_employee, make_ticket

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
PERIOD = ReportFilters(start=dt.date(2026, 3, 2), end=dt.date(2026, 3, 15))


def at(month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class World:
    admin: Employee
    coordinator: Employee
    other_coordinator: Employee
    requester: Employee
    t: dict[int, Ticket]


def _ticket(
    s: Session,
    requester: Employee,
    *,
    priority: str,
    submitted: dt.datetime,
    status: TicketStatus,
    department: str = "IT Department",
    category: str = "IT Support",
    assigned_to: Employee | None = None,
    response: dt.datetime | None = None,
    hold: tuple[dt.datetime, dt.datetime | None] | None = None,
    resolved: dt.datetime | None = None,
    reopened: dt.datetime | None = None,
    closed: dt.datetime | None = None,
) -> Ticket:
    t = make_ticket(
        s,
        requester,
        priority=priority,
        submit_date=submitted,
        status=status.value,
        department=department,
        category=category,
        assigned_to_id=assigned_to.id if assigned_to else None,
    )
    sla_clock.start_clocks(s, t, submitted)
    if response:
        sla_clock.record_first_response(s, t, response)
    if hold:
        sla_clock.hold_started(t, hold[0])
        if hold[1]:
            sla_clock.hold_ended(s, t, hold[1])
    if resolved:
        sla_clock.record_resolution(s, t, resolved)
    if reopened:
        sla_clock.reopened(s, t, reopened)
    t.time_closed = closed
    s.flush()
    return t


@pytest.fixture
def world(session: Session) -> World:
    s = session
    s.add(Holiday(day=dt.date(2026, 3, 4), name="Test holiday"))
    s.flush()
    admin = make_employee(s, role=Role.ADMIN, department="IT Department")
    coord = make_employee(s, role=Role.COORDINATOR, department="IT Department")
    other = make_employee(s, role=Role.COORDINATOR, department="Finance")
    req = make_employee(s, department="Sales")
    S = TicketStatus
    t: dict[int, Ticket] = {}
    t[1] = _ticket(
        s,
        req,
        priority="High",
        submitted=at(3, 2, 10),
        status=S.CLOSED,
        assigned_to=coord,
        response=at(3, 2, 11),
        resolved=at(3, 2, 15),
        closed=at(3, 3, 9),
    )
    t[2] = _ticket(
        s,
        req,
        priority="High",
        submitted=at(3, 3, 16),
        status=S.RESOLVED,
        assigned_to=coord,
        response=at(3, 5, 10),
        resolved=at(3, 5, 16),
    )
    t[3] = _ticket(
        s,
        req,
        priority="Medium",
        submitted=at(3, 6, 16),
        status=S.RESOLVED,
        response=at(3, 9, 12),
        hold=(at(3, 9, 13), at(3, 11, 13)),
        resolved=at(3, 12, 11),
    )
    t[4] = _ticket(
        s,
        req,
        priority="Critical",
        submitted=at(3, 10, 9),
        status=S.IN_PROGRESS,
        department="Finance",
        category="New Budget Proposal",
        assigned_to=other,
        response=at(3, 10, 11),
        resolved=at(3, 10, 16),
        reopened=at(3, 11, 10),
    )
    t[5] = _ticket(s, req, priority="Low", submitted=at(3, 11, 10), status=S.OPEN)
    t[6] = _ticket(s, req, priority="Medium", submitted=at(3, 14, 10), status=S.NEW)
    t[9] = _ticket(s, req, priority="Medium", submitted=at(3, 9, 10), status=S.REJECTED, closed=at(3, 9, 12))
    t[7] = _ticket(
        s,
        req,
        priority="High",
        submitted=at(2, 16, 10),
        status=S.CLOSED,
        assigned_to=coord,
        response=at(2, 16, 15),
        resolved=at(2, 17, 10),
        closed=at(2, 18, 10),
    )
    t[8] = _ticket(s, req, priority="Low", submitted=at(2, 26, 10), status=S.IN_PROGRESS, response=at(2, 27, 10))
    t[10] = _ticket(s, req, priority="Critical", submitted=at(3, 20, 11, 30), status=S.OPEN)
    t[11] = _ticket(
        s,
        req,
        priority="Medium",
        submitted=at(3, 18, 9),
        status=S.ON_HOLD,
        response=at(3, 18, 10),
        hold=(at(3, 18, 11), None),
    )
    t[12] = _ticket(s, req, priority="High", submitted=at(3, 19, 13), status=S.IN_PROGRESS, response=at(3, 19, 13, 30))
    for n, stars, when in ((1, 5, at(3, 3, 12)), (2, 2, at(3, 6, 9)), (7, 4, at(2, 18, 12))):
        s.add(TicketRating(ticket_id=t[n].id, employee_id=req.id, rating=stars, created_at=when))
    s.commit()
    return World(admin, coord, other, req, t)


def test_stored_sla_numbers_follow_business_hours_holiday_and_hold(world: World) -> None:
    t = world.t
    assert (t[2].sla_response_minutes, t[2].sla_response_met) == (120, True)  # holiday skipped
    assert (t[2].sla_resolution_minutes, t[2].sla_resolution_met) == (480, True)
    assert t[3].sla_hold_minutes == 960
    assert (t[3].sla_resolution_minutes, t[3].sla_resolution_met) == (660, True)  # pause excluded
    assert t[5].sla_response_due_at == at(3, 13, 10)
    assert t[8].sla_resolution_due_at == at(3, 6, 10)
    assert t[4].reopen_count == 1 and t[4].resolved_at == at(3, 10, 16)


def _kpis(session: Session, actor: Employee, filters: ReportFilters = PERIOD) -> dict[str, reporting.Kpi]:
    return {k.key: k for k in reporting.kpis(session, actor, filters, now=NOW)}


def test_kpis_for_admin(session: Session, world: World) -> None:
    k = _kpis(session, world.admin)
    expected = {
        # key: (current, previous)
        "open_backlog": (4, 1),  # T4 T5 T6 T8 at 03-16 00:00; T8 at 03-02 00:00
        "created": (7, 2),
        "resolved": (4, 1),
        "response_p50": (120, 390),  # [60, 120, 120, 240] / [300, 480]
        "response_p90": (204, 462),  # 120 + 0.7 * 120 / 300 + 0.9 * 180
        "resolution_p50": (450, 480),  # [300, 420, 480, 660] / [480]
        "resolution_p90": (606, 480),  # 480 + 0.7 * 180
        "response_compliance": (50, 50),  # T1 T2 T3 of T1 T2 T3 T4 T5 T6 (T9 rejected, unanswered) / T8 of T7 T8
        "resolution_compliance": (75, 100),
        # T5 (response), T8 (resolution), T4 (reopened, its resolution due time passed: the
        # queue's and Home's "breached", ticket_states) at the period end
        "breached_open": (3, 0),
        "reopen_rate": (25, 0),  # T4
        "satisfaction": (3.5, 4.0),  # (5 + 2) / 2 ; 4
    }
    for key, (cur, prev) in expected.items():
        assert k[key].value == pytest.approx(cur), key
        assert k[key].previous == pytest.approx(prev), key
        assert k[key].change == pytest.approx(cur - prev), key
    # every KPI the issue names, in tile order (a list written here, not read from KPI_DEFS)
    assert [x.key for x in reporting.kpis(session, world.admin, PERIOD, now=NOW)] == list(expected)


def test_kpis_without_hold_pause_or_holiday_would_differ(session: Session, world: World) -> None:
    """Compliance counts the stored flags, which already honour the holiday and the pause."""
    session.execute(text("DELETE FROM core_holiday"))
    fresh = _ticket(
        session,
        world.requester,
        priority="Medium",
        submitted=at(3, 6, 16),
        status=TicketStatus.RESOLVED,
        response=at(3, 9, 12),
        resolved=at(3, 12, 11),
    )
    assert (fresh.sla_resolution_minutes, fresh.sla_resolution_met) == (1620, False)
    session.commit()
    k = _kpis(session, world.admin)
    assert k["resolution_compliance"].value == pytest.approx(300 / 5)  # T1 T2 T3 of 5 resolved


def test_coordinator_sees_only_own_department(session: Session, world: World) -> None:
    k = _kpis(session, world.coordinator)
    assert k["created"].value == 6  # T4 (Finance, assigned elsewhere) excluded
    assert k["response_p50"].value == pytest.approx(120)  # [60, 120, 240]
    assert k["response_compliance"].value == pytest.approx(60)  # 3 of T1 T2 T3 T5 T6
    assert k["resolution_p50"].value == pytest.approx(480)  # [300, 480, 660]
    assert k["reopen_rate"].value == pytest.approx(0)
    depts = reporting.breakdown(session, world.coordinator, PERIOD, "department", now=NOW)
    assert list(depts["key"]) == ["IT Department"]
    drill = reporting.drilldown(session, world.coordinator, PERIOD, "department", "Finance", now=NOW)
    assert drill.total == 0
    other = _kpis(session, world.other_coordinator)
    assert other["created"].value == 1 and other["reopen_rate"].value == pytest.approx(100)


def test_employees_may_not_view_reports(session: Session, world: World) -> None:
    with pytest.raises(PermissionDenied):
        reporting.kpis(session, world.requester, PERIOD, now=NOW)
    with pytest.raises(PermissionDenied):
        reporting.dashboard(session, world.requester, PERIOD, now=NOW)


def test_filters_are_validated(session: Session, world: World) -> None:
    bad = ReportFilters(start=dt.date(2026, 3, 5), end=dt.date(2026, 3, 1), priority="Urgent", category="Nope")
    with pytest.raises(ValidationError) as err:
        reporting.kpis(session, world.admin, bad)
    assert set(err.value.errors) == {"date range", "priority", "category"}
    with pytest.raises(ValidationError) as err:
        reporting.drilldown(session, world.admin, PERIOD, "weather", "x")
    assert "dimension" in err.value.errors
    with pytest.raises(ValidationError):
        reporting.drilldown(session, world.admin, PERIOD, "heat", "monday")


def test_dimension_filters(session: Session, world: World) -> None:
    k = _kpis(session, world.admin, ReportFilters(PERIOD.start, PERIOD.end, priority="High"))
    assert (k["created"].value, k["resolved"].value, k["response_p50"].value) == (2, 2, 90)
    k = _kpis(session, world.admin, ReportFilters(PERIOD.start, PERIOD.end, coordinator_id=world.coordinator.id))
    assert (k["created"].value, k["created"].previous) == (2, 1)  # T1 T2 / T7
    k = _kpis(session, world.admin, ReportFilters(PERIOD.start, PERIOD.end, category="New Budget Proposal"))
    assert (k["created"].value, k["reopen_rate"].value) == (1, 100)


def test_trends_by_week(session: Session, world: World) -> None:
    tr = reporting.trends(session, world.admin, PERIOD, now=NOW)
    assert list(tr["week"]) == [dt.date(2026, 3, 2), dt.date(2026, 3, 9)]
    assert list(tr["created"]) == [3, 4]  # T1 T2 T3 | T4 T5 T6 T9
    assert list(tr["resolved"]) == [2, 2]  # T1 T2 | T3 T4
    assert tr["response_p50"].tolist() == pytest.approx([120, 120])  # [60,120,240] | [120]
    assert tr["resolution_p50"].tolist() == pytest.approx([390, 540])  # [300,480] | [420,660]
    assert tr["response_compliance"].tolist() == pytest.approx([100, 0])  # 3/3 | T4 T5 T6 late
    assert tr["resolution_compliance"].tolist() == pytest.approx([100, 50])
    # A week with no tickets still appears (generate_series), with zero counts.
    longer = ReportFilters(dt.date(2026, 1, 26), PERIOD.end)
    tr = reporting.trends(session, world.admin, longer, now=NOW)
    assert len(tr) == 7 and tr["created"].tolist() == [0, 0, 0, 1, 1, 3, 4]


def test_breakdowns(session: Session, world: World) -> None:
    pri = reporting.breakdown(session, world.admin, PERIOD, "priority", now=NOW).set_index("key")
    assert pri.loc["High", "created"] == 2 and pri.loc["High", "resolved"] == 2
    assert pri.loc["High", "resolution_p50"] == pytest.approx(390)
    assert pri.loc["Critical", "response_compliance"] == pytest.approx(0)
    assert pri.loc["Medium", "created"] == 3  # T3 T6 T9
    assert pri.loc["Medium", "response_compliance"] == pytest.approx(50)  # T3 met, T6 late, T9 not counted
    coord = reporting.breakdown(session, world.admin, PERIOD, "coordinator", now=NOW).set_index("key")
    assert coord.loc[str(world.coordinator.id), "label"] == world.coordinator.full_name
    assert coord.loc[reporting.UNASSIGNED, "created"] == 4  # T3 T5 T6 T9
    with pytest.raises(ValidationError):
        reporting.breakdown(session, world.admin, PERIOD, "colour")


def test_heatmap_distribution_backlog(session: Session, world: World) -> None:
    d = reporting.dashboard(session, world.admin, PERIOD, now=NOW)
    heat = d.heatmap.set_index(["dow", "hour"])
    assert len(heat) == 168 and heat["created"].sum() == 7
    assert heat.loc[(1, 10), "created"] == 2  # T1, T9 (Mondays 10:00)
    assert heat.loc[(6, 10), "created"] == 1  # T6 on Saturday
    dist = d.distribution.set_index("priority")
    assert dist.loc["High", "p50"] == pytest.approx(390) and dist.loc["High", "resolved"] == 2
    hist = d.histogram.set_index(["priority", "label"])
    assert hist.loc[("High", "4-8 h"), "resolved"] == 1  # T1 300 min
    assert hist.loc[("High", "8-16 h"), "resolved"] == 1  # T2 480 min = 8 h
    assert hist["resolved"].sum() == 4 and len(hist) == 4 * len(reporting.RESOLUTION_LABELS)
    back = d.backlog.set_index(["status", "age"])
    assert len(back) == 4 * len(reporting.AGE_LABELS)
    assert back.loc[("Open", "< 1 day"), "tickets"] == 1  # T10
    assert back.loc[("On Hold", "1-3 days"), "tickets"] == 1  # T11
    assert back.loc[("In Progress", "14-30 days"), "tickets"] == 1  # T8 (22 days)
    assert back.loc[("Open", "7-14 days"), "tickets"] == 1  # T5 (9 days)
    assert back["tickets"].sum() == 7  # T4 T5 T6 T8 T10 T11 T12


def test_due_soon_list(session: Session, world: World) -> None:
    due = reporting.due_soon(session, world.admin, PERIOD, now=NOW)
    t = world.t
    # the queue's "urgent" (ticket_states): T4, reopened past its resolution due time, too
    assert list(due["id"]) == [t[8].id, t[4].id, t[5].id, t[6].id, t[10].id, t[12].id]
    assert list(due["breached"]) == [True, True, True, True, False, False]
    assert list(due["clock"]) == ["resolution", "resolution", "response", "response", "response", "resolution"]
    assert due["link"].iloc[0] == f"/ticket?id={t[8].id}"


def test_drilldown_matches_bars(session: Session, world: World) -> None:
    t = world.t

    def ids(dim: str, value: str) -> set[int]:
        d = reporting.drilldown(session, world.admin, PERIOD, dim, value, now=NOW)
        assert d.total == len(d.tickets)
        return set(d.tickets["id"])

    assert ids("heat", "1|10") == {t[1].id, t[9].id}
    assert ids("created_week", "2026-03-09") == {t[4].id, t[5].id, t[6].id, t[9].id}
    assert ids("resolved_week", "2026-03-02") == {t[1].id, t[2].id}
    assert ids("priority", "High") == {t[1].id, t[2].id}
    assert ids("coordinator", reporting.UNASSIGNED) == {t[3].id, t[5].id, t[6].id, t[9].id}
    assert ids("resolution", "High|3") == {t[1].id}
    assert ids("backlog", "Open|0") == {t[10].id}
    assert ids("breached", "") == {t[4].id, t[5].id, t[8].id}
    assert ids("department", "Finance") == {t[4].id}


def test_numbers_equal_direct_sql(session: Session, world: World) -> None:
    k = _kpis(session, world.admin)
    row = session.execute(
        text(
            "SELECT count(*) AS created,"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY sla_response_minutes) AS p50,"
            " percentile_cont(0.9) WITHIN GROUP (ORDER BY sla_response_minutes) AS p90"
            " FROM core_ticket WHERE submit_date >= '2026-03-02' AND submit_date < '2026-03-16'"
        )
    ).one()
    assert (k["created"].value, k["response_p50"].value, k["response_p90"].value) == tuple(row)
    row = session.execute(
        text(
            "SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY sla_resolution_minutes),"
            " 100.0 * count(*) FILTER (WHERE sla_resolution_met) / count(*),"
            " 100.0 * count(*) FILTER (WHERE reopen_count > 0) / count(*)"
            " FROM core_ticket WHERE resolved_at >= '2026-03-02' AND resolved_at < '2026-03-16'"
        )
    ).one()
    assert k["resolved"].value == row[0] and k["resolution_p50"].value == row[1]
    assert k["resolution_compliance"].value == pytest.approx(float(row[2]))
    assert k["reopen_rate"].value == pytest.approx(float(row[3]))
    sat = session.scalar(
        text("SELECT avg(rating) FROM core_ticketrating WHERE created_at >= '2026-03-02' AND created_at < '2026-03-16'")
    )
    assert k["satisfaction"].value == pytest.approx(float(sat))
    d = reporting.dashboard(session, world.admin, PERIOD, now=NOW)
    by_week = dict(
        session.execute(
            text(
                "SELECT date_trunc('week', submit_date AT TIME ZONE 'UTC')::date, count(*) FROM core_ticket"
                " WHERE submit_date >= '2026-03-02' AND submit_date < '2026-03-16' GROUP BY 1"
            )
        ).all()
    )
    assert dict(zip(d.trends["week"], d.trends["created"], strict=True)) == by_week
    per_dept = dict(
        session.execute(
            text(
                "SELECT department, count(*) FROM core_ticket"
                " WHERE submit_date >= '2026-03-02' AND submit_date < '2026-03-16' GROUP BY 1"
            )
        ).all()
    )
    b = d.breakdowns["department"]
    assert dict(zip(b["key"], b["created"], strict=True)) == per_dept
    assert {x.key: x.value for x in d.kpis} == {
        x.key: x.value for x in reporting.kpis(session, world.admin, PERIOD, now=NOW)
    }


FIELDS_OF_PART = {
    "summary": ("kpis", "trends", "due_soon", "workload"),
    "breakdowns": ("breakdowns",),
    "resolution": ("distribution", "histogram"),
    "backlog": ("backlog",),
    "arrivals": ("heatmap",),
}


def _same(a: object, b: object) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)  # type: ignore[union-attr]
    if hasattr(a, "equals"):
        return a.equals(b)  # type: ignore[union-attr]
    return a == b


@pytest.mark.parametrize("part", list(reporting.PARTS))
def test_each_part_alone_equals_the_whole(session: Session, world: World, part: str) -> None:
    """The page computes one part per view (a first open only the summary): each part alone
    gives exactly what the whole computation gives, and nothing of the other parts."""
    assert set(FIELDS_OF_PART) == set(reporting.PARTS)
    whole = reporting.dashboard(session, world.admin, PERIOD, now=NOW)
    alone = reporting.dashboard(session, world.admin, PERIOD, now=NOW, parts=(part,))
    assert alone.parts == {part} and whole.parts == set(reporting.PARTS)
    for name in FIELDS_OF_PART[part]:
        assert getattr(alone, name) is not None and _same(getattr(alone, name), getattr(whole, name)), name
    others = {name for p, names in FIELDS_OF_PART.items() if p != part for name in names} - set(FIELDS_OF_PART[part])
    assert all(getattr(alone, name) is None for name in others)


def test_parts_are_checked(session: Session, world: World) -> None:
    with pytest.raises(ValidationError, match="Dashboard part: everything is not one of summary"):
        reporting.dashboard(session, world.admin, PERIOD, now=NOW, parts=("everything",))
    with pytest.raises(PermissionDenied):  # the policy whatever part is asked for
        reporting.dashboard(session, world.requester, PERIOD, now=NOW, parts=("backlog",))
