"""`smartsupport demo`: demo accounts and months of realistic ticket history, bulk-loaded.

Rules (README "Demo data"):

* **Idempotent.** Everything is written in ONE transaction that ends by inserting the
  marker row `core_jobrun(name='demo_data')`. When the marker exists, `demo` changes
  nothing (no accounts, no tickets, no passwords) and reports what is there; to load a
  different amount, use a fresh database. An advisory lock makes two concurrent runs
  queue, so they cannot both load. An interrupted run leaves nothing behind.
* **Accounts.** The three accounts of design.md (admin@example.com MA0001,
  coordinator@example.com MA0002, employee@example.com MA0003), 1-3 coordinators in every
  active department (`<dept>.coordinator<k>@example.com`) and a few hundred employees
  (a handful Pending, Rejected or Suspended, for the admin console). All share the demo
  password, hashed once (hashing is deliberately slow). An account that already exists
  with a demo e-mail is reused untouched; a demo company ID taken by another account is
  an error (nothing is written).
* **Tickets** come from `demo.tickets` (see its docstring for how histories stay
  consistent) and are streamed in chunks through PostgreSQL COPY: ids are taken from the
  table's sequence, ticket numbers are reserved per year with `numbering.reserve_block`
  (so live tickets continue after them), nothing is kept in memory beyond one chunk.
* **No side effects.** No audit rows and no e-mails are made for the invented history:
  the outbox stays empty, nobody is mailed about tickets that never happened.
"""

from __future__ import annotations

import datetime as dt
import itertools
import queue
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session

from .. import sla
from ..accounts import password_problems
from ..errors import Conflict, ValidationError
from ..models import Department, Employee, JobRun, TicketCategory
from ..numbering import format_number, reserve_block, ticket_year, used_numbers
from ..passwords import hash_password
from ..reporting import packed_rows
from ..vocab import AccountStatus, Role
from . import text as T
from .articles import load_articles
from .tickets import (
    CATEGORY_WEIGHTS,
    COMMENT_COLUMNS,
    HISTORY_COLUMNS,
    RATING_COLUMNS,
    TICKET_COLUMNS,
    UNKNOWN_CATEGORY_WEIGHT,
    CategoryPlan,
    Generator,
    World,
    apportion,
    arrival_days,
    day_arrivals,
    day_weights,
)

DEFAULT_PASSWORD = "Demo#2026pass"
DEFAULT_TICKETS = 500
DAYS = 180
EMPLOYEES = 300
MARKER = "demo_data"
#: The six digits of TKT{YEAR}{######}.
MAX_NUMBERS_PER_YEAR = 999_999
#: The widest window a large load may be spread over.
MAX_DAYS = 3 * 365
CHUNK = 5000
#: Serialises concurrent `demo` runs (pg_advisory_xact_lock key).
LOCK_KEY = 0x5D3E0


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    department: str
    company_id: str
    first_name: str
    last_name: str


#: The accounts design.md promises (fixed: docs and the portal's home page list them).
DEMO_ACCOUNTS = (
    DemoAccount("admin@example.com", Role.ADMIN, "IT Department", "MA0001", "Alex", "Admin"),
    DemoAccount("coordinator@example.com", Role.COORDINATOR, "IT Department", "MA0002", "Casey", "Coordinator"),
    DemoAccount("employee@example.com", Role.EMPLOYEE, "Sales", "MA0003", "Eve", "Employee"),
)
#: Coordinators per department (departments not listed get one).
COORDINATORS = {"IT Department": 3, "Asset Department": 2, "Finance": 2, "Human Resources": 2, "Operations": 2}
#: Employees' departments (departments not listed, e.g. added by an admin, weigh 3).
EMPLOYEE_DEPARTMENT_WEIGHTS = {
    "Sales": 20,
    "Customer Service": 15,
    "Operations": 15,
    "Marketing": 10,
    "Finance": 10,
    "Human Resources": 8,
    "IT Department": 8,
    "Legal": 5,
    "Asset Department": 4,
}
#: Non-approved accounts among the employees: (status, how many, reason).
ODD_ACCOUNTS = (
    (AccountStatus.PENDING, 6, None),
    (AccountStatus.REJECTED, 2, "Not an employee of the company."),
    (AccountStatus.SUSPENDED, 2, "On extended leave."),
)

Echo = Callable[[str], Any]


@dataclass
class DemoSummary:
    loaded: bool  # False: the demo data was already there, nothing changed
    tickets: int
    employees: int  # accounts with the Employee role
    seconds: float
    accounts: list[tuple[str, str, str]]  # (email, role, department)
    password: str | None  # None when the data was already there (password unknown)


