"""Per-script-run timing of the portal, turned on with `SMARTSUPPORT_TIMING`.

WHY: a click in the browser costs the script run on the server plus Streamlit's delivery and
the browser's drawing. `bench/browser.py` measures the whole click in Chromium; this hook says
how much of it was the server's run and what that run asked of the database (statements,
connection check-outs, time inside statements), so a slow page can be blamed on the right
part. Off by default: the listeners then are not even installed.

`SMARTSUPPORT_TIMING=1` (or `stderr`) writes one line per run to standard error,
`smartsupport-timing {json}`; any other value is a file that gets one JSON object per line.
A line: `page` (the page's URL path, `""` for Home), `kind` (`run` or `fragment:<name>`),
`wall_ms`, `statements`, `checkouts`, `sql_ms`, `t` (Unix time at the end).
"""

from __future__ import annotations

import contextvars
import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine, event

from smartsupport_core.settings import get_settings

SETTING = "SMARTSUPPORT_TIMING"
STDERR_VALUES = frozenset({"1", "true", "yes", "on", "stderr"})
LINE_PREFIX = "smartsupport-timing "


@dataclass
class RunStats:
    """What one script run (or fragment run) cost on the server."""

    kind: str
    page: str = ""
    statements: int = 0
    checkouts: int = 0
    sql_ms: float = 0.0
    started: float = field(default_factory=time.perf_counter)
    _statement_started: float = 0.0

    def record(self) -> dict[str, object]:
        return {
            "page": self.page,
            "kind": self.kind,
            "wall_ms": round((time.perf_counter() - self.started) * 1000, 1),
            "statements": self.statements,
            "checkouts": self.checkouts,
            "sql_ms": round(self.sql_ms, 1),
            "t": round(time.time(), 3),
        }


_current: contextvars.ContextVar[RunStats | None] = contextvars.ContextVar("smartsupport_timing", default=None)
_installed: set[int] = set()
_write_lock = threading.Lock()


def destination() -> str | None:
    """Where run lines go: "stderr", a file path, or None when timing is off."""
    value = get_settings().timing
    if value.lower() in ("", "0", "false", "no", "off"):
        return None
    return "stderr" if value.lower() in STDERR_VALUES else value


def _before(conn, cursor, statement, parameters, context, executemany) -> None:
    stats = _current.get()
    if stats is not None:
        stats.statements += 1
        stats._statement_started = time.perf_counter()


def _after(conn, cursor, statement, parameters, context, executemany) -> None:
    stats = _current.get()
    if stats is not None and stats._statement_started:
        stats.sql_ms += (time.perf_counter() - stats._statement_started) * 1000
        stats._statement_started = 0.0


def _checkout(dbapi_connection, connection_record, connection_proxy) -> None:
    stats = _current.get()
    if stats is not None:
        stats.checkouts += 1


def install(engine: Engine) -> None:
    """Count statements and pool check-outs of `engine` for the run in progress (once per engine).

    The listeners read a context variable: a script run's thread sees its own run only, so
    concurrent sessions of the same process are not mixed up."""
    if id(engine) in _installed:
        return
    event.listen(engine, "before_cursor_execute", _before)
    event.listen(engine, "after_cursor_execute", _after)
    event.listen(engine, "checkout", _checkout)
    _installed.add(id(engine))


def current() -> RunStats | None:
    return _current.get()


@contextmanager
def measure(kind: str, engine_getter) -> Iterator[RunStats | None]:
    """Time the code inside as one run of `kind` when timing is on (else yields None).

    Nested use (a fragment drawn inside a full run) is part of the outer run."""
    try:
        install_on = engine_getter()  # first: it also loads the settings (with Streamlit secrets)
        where = destination() if _current.get() is None else None
    except Exception:  # no engine (its server is down): the run's own handler reports that
        where = None
    if where is None:
        yield None
        return
    install(install_on)
    stats = RunStats(kind)
    token = _current.set(stats)
    try:
        yield stats
    finally:
        _current.reset(token)
        _write(where, stats.record())


def _write(where: str, record: dict[str, object]) -> None:
    line = json.dumps(record, separators=(",", ":"))
    with _write_lock:
        if where == "stderr":
            print(LINE_PREFIX + line, file=sys.stderr, flush=True)
        else:
            with open(where, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")
