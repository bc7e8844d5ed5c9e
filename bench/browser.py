"""Benchmark: page speed as a person feels it, in Debian's Chromium (issue 19).

For each role (admin, coordinator, employee; a department head when the database has one)
and each page of that role's navigation it measures
  * in-session navigation: a click on the page's sidebar link until the portal is idle
    (`[data-testid='stApp'][data-test-script-state='notRunning']`, no spinner or skeleton),
    the way people move through the portal, and
  * a fresh load: a new page load (a new Streamlit session, signed in by the remembered-session
    cookie) until idle; split into "boot" (navigation start to the script run starting:
    HTML, JavaScript, websocket) and the rest (script run + drawing),
and the server's side of each measured click from the portal's per-run timing hook
(`SMARTSUPPORT_TIMING`, portal/timing.py): wall time of the script run(s), SQL statements,
pool check-outs and time inside statements. "browser ms" = click-to-idle minus server wall
time (Streamlit's delivery + the browser's drawing + the websocket round trip).

Usage:
    python bench/browser.py postgresql+psycopg://postgres@127.0.0.1:5432/ss_bench_1m
    python bench/browser.py URL --runs 9 --roles admin,coordinator --pages queue,ticket
    python bench/browser.py URL --no-fresh            # in-session clicks only

The database must hold demo data (`smartsupport demo` / `bench/demo_load.py`) and be at the
newest migration (the portal's `run` would otherwise migrate it: the bench refuses instead).
Nothing is written to it by the bench: the browser is signed in with a session cookie signed
by the portal's key (`login.issue_token`), not through the sign-in form, which would record
sign-ins. Medians over --runs (default 7) after --warmup rounds (default 1); the load
average (1 min) is sampled around every figure. Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import statistics
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from portal.nav import PAGES, PageSpec, visible
from smartsupport_core import login, migrate, policy
from smartsupport_core.db import to_sqlalchemy_url
from smartsupport_core.models import Department, Employee, Ticket
from smartsupport_core.vocab import Role
from tests.e2e.harness import CHROMIUM, CHROMIUM_ARGS, Portal, portal_env

#: The demo accounts per role (design.md); "head": the account of an active department's
#: head e-mail (`core_department.head_email`), when one is set and has an account.
ACCOUNTS = {
    "admin": "admin@example.com",
    "coordinator": "coordinator@example.com",
    "employee": "employee@example.com",
    "head": None,
}
COOKIE = "smartsupport_session"  # portal/auth.py COOKIE_NAME (not imported: it imports streamlit)
QUIET_MS = 500  # idle this long after the last busy moment: the click is over
TIMEOUT_S = 60

#: Installed before every document: records, in the page's own clock (performance.now()),
#: when the portal went busy and idle, so a figure does not include the polling's delay.
OBSERVER_JS = """
(() => {
  const busy = "[data-testid='stSpinner'], [data-testid='stSkeleton'], [data-testid='stAppSkeleton']";
  const b = window.__ssb = {t0: 0, running: null, idle: null, app: null, last: 0, busy: true};
  const state = () => {
    const app = document.querySelector("[data-testid='stApp']");
    return app ? app.getAttribute("data-test-script-state") : null;
  };
  const check = (records) => {
    const now = performance.now();
    const s = state();
    b.last = now;
    if (s !== null && b.app === null) b.app = now;
    // a run that started and ended between two callbacks shows only in the records' old values
    const ran = s === "running" || (records || []).some(
      (r) => r.attributeName === "data-test-script-state" && r.oldValue === "running");
    if (ran && b.running === null && now >= b.t0) b.running = now;
    const idle = s === "notRunning" && !document.querySelector(busy);
    if (!idle) { b.busy = true; b.idle = null; }
    else if (b.busy) { b.busy = false; b.idle = now; }
  };
  new MutationObserver(check).observe(
    document, {subtree: true, childList: true, attributes: true, attributeOldValue: true});
  window.__ssbCheck = check;
})();
"""

#: Done when a script run was seen after t0 and the portal has been idle for QUIET_MS.
SETTLED_JS = f"""
() => {{
  window.__ssbCheck();
  const b = window.__ssb;
  if (b.running === null || b.idle === null) return null;
  if (performance.now() - b.idle < {QUIET_MS}) return null;
  return {{t0: b.t0, running: b.running, idle: b.idle, app: b.app}};
}}
"""

CLICK_JS = """
(selector) => {
  const b = window.__ssb;
  const link = document.querySelector(selector);
  if (!link) return null;
  b.t0 = performance.now(); b.running = null; b.idle = null; b.busy = true;
  link.click();
  return b.t0;
}
"""


@dataclass
class Account:
    role: str
    email: str
    employee: Employee
    pages: list[PageSpec]
    ticket_id: int | None


@dataclass
class Sample:
    """One measured click or load: browser figures and the server runs it caused."""

    total_ms: float
    to_run_ms: float  # in-session: click to the run starting; fresh: boot (navigation start to run)
    load_avg: float
    server: list[dict] = field(default_factory=list)

    @property
    def server_ms(self) -> float:
        return sum(r["wall_ms"] for r in self.server)


def median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def summarise(samples: list[Sample]) -> dict[str, object]:
    if not samples:
        return {}
    total = [s.total_ms for s in samples]
    return {
        "median_ms": median(total),
        "min_ms": round(min(total), 1),
        "max_ms": round(max(total), 1),
        "to_run_ms": median([s.to_run_ms for s in samples]),
        "server_ms": median([s.server_ms for s in samples]),
        "browser_ms": median([s.total_ms - s.server_ms for s in samples]),
        "runs_per_click": median([len(s.server) for s in samples]),
        "statements": median([sum(r["statements"] for r in s.server) for s in samples]),
        "checkouts": median([sum(r["checkouts"] for r in s.server) for s in samples]),
        "sql_ms": median([sum(r["sql_ms"] for r in s.server) for s in samples]),
        "load_avg": median([s.load_avg for s in samples]),
        "n": len(samples),
    }


class TimingLog:
    """The portal's per-run timing lines (a JSON-lines file), read incrementally."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def new_runs(self) -> list[dict]:
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as fh:
            fh.seek(self.offset)
            text = fh.read()
        complete = text[: text.rfind("\n") + 1]
        self.offset += len(complete.encode("utf-8"))
        return [json.loads(line) for line in complete.splitlines() if line.strip()]


