"""Benchmark: what one portal replica costs (README "Deploy" sizing figures).

Usage:
    python bench/deploy_sizing.py                 # 20 signed-in browser sessions
    python bench/deploy_sizing.py --sessions 40

On a throwaway database of the server in SMARTSUPPORT_DATABASE_URL (default: the local
server, postgres@127.0.0.1:5432), migrated once with one admin: starts one replica the way a
deployment does (`smartsupport run --no-migrate`) and measures

* start-up time: from starting the process to `/_stcore/health` answering 200;
* resident memory (RSS) of the replica's processes (the `run` wrapper and its Streamlit
  server) idle, then with N sessions signed in through Debian's Chromium (each its own
  browser context, left open on the Home page);
* PostgreSQL connections the replica holds (pg_stat_activity for the database, this
  script's own connections excluded), idle and with the sessions.

Prints the figures, then one JSON line. Drops the database at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text

from smartsupport_core import db as core_db
from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS, Portal, portal_env, sign_in

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
ADMIN = {"email": "sizing@example.com", "password": "S1zing#pass"}


def rss_mb(pid: int) -> float:
    """RSS of a process and its children (MB), read from /proc."""
    total = 0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pids.extend(int(c) for c in children)
        except (FileNotFoundError, ProcessLookupError, StopIteration):
            continue
    return total / 1024


def connections(url: str) -> int:
    engine = create_engine(url, connect_args={"application_name": "sizing-bench"})
    try:
        with engine.connect() as conn:
            return conn.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name <> 'sizing-bench' AND backend_type = 'client backend'"
                )
            )
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    args = parser.parse_args()
    server = os.environ.get("SMARTSUPPORT_DATABASE_URL") or DEFAULT_SERVER
    url = core_db.throwaway_url(server, "ss_bench_sizing")
    core_db.ensure_database(url)
    data_dir = Path("bench/results/sizing-data").resolve()
    env = portal_env(url, data_dir, secret_key="sizing-bench-" + "x" * 32, base_url="http://127.0.0.1")
    portal = Portal(env=env, log_path=Path("bench/results/sizing-portal.log").resolve(), run_args=("--no-migrate",))
    figures: dict[str, float] = {}
    try:
        assert portal.cli("db", "upgrade").returncode == 0
        made = portal.cli("create-admin", "--email", ADMIN["email"], "--company-id", "MA7101", "--first-name",
                          "Sid", "--last-name", "Sizing", env={"SMARTSUPPORT_ADMIN_PASSWORD": ADMIN["password"]})
        assert made.returncode == 0, made.stderr
        started = time.perf_counter()
        portal.start(timeout=300)
        figures["startup_s"] = round(time.perf_counter() - started, 1)
        time.sleep(3)
        figures["rss_idle_mb"] = round(rss_mb(portal.proc.pid), 1)
        figures["connections_idle"] = connections(url)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            site = types.SimpleNamespace(url=portal.url)
            signed_in = time.perf_counter()
            for _ in range(args.sessions):
                page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
                page.set_default_timeout(120_000)
                sign_in(page, site, ADMIN["email"], ADMIN["password"])
            figures["sign_in_s_each"] = round((time.perf_counter() - signed_in) / args.sessions, 1)
            time.sleep(5)
            figures[f"rss_{args.sessions}_sessions_mb"] = round(rss_mb(portal.proc.pid), 1)
            figures[f"connections_{args.sessions}_sessions"] = connections(url)
            browser.close()
    finally:
        portal.stop()
        core_db.drop_database(url)
    figures["load_average_1m"] = round(os.getloadavg()[0], 1)
    for name, value in figures.items():
        print(f"{name:28} {value}")
    print(json.dumps({"bench": "deploy_sizing", "sessions": args.sessions, **figures}))


if __name__ == "__main__":
    main()
