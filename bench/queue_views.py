"""Benchmark: the coordinator queue's common views on a million tickets (issue 6).

Usage:
    python bench/queue_views.py                         # ss_bench_1m on the local server
    python bench/queue_views.py --database-url URL --repeat 50 --explain

The database is shared with other benchmarks (reporting, search): it is created and loaded
with `smartsupport demo` data (1,000,000 tickets) only if it holds no tickets yet, by
`bench/dashboard.py`'s `load_once` (an advisory lock: at most once even when two benchmarks
start together; a database with fewer tickets is refused, not topped up). Pass --no-load to refuse loading.

Each view is `queue.query_queue` exactly as the Queue page calls it (first page of 50 rows,
plus the total), measured `--repeat` times after 3 warm-up runs:
  mine        — the busiest coordinator's default view: assigned to me, not closed
  unassigned  — unassigned open tickets of that coordinator's department
  breached    — SLA breached tickets the coordinator can see
  breached_all — SLA breached tickets, all departments (an admin)
Prints a table and a final JSON line; target: median under 50 ms for each view.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from bench.dashboard import load_once, ticket_count
from smartsupport_core import db as core_db
from smartsupport_core import migrate
from smartsupport_core.models import Employee, Ticket
from smartsupport_core.queue import DEFAULT_FILTERS, QueueFilters, query_queue
from smartsupport_core.vocab import NOT_CLOSED_STATUSES, OPEN_STATUSES, Role

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/ss_bench_1m"
TARGET_MS = 50.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def ensure_loaded(url: str, tickets: int, allow_load: bool) -> None:
    count = ticket_count(url) or 0
    if count < tickets:
        if not allow_load:
            sys.exit(f"{url} has {count:,} tickets (< {tickets:,}) and --no-load was given")
        load_once(url, tickets)  # the shared loader: one at a time, never over a half-done load
    engine = create_engine(url)
    migrate.upgrade(engine)  # no-op when at head; adds new indexes to an older load
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--no-load", action="store_true")
    parser.add_argument("--explain", action="store_true", help="print the plans of the row queries")
    args = parser.parse_args()

    url = core_db.to_sqlalchemy_url(args.database_url)
    ensure_loaded(url, args.tickets, not args.no_load)
    engine = create_engine(url)
    with Session(engine) as s:
        total_tickets = s.scalar(select(func.count()).select_from(Ticket))
        load = (
            select(Ticket.assigned_to_id, func.count().label("n"))
            .where(Ticket.assigned_to_id.is_not(None), Ticket.status.in_([x.value for x in NOT_CLOSED_STATUSES]))
            .group_by(Ticket.assigned_to_id)
            .subquery()
        )
        coord = s.scalars(
            select(Employee)
            .join(load, load.c.assigned_to_id == Employee.id)
            .where(Employee.role == Role.COORDINATOR.value, Employee.is_active.is_(True), Employee.status == "Approved")
            .order_by(load.c.n.desc())
            .limit(1)
        ).first()
        admin = s.scalars(
            select(Employee).where(Employee.role == Role.ADMIN.value, Employee.status == "Approved").limit(1)
        ).first()
        if coord is None or admin is None:
            sys.exit("no active coordinator with assigned tickets, or no admin, in this database")
        s.expunge_all()

    views = {
        "mine": (coord, DEFAULT_FILTERS),
        "unassigned": (
            coord,
            QueueFilters(
                assignee="unassigned", department=coord.department, statuses=tuple(x.value for x in OPEN_STATUSES)
            ),
        ),
        "breached": (coord, QueueFilters(sla_state="breached")),
        "breached_all": (admin, QueueFilters(sla_state="breached")),
    }
    print(
        f"{total_tickets:,} tickets; coordinator #{coord.id} ({coord.department}); "
        f"{args.repeat} runs per view after 3 warm-ups; page size {args.page_size}"
    )
    results: dict[str, dict[str, float | int | bool]] = {}
    with Session(engine) as s:
        for name, (actor, filters) in views.items():
            for _ in range(3):
                page = query_queue(s, actor, filters, page_size=args.page_size)
                s.rollback()
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                page = query_queue(s, actor, filters, page_size=args.page_size)
                times.append((time.perf_counter() - started) * 1000)
                s.rollback()
            median, p95 = statistics.median(times), percentile(times, 95)
            results[name] = {
                "median_ms": round(median, 2),
                "p95_ms": round(p95, 2),
                "rows": len(page.rows),
                "total": page.total,
                "total_capped": page.total_capped,
            }
            more = "+" if page.total_capped else ""
            print(
                f"  {name:<13} median {median:7.2f} ms   p95 {p95:7.2f} ms   "
                f"total {page.total:,}{more}   {'OK' if median < TARGET_MS else 'over target'}"
            )
            if args.explain:
                for line in explain(s, actor, filters, args.page_size):
                    print("      " + line)
                s.rollback()
    print(
        json.dumps(
            {
                "benchmark": "queue_views",
                "tickets": total_tickets,
                "target_median_ms": TARGET_MS,
                "all_under_target": all(r["median_ms"] < TARGET_MS for r in results.values()),
                "views": results,
            }
        )
    )
    engine.dispose()


def explain(session: Session, actor: Employee, filters: QueueFilters, page_size: int) -> list[str]:
    """EXPLAIN ANALYZE of the page's count and row queries, as query_queue builds them."""
    import datetime as dt

    from smartsupport_core import queue as q

    parts = q._sla_parts(session, dt.datetime.now(dt.UTC))
    conds = q._conditions(actor, filters, parts)
    count = select(func.count()).select_from(select(Ticket.id).where(*conds).limit(q.COUNT_CAP + 1).subquery())
    rows = q._rows_stmt(filters, parts, conds).limit(page_size)
    out: list[str] = []
    conn = session.connection()
    for label, stmt in (("count", count), ("rows", rows)):
        compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, COSTS OFF) " + compiled.string, compiled.params).scalars()
        out += [f"[{label}]", *plan]
    return out


if __name__ == "__main__":
    main()
