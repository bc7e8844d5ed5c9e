"""Load test: 50 simulated users work the help desk through the core services for 60 s.

Usage (local PostgreSQL; a throwaway database is created and dropped):

    python bench/load.py [--users 50] [--duration 60] [--procs 2] \
        [--server-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--keep]

The users are threads spread over `--procs` processes (one per core: the services are
Python, a single process would measure the GIL, not the system). Each user has a role and
loops over that role's operations without think time, each in its own transaction, as the
portal does:
  employees (80%)    submit a ticket (IT Support or Asset Check Out, all core validation,
                     numbering, SLA clocks, audit, outbox), comment on one of their tickets;
  coordinators (16%) read their queue (queue.query_queue, first page), move a ticket of
                     their department (assign to self + Open -> In Progress, or
                     In Progress -> Resolved), comment publicly or internally;
  admins (4%)        approve New tickets (New -> Open), open the dashboard (its summary part
                     over the last 90 days, as the page's first open), open another view
                     of it (one other part, as a tab's first open).
Per operation it reports the count, operations per second and latency percentiles; domain
refusals (a conflict with someone else's change, a move someone else made first) are
counted apart from errors. Afterwards it checks every acknowledged write is in the database
(each ticket with its number, each comment, each status change in the history) and that
every ticket number is unique. Exit status 1 if any check fails or an unexpected error
happened. The last line is JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import random
import statistics
import sys
import threading
import time
import traceback
from collections import defaultdict
from concurrent.futures import wait
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from smartsupport_core import migrate, reporting  # noqa: E402
from smartsupport_core.db import drop_database, ensure_database, throwaway_url  # noqa: E402
from smartsupport_core.errors import Conflict, DomainError  # noqa: E402
from smartsupport_core.models import Employee, Ticket, TicketComment, TicketStatusHistory  # noqa: E402
from smartsupport_core.reporting import offload  # noqa: E402
from smartsupport_core.settings import configure, load_settings  # noqa: E402
from smartsupport_core.vocab import AccountStatus, Role, TicketStatus  # noqa: E402

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
STAFF_DEPARTMENTS = ("IT Department", "Asset Department")
EMPLOYEE_DEPARTMENTS = ("Sales", "Marketing", "Finance", "Human Resources", "Operations")
LOCATION = "Main Office 1st Floor"

WORDS = [
    "laptop",
    "screen",
    "flickers",
    "after",
    "update",
    "docking",
    "station",
    "detected",
    "printer",
    "second",
    "floor",
    "jams",
    "every",
    "morning",
    "vpn",
    "drops",
    "battery",
    "outlook",
    "keeps",
    "asking",
    "password",
    "projector",
    "room",
    "four",
    "shows",
    "signal",
    "keyboard",
    "keys",
    "stick",
    "mouse",
]


# --------------------------------------------------------------------------- set-up


def plan_users(n: int) -> list[tuple[str, str]]:
    """(role, department) of each simulated user: 80% employees, 16% coordinators, 4% admins."""
    admins = max(1, round(n * 0.04))
    coordinators = max(len(STAFF_DEPARTMENTS), round(n * 0.16))
    employees = max(1, n - admins - coordinators)
    users = [(Role.ADMIN.value, "IT Department")] * admins
    users += [(Role.COORDINATOR.value, STAFF_DEPARTMENTS[i % len(STAFF_DEPARTMENTS)]) for i in range(coordinators)]
    users += [(Role.EMPLOYEE.value, EMPLOYEE_DEPARTMENTS[i % len(EMPLOYEE_DEPARTMENTS)]) for i in range(employees)]
    return users


def create_accounts(url: str, plan: list[tuple[str, str]]) -> list[int]:
    engine = create_engine(url)
    with Session(engine) as s:
        rows = [
            Employee(
                first_name=f"Load{i}",
                last_name="User",
                email=f"load{i}@example.com",
                company_id=f"MA{i + 1:04d}",
                department=dept,
                role=role,
                status=AccountStatus.APPROVED.value,
                password="!unusable",  # nobody logs in: the services are driven directly
            )
            for i, (role, dept) in enumerate(plan)
        ]
        s.add_all(rows)
        s.flush()  # one batched INSERT ... RETURNING, in plan order
        ids = [emp.id for emp in rows]
        s.commit()
    engine.dispose()
    return ids


# --------------------------------------------------------------------------- operations


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def submission(rng: random.Random) -> dict:
    if rng.random() < 0.5:
        return {
            "category": "IT Support",
            "sub_category": "Hardware Troubleshooting",
            "subject": ("Load " + _sentence(rng, 5))[:120],
            "description": _sentence(rng, 30),
            "device_type": "Laptop",
        }
    return {
        "category": "Asset Check Out",
        "sub_category": "Laptop",
        "subject": ("Borrow " + _sentence(rng, 4))[:120],
        "description": _sentence(rng, 25),
        "asset_name": "ThinkPad T14",
        "serial_number": f"SN{rng.randrange(10**8):08d}",
        "location": LOCATION,
        "expected_return_date": (dt.date.today() + dt.timedelta(days=14)).isoformat(),
    }


class Recorder:
    """Latencies and outcomes per operation, plus the writes the services acknowledged."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.refused: dict[str, int] = defaultdict(int)
        self.conflicts: dict[str, int] = defaultdict(int)
        self.errors: list[str] = []
        self.tickets: list[tuple[int, str]] = []  # (id, number)
        self.comments: list[int] = []
        self.moves: list[tuple[int, str, int]] = []  # (ticket id, to status, version after)

    def ok(self, op: str, ms: float) -> None:
        with self.lock:
            self.latency[op].append(ms)

    def dump(self) -> dict:
        return {
            "latency": dict(self.latency),
            "refused": dict(self.refused),
            "conflicts": dict(self.conflicts),
            "errors": self.errors,
            "tickets": self.tickets,
            "comments": self.comments,
            "moves": self.moves,
        }