def accounts(url: str, roles: list[str]) -> list[Account]:
    """The demo accounts of `roles` present in the database, with their pages and a ticket
    each may open (the newest one it can see)."""
    engine = create_engine(url)
    found: list[Account] = []
    try:
        with Session(engine) as s:
            for role in roles:
                email = ACCOUNTS[role]
                if email is None:  # a department head
                    heads = select(func.lower(Department.head_email)).where(Department.is_active.is_not(False))
                    email = s.scalar(
                        select(func.lower(Employee.email)).where(func.lower(Employee.email).in_(heads)).limit(1)
                    )
                emp = s.scalar(select(Employee).where(func.lower(Employee.email) == email)) if email else None
                if emp is None:
                    print(f"note: no {role} account ({email or 'no department head e-mail'}) in this database: skipped")
                    continue
                grants = policy.grants_of(s, emp)
                tickets = select(Ticket.id).order_by(Ticket.id.desc()).limit(1)
                if emp.role == Role.EMPLOYEE:
                    tickets = tickets.where(Ticket.employee_id == emp.id)
                elif emp.role == Role.COORDINATOR:
                    tickets = tickets.where(Ticket.department == emp.department)
                s.expunge(emp)
                pages = [p for p in PAGES if visible(p, emp, grants)]
                found.append(Account(role, email, emp, pages, s.scalar(tickets)))
    finally:
        engine.dispose()
    return found


def check_database(url: str) -> int:
    """Refuse a database that is not at the newest migration; return its ticket count."""
    engine = create_engine(url)
    try:
        current, head = migrate.current(engine), migrate.head()
        if current != head:
            sys.exit(
                f"error: {make_url(url).database} is at revision {current}, the code at {head}: "
                "run `smartsupport db upgrade` on it first (the bench never migrates a database)"
            )
        with Session(engine) as s:
            return int(s.scalar(select(func.count()).select_from(Ticket)) or 0)
    finally:
        engine.dispose()


