"""Benchmark: the SLA dashboard as a manager feels it, in Debian's Chromium (issues 15 and 19).

`bench/browser.py` measures a sidebar click to the dashboard with its default 30 days, with
the data already cached by the warm-up. This measures what the targets name, on a 365-day
range and with the data NOT cached (every sample asks for a range or filter not asked before):
  * first open: a page load of `/dashboard?start=...&end=...` (a new session, signed in by the
    remembered-session cookie, as the weekly e-mail's link opens it) until the portal is idle;
    "boot" is the part before the script run starts (HTML, JavaScript, websocket);
  * filter change: choosing another department in the open page until idle;
  * view change: clicking another tab (the figures are built only for the selected one) until
    idle, then back to Trends.
Each with the server's side from the portal's per-run timing hook (`SMARTSUPPORT_TIMING`).
Targets (issue 19, quiet machine, 1M tickets): first open < 1.5 s, filter change < 800 ms.

Usage:
    python bench/dashboard_browser.py postgresql+psycopg://postgres@127.0.0.1:5432/ss_bench_1m [--runs 5]

Nothing is written to the database. Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from browser import (  # bench/browser.py, beside this file
    COOKIE,
    OBSERVER_JS,
    Sample,
    TimingLog,
    accounts,
    check_database,
    fresh,
    summarise,
    timed_click,
    timed_portal,
    wait_settled,
)
from sqlalchemy.engine import make_url

from smartsupport_core import login
from smartsupport_core.db import to_sqlalchemy_url

#: Click the element `selector` whose text is `text` (the first when text is ""), timing from now.
CLICK_TEXT_JS = """
([selector, text]) => {
  const b = window.__ssb;
  const el = [...document.querySelectorAll(selector)].find(e => !text || e.innerText.trim() === text);
  if (!el) return null;
  b.t0 = performance.now(); b.running = null; b.idle = null; b.busy = true;
  el.click();
  return b.t0;
}
"""


def click(page, log: TimingLog, selector: str, text: str = "") -> Sample | None:
    """Click to idle; None (and a note) when it did not settle in time (`browser.wait_settled`)."""
    missing = f"nothing to click: {selector} {text!r}"
    return timed_click(page, log, CLICK_TEXT_JS, [selector, text], text or selector, missing)


def choose_department(page, log: TimingLog, name: str) -> Sample | None:
    page.locator(".st-key-dash_department [role='combobox']").first.click()
    page.locator("[role='option']").first.wait_for()
    return click(page, log, "[role='option']", name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="database with demo data")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--role", default="admin", choices=["admin", "coordinator", "head"])
    args = parser.parse_args()

    url = to_sqlalchemy_url(args.url)
    tickets = check_database(url)
    (account,) = accounts(url, [args.role])
    secret = "bench-" + secrets.token_hex(16)
    started_load = os.getloadavg()
    today = dt.date.today()
    samples: dict[str, list[Sample]] = {"first open": [], "filter change": [], "view change": []}
    with timed_portal(url, secret) as (portal, log, browser):
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.add_cookies([{"name": COOKIE, "value": login.issue_token(account.employee, secret), "url": portal.url}])
        context.add_init_script(OBSERVER_JS)
        page = context.new_page()
        fresh(page, log, portal.url, "")  # boot the portal once (imports, engine)
        departments: list[str] = []
        for run in range(args.runs + 1):  # run 0: warm-up (first import of plotly, pandas, ...)
            start = today - dt.timedelta(days=args.days - 1 + run)  # a range not asked before
            first = fresh(page, log, portal.url, f"dashboard?start={start}&end={today}")
            if not departments:
                page.locator(".st-key-dash_department [role='combobox']").first.click()
                departments = [t for t in page.locator("[role='option']").all_inner_texts() if t.strip() != "All"]
                page.keyboard.press("Escape")
                wait_settled(page, "closing the department list")
            change = choose_department(page, log, departments[run % len(departments)])
            view = click(page, log, "[role='tab']", "Breakdown")
            click(page, log, "[role='tab']", "Trends")
            for name, sample in (("first open", first), ("filter change", change), ("view change", view)):
                if run and sample is not None:
                    samples[name].append(sample)
        context.close()
    results = {name: summarise(s) for name, s in samples.items() if s}
    print(
        f"database {make_url(url).database}: {tickets:,} tickets; {args.days} days as {args.role}; median of "
        f"{args.runs} (after 1 warm-up); load average at start {started_load[0]:.1f}, at end {os.getloadavg()[0]:.1f}"
    )
    print(f"{'step':<16}{'median ms':>10}{'min':>8}{'max':>8}{'to run':>8}{'server':>8}{'browser':>8}{'load':>6}")
    for name, r in results.items():
        print(
            f"{name:<16}{r['median_ms']:>10,.0f}{r['min_ms']:>8,.0f}{r['max_ms']:>8,.0f}{r['to_run_ms']:>8,.0f}"
            f"{r['server_ms']:>8,.0f}{r['browser_ms']:>8,.0f}{r['load_avg']:>6.1f}"
        )
    print(
        json.dumps(
            {
                "benchmark": "dashboard_browser",
                "database": make_url(url).database,
                "tickets": tickets,
                "days": args.days,
                "role": args.role,
                "runs": args.runs,
                "cpus": os.cpu_count(),
                "load_avg_start": round(started_load[0], 2),
                "load_avg_end": round(os.getloadavg()[0], 2),
                "results": results,
                "targets_ms": {"first open": 1500, "filter change": 800},
            }
        )
    )


if __name__ == "__main__":
    main()