def validate_password(password: str) -> str | None:
    """The first account password rule (accounts.password_problems) `password` breaks, or None."""
    for acc in DEMO_ACCOUNTS:
        problem = password_problems(password, acc.email)
        if problem:
            return problem
    return None


def is_demo_database(session: Session) -> bool:
    """True when the demo's accounts are in the database (the sign-in page lists them only
    then, and only when the portal was started with `--demo`)."""
    emails = [a.email for a in DEMO_ACCOUNTS]
    found = session.scalar(select(func.count()).select_from(Employee).where(Employee.email.in_(emails)))
    return found == len(emails)


def database_is_empty(engine: Engine) -> bool:
    """True when there are neither accounts nor tickets (seeded configuration does not count)."""
    with engine.connect() as conn:
        return not conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM core_employee) OR EXISTS (SELECT 1 FROM core_ticket)")
        ).scalar()


def load_demo(
    engine: Engine,
    *,
    tickets: int = DEFAULT_TICKETS,
    password: str | None = None,
    seed: int = 42,
    echo: Echo | None = None,
    days: int = DAYS,
    employees: int = EMPLOYEES,
    now: dt.datetime | None = None,
) -> DemoSummary:
    """Load the demo data once (see the module docstring for the rules) and print the accounts."""
    say: Echo = echo or (lambda _msg: None)
    password = DEFAULT_PASSWORD if password is None else password
    errors = {}
    if not isinstance(tickets, int) or tickets < 0:
        errors["tickets"] = "Number of tickets must be a whole number, 0 or more"
    problem = validate_password(password)
    if problem:
        errors["password"] = problem
    if errors:
        raise ValidationError(errors)
    started = time.perf_counter()
    with engine.connect() as conn, Session(bind=conn) as session:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        marker = session.get(JobRun, MARKER)
        if marker is not None:
            summary = _existing(session, marker.last_run_at, started)
            conn.rollback()
            say(f"demo data already loaded ({marker.last_run_at:%Y-%m-%d %H:%M} UTC); nothing changed")
            _print_accounts(say, summary)
            return summary
        now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
        say(f"creating demo accounts ({employees} employees) ...")
        world = _accounts(session, password, seed, now, employees)
        load_articles(session)  # the help centre's ~30 articles (idempotent by title)
        if tickets:
            _check_categories(world)
            say(f"generating {tickets:,} tickets over the last {days} days ...")
            _load_tickets(session, world, tickets, seed, days, say)
        session.add(JobRun(name=MARKER, last_run_at=now))
        session.flush()
        for table in ("core_employee", "core_ticket", "core_ticketstatushistory", "core_ticketcomment"):
            conn.execute(text(f"ANALYZE {table}"))
        conn.commit()
        if tickets:  # the dashboard's packed rows of every loaded day (else its first read packs them)
            say("packing the dashboard's rows ...")
            packed_rows.refresh_report(engine)
        summary = DemoSummary(
            True, tickets, _employee_count(session), time.perf_counter() - started, _account_list(session), password
        )
    say(f"demo data loaded: {tickets:,} tickets in {summary.seconds:.1f} s")
    _print_accounts(say, summary)
    return summary


# --- accounts ---------------------------------------------------------------------------


def _slug(department: str) -> str:
    return department.lower().removesuffix(" department").replace(" ", "-")


def _staff_accounts(departments: list[str]) -> list[DemoAccount]:
    """The fixed three plus 1-3 coordinators per active department (deterministic)."""
    out = list(DEMO_ACCOUNTS)
    taken = {a.email for a in out}
    n = 10
    for dept in departments:
        for k in range(1, COORDINATORS.get(dept, 1) + 1):
            if dept == "IT Department" and k == 1:
                continue  # coordinator@example.com is IT's first coordinator
            email = f"{_slug(dept)}.coordinator{k}@example.com"
            if email in taken:
                continue
            taken.add(email)
            out.append(DemoAccount(email, Role.COORDINATOR, dept, f"MA{n:04d}", "", ""))
            n += 1
    return out