def run_user(engine, user_id: int, seed: int, deadline: float, rec: Recorder) -> None:
    from smartsupport_core import queue as queue_svc
    from smartsupport_core import tickets as svc

    rng = random.Random(seed)
    with Session(engine) as s:
        actor = s.get(Employee, user_id)
        s.expunge(actor)
    role = Role(actor.role)

    def timed(op: str, fn) -> None:
        """Run one operation in its own transaction; `fn` may return the op it fell back to."""
        start = time.perf_counter()
        with Session(engine, expire_on_commit=False) as s:
            try:
                op = fn(s) or op  # a fallback (nothing to move yet) reports what it really did
                s.commit()
            except Conflict:
                s.rollback()
                with rec.lock:
                    rec.conflicts[op] += 1
                return
            except DomainError:
                s.rollback()
                with rec.lock:
                    rec.refused[op] += 1
                return
            except Exception:
                s.rollback()
                with rec.lock:
                    rec.errors.append(f"{op}: {traceback.format_exc(limit=3)}")
                return
        rec.ok(op, (time.perf_counter() - start) * 1000)

    my_tickets: list[int] = []

    def submit(s: Session) -> None:
        ticket = svc.submit_ticket(s, actor, submission(rng))
        s.commit()
        my_tickets.append(ticket.id)
        with rec.lock:
            rec.tickets.append((ticket.id, ticket.ticket_number))

    def comment_own(s: Session) -> None:
        if not my_tickets:
            submit(s)
            return "submit"
        c = svc.add_comment(s, actor, rng.choice(my_tickets), "Any news? " + _sentence(rng, 8))
        s.commit()
        with rec.lock:
            rec.comments.append(c.id)

    def read_queue(s: Session) -> None:
        page = queue_svc.query_queue(s, actor, queue_svc.QueueFilters(department=actor.department), page_size=50)
        assert page.rows is not None

    def pick(s: Session, statuses: list[str]) -> Ticket | None:
        return s.scalars(
            select(Ticket)
            .where(Ticket.department == actor.department, Ticket.status.in_(statuses))
            .order_by(func.random())
            .limit(1)
        ).first()

    def move(s: Session) -> None:
        ticket = pick(s, [TicketStatus.OPEN.value, TicketStatus.IN_PROGRESS.value])
        if ticket is None:
            read_queue(s)
            return "read_queue"
        tid, version = ticket.id, ticket.version
        if ticket.status == TicketStatus.OPEN.value:
            if ticket.assigned_to_id != actor.id:
                ticket = svc.assign_ticket(s, actor, tid, actor.id, expected_version=version)
                version = ticket.version
            to = TicketStatus.IN_PROGRESS.value
        else:
            to = TicketStatus.RESOLVED.value
        ticket = svc.change_status(s, actor, tid, to, expected_version=version)
        version_after = ticket.version
        s.commit()
        with rec.lock:
            rec.moves.append((tid, to, version_after))

    def comment_staff(s: Session) -> None:
        ticket = pick(s, [TicketStatus.OPEN.value, TicketStatus.IN_PROGRESS.value])
        if ticket is None:
            read_queue(s)
            return "read_queue"
        c = svc.add_comment(s, actor, ticket.id, "Looking into it: " + _sentence(rng, 8), internal=rng.random() < 0.5)
        s.commit()
        with rec.lock:
            rec.comments.append(c.id)

    def approve(s: Session) -> None:
        ticket = s.scalars(
            select(Ticket).where(Ticket.status == TicketStatus.NEW.value).order_by(func.random()).limit(1)
        ).first()
        if ticket is None:
            dashboard(s)
            return "read_dashboard"
        tid = ticket.id
        ticket = svc.approve_ticket(s, actor, tid, expected_version=ticket.version)
        version_after = ticket.version
        s.commit()
        with rec.lock:
            rec.moves.append((tid, TicketStatus.OPEN.value, version_after))

    def dashboard(s: Session) -> None:
        read_dashboard(s, actor)

    def dashboard_view(s: Session) -> None:
        read_dashboard(s, actor, rng.choice([p for p in reporting.PARTS if p != "summary"]))

    if role is Role.EMPLOYEE:
        ops = [("submit", submit, 0.6), ("comment", comment_own, 0.4)]
    elif role is Role.COORDINATOR:
        ops = [("read_queue", read_queue, 0.4), ("update_status", move, 0.4), ("comment", comment_staff, 0.2)]
    else:
        ops = [
            ("update_status", approve, 0.6),
            ("read_dashboard", dashboard, 0.3),
            ("read_dashboard_view", dashboard_view, 0.1),
        ]
    names = [o[0] for o in ops]
    fns = {o[0]: o[1] for o in ops}
    weights = [o[2] for o in ops]
    while time.monotonic() < deadline:
        op = rng.choices(names, weights)[0]
        timed(op, fns[op])


