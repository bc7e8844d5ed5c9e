"""Periodic maintenance the e-mail worker runs: a small registry of (name, interval, callable).

Any number of workers may run; `core_jobrun` (one row per job name) makes sure a job runs
at most once per interval across all of them. The job runs in the same transaction that
holds its `core_jobrun` row locked (`FOR UPDATE SKIP LOCKED`): a second worker skips it
while it runs, and the job's changes and its "last run" mark commit together — a job that
fails rolls back entirely and is tried again one interval later.

Adding a job (e.g. the weekly SLA summary) is one line, either here in
`_BUILTIN` or from any module imported by the worker::

    from smartsupport_core import jobs
    jobs.register(jobs.PeriodicJob("sla_weekly_summary", dt.timedelta(days=7),
                                   jobs.lazy("smartsupport_core.reporting.weekly", "send_weekly_summaries")))

A job callable takes `(session, now)`, does its work through the session (services flush,
never commit), may queue e-mails with `notifications.queue`, and returns a short result
(a count or a sentence) for the worker's log. `lazy(module, name)` imports the callable
when the job is due, so a job whose code has not landed yet is reported as unavailable
and skipped (not marked as run) instead of breaking the worker.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from .models import JobRun

log = logging.getLogger("smartsupport.jobs")

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

JobFunc = Callable[[Session, dt.datetime], object]


class JobUnavailable(Exception):
    """The job's code is not installed (yet): skip without marking it as run."""


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    interval: dt.timedelta
    run: JobFunc
    description: str = ""
    #: False: every worker runs it on every look (no `core_jobrun` claim); the job shares its
    #: work out itself (the inbound poll: per-mailbox advisory locks and due times).
    exclusive: bool = True


@dataclass(frozen=True)
class JobResult:
    name: str
    outcome: str  # "ran" | "not due" | "busy" | "unavailable" | "error"
    detail: str = ""


def lazy(module: str, attr: str) -> JobFunc:
    """A job callable that imports `module.attr` when it runs (late-landing code, no import cycles)."""

    def call(session: Session, now: dt.datetime) -> object:
        try:
            func = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise JobUnavailable(f"{module}.{attr} is not available: {exc}") from exc
        return func(session, now)

    call.__qualname__ = call.__name__ = f"lazy({module}.{attr})"
    return call


#: name -> job. Order is the order jobs are checked in.
REGISTRY: dict[str, PeriodicJob] = {}


def register(job: PeriodicJob) -> PeriodicJob:
    """Add (or replace, by name) a periodic job."""
    if not job.name or len(job.name) > 100:
        raise ValueError("a job name is 1 to 100 characters")
    if job.interval <= dt.timedelta(0):
        raise ValueError("a job interval must be positive")
    REGISTRY[job.name] = job
    return job


_BUILTIN = (
    PeriodicJob(
        "auto_close",
        dt.timedelta(minutes=15),
        lazy("smartsupport_core.tickets", "auto_close"),
        "close Resolved tickets whose reopen window has passed",
    ),
    PeriodicJob(
        "sla_weekly_summary",
        dt.timedelta(days=7),
        lazy("smartsupport_core.reporting.weekly", "send_weekly_summaries"),
        "e-mail each department head the weekly SLA summary",
    ),
    PeriodicJob(
        "report_refresh",
        dt.timedelta(minutes=5),
        lazy("smartsupport_core.reporting.packed_rows", "refresh_job"),
        "repack the dashboard's rows of the days written since the last pass",
    ),
    PeriodicJob(
        "chat_retention",
        dt.timedelta(days=1),
        lazy("smartsupport_core.assistant", "purge_expired_job"),
        "delete assistant conversations older than SMARTSUPPORT_CHAT_RETENTION_DAYS",
    ),
    PeriodicJob(
        "inbound_mail",
        dt.timedelta(seconds=5),  # unused (not exclusive): mailboxes are due per SMARTSUPPORT_INBOUND_POLL_SECONDS
        lazy("smartsupport_core.inbound", "poll_job"),
        "turn mail of the active inbound mailboxes into tickets and replies",
        exclusive=False,
    ),
)
for _job in _BUILTIN:
    register(_job)


def describe(result: object) -> str:
    """A short log line for a job's return value (lists, e.g. closed ticket numbers, are counted)."""
    if result is None:
        return ""
    if isinstance(result, (list, tuple, set)):
        items = [str(x) for x in result]
        shown = ", ".join(items[:5]) + (", ..." if len(items) > 5 else "")
        return f"{len(items)} item(s)" + (f": {shown}" if items else "")
    return str(result)[:500]


def run_job_if_due(engine: Engine, job: PeriodicJob, now: dt.datetime) -> JobResult:
    """Run `job` when its interval has passed since its last run by any worker (a job that is
    not `exclusive` runs every time, in its own transaction)."""
    with Session(engine, expire_on_commit=False) as session:
        if not job.exclusive:
            return _run(session, job, now, None)
        session.execute(insert(JobRun).values(name=job.name, last_run_at=EPOCH).on_conflict_do_nothing())
        session.commit()
        mark = session.scalars(
            select(JobRun).where(JobRun.name == job.name).with_for_update(skip_locked=True)
        ).one_or_none()
        if mark is None:
            session.rollback()
            return JobResult(job.name, "busy", "another worker is running it")
        if mark.last_run_at + job.interval > now:
            session.rollback()
            return JobResult(job.name, "not due", f"last run {mark.last_run_at.isoformat()}")
        return _run(session, job, now, mark)


def _run(session: Session, job: PeriodicJob, now: dt.datetime, mark: JobRun | None) -> JobResult:
    """Run the job in the session's transaction and commit it with its `core_jobrun` mark (the
    row locked by the caller; None for a job that is not exclusive)."""
    try:
        result = job.run(session, now)
        if mark is not None:
            mark.last_run_at = now
        session.commit()
    except JobUnavailable as exc:
        session.rollback()
        return JobResult(job.name, "unavailable", str(exc))
    except Exception as exc:
        session.rollback()
        log.exception("periodic job %s failed", job.name)
        if mark is not None:
            # Do not retry a broken job on every poll: the next try is one interval later.
            session.execute(select(JobRun).where(JobRun.name == job.name).with_for_update())
            session.get(JobRun, job.name, populate_existing=True).last_run_at = now  # type: ignore[union-attr]
            session.commit()
        return JobResult(job.name, "error", f"{type(exc).__name__}: {exc}")
    return JobResult(job.name, "ran", describe(result))


def run_due_jobs(engine: Engine, now: dt.datetime, jobs: Iterable[PeriodicJob] | None = None) -> list[JobResult]:
    """Check every registered job (or `jobs`) once; returns what happened to each."""
    return [run_job_if_due(engine, job, now) for job in (REGISTRY.values() if jobs is None else jobs)]