def _accounts(session: Session, password: str, seed: int, now: dt.datetime, count: int) -> World:
    """Insert the demo accounts; return the World the ticket generator draws from."""
    rnd = random.Random(f"{seed}:accounts")
    departments = list(
        session.scalars(select(Department.name).where(Department.is_active.is_not(False)).order_by(Department.id))
    )
    hashed = hash_password(password)  # once: every demo account shares it
    existing = {e: cid for e, cid in session.execute(select(Employee.email, Employee.company_id))}
    used_ids = set(existing.values())
    staff = _staff_accounts(departments)
    for acc in staff:
        if acc.email not in existing and acc.company_id in used_ids:
            raise Conflict(
                f"Company ID {acc.company_id} (demo account {acc.email}) is already used by another account; "
                "load the demo into a fresh database."
            )
    company_ids = (f"MA{n:04d}" for n in itertools.count(100) if f"MA{n:04d}" not in used_ids)
    rows: list[dict[str, Any]] = []
    for acc in staff:
        if acc.email in existing:
            continue
        first = acc.first_name or rnd.choice(T.FIRST_NAMES)
        last = acc.last_name or rnd.choice(T.LAST_NAMES)
        rows.append(_employee_row(acc.email, acc.company_id, acc.department, acc.role, first, last, hashed, rnd, now))
    emails = set(existing) | {a.email for a in staff}
    dept_weights = [EMPLOYEE_DEPARTMENT_WEIGHTS.get(d, 3) for d in departments]
    odd = [(status, reason) for status, n, reason in ODD_ACCOUNTS for _ in range(n)]
    for i in range(count):
        first, last = rnd.choice(T.FIRST_NAMES), rnd.choice(T.LAST_NAMES)
        base = f"{first}.{last}".lower().replace(" ", "")
        email = f"{base}@example.com"
        k = 2
        while email in emails:
            email = f"{base}{k}@example.com"
            k += 1
        emails.add(email)
        dept = rnd.choices(departments, dept_weights)[0]
        status, reason = odd[i] if i < len(odd) else (AccountStatus.APPROVED, None)
        rows.append(
            _employee_row(email, next(company_ids), dept, Role.EMPLOYEE, first, last, hashed, rnd, now, status, reason)
        )
    if rows:
        session.execute(insert(Employee), rows)
    people = session.execute(
        select(Employee.id, Employee.email, Employee.first_name, Employee.last_name, Employee.role,
               Employee.department, Employee.status, Employee.is_active)
    ).all()  # fmt: skip
    coordinators: dict[str, list[int]] = {}
    admins: list[int] = []
    requesters: list[int] = []
    names: dict[int, str] = {}
    approvers: list[str] = []
    featured = None
    for p in sorted(people, key=lambda p: (p.email != "coordinator@example.com", p.id)):
        usable = p.status == AccountStatus.APPROVED and p.is_active is not False
        names[p.id] = p.first_name
        if not usable:
            continue
        if p.role == Role.ADMIN:
            admins.append(p.id)
        elif p.role == Role.COORDINATOR:
            coordinators.setdefault(p.department, []).append(p.id)
            if p.department == "Finance":
                approvers.append(f"{p.first_name} {p.last_name}")
        elif p.email == "employee@example.com":
            featured = p.id
        else:
            requesters.append(p.id)
    if not admins:
        raise Conflict("No approved, active System Admin to approve the demo tickets.")
    return World(
        now=now,
        cal=sla.load_calendar(session),
        targets=sla.targets(session),
        categories=_categories(session),
        coordinators=coordinators,
        admins=admins,
        requesters=requesters or ([featured] if featured else []),
        names=names,
        featured_requester=featured,
        approvers=approvers,
    )


def _employee_row(
    email: str,
    company_id: str,
    department: str,
    role: str,
    first: str,
    last: str,
    hashed: str,
    rnd: random.Random,
    now: dt.datetime,
    status: str = AccountStatus.APPROVED,
    reason: str | None = None,
) -> dict[str, Any]:
    if status == AccountStatus.PENDING:
        created = now - dt.timedelta(hours=rnd.uniform(2, 72))
        last_login = None
    else:
        created = now - dt.timedelta(days=rnd.uniform(DAYS + 20, DAYS + 700))
        last_login = now - dt.timedelta(hours=rnd.uniform(1, 24 * 60)) if status == AccountStatus.APPROVED else None
    return {
        "first_name": first,
        "last_name": last,
        "middle_name": rnd.choice(T.LAST_NAMES) if rnd.random() < 0.15 else None,
        "email": email,
        "company_id": company_id,
        "department": department,
        "role": str(role),
        "status": str(status),
        "status_reason": reason,
        "password": hashed,
        "date_created": created,
        "last_login": last_login,
        "is_active": True,
    }


def _categories(session: Session) -> list[CategoryPlan]:
    rows = session.scalars(
        select(TicketCategory).where(TicketCategory.is_active.is_not(False)).order_by(TicketCategory.id)
    ).all()
    return [
        CategoryPlan(
            name=c.name,
            department=c.assigned_department,
            default_priority=c.default_priority or "Medium",
            sub_categories=tuple(str(s) for s in (c.sub_categories or [])),
            required_fields=tuple(f for f in (c.required_fields or []) if isinstance(f, dict)),
            auto_assign=bool(c.auto_assign),
            weight=CATEGORY_WEIGHTS.get(c.name, UNKNOWN_CATEGORY_WEIGHT),
        )
        for c in rows
    ]


