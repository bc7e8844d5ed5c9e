"""The dashboard's packed ticket rows (`reporting.packed_rows`): kept in step with the tickets, the
numpy figures equal PostgreSQL's own (`percentile_cont`, counts) on the same rows, and the
row mask selects exactly what `reporting.scope` selects."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from smartsupport_core import policy, reporting
from smartsupport_core.models import Employee, ReportDay, ReportDirty, Ticket, TicketRating
from smartsupport_core.reporting import ReportFilters, packed_rows
from smartsupport_core.vocab import Priority, Role, TicketStatus
from tests.factories import make_employee, make_ticket

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
PERIOD = ReportFilters(start=dt.date(2026, 2, 2), end=dt.date(2026, 3, 15))
RANGE = "submit_date >= '2026-02-02' AND submit_date < '2026-03-16'"
RESOLVED_RANGE = "resolved_at >= '2026-02-02' AND resolved_at < '2026-03-16'"
QS = "ARRAY[0.05, 0.25, 0.5, 0.75, 0.9, 0.95]::float8[]"


def _bulk(session: Session, n: int = 240, seed: int = 7) -> dict[str, Employee]:
    """Tickets with random dates, dimensions and stored SLA numbers (ties and NULLs included)."""
    rnd = random.Random(seed)
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    coords = [make_employee(session, role=Role.COORDINATOR, department="IT Department") for _ in range(3)]
    finance = make_employee(session, role=Role.COORDINATOR, department="Finance")
    requester = make_employee(session, department="Sales")
    places = [("IT Department", "IT Support"), ("Finance", "New Budget Proposal")]
    statuses = [s.value for s in TicketStatus]
    for i in range(n):
        submitted = dt.datetime(2026, 1, 10, tzinfo=UTC) + dt.timedelta(minutes=rnd.randrange(0, 70 * 24 * 60))
        dept, cat = rnd.choice(places)
        resolved = submitted + dt.timedelta(hours=rnd.randrange(1, 200)) if rnd.random() < 0.7 else None
        t = make_ticket(
            session,
            requester if i % 17 else finance,
            submit_date=submitted,
            department=dept,
            category=cat,
            priority=rnd.choice([p.value for p in Priority]),
            status=rnd.choice(statuses),
            assigned_to_id=rnd.choice([None, finance.id, *[c.id for c in coords]]),
        )
        t.sla_response_minutes = None if rnd.random() < 0.1 else float(rnd.choice([30, 60, 60, rnd.random() * 900]))
        t.sla_response_met = None if t.sla_response_minutes is None else t.sla_response_minutes <= 240
        t.sla_response_due_at = submitted + dt.timedelta(hours=4)
        t.first_response_at = None if t.sla_response_minutes is None else submitted + dt.timedelta(minutes=30)
        t.resolved_at = resolved
        t.sla_resolution_minutes = None if resolved is None else rnd.random() * 5000
        t.sla_resolution_met = None if resolved is None else t.sla_resolution_minutes <= 2400
        t.sla_resolution_due_at = submitted + dt.timedelta(days=3)
        t.reopen_count = 1 if rnd.random() < 0.1 else 0
    session.commit()
    return {"admin": admin, "coordinator": coords[0], "finance": finance}


def _sql(session: Session, sql: str) -> dict:
    return {r[0]: r[1] for r in session.execute(text(sql)).all()}


def test_grouped_percentiles_equal_percentile_cont(session: Session) -> None:
    who = _bulk(session)
    d = reporting.dashboard(session, who["admin"], PERIOD, now=NOW)
    for dim, column in (("department", "department"), ("priority", "priority"), ("category", "category")):
        b = d.breakdowns[dim].set_index("key")
        p50 = _sql(
            session,
            f"SELECT {column}, percentile_cont(0.5) WITHIN GROUP (ORDER BY sla_response_minutes)"
            f" FROM core_ticket WHERE {RANGE} GROUP BY 1",
        )
        assert {k: b.loc[k, "response_p50"] for k in p50} == p50, dim
        res = _sql(
            session,
            f"SELECT {column}, percentile_cont(0.5) WITHIN GROUP (ORDER BY sla_resolution_minutes)"
            f" FROM core_ticket WHERE {RESOLVED_RANGE} GROUP BY 1",
        )
        assert {k: b.loc[k, "resolution_p50"] for k in res} == res, dim
    coord = d.breakdowns["coordinator"].set_index("key")
    p50 = _sql(
        session,
        "SELECT coalesce(assigned_to_id::text, 'unassigned'),"
        " percentile_cont(0.5) WITHIN GROUP (ORDER BY sla_response_minutes)"
        f" FROM core_ticket WHERE {RANGE} GROUP BY 1",
    )
    assert {k: coord.loc[k, "response_p50"] for k in p50} == p50
    dist = d.distribution.set_index("priority")
    arrays = _sql(
        session,
        f"SELECT priority, percentile_cont({QS}) WITHIN GROUP (ORDER BY sla_resolution_minutes)"
        f" FROM core_ticket WHERE {RESOLVED_RANGE} GROUP BY 1",
    )
    for pr, values in arrays.items():
        assert [dist.loc[pr, c] for c in ("p05", "p25", "p50", "p75", "p90", "p95")] == list(values), pr
    weekly = _sql(
        session,
        "SELECT date_trunc('week', submit_date AT TIME ZONE 'UTC')::date,"
        " percentile_cont(0.9) WITHIN GROUP (ORDER BY sla_response_minutes)"
        f" FROM core_ticket WHERE {RANGE} GROUP BY 1",
    )
    tr = d.trends.set_index("week")
    assert {w: tr.loc[w, "response_p90"] for w in weekly} == weekly
    # resolved figures sit on the week they were resolved in (weeks in order, aligned)
    assert list(d.trends["week"]) == sorted(d.trends["week"])
    by_week = session.execute(
        text(
            "SELECT date_trunc('week', resolved_at AT TIME ZONE 'UTC')::date, count(*),"
            " percentile_cont(0.5) WITHIN GROUP (ORDER BY sla_resolution_minutes)"
            f" FROM core_ticket WHERE {RESOLVED_RANGE} GROUP BY 1"
        )
    ).all()
    assert {w: (tr.loc[w, "resolved"], tr.loc[w, "resolution_p50"]) for w, _, _ in by_week} == {
        w: (n, p50) for w, n, p50 in by_week
    }
    kpi = {k.key: k for k in d.kpis}
    row = session.execute(
        text(
            "SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY sla_resolution_minutes),"
            " count(*) FILTER (WHERE sla_resolution_met), count(*) FILTER (WHERE reopen_count > 0), count(*)"
            f" FROM core_ticket WHERE {RESOLVED_RANGE}"
        )
    ).one()
    assert kpi["resolution_p90"].value == row[0]
    assert kpi["reopen_rate"].value == pytest.approx(100.0 * row[2] / row[3])
    counts = _sql(session, f"SELECT department, count(*) FROM core_ticket WHERE {RANGE} GROUP BY 1")
    b = d.breakdowns["department"].set_index("key")
    assert {k: b.loc[k, "created"] for k in counts} == counts


def test_row_mask_selects_what_scope_selects(session: Session) -> None:
    who = _bulk(session, n=120, seed=3)
    cases = [
        (who["admin"], PERIOD),
        (who["coordinator"], PERIOD),
        (who["finance"], PERIOD),
        (who["admin"], ReportFilters(PERIOD.start, PERIOD.end, department="Finance", priority="High")),
        (who["admin"], ReportFilters(PERIOD.start, PERIOD.end, category="IT Support")),
        (who["coordinator"], ReportFilters(PERIOD.start, PERIOD.end, coordinator_id=who["coordinator"].id)),
    ]
    rows = packed_rows.load(session, dt.date(1, 1, 1), dt.datetime(1, 1, 1, tzinfo=UTC))
    assert len(rows) == session.scalar(select(func.count()).select_from(Ticket))
    heads = [policy.Grants({policy.Grant.DEPARTMENT_HEAD: frozenset(d)}) for d in ({"Finance"}, {"Finance", "Sales"})]
    for actor, filters in cases:
        for grants in (policy.NO_GRANTS, *heads):  # a department head of any role (issue 15)
            expected = set(session.scalars(select(Ticket.id).where(*reporting.scope(actor, filters, grants))))
            got = set(rows["id"][reporting.rules.row_mask(actor, filters, grants)(rows)])
            assert got == expected, (actor.role, filters, grants)


def test_packed_days_follow_writes(session: Session) -> None:
    who = _bulk(session, n=60, seed=11)
    admin = who["admin"]

    def resolved() -> float | None:
        return {k.key: k.value for k in reporting.kpis(session, admin, PERIOD, now=NOW)}["resolved"]

    def direct() -> int:
        return session.scalar(text(f"SELECT count(*) FROM core_ticket WHERE {RESOLVED_RANGE}"))

    assert resolved() == direct()
    session.commit()
    assert session.scalar(select(func.count()).select_from(ReportDirty)) == 0  # repacked
    assert session.scalar(select(func.sum(ReportDay.tickets))) == 60
    # An uncommitted write: its day is dirty for this session, so packed live.
    t = session.scalars(select(Ticket).where(Ticket.resolved_at.is_(None)).limit(1)).one()
    t.resolved_at = dt.datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    t.sla_resolution_minutes = 42.0
    session.flush()
    assert resolved() == direct()
    session.commit()
    assert resolved() == direct()
    session.commit()
    # Blocks of another layout are not read; the next refresh repacks them.
    session.execute(text("UPDATE core_reportday SET layout = 0"))
    session.commit()
    assert resolved() == direct()
    session.commit()
    assert set(session.scalars(select(ReportDay.layout))) == {packed_rows.LAYOUT}
    # Deleting and rating tickets mark their days too.
    session.execute(
        text(f"DELETE FROM core_ticket WHERE id IN (SELECT id FROM core_ticket WHERE {RESOLVED_RANGE} LIMIT 3)")
    )
    session.commit()
    assert resolved() == direct()
    session.commit()
    assert session.scalar(select(func.sum(ReportDay.tickets))) == 57
    # A rating is packed with its ticket: rating a ticket from long before the period marks
    # that ticket's day, and the day is read because of its rating.
    old = make_ticket(session, admin, submit_date=dt.datetime(2025, 6, 2, 10, 0, tzinfo=UTC), status="Closed")
    session.commit()
    assert resolved() == direct()
    session.commit()
    session.add(TicketRating(ticket_id=old.id, employee_id=admin.id, rating=3, created_at=NOW - dt.timedelta(days=10)))
    session.commit()
    satisfaction = {k.key: k.value for k in reporting.kpis(session, admin, PERIOD, now=NOW)}["satisfaction"]
    assert satisfaction == pytest.approx(float(session.scalar(text("SELECT avg(rating) FROM core_ticketrating"))))
    assert satisfaction == 3.0


def test_ranker_equals_sorting() -> None:
    rng = np.random.default_rng(5)
    assert np.isnan(packed_rows.Ranker(np.full(4, np.nan)).quantiles(np.zeros(4, dtype=np.int64), 1, (0.5,))).all()
    qs = reporting.QUANTILES
    for trial in range(40):
        n = int(rng.integers(1, 3000))
        values = [
            rng.random(n) * 5000,
            np.round(rng.exponential(300, n)),  # ties
            rng.normal(0, 1e3, n),  # negative values
            np.where(rng.random(n) < 0.4, 0.0, rng.random(n) * 1e6),
        ][trial % 4]
        if trial % 5 == 0:
            values[rng.random(n) < 0.3] = np.nan  # NULL minutes: in no percentile
        groups = int(rng.integers(1, 60))
        codes = rng.integers(0, groups, n)
        got = packed_rows.Ranker(values).quantiles(codes, groups, qs)
        for g in range(groups):
            x = np.sort(values[(codes == g) & ~np.isnan(values)])
            if len(x) == 0:
                assert np.isnan(got[g]).all()
                continue
            for j, q in enumerate(qs):
                h = q * float(len(x) - 1)
                lo = np.floor(h)
                a, b = x[int(lo)], x[int(np.ceil(h))]
                assert got[g, j] == a + (h - lo) * (b - a)


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Australia/Lord_Howe"])
def test_local_week_and_hour(tz: str) -> None:
    rng = np.random.default_rng(1)
    us = rng.integers(1_700_000_000_000_000, 1_800_000_000_000_000, 200_000)
    # instants around every transition of the range
    index = pd.date_range("2023-11-01", "2027-01-01", freq="15min", tz="UTC")
    offsets = index.tz_convert(tz).tz_localize(None) - index.tz_localize(None)
    changes = index[1:][offsets[1:] != offsets[:-1]].as_unit("us").asi8
    us = np.concatenate([us, *(changes + d for d in (-1, 0, 1, -3_600_000_000, 1_800_000_000))])
    monday, cell = packed_rows.local_parts(us, tz)
    local = pd.DatetimeIndex(us.astype("datetime64[us]")).tz_localize("UTC").tz_convert(tz).tz_localize(None)
    days = local.normalize().as_unit("us").asi8 // packed_rows.DAY_US
    weekday = np.asarray(local.day_of_week)
    assert np.array_equal(monday, days - weekday)
    assert np.array_equal(cell, weekday * 24 + np.asarray(local.hour))


def test_binary_copy_values_whole_or_split() -> None:
    rows = [b"abc", None, b"", bytes(range(256)) * 3]
    stream = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
    for r in rows:
        stream += (1).to_bytes(2, "big") + (-1 if r is None else len(r)).to_bytes(4, "big", signed=True) + (r or b"")
    stream += (-1).to_bytes(2, "big", signed=True)
    expected = [r for r in rows if r is not None]
    for cuts in ([], [5], [19 + 6 + 1], [30, 31, 400], list(range(1, len(stream)))):
        edges = [0, *cuts, len(stream)]
        chunks = [memoryview(stream[a:b]) for a, b in itertools.pairwise(edges)]
        assert [bytes(v) for v in packed_rows._copy_values(chunks)] == expected, cuts


def test_worker_job_repacks_written_days(session: Session, clean_db) -> None:
    from smartsupport_core import jobs

    _bulk(session, n=20, seed=5)
    assert session.scalar(select(func.count()).select_from(ReportDirty)) > 0
    session.commit()
    result = jobs.run_job_if_due(clean_db, jobs.REGISTRY["report_refresh"], dt.datetime.now(UTC))
    assert result.outcome == "ran" and "repacked" in result.detail
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(ReportDirty)) == 0
    assert session.scalar(select(func.sum(ReportDay.tickets))) == 20


def test_every_breakdown_dimension_is_a_packed_column() -> None:
    assert set(reporting.PACKED_DIMENSIONS) == set(reporting.DIMENSIONS)
    assert set(reporting.PACKED_DIMENSIONS.values()) <= set(packed_rows.PACKED_ROW.names)


def test_a_read_never_repacks_the_day_being_written(session: Session, clean_db) -> None:
    """Issue 15: under submissions every read repacked today's day, dirty again at once. A
    read repacks older dirty days only; today's tickets are read live, and still counted."""
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    requester = make_employee(session, department="Sales")
    now = dt.datetime.now(UTC)
    today = now.date()
    midnight = dt.datetime.combine(today, dt.time(0), tzinfo=UTC)
    make_ticket(session, requester, submit_date=midnight + (now - midnight) / 2)  # today, whatever the hour
    make_ticket(session, requester, submit_date=now - dt.timedelta(days=3))
    session.commit()
    week = ReportFilters(today - dt.timedelta(days=6), today)
    created = {k.key: k.value for k in reporting.kpis(session, admin, week, now=now)}["created"]
    assert created == 2  # today's ticket counted (read live)
    session.commit()
    dirty = set(session.scalars(select(ReportDirty.day)))
    assert dirty == {today}  # the older day was repacked, today's was not
    assert set(session.scalars(select(ReportDay.day))) == {today - dt.timedelta(days=3)}
    # the worker's job repacks every dirty day, today's included
    assert packed_rows.refresh_report(clean_db) >= 1
    assert session.scalar(select(func.count()).select_from(ReportDirty)) == 0
