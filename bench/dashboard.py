"""Benchmark: compute the whole SLA dashboard's data on 1,000,000 tickets.

Usage (the shared 1M-ticket demo database; `--load` fills it with the demo generator when
it does not exist yet, once, under an advisory lock so two helpers never load it twice):

    python bench/dashboard.py [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/ss_bench_1m]
                              [--runs 7] [--load]

It times `reporting.dashboard(session, actor, filters)` - every KPI with its previous period,
weekly trends, the four breakdowns, the resolution distribution, the backlog matrix, the
due-soon list and the heat map - exactly as the page computes it on a cache miss, for the
last 90 and the last 365 days, as an admin (all tickets) and as a coordinator (department
visibility); then each part alone (`reporting.PARTS`: what the page computes on opening,
"summary", and when a view is first opened) for 365 days as admin. Each run is its own
transaction (rolled back). Prints the median and p90 of
several runs per case, the time of each part for the 365-day admin case, and a final JSON
line. Before timing it repacks the days written since the last dashboard read
(`packed_rows.refresh_report`, what the first read after writes does); otherwise
read-only. Target: < 500 ms median for 365 days.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from smartsupport_core import reporting  # noqa: E402
from smartsupport_core.db import ensure_database, to_sqlalchemy_url  # noqa: E402
from smartsupport_core.models import Employee, Ticket  # noqa: E402
from smartsupport_core.reporting import ReportFilters, figures, lists, packed_rows, rules, tables  # noqa: E402
from smartsupport_core.vocab import AccountStatus, Role  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/ss_bench_1m"
TICKETS = 1_000_000
LOAD_LOCK = 0x55B1  # advisory lock (on the server's `postgres` DB) held while the shared DB is loaded


def ticket_count(url: str) -> int | None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"))
    try:
        with admin.connect() as conn:
            if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}):
                return None
    finally:
        admin.dispose()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not conn.scalar(text("SELECT to_regclass('core_ticket') IS NOT NULL")):
                return 0
            return int(conn.scalar(text("SELECT count(*) FROM core_ticket")) or 0)
    finally:
        engine.dispose()


def load_once(url: str, tickets: int) -> None:
    """Load the demo data set when the shared DB is missing or empty; never twice at once."""
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as lock_conn:
        lock_conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": LOAD_LOCK})
        try:
            count = ticket_count(url)
            if count and count >= tickets:
                print(f"{target.database} already holds {count:,} tickets: not loading")
                return
            if count:
                raise SystemExit(
                    f"{target.database} holds {count:,} tickets (< {tickets:,}): another load may be half done; "
                    "not touching it"
                )
            from smartsupport_core import demo, migrate

            ensure_database(url)
            engine = create_engine(url)
            migrate.upgrade(engine)
            started = time.perf_counter()
            demo.load_demo(engine, tickets=tickets, echo=print)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
            engine.dispose()
            print(f"loaded {tickets:,} tickets in {time.perf_counter() - started:.0f} s")
        finally:
            lock_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOAD_LOCK})
    admin.dispose()


def actor(session: Session, role: Role) -> Employee:
    emp = session.scalars(
        select(Employee)
        .where(Employee.role == role.value, Employee.status == AccountStatus.APPROVED.value, Employee.is_active)
        .order_by(Employee.id)
        .limit(1)
    ).first()
    if emp is None:
        raise SystemExit(f"no active {role.value} in the database")
    session.expunge(emp)
    return emp


def timed(
    engine,
    who: Employee,
    filters: ReportFilters,
    runs: int,
    warmup: int,
    parts: tuple[str, ...] = tuple(reporting.PARTS),
) -> list[float]:
    samples: list[float] = []
    for i in range(warmup + runs):
        with Session(engine) as s:
            start = time.perf_counter()
            reporting.dashboard(s, who, filters, parts=parts)
            elapsed = (time.perf_counter() - start) * 1000
            s.rollback()
        if i >= warmup:
            samples.append(elapsed)
    return samples


def parts(engine, who: Employee, filters: ReportFilters) -> dict[str, float]:
    """Time of each step (one run, after the warm-up), to show where the time goes."""
    out: dict[str, float] = {}
    with Session(engine) as s:
        scope = rules.checked(s, who, filters)
        conds = scope.conds
        p = reporting.period_of(filters)
        now = dt.datetime.now(dt.UTC)
        state: dict[str, object] = {}

        def load() -> None:
            state["rows"] = figures.load_rows(s, p, now)

        def compute_figures() -> None:
            rows = state["rows"]
            visible = scope.mask(rows)
            created = figures.created_cohort(rows, visible, p, now)
            resolved = figures.resolved_cohort(rows, visible, p)
            state["kpis"] = figures.kpi_figures(p, now, created, resolved, visible)
            state["created"], state["resolved"] = (
                figures.created_frame(created, p),
                figures.resolved_frame(resolved, p),
            )

        def build_tables() -> None:
            created, resolved = state["created"], state["resolved"]
            tables.trends_table(created, resolved)
            for dim in reporting.DIMENSIONS:
                tables.breakdown_table(s, created, resolved, dim)
            tables.distribution_tables(resolved)
            tables.heatmap_table(created)

        steps = {
            "load_packed_rows": load,
            "numpy_figures": compute_figures,
            "pandas_tables": build_tables,
            "backlog": lambda: lists.backlog_now(s, conds, now),
            "due_soon": lambda: lists.due_soon_now(s, conds, now),
        }
        for name, fn in steps.items():
            start = time.perf_counter()
            fn()
            out[name] = round((time.perf_counter() - start) * 1000, 1)
        s.rollback()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("SMARTSUPPORT_BENCH_URL", DEFAULT_URL))
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--load", action="store_true", help="load the demo data set if the database is empty")
    parser.add_argument("--tickets", type=int, default=TICKETS)
    args = parser.parse_args(argv)
    url = to_sqlalchemy_url(args.database_url)

    count = ticket_count(url)
    if not count and args.load:
        load_once(url, args.tickets)
        count = ticket_count(url)
    if not count:
        raise SystemExit(f"{make_url(url).database}: no tickets; run with --load (or `smartsupport demo`)")

    engine = create_engine(url, pool_size=2)
    started = time.perf_counter()
    packed = packed_rows.refresh_report(engine)  # days written since the last dashboard read
    print(f"report rows: {packed} days (re)packed in {time.perf_counter() - started:.1f} s before timing")
    with Session(engine) as s:
        admin, coordinator = actor(s, Role.ADMIN), actor(s, Role.COORDINATOR)
        span = s.execute(select(func.min(Ticket.submit_date), func.max(Ticket.submit_date))).one()
    print(f"database {make_url(url).database}: {count:,} tickets submitted {span[0]:%Y-%m-%d} .. {span[1]:%Y-%m-%d}")

    results: dict[str, dict[str, float]] = {}
    for days in (90, 365):
        filters = ReportFilters.last_days(days)
        for label, who in (("admin", admin), ("coordinator", coordinator)):
            samples = timed(engine, who, filters, args.runs, args.warmup)
            med = statistics.median(samples)
            p90 = sorted(samples)[max(0, round(0.9 * (len(samples) - 1)))]
            key = f"{days}d_{label}"
            results[key] = {"median_ms": round(med, 1), "p90_ms": round(p90, 1), "min_ms": round(min(samples), 1)}
            print(f"{days:>4} days as {label:<12} median {med:7.1f} ms  p90 {p90:7.1f} ms  min {min(samples):7.1f} ms")
    for part in reporting.PARTS:  # what the page computes: the summary on opening, a part per view
        samples = timed(engine, admin, ReportFilters.last_days(365), args.runs, args.warmup, (part,))
        med = statistics.median(samples)
        results[f"365d_admin_part_{part}"] = {"median_ms": round(med, 1), "min_ms": round(min(samples), 1)}
        print(f" 365 days as admin, part {part:<11} median {med:7.1f} ms  min {min(samples):7.1f} ms")
    breakdown = parts(engine, admin, ReportFilters.last_days(365))
    print("365 days as admin, whole dashboard per step (ms): " + ", ".join(f"{k} {v}" for k, v in breakdown.items()))
    engine.dispose()
    target_ms = 500.0
    summary = {
        "benchmark": "dashboard",
        "tickets": count,
        "runs": args.runs,
        "results": results,
        "parts_365d_admin_ms": breakdown,
        "target_median_ms_365d": target_ms,
        "meets_target": results["365d_admin"]["median_ms"] < target_ms,
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