def _check_categories(world: World) -> None:
    if not world.categories:
        raise Conflict("There is no active ticket category; activate one before loading demo tickets.")
    if not world.requesters:
        raise Conflict("There is no approved employee to submit demo tickets.")


def _account_list(session: Session) -> list[tuple[str, str, str]]:
    emails = [a.email for a in _staff_accounts(list(session.scalars(select(Department.name).order_by(Department.id))))]
    found = {
        e.email: (e.email, e.role, e.department)
        for e in session.execute(select(Employee.email, Employee.role, Employee.department).where(
            Employee.email.in_(emails)))
    }  # fmt: skip
    return [found[e] for e in emails if e in found]


def _employee_count(session: Session) -> int:
    """Accounts with the Employee role (the demo employee included)."""
    return session.scalar(select(func.count()).where(Employee.role == Role.EMPLOYEE.value)) or 0


def _existing(session: Session, loaded_at: dt.datetime, started: float) -> DemoSummary:
    tickets = session.scalar(text("SELECT count(*) FROM core_ticket")) or 0
    return DemoSummary(
        False, tickets, _employee_count(session), time.perf_counter() - started, _account_list(session), None
    )


def _print_accounts(say: Echo, summary: DemoSummary) -> None:
    pw = summary.password or "(as set when the demo data was first loaded)"
    say("")
    say(f"{'e-mail':<42} {'role':<20} {'department':<18} password")
    for email, role, dept in summary.accounts:
        say(f"{email:<42} {role:<20} {dept:<18} {pw}")
    say(f"... and {summary.employees} employees (e.g. firstname.lastname@example.com), same password.")


# --- tickets ----------------------------------------------------------------------------


def _spread(cal: sla.Calendar, now: dt.datetime, count: int, days: int) -> tuple[list[dt.date], list[int]]:
    """Days of the window and how many tickets arrive on each (weighted, exact total)."""
    day_list = arrival_days(cal, now, days)
    weights = day_weights(cal, day_list)
    weights[-1] *= _today_share(now, cal)
    return day_list, apportion(count, weights)


def _count_per_year(
    cal: sla.Calendar, now: dt.datetime, day_list: list[dt.date], per_day: list[int], seed: int
) -> dict[int, int]:
    """Tickets per year of submission (configured time zone), by drawing the arrivals once."""
    per_year: dict[int, int] = {}
    for day, n in zip(day_list, per_day, strict=True):
        for at in day_arrivals(cal, now, day, n, seed):
            y = ticket_year(at)
            per_year[y] = per_year.get(y, 0) + 1
    return per_year