def read_dashboard(session: Session, actor: Employee, part: str = "summary") -> None:
    """One part of the dashboard's data for the last 90 days, as the portal computes it (in
    a report process, `reporting.offload`): "summary" is what the page computes when a
    manager opens it (KPIs, weekly trends, breached/due soon, workload); another part is
    what opening that view computes."""
    today = dt.date.today()
    filters = reporting.ReportFilters(start=today - dt.timedelta(days=90), end=today)
    offload.dashboard_of(actor.id, filters, (part,), session=session)


def worker_process(url: str, users: list[tuple[int, int]], duration: float, out: mp.Queue) -> None:
    """One OS process running its share of the users as threads."""
    engine = create_engine(url, pool_size=len(users) + 2, max_overflow=5)
    # the dashboard is read as the portal reads it: in report processes (reporting.offload)
    configure(load_settings({"SMARTSUPPORT_DATABASE_URL": url}))
    wait(offload.warm())
    rec = Recorder()
    deadline = time.monotonic() + duration
    threads = [
        threading.Thread(target=run_user, args=(engine, uid, seed, deadline, rec), daemon=True) for uid, seed in users
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    offload.shutdown()  # else this process waits for its report processes at exit
    out.put(rec.dump())


# --------------------------------------------------------------------------- report and checks


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))] if ordered else float("nan")


