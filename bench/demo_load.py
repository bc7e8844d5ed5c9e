"""Benchmark: bulk-load demo data (`smartsupport demo`) into a fresh database.

Usage:
    python bench/demo_load.py                      # 100,000 tickets, throwaway DB, dropped after
    python bench/demo_load.py --million            # 1,000,000 tickets
    python bench/demo_load.py --tickets 20000 --keep
    python bench/demo_load.py postgresql+psycopg://postgres@127.0.0.1:5432/ss_1m --million
                                                   # load into that database (created if missing, kept)

Without a URL argument a throwaway database is created on the server of
SMARTSUPPORT_DATABASE_URL (default: the local server, postgres@127.0.0.1:5432) and dropped
at the end unless --keep. Target (issue 2): 100,000 tickets in under 60 s on the 2-core box.
Prints the time, tickets/s, rows/s and peak memory, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from smartsupport_core import db as core_db
from smartsupport_core import migrate
from smartsupport_core.demo import load_demo

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TABLES = ("core_ticket", "core_ticketstatushistory", "core_ticketcomment", "core_ticketrating", "core_employee")


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _backend_cpu(pids: list[int]) -> float | None:
    """CPU seconds of the loader's server backends (local server only; None when unreadable)."""
    total = 0.0
    try:
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return round(total, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", nargs="?", help="database to load into (kept); default: a throwaway database")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--million", action="store_true", help="load 1,000,000 tickets")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database")
    args = parser.parse_args()
    tickets = 1_000_000 if args.million else args.tickets

    throwaway = args.url is None
    if throwaway:
        url = core_db.throwaway_url(os.environ.get("SMARTSUPPORT_DATABASE_URL") or DEFAULT_SERVER, "ss_bench_demo")
    else:
        url = core_db.to_sqlalchemy_url(args.url)
    core_db.ensure_database(url)
    engine = create_engine(url)
    try:
        migrate.upgrade(engine)
        cpu_before = _own_cpu()
        started = time.perf_counter()
        summary = load_demo(engine, tickets=tickets, seed=args.seed, echo=print)
        seconds = time.perf_counter() - started
        if not summary.loaded:
            sys.exit(f"error: {url} already holds demo data; give a fresh database")
        loader_cpu = _own_cpu() - cpu_before
        with engine.connect() as conn:
            rows = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}
            pids = conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            ).scalars()
            server_cpu = _backend_cpu(list(pids))
        total_rows = sum(rows.values())
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        load = os.getloadavg()[0]
        print()
        print(f"tickets:      {tickets:,}")
        print(f"rows:         {total_rows:,}  " + ", ".join(f"{t}={n:,}" for t, n in rows.items()))
        print(f"seconds:      {seconds:.1f}  (target for 100k: < 60 s)")
        print(f"tickets/s:    {tickets / seconds:,.0f}")
        print(f"rows/s:       {total_rows / seconds:,.0f}")
        print(f"peak memory:  {peak_mb:,.0f} MB (loader process)")
        print(
            f"cpu seconds:  loader {loader_cpu:.1f}, server {server_cpu if server_cpu is not None else 'n/a'}"
            "  (the two overlap: on an idle 2-core machine the load takes about the larger of them)"
        )
        print(f"load average: {load:.1f} (1 min, at the end; other work on the machine slows the load)")
        print(
            json.dumps(
                {
                    "benchmark": "demo_load",
                    "tickets": tickets,
                    "rows": total_rows,
                    "seconds": round(seconds, 2),
                    "tickets_per_s": round(tickets / seconds),
                    "rows_per_s": round(total_rows / seconds),
                    "peak_rss_mb": round(peak_mb),
                    "cpus": os.cpu_count(),
                    "load_avg_1m": round(load, 1),
                    "loader_cpu_s": round(loader_cpu, 1),
                    "server_cpu_s": server_cpu,
                    "database": make_url(url).database if throwaway else make_url(url).render_as_string(),
                }
            )
        )
    finally:
        engine.dispose()
        if throwaway and not args.keep:
            core_db.drop_database(url)


if __name__ == "__main__":
    main()