def _load_tickets(session: Session, world: World, count: int, seed: int, days: int, say: Echo) -> None:
    cal, now = world.cal, world.now
    world.featured_share = max(0.002, min(0.05, 25 / max(count, 1)))

    # Pass 1: tickets per year -> number blocks. `TKT{YEAR}{######}` has room for 999,999
    # numbers a year, so a very large load (a million tickets) is spread over more days.
    used = used_numbers(session)
    while True:
        day_list, per_day = _spread(cal, now, count, days)
        per_year = _count_per_year(cal, now, day_list, per_day, seed)
        if all(used.get(y, 0) + n <= MAX_NUMBERS_PER_YEAR for y, n in per_year.items()):
            break
        if days >= MAX_DAYS:
            raise Conflict(
                f"{count:,} demo tickets do not fit the ticket numbers left in the years before today "
                f"(TKT{{YEAR}}{{######}}: {MAX_NUMBERS_PER_YEAR:,} a year)."
            )
        days = min(MAX_DAYS, days + days // 4 + 1)
        say(f"  more than {MAX_NUMBERS_PER_YEAR:,} tickets in one year: spreading them over the last {days} days")
    next_number = {y: reserve_block(session, y, n) for y, n in sorted(per_year.items())}

    def arrivals() -> Iterator[dt.datetime]:
        for day, n in zip(day_list, per_day, strict=True):
            yield from day_arrivals(cal, now, day, n, seed)

    gen = Generator(world, seed, since=now - dt.timedelta(days=days + 1))
    seq = session.scalar(text("SELECT pg_get_serial_sequence('core_ticket', 'id')"))
    raw = session.connection().connection.driver_connection
    assert raw is not None
    done = 0
    next_report = 10
    stream = arrivals()
    # Ids come from the table's sequence through a second connection (nextval is not
    # transactional, so the loading transaction's connection stays free for the writer).
    ids_engine = session.get_bind().engine.execution_options(isolation_level="AUTOCOMMIT")
    with ids_engine.connect() as ids_conn, _CopyWriter(raw) as writer:
        while done < count:
            batch = list(itertools.islice(stream, CHUNK))
            ids = sorted(
                ids_conn.execute(text("SELECT nextval(:s) FROM generate_series(1, :n)"), {"s": seq, "n": len(batch)})
                .scalars()
                .all()
            )
            tickets, history, comments, ratings = [], [], [], []
            for tid, submit in zip(ids, batch, strict=True):
                y = ticket_year(submit)
                number = format_number(y, next_number[y])
                next_number[y] += 1
                r = gen.make(tid, number, submit)
                tickets.append(r.ticket)
                history.extend(r.history)
                comments.extend(r.comments)
                if r.rating:
                    ratings.append(r.rating)
            # Order matters: history, comments and ratings reference the tickets.
            writer.put("core_ticket", TICKET_COLUMNS, tickets)
            writer.put("core_ticketstatushistory", HISTORY_COLUMNS, history)
            writer.put("core_ticketcomment", COMMENT_COLUMNS, comments)
            writer.put("core_ticketrating", RATING_COLUMNS, ratings)
            done += len(batch)
            pct = done * 100 // count
            if pct >= next_report or done == count:
                say(f"  {pct:3d}%  {done:,}/{count:,} tickets")
                next_report = (pct // 10 + 1) * 10


def _today_share(now: dt.datetime, cal: sla.Calendar) -> float:
    """How much of today's arrival weight has already happened."""
    from .tickets import HOUR_WEIGHTS

    hour = now.astimezone(cal.tz).hour
    return sum(HOUR_WEIGHTS[: hour + 1]) / sum(HOUR_WEIGHTS)


# --- COPY ---------------------------------------------------------------------------
#
# Binary COPY with psycopg's C dumpers: about five times less Python work than building
# text lines, and the server parses nothing. The column types come from the models, so
# the loader follows the schema.

_PG_TYPES = (
    ("VARCHAR", "varchar"),
    ("TEXT", "text"),
    ("INTEGER", "int4"),
    ("BIGINT", "int8"),
    ("SMALLINT", "int2"),
    ("BOOLEAN", "bool"),
    ("FLOAT", "float8"),
    ("NUMERIC", "numeric"),
    ("TIMESTAMP WITH TIME ZONE", "timestamptz"),
    ("INTERVAL", "interval"),
    ("DATE", "date"),
    ("JSONB", "jsonb"),
)


def copy_types(table: str, columns: tuple[str, ...]) -> list[str]:
    """PostgreSQL type names of `columns` of `table`, as declared in models.py."""
    from sqlalchemy.dialects import postgresql

    from ..models import Base

    cols = Base.metadata.tables[table].c
    out = []
    for name in columns:
        declared = str(cols[name].type.compile(dialect=postgresql.dialect()))
        out.append(next(pg for prefix, pg in _PG_TYPES if declared.startswith(prefix)))
    return out


class _CopyWriter:
    """COPYs chunks on the loading connection from a thread, while the caller generates.

    WHY: generation is Python (one core) and index/constraint work is the server's (the
    other core); overlapping them roughly halves the load time on a two-core machine. The
    queue is bounded, so memory stays at a few chunks. The first error stops the writer
    and is re-raised in the caller (the transaction then rolls back: nothing half-written).
    """

    def __init__(self, raw: Any, depth: int = 8) -> None:
        self.raw = raw
        self.queue: queue.Queue[tuple[str, tuple[str, ...], list[tuple]] | None] = queue.Queue(maxsize=depth)
        self.types: dict[str, list[str]] = {}
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="demo-copy", daemon=True)

    def __enter__(self) -> _CopyWriter:
        self.thread.start()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc is not None:
            self.error = self.error or exc  # drain without writing
        self.queue.put(None)
        self.thread.join()
        if self.error is not None and exc is None:
            raise self.error

    def put(self, table: str, columns: tuple[str, ...], rows: list[tuple]) -> None:
        if self.error is not None:
            raise self.error
        if table not in self.types:
            self.types[table] = copy_types(table, columns)
        if rows:
            self.queue.put((table, columns, rows))

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is not None:
                continue  # drain: the caller will raise
            table, columns, rows = item
            try:
                with (
                    self.raw.cursor() as cur,
                    cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as cp,
                ):
                    cp.set_types(self.types[table])
                    for row in rows:
                        cp.write_row(row)
            except BaseException as exc:
                self.error = exc