def wait_settled(page, what: str) -> dict | None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        handle = page.wait_for_function(SETTLED_JS, timeout=TIMEOUT_S * 1000, polling=50)
    except PlaywrightTimeout:
        print(f"note: {what} did not settle within {TIMEOUT_S} s: left out", file=sys.stderr)
        return None
    return handle.json_value()


def link_selector(spec: PageSpec) -> str:
    path = "" if spec.default else spec.url_path
    return f"[data-testid='stSidebarNav'] a[href$='/{path}']"


def page_path(spec: PageSpec) -> str:
    return "" if spec.default else str(spec.url_path)


def in_session(page, log: TimingLog, spec: PageSpec) -> Sample | None:
    """A sidebar click to idle; None (and a note) when it did not settle within TIMEOUT_S."""
    return timed_click(page, log, CLICK_JS, link_selector(spec), spec.title, f"no sidebar link for {spec.title}")


def timed_click(page, log: TimingLog, js: str, arg: object, what: str, missing: str) -> Sample | None:
    """Click (`js` returns the click's time, or null when there is nothing to click) to idle;
    None (and a note) when it did not settle within TIMEOUT_S. Shared with dashboard_browser."""
    log.new_runs()  # whatever ran before the click is not this click's
    load = os.getloadavg()[0]
    t0 = page.evaluate(js, arg)
    if t0 is None:
        raise RuntimeError(missing)
    done = wait_settled(page, f"click on {what}")
    if done is None:
        return None
    return Sample(done["idle"] - t0, done["running"] - t0, (load + os.getloadavg()[0]) / 2, log.new_runs())


def fresh(page, log: TimingLog, base: str, path: str) -> Sample | None:
    """A new page load to idle; None (and a note) when it did not settle within TIMEOUT_S."""
    log.new_runs()
    load = os.getloadavg()[0]
    page.goto(f"{base}/{path}", wait_until="commit")
    done = wait_settled(page, f"fresh load of /{path}")
    if done is None:
        return None
    return Sample(done["idle"], done["running"], (load + os.getloadavg()[0]) / 2, log.new_runs())


def measure_account(browser, portal: Portal, log: TimingLog, account: Account, secret: str, args) -> list[dict]:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    token = login.issue_token(account.employee, secret)
    context.add_cookies([{"name": COOKIE, "value": token, "url": portal.url}])
    context.add_init_script(OBSERVER_JS)
    page = context.new_page()
    wanted = [p for p in account.pages if not args.pages or page_path(p) in args.pages or p.file[:-3] in args.pages]
    pages = [p for p in wanted if not p.hidden]  # a hidden page has no sidebar link (ticket: opened from a list)
    clicks: dict[str, list[Sample]] = {p.title: [] for p in pages}
    loads: dict[str, list[Sample]] = {p.title: [] for p in pages}
    has_ticket_page = any(p.file == "ticket.py" for p in wanted)
    extra = f"ticket?id={account.ticket_id}" if account.ticket_id and has_ticket_page else None
    if extra:
        loads[extra] = []
    print(f"measuring {account.role}: {len(pages)} pages, {args.warmup + args.runs} rounds", file=sys.stderr)
    try:
        fresh(page, log, portal.url, "")
        for round_no in range(args.warmup + args.runs):
            keep = round_no >= args.warmup
            for spec in pages:  # a tour of the sidebar, top to bottom, as one session
                sample = in_session(page, log, spec)
                if sample is None:  # start the tour again from a fresh page
                    fresh(page, log, portal.url, "")
                elif keep:
                    clicks[spec.title].append(sample)
        if not args.no_fresh:
            for round_no in range(args.warmup + args.runs):
                keep = round_no >= args.warmup
                for spec in pages:
                    sample = fresh(page, log, portal.url, page_path(spec))
                    if keep and sample is not None:
                        loads[spec.title].append(sample)
                if extra:
                    sample = fresh(page, log, portal.url, extra)
                    if keep and sample is not None:
                        loads[extra].append(sample)
    finally:
        context.close()
    rows = []
    for title in loads:
        rows.append(
            {
                "role": account.role,
                "page": title if title in clicks else f"Ticket ({extra})",
                "in_session": summarise(clicks.get(title, [])),
                "fresh": summarise(loads[title]),
            }
        )
    return rows


