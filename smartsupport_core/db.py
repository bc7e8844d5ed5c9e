"""Engine and sessions; the embedded PostgreSQL when no server URL is configured.

PostgreSQL is the only database (the schema uses JSONB, GIN, tsvector, INTERVAL, partial
indexes and a trigger). A newcomer needs nothing installed: without
`SMARTSUPPORT_DATABASE_URL` we start `pgserver` in the data dir, once per process.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from psycopg.types.json import Json, Jsonb
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from .errors import ValidationError
from .settings import Settings, get_settings
from .text_input import MSG_CONTROL

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

EMBEDDED_DB_NAME = "smartsupport"

_lock = threading.Lock()
_engines: dict[str, Engine] = {}
_embedded: dict[Path, object] = {}


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_holds_nul(v) for v in value)
    if isinstance(value, (Json, Jsonb)):
        return _holds_nul(value.obj)  # JSON/JSONB parameters arrive wrapped, not yet serialised
    return False


@event.listens_for(Engine, "before_cursor_execute")
def _refuse_nul(conn, cursor, statement, parameters, context, executemany) -> None:
    """PostgreSQL cannot store U+0000 in text or JSON, and psycopg answers with a DataError: a
    stack trace for whoever typed it. Every statement of every engine is checked here, so any
    input anywhere gets a `ValidationError` naming the field (the bind name: the column for
    INSERT/UPDATE, `column_N` for a filter) before the statement runs."""
    rows = parameters if executemany else (parameters,)
    for row in rows or ():
        values = row.values() if isinstance(row, dict) else (row or ())
        for value in values:
            # fast path first: this runs for every row of every statement (bulk loads too)
            if (value.__class__ is str and "\x00" not in value) or not _holds_nul(value):
                continue
            keys = row.keys() if isinstance(row, dict) else range(len(row))
            key = next(k for k, v in zip(keys, values, strict=True) if _holds_nul(v))
            field = re.sub(r"_\d+$", "", str(key)) or "text"
            raise ValidationError({field: MSG_CONTROL})  # the text rule's own wording


OUT_OF_RANGE_MESSAGE = "is out of range"


@event.listens_for(Engine, "handle_error")
def _out_of_range_is_bad_input(ctx) -> None:
    """A number beyond its column's range (an id of 10^12 typed into a URL, say) is bad input,
    not a crash: PostgreSQL's `numeric value out of range` becomes a `ValidationError` naming
    the bind parameter that carried the biggest number. The transaction is aborted as after
    any database error; the caller rolls back as usual."""
    import psycopg.errors

    if not isinstance(ctx.original_exception, psycopg.errors.NumericValueOutOfRange):
        return
    rows = ctx.parameters if isinstance(ctx.parameters, list) else [ctx.parameters]
    numbers = [
        (abs(v), k)
        for row in rows
        if isinstance(row, dict)
        for k, v in row.items()
        if isinstance(v, (int, float, Decimal)) and not isinstance(v, bool)
    ]
    key = max(numbers)[1] if numbers else "number"
    raise ValidationError({re.sub(r"_\d+$", "", str(key)) or "number": OUT_OF_RANGE_MESSAGE})


#: SQLSTATE prefixes of a server that is gone or not accepting work for now: connection
#: exceptions (08...), shutdown/crash/starting up (57P01-57P05), too many connections (53300).
_UNREACHABLE_SQLSTATES = ("08", "57P", "53300")


def is_unreachable(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be reached right now (down, restarting, the
    connection cut), as opposed to a bad statement or bad data: the caller may say "try again
    in a moment", and the pool reconnects (`pool_pre_ping`) once the server is back."""
    import psycopg
    from sqlalchemy import exc as sa_exc

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:  # the error, or what it wraps
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        orig = current.orig if isinstance(current, sa_exc.DBAPIError) else current
        if isinstance(orig, psycopg.OperationalError):
            sqlstate = getattr(orig, "sqlstate", None)
            if sqlstate is None or sqlstate.startswith(_UNREACHABLE_SQLSTATES):
                return True  # no SQLSTATE: the client could not connect or lost the connection
        current = current.__cause__ or current.__context__
    return False


