"""The dashboard's parts computed in processes of their own, beside the portal's.

WHY: a part is numpy and pandas over up to a million packed rows. In the portal's process
(one Python process serving every session on threads) that work holds the GIL for most of
its run, so every other user's click waits behind it; and among many busy threads the report
itself waits for the GIL at each of its hundreds of small steps (bench/load.py, 40 users
submitting: the 90-day summary took ~1 s in the portal's process against ~65 ms in a process
of its own). So a small pool of spawned processes computes it: the same core function and
the same policy check (the worker reads the actor by id from the database, as the portal
does on every run), with its own connections; the caller gets the small result pickled back.

`SMARTSUPPORT_REPORT_PROCESSES` = 0 computes in the calling process. A worker that dies is
replaced on the next request; the request that found it dead is computed in the caller.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.machinery
import logging
import multiprocessing
import multiprocessing.connection
import os
import sys
import threading
import types
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, nullcontext
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from .. import db
from ..errors import PermissionDenied
from ..models import Employee
from ..settings import Settings, configure, get_settings
from .board import PARTS, dashboard
from .definitions import Dashboard, ReportFilters

log = logging.getLogger(__name__)
T = TypeVar("T")

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_pool_settings: Settings | None = None


def compute(
    settings: Settings,
    actor_id: int,
    filters: ReportFilters,
    parts: tuple[str, ...],
    now: dt.datetime | None,
    session: Session | None = None,
) -> Dashboard:
    """`board.dashboard` for the actor with `actor_id`, read-only (rolled back), in `session`
    or a session of its own."""
    with nullcontext(session) if session is not None else Session(db.get_engine(settings)) as s:
        actor = s.get(Employee, actor_id)
        if actor is None:
            raise PermissionDenied("Your account no longer exists.")
        try:
            return dashboard(s, actor, filters, now=now, parts=parts)
        finally:
            s.rollback()


def _start(settings: Settings) -> None:
    """A worker's first step: the caller's settings, with the database it resolved, and its
    first connection opened now rather than by the first dashboard. A database that is down
    now is no reason to fail: `compute` connects again when asked."""
    configure(settings)
    threading.Thread(target=_exit_with_parent, name="report-worker-parent", daemon=True).start()
    try:
        with db.get_engine(settings).connect():
            pass
    except Exception:
        log.warning("report worker: database not reachable at start", exc_info=True)


def _exit_with_parent() -> None:
    """A worker waits for tasks on a lock, so it would outlive a portal that stopped without
    shutting the pool down (Streamlit's exit on SIGTERM does not): it leaves when its parent
    process does."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(0)


def _ready() -> bool:
    return True


@functools.lru_cache(maxsize=8)
def _resolved(settings: Settings) -> Settings:
    """What a worker needs of the caller's settings: the database (its URL resolved here, so
    that a worker never starts an embedded server of its own), the report time zone, and
    its own small pool (one computation at a time per worker). Only these: a change of an
    unrelated setting must not restart the workers."""
    return Settings(
        database_url=db.database_url(settings),
        data_dir=settings.data_dir,
        timezone=settings.timezone,
        db_pool_size=1,
        db_max_overflow=1,
        report_processes=settings.report_processes,
    )


#: A `__main__` that a spawned process does not re-run (`multiprocessing.spawn` skips a main
#: module named "__main__" by its spec).
_NEUTRAL_MAIN = types.ModuleType("__main__")
_NEUTRAL_MAIN.__spec__ = importlib.machinery.ModuleSpec("__main__", None)
_main_lock = threading.Lock()


@contextmanager
def _neutral_main() -> Iterator[None]:
    """Around anything that may start a worker. WHY: a spawned process first re-runs the
    parent's `__main__` file, and during a Streamlit script run `__main__` is the page
    script itself (Streamlit installs it there), so a worker would run the portal."""
    with _main_lock:
        saved = sys.modules.get("__main__")
        sys.modules["__main__"] = _NEUTRAL_MAIN
        try:
            yield
        finally:
            if saved is not None:
                sys.modules["__main__"] = saved


def _submit(settings: Settings, fn: Callable[..., T], *args: Any) -> Future[T]:
    """`fn(*args)` in a worker (the submit may start one: see `_neutral_main`)."""
    with _neutral_main():
        return _executor(settings).submit(fn, *args)


def _executor(settings: Settings) -> ProcessPoolExecutor:
    global _pool, _pool_settings
    with _lock:
        if _pool is None or _pool_settings != settings:
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            _pool = ProcessPoolExecutor(
                max_workers=settings.report_processes,
                mp_context=multiprocessing.get_context("spawn"),  # never fork a threaded server
                initializer=_start,
                initargs=(settings,),
            )
            _pool_settings = settings
        return _pool


def warm(settings: Settings | None = None) -> list[Future[bool]]:
    """Start the workers now (a spawned process imports numpy, pandas and SQLAlchemy and
    connects: ~1 s), so the first dashboard does not wait for that. Returns at once, with
    what to wait on for those who must (benchmarks)."""
    settings = settings or get_settings()
    if settings.report_processes == 0:
        return []
    worker = _resolved(settings)
    return [_submit(worker, _ready) for _ in range(settings.report_processes)]


def shutdown() -> None:
    global _pool, _pool_settings
    with _lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
        _pool, _pool_settings = None, None


def dashboard_of(
    actor_id: int,
    filters: ReportFilters,
    parts: Collection[str] = tuple(PARTS),
    *,
    now: dt.datetime | None = None,
    settings: Settings | None = None,
    session: Session | None = None,
) -> Dashboard:
    """The dashboard's `parts` for the actor with `actor_id`, computed in a worker process;
    in this process (in `session` when given) when `report_processes` is 0 or a worker died.
    Raises what `board.dashboard` raises."""
    settings = settings or get_settings()
    args = (actor_id, filters, tuple(parts), now)
    if settings.report_processes == 0:
        return compute(settings, *args, session)
    worker = _resolved(settings)
    try:
        return _submit(worker, compute, worker, *args).result()
    except BrokenProcessPool:
        log.warning("a report worker died; this dashboard is computed in the calling process")
        shutdown()
        return compute(settings, *args, session)