def fmt(value: object) -> str:
    return "-" if value is None else f"{value:,.0f}" if isinstance(value, float) else str(value)


def print_table(rows: list[dict]) -> None:
    head = (
        f"{'role':<12}{'page':<34}{'click ms':>9}{'server':>8}{'browser':>8}{'stmts':>6}{'chk':>4}"
        f"{'fresh ms':>9}{'boot':>6}{'server':>8}{'stmts':>6}{'chk':>4}{'load':>6}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        c, f = r["in_session"], r["fresh"]
        print(
            f"{r['role']:<12}{r['page'][:33]:<34}{fmt(c.get('median_ms')):>9}{fmt(c.get('server_ms')):>8}"
            f"{fmt(c.get('browser_ms')):>8}{fmt(c.get('statements')):>6}{fmt(c.get('checkouts')):>4}"
            f"{fmt(f.get('median_ms')):>9}{fmt(f.get('to_run_ms')):>6}{fmt(f.get('server_ms')):>8}"
            f"{fmt(f.get('statements')):>6}{fmt(f.get('checkouts')):>4}"
            f"{(c.get('load_avg') or f.get('load_avg') or 0):>6.1f}"
        )


@contextlib.contextmanager
def timed_portal(url: str, secret: str) -> Iterator[tuple[Portal, TimingLog, object]]:
    """A portal on `url` with the per-run timing hook on, its timing log and a Chromium; on an
    error the portal's log tail is printed (bench/dashboard_browser.py uses it too)."""
    with tempfile.TemporaryDirectory(prefix="ss-bench-browser-") as tmp:
        timing_path = Path(tmp) / "timing.jsonl"
        env = portal_env(url, Path(tmp) / "data", secret_key=secret, extra={"SMARTSUPPORT_TIMING": str(timing_path)})
        portal = Portal(env, Path(tmp) / "portal.log").start()
        try:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
                try:
                    yield portal, TimingLog(timing_path), browser
                finally:
                    browser.close()
        except Exception:
            print(portal.log()[-3000:], file=sys.stderr)
            raise
        finally:
            portal.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="database with demo data, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/ss_bench_1m")
    parser.add_argument("--runs", type=int, default=7, help="measured rounds per page (median of these)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured rounds first")
    parser.add_argument("--roles", default=",".join(ACCOUNTS), help="comma list of: " + ", ".join(ACCOUNTS))
    parser.add_argument("--pages", default="", help="comma list of page URL paths or file names (default: all)")
    parser.add_argument("--no-fresh", action="store_true", help="in-session clicks only")
    args = parser.parse_args()
    args.pages = {p.strip() for p in args.pages.split(",") if p.strip()}
    if not CHROMIUM.exists():
        sys.exit(f"error: Debian's Chromium is not installed at {CHROMIUM}")

    url = to_sqlalchemy_url(args.url)
    tickets = check_database(url)
    found = accounts(url, [r.strip() for r in args.roles.split(",") if r.strip()])
    secret = "bench-" + secrets.token_hex(16)
    started_load = os.getloadavg()
    rows: list[dict] = []
    with timed_portal(url, secret) as (portal, log, browser):
        for account in found:
            rows += measure_account(browser, portal, log, account, secret, args)
    print()
    print(
        f"database {make_url(url).database}: {tickets:,} tickets; median of {args.runs} after {args.warmup} warm-up; "
        f"load average at start {started_load[0]:.1f}, at end {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)"
    )
    print("click = in-session sidebar click to idle; fresh = new page load to idle (boot: to the run starting);")
    print("server = the portal's script run(s) it caused (wall ms), stmts/chk = SQL statements / pool check-outs")
    print()
    print_table(rows)
    print(
        json.dumps(
            {
                "benchmark": "browser",
                "database": make_url(url).database,
                "tickets": tickets,
                "runs": args.runs,
                "warmup": args.warmup,
                "cpus": os.cpu_count(),
                "load_avg_start": round(started_load[0], 2),
                "load_avg_end": round(os.getloadavg()[0], 2),
                "results": rows,
            }
        )
    )


if __name__ == "__main__":
    main()