def to_sqlalchemy_url(url: str) -> str:
    """Accept `postgresql://` / `postgres://` URLs too; we always drive psycopg 3."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def pgserver_start_lock_path() -> Path:
    """The machine-wide lock file every embedded-server start of this OS user takes."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"smartsupport-pgserver-{uid}.lock"


@contextmanager
def pgserver_start_lock() -> Iterator[None]:
    """Hold the machine-wide lock around a pgserver start.

    WHY: run as root, `pgserver.PostgresServer.__init__` calls `ensure_user_exists("pgserver")`
    (a `useradd`) *before* taking its own inter-process lock, and `ensure_pgdata_inited` then
    chowns the new data dir to the uid it looked up. Two processes starting at once on a machine
    without that user (two xdist workers, the portal and a worker) both run `useradd`; the second
    one's entry replaces the first, so one process chowns its data dir to a uid that no longer
    exists and `initdb`, run as the user's new uid, fails with `could not change permissions of
    directory ".../pg": Operation not permitted` (or `could not look up effective user ID`).
    Every start through this lock is serialised, the user creation included."""
    if fcntl is None:  # no root path (Windows): pgserver's own lock is enough
        yield
        return
    with open(pgserver_start_lock_path(), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def start_pgserver(pgdata: Path):
    """`pgserver.get_server(pgdata)` under the machine-wide start lock (see above)."""
    import pgserver  # imported lazily: a configured server never needs it

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    with pgserver_start_lock():
        return pgserver.get_server(pgdata, cleanup_mode="stop")


def embedded_server(data_dir: Path):
    """Start (or join) the embedded PostgreSQL under `data_dir/pg`; one per process.

    pgserver counts the processes using a data dir and stops the server when the last one
    exits (`cleanup_mode="stop"`), so no orphan postmaster outlives the portal or a test run.
    """
    pgdata = (data_dir / "pg").resolve()
    with _lock:
        server = _embedded.get(pgdata)
        if server is None:
            server = start_pgserver(pgdata)
            _embedded[pgdata] = server
        return server


def ensure_database(url: str) -> None:
    """Create the URL's database when it is missing (embedded server, throwaway test DBs)."""
    target = make_url(to_sqlalchemy_url(url))
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": target.database}).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    finally:
        admin.dispose()


def throwaway_url(server_url: str, prefix: str) -> str:
    """A URL for a new, uniquely named database `{prefix}_{10 hex}` on `server_url`'s server
    (benchmarks: create it with `ensure_database`, drop it with `drop_database`)."""
    base = make_url(to_sqlalchemy_url(server_url))
    return base.set(database=f"{prefix}_{uuid.uuid4().hex[:10]}").render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the URL's database if it exists, closing its sessions (throwaway databases)."""
    target = make_url(to_sqlalchemy_url(url))
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


def database_url(settings: Settings | None = None) -> str:
    """The SQLAlchemy URL to use: the configured server, else the embedded one."""
    settings = settings or get_settings()
    if settings.database_url:
        return to_sqlalchemy_url(settings.database_url)
    server = embedded_server(settings.data_dir)
    uri = server.get_uri(EMBEDDED_DB_NAME)  # type: ignore[attr-defined]
    url = to_sqlalchemy_url(uri)
    ensure_database(url)
    return url


def get_engine(settings: Settings | None = None) -> Engine:
    """One pooled engine per URL per process; `pool_pre_ping` survives server restarts.

    At most `SMARTSUPPORT_DB_POOL_SIZE` + `SMARTSUPPORT_DB_MAX_OVERFLOW` connections per
    process: size a deployment's `max_connections` (or PgBouncer's pool) from that times the
    number of portal and worker processes (README "Deploy")."""
    settings = settings or get_settings()
    url = database_url(settings)
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = create_engine(
                url, pool_pre_ping=True, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
            )
            _engines[url] = engine
        return engine


def reset_engines() -> None:
    """Dispose every engine (tests switch databases; forked workers start afresh)."""
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A unit of work: commit on success, roll back on any error."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