def verify(url: str, merged: dict) -> list[str]:
    """Every acknowledged write is in the database; ticket numbers are unique."""
    problems = []
    engine = create_engine(url)
    with Session(engine) as s:
        stored = dict(s.execute(select(Ticket.id, Ticket.ticket_number)).all())
        missing = [(tid, num) for tid, num in merged["tickets"] if stored.get(tid) != num]
        if missing:
            problems.append(f"{len(missing)} acknowledged tickets missing or renumbered, e.g. {missing[:3]}")
        total, distinct = s.execute(select(func.count(), func.count(func.distinct(Ticket.ticket_number)))).one()
        if total != distinct:
            problems.append(f"ticket numbers not unique: {total} tickets, {distinct} distinct numbers")
        comment_ids = set(s.scalars(select(TicketComment.id)))
        lost = [c for c in merged["comments"] if c not in comment_ids]
        if lost:
            problems.append(f"{len(lost)} acknowledged comments missing, e.g. {lost[:3]}")
        history = defaultdict(int)
        for tid, to in s.execute(select(TicketStatusHistory.ticket_id, TicketStatusHistory.to_status)):
            history[(tid, to)] += 1
        needed = defaultdict(int)
        for tid, to, _v in merged["moves"]:
            needed[(tid, to)] += 1
        short = [k for k, n in needed.items() if history[k] < n]
        if short:
            problems.append(f"{len(short)} acknowledged status changes without their history row, e.g. {short[:3]}")
        versions = dict(s.execute(select(Ticket.id, Ticket.version)).all())
        behind = [(tid, v) for tid, _to, v in merged["moves"] if versions.get(tid, 0) < v]
        if behind:
            problems.append(f"{len(behind)} tickets older than an acknowledged change, e.g. {behind[:3]}")
        counts = {
            "tickets": total,
            "comments": len(comment_ids),
            "history_rows": sum(history.values()),
        }
    engine.dispose()
    merged["db_counts"] = counts
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--procs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--server-url", default=os.environ.get("SMARTSUPPORT_BENCH_SERVER", DEFAULT_SERVER))
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    url = throwaway_url(args.server_url, "ss_load")
    ensure_database(url)
    print(f"database: {make_url(url).database} (throwaway)")
    try:
        engine = create_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        plan = plan_users(args.users)
        ids = create_accounts(url, plan)
        roles = defaultdict(int)
        for role, _d in plan:
            roles[role] += 1
        print(f"users: {dict(roles)} in {args.procs} processes, {args.duration:.0f} s")

        ctx = mp.get_context("fork")
        out: mp.Queue = ctx.Queue()
        shares = [[] for _ in range(args.procs)]
        for i, uid in enumerate(ids):
            shares[i % args.procs].append((uid, args.seed * 1000 + i))
        procs = [ctx.Process(target=worker_process, args=(url, share, args.duration, out)) for share in shares]
        started = time.monotonic()
        for p in procs:
            p.start()
        parts = [out.get(timeout=args.duration + 300) for _ in procs]
        for p in procs:
            p.join()
        elapsed = time.monotonic() - started

        merged: dict = {"latency": defaultdict(list), "refused": defaultdict(int), "conflicts": defaultdict(int)}
        merged.update({"errors": [], "tickets": [], "comments": [], "moves": []})
        for part in parts:
            for op, values in part["latency"].items():
                merged["latency"][op].extend(values)
            for key in ("refused", "conflicts"):
                for op, n in part[key].items():
                    merged[key][op] += n
            for key in ("errors", "tickets", "comments", "moves"):
                merged[key].extend(part[key])

        result: dict = {"benchmark": "load", "users": args.users, "duration_s": round(elapsed, 1), "ops": {}}
        header = ("operation", "ok", "ops/s", "p50 ms", "p95 ms", "p99 ms", "conflict", "refused")
        print(f"{header[0]:<16}" + "".join(f"{h:>9}" for h in header[1:]))
        for op in sorted(set(merged["latency"]) | set(merged["refused"]) | set(merged["conflicts"])):
            values = merged["latency"].get(op, [])
            row = {
                "ok": len(values),
                "ops_per_s": round(len(values) / elapsed, 1),
                "p50_ms": round(statistics.median(values), 1) if values else None,
                "p95_ms": round(pct(values, 0.95), 1) if values else None,
                "p99_ms": round(pct(values, 0.99), 1) if values else None,
                "conflicts": merged["conflicts"].get(op, 0),
                "refused": merged["refused"].get(op, 0),
            }
            result["ops"][op] = row
            print(
                f"{op:<16}{row['ok']:>9}{row['ops_per_s']:>9}{row['p50_ms'] or 0:>9}{row['p95_ms'] or 0:>9}"
                f"{row['p99_ms'] or 0:>9}{row['conflicts']:>9}{row['refused']:>9}"
            )
        total_ok = sum(len(v) for v in merged["latency"].values())
        result["total_ops_per_s"] = round(total_ok / elapsed, 1)
        print(f"total: {total_ok} operations, {result['total_ops_per_s']} ops/s")

        problems = verify(url, merged)
        result["db_counts"] = merged["db_counts"]
        result["acknowledged"] = {
            "tickets": len(merged["tickets"]),
            "comments": len(merged["comments"]),
            "status_changes": len(merged["moves"]),
        }
        result["errors"] = len(merged["errors"])
        for err in merged["errors"][:5]:
            print("ERROR", err)
        for problem in problems:
            print("CHECK FAILED:", problem)
        result["checks_passed"] = not problems
        if not problems:
            print(
                f"checks: all {len(merged['tickets'])} acknowledged tickets, {len(merged['comments'])} comments and "
                f"{len(merged['moves'])} status changes are in the database; ticket numbers unique"
            )
        print(json.dumps(result))
        return 0 if not problems and not merged["errors"] else 1
    finally:
        if args.keep:
            print(f"kept: {url}")
        else:
            drop_database(url)


if __name__ == "__main__":
    raise SystemExit(main())
