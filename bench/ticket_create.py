"""Benchmark: ticket creation through the full core path, with 1 and 8 concurrent writers.

Each ticket goes through `tickets.submit_ticket` exactly as the portal calls it: validation
against the category row, SLA due dates, the per-year number sequence, the status-history
row, the audit row, the requester's and every admin's outbox e-mail, then a commit. Writers
are separate OS processes with their own connections.

Usage:
    python bench/ticket_create.py                          # 400 tickets per run, writers 1 and 8
    python bench/ticket_create.py --tickets 2000 --writers 1 4 8
    python bench/ticket_create.py postgresql+psycopg://postgres@127.0.0.1:5432/ss_bench   # that DB (kept)

Without a URL a throwaway database is created on the server of SMARTSUPPORT_DATABASE_URL
(default: the local server) and dropped at the end unless --keep. After every run the script
verifies that the numbers are unique and that every ticket was created (it exits 1
otherwise), and counts gaps (allowed; none are expected when no submission fails). Prints a
line per run, then one JSON line.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from smartsupport_core import db as core_db
from smartsupport_core import migrate

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATA = {
    "category": "IT Support",
    "sub_category": "Hardware Troubleshooting",
    "priority": "High",
    "device_type": "Laptop",
    "software_affected": "Outlook",
}


def _writer(url: str, employee_ids: list[int], count: int, worker: int, start, results) -> None:
    from smartsupport_core import tickets
    from smartsupport_core.models import Employee

    engine = create_engine(url, pool_size=1, max_overflow=0)
    with Session(engine) as s:
        people = [s.get(Employee, i) for i in employee_ids]
        for p in people:
            s.expunge(p)
    start.wait()
    t0 = time.perf_counter()
    latencies = []
    for n in range(count):
        actor = people[n % len(people)]
        data = {
            **DATA,
            "subject": f"Laptop issue {worker}-{n}",
            "description": f"Writer {worker} ticket {n}: the laptop restarts when docking.",
        }
        began = time.perf_counter()
        with Session(engine, expire_on_commit=False) as s:
            tickets.submit_ticket(s, actor, data)
            s.commit()
        latencies.append(time.perf_counter() - began)
    results.put((worker, time.perf_counter() - t0, latencies))
    engine.dispose()


def _setup(url: str, employees: int) -> list[int]:
    from smartsupport_core.models import Employee

    engine = create_engine(url)
    with Session(engine) as s:
        tag = uuid.uuid4().hex[:6]
        people = [("Admin", "BA", "IT Department", "System Admin")] * 2
        people += [("Employee", "BE", "Sales", "Employee")] * employees
        rows = [
            Employee(
                first_name="Bench",
                last_name=f"{kind}{i}",
                email=f"bench-{kind.lower()}{i}-{tag}@example.com",
                company_id=f"{code}{tag}{i}",
                department=department,
                role=role,
                status="Approved",
                password="!unusable",
            )
            for i, (kind, code, department, role) in enumerate(people)
        ]
        s.add_all(rows)
        s.commit()
        ids = [r.id for r in rows[2:]]
    engine.dispose()
    return ids


def _run(url: str, employee_ids: list[int], total: int, writers: int) -> dict:
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(writers + 1)
    results = ctx.Queue()
    per = [total // writers + (1 if i < total % writers else 0) for i in range(writers)]
    procs = [ctx.Process(target=_writer, args=(url, employee_ids, per[i], i, start, results)) for i in range(writers)]
    for p in procs:
        p.start()
    start.wait()
    t0 = time.perf_counter()
    got = [results.get(timeout=3600) for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise SystemExit(f"writer exited with {p.exitcode}")
    latencies = sorted(lat for _, _, lats in got for lat in lats)
    p50 = latencies[len(latencies) // 2]
    p95 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.95))]
    return {
        "writers": writers,
        "tickets": total,
        "seconds": round(wall, 3),
        "tickets_per_s": round(total / wall, 1),
        "p50_ms": round(p50 * 1000, 1),
        "p95_ms": round(p95 * 1000, 1),
    }


def _verify(url: str) -> dict:
    from smartsupport_core.models import EmailNotification, Ticket, TicketStatusHistory

    engine = create_engine(url)
    with Session(engine) as s:
        total = s.scalar(select(func.count(Ticket.id)))
        distinct = s.scalar(select(func.count(func.distinct(Ticket.ticket_number))))
        numbers = sorted(int(n[-6:]) for n in s.scalars(select(Ticket.ticket_number)))
        history = s.scalar(select(func.count(TicketStatusHistory.id)))
        mails = s.scalar(select(func.count(EmailNotification.id)))
    engine.dispose()
    gaps = sum(1 for a, b in itertools.pairwise(numbers) if b != a + 1)
    return {
        "tickets": total,
        "duplicates": total - distinct,
        "gaps": gaps,
        "history_rows": history,
        "emails": mails,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", nargs="?", help="database to use (kept); default: a throwaway database")
    parser.add_argument("--tickets", type=int, default=400, help="tickets per run")
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--employees", type=int, default=50)
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database")
    args = parser.parse_args()

    throwaway = args.url is None
    if throwaway:
        url = core_db.throwaway_url(os.environ.get("SMARTSUPPORT_DATABASE_URL") or DEFAULT_SERVER, "ss_bench_tc")
    else:
        url = core_db.to_sqlalchemy_url(args.url)
    core_db.ensure_database(url)
    os.environ["SMARTSUPPORT_DATABASE_URL"] = url
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    ok = True
    runs = []
    try:
        ids = _setup(url, args.employees)
        before = _verify(url)
        for writers in args.writers:
            run = _run(url, ids, args.tickets, writers)
            check = _verify(url)
            run["duplicates"] = check["duplicates"]
            run["gaps"] = check["gaps"]
            created = check["tickets"] - before["tickets"]
            run["created"] = created
            ok = ok and check["duplicates"] == 0 and created == args.tickets
            before = check
            runs.append(run)
            print(
                f"writers={writers:>2}  tickets={args.tickets}  {run['seconds']:.2f} s  "
                f"{run['tickets_per_s']:.1f} tickets/s  p50 {run['p50_ms']} ms  p95 {run['p95_ms']} ms  "
                f"duplicates={run['duplicates']}  gaps={run['gaps']}"
            )
        final = _verify(url)
        print(
            f"total {final['tickets']} tickets, {final['history_rows']} history rows, {final['emails']} e-mails queued"
        )
    finally:
        if throwaway and not args.keep:
            core_db.drop_database(url)
    print(json.dumps({"bench": "ticket_create", "ok": ok, "runs": runs}))
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
