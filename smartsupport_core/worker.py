"""The e-mail worker (`smartsupport worker [--once]`): drains the outbox over SMTP.

Claiming. A worker claims a small batch of due rows (`status = 'queued' AND next_attempt_at
<= now`) with `FOR UPDATE SKIP LOCKED` and, in that same short transaction, marks them
`sending` with a *lease*: `next_attempt_at` becomes the lease's end. Concurrent workers skip
locked rows and never see `sending` rows as due, so no message is claimed twice. No database
transaction stays open during the SMTP conversation.

Finishing. Each message is then sent and its row updated in its own transaction: `sent`
with `sent_at`; or `attempts + 1`, the error text, and `queued` again with exponential
backoff; or `failed` after `max_attempts` or at once on a permanent 5xx refusal. Every
update is guarded by `status = 'sending' AND next_attempt_at = <our lease>`, which acts as
the claim token: a worker whose lease ran out can never overwrite someone else's outcome.

Nothing lost. On SIGTERM the worker finishes the message in hand, puts the rest of its
batch back to `queued` (due now) and exits 0. If a worker dies without that (kill -9, power
loss), its rows stay `sending` until the lease ends; then any worker puts them back to
`queued`, counting the interrupted try as an attempt. The one unavoidable window — the
server accepted the message but the worker died before recording it — can repeat that one
message; the `Message-ID` is stable per row so mail systems can recognise the duplicate.
The lease (5 min) is far longer than a batch can take (batch size x SMTP time-out, and the
worker stops using a batch whose lease is about to run out).

Without SMTP settings the worker sends nothing, says so, and leaves every row queued; it
still runs the periodic maintenance jobs (`jobs.py`).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Engine, bindparam, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from . import jobs as periodic
from .db import is_unreachable
from .mailer import DeliveryError, Outgoing, PermanentFailure, SmtpConnection, message_id
from .models import EmailNotification
from .settings import Settings, get_settings
from .vocab import EmailStatus

log = logging.getLogger("smartsupport.worker")

NOT_CONFIGURED = (
    "SMTP is not configured (set SMARTSUPPORT_SMTP_HOST, _PORT, _USERNAME, _PASSWORD): "
    "e-mails stay queued and nothing is lost."
)
MAX_ERROR_CHARS = 2000


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class WorkerConfig:
    batch_size: int = 10
    lease: dt.timedelta = dt.timedelta(minutes=5)
    poll_interval: float = 5.0  # seconds between looks at an empty outbox
    max_attempts: int = 5
    backoff_base: dt.timedelta = dt.timedelta(minutes=1)  # 1, 2, 4, 8 minutes ...
    backoff_max: dt.timedelta = dt.timedelta(hours=1)
    smtp_timeout: float = 30.0
    jobs_every: float = 60.0  # seconds between looks at the periodic jobs
    run_jobs: bool = True


@dataclass
class WorkerStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    released: int = 0
    reclaimed: int = 0
    jobs: list[periodic.JobResult] = field(default_factory=list)

    def add(self, other: WorkerStats) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.failed += other.failed
        self.released += other.released
        self.reclaimed += other.reclaimed
        self.jobs.extend(other.jobs)

    def summary(self) -> str:
        return (
            f"sent {self.sent}, retry scheduled {self.retried}, failed {self.failed}, "
            f"put back {self.released}, reclaimed {self.reclaimed}"
        )


def backoff(config: WorkerConfig, attempts: int) -> dt.timedelta:
    """Delay before the next try after `attempts` failed ones: base x 2^(attempts-1), capped."""
    return min(config.backoff_base * (2 ** max(attempts - 1, 0)), config.backoff_max)


_CLAIM = text(
    """
    UPDATE core_emailnotification AS e
       SET status = 'sending', next_attempt_at = :lease
     WHERE e.id IN (
           SELECT id FROM core_emailnotification
            WHERE status = 'queued' AND next_attempt_at <= :now
            ORDER BY next_attempt_at, id
            LIMIT :n
              FOR UPDATE SKIP LOCKED)
    RETURNING e.id, e.recipient_email, e.subject, e.body, e.html_body, e.attempts, e.created_at
    """
)

_RECLAIM = text(
    """
    UPDATE core_emailnotification AS e
       SET attempts = e.attempts + 1,
           status = CASE WHEN e.attempts + 1 >= :max THEN 'failed' ELSE 'queued' END,
           error_message = :error,
           next_attempt_at = :now
     WHERE e.id IN (
           SELECT id FROM core_emailnotification
            WHERE status = 'sending' AND next_attempt_at <= :now
              FOR UPDATE SKIP LOCKED)
    RETURNING e.id
    """
)

_GUARD = "id = :id AND status = 'sending' AND next_attempt_at = :lease"
_MARK_SENT = text(
    "UPDATE core_emailnotification SET status = 'sent', sent_at = :now, error_message = NULL, message_id = :mid "
    f"WHERE {_GUARD}"
)
_MARK_RETRY = text(
    "UPDATE core_emailnotification SET status = :status, attempts = :attempts, error_message = :error, "
    f"next_attempt_at = :next WHERE {_GUARD}"
)
_RELEASE = text(
    "UPDATE core_emailnotification SET status = 'queued', next_attempt_at = :now "
    "WHERE id IN :ids AND status = 'sending' AND next_attempt_at = :lease"
).bindparams(bindparam("ids", expanding=True))


@dataclass(frozen=True)
class Claimed:
    item: Outgoing
    attempts: int


class Worker:
    """One outbox worker. Thread-safe to stop (`request_stop`); run one per thread/process."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings | None = None,
        *,
        config: WorkerConfig | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        echo: Callable[[str], None] | None = None,
        jobs: Iterable[periodic.PeriodicJob] | None = None,
        connection_factory: Callable[[Settings], SmtpConnection] | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings or get_settings()
        self.config = config or WorkerConfig()
        self.clock = clock
        self.echo = echo or log.info
        self.jobs = list(jobs) if jobs is not None else None
        self.connection_factory = connection_factory or (
            lambda s: SmtpConnection(s, timeout=self.config.smtp_timeout)
        )
        self.stop_event = threading.Event()
        self._jobs_checked_at: float | None = None

    # --- control ---------------------------------------------------------------------

    def request_stop(self) -> None:
        """Finish the message in hand, put the rest back, and return from `run` (SIGTERM)."""
        self.stop_event.set()

    @property
    def stopping(self) -> bool:
        return self.stop_event.is_set()

    # --- database steps ----------------------------------------------------------------

    def reclaim_expired(self) -> int:
        """Put rows whose worker vanished (lease over, still `sending`) back in the queue."""
        now = self.clock()
        with self.engine.begin() as conn:
            rows = conn.execute(
                _RECLAIM,
                {
                    "now": now,
                    "max": self.config.max_attempts,
                    "error": "the worker stopped while sending (lease expired); queued again",
                },
            ).all()
        if rows:
            self.echo(f"reclaimed {len(rows)} message(s) left 'sending' by a stopped worker")
        return len(rows)

    def claim(self) -> tuple[dt.datetime, list[Claimed]]:
        """Claim up to `batch_size` due messages; returns (lease end = claim token, messages)."""
        now = self.clock()
        lease = now + self.config.lease
        with self.engine.begin() as conn:
            rows = conn.execute(_CLAIM, {"now": now, "lease": lease, "n": self.config.batch_size}).all()
        claimed = [
            Claimed(Outgoing(r.id, r.recipient_email, r.subject, r.body, r.html_body, r.created_at), r.attempts)
            for r in sorted(rows, key=lambda r: r.id)
        ]
        return lease, claimed

    def _mark_sent(self, msg: Claimed, lease: dt.datetime) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                _MARK_SENT,
                {"id": msg.item.id, "lease": lease, "now": self.clock(), "mid": message_id(msg.item.id, self.settings)},
            )

    def _mark_failure(self, msg: Claimed, lease: dt.datetime, error: DeliveryError, stats: WorkerStats) -> None:
        attempts = msg.attempts + 1
        permanent = isinstance(error, PermanentFailure)
        final = permanent or attempts >= self.config.max_attempts
        now = self.clock()
        text_ = str(error)
        if final and not permanent:
            text_ = f"gave up after {attempts} attempts: {text_}"
        with self.engine.begin() as conn:
            conn.execute(
                _MARK_RETRY,
                {
                    "id": msg.item.id,
                    "lease": lease,
                    "status": EmailStatus.FAILED.value if final else EmailStatus.QUEUED.value,
                    "attempts": attempts,
                    "error": text_[:MAX_ERROR_CHARS],
                    "next": now if final else now + backoff(self.config, attempts),
                },
            )
        if final:
            stats.failed += 1
            self.echo(f"message {msg.item.id} to {msg.item.recipient} FAILED: {text_}")
        else:
            stats.retried += 1
            self.echo(f"message {msg.item.id} to {msg.item.recipient}: attempt {attempts} failed ({text_}); will retry")

    def _release(self, rest: list[Claimed], lease: dt.datetime) -> int:
        if not rest:
            return 0
        with self.engine.begin() as conn:
            result = conn.execute(_RELEASE, {"ids": [m.item.id for m in rest], "lease": lease, "now": self.clock()})
        return result.rowcount or 0

    # --- one batch ------------------------------------------------------------------------

    def process_batch(self) -> WorkerStats:
        """Reclaim, claim one batch, send it over one SMTP connection. Empty stats: nothing was due."""
        stats = WorkerStats()
        stats.reclaimed = self.reclaim_expired()
        lease, batch = self.claim()
        if not batch:
            return stats
        # Stop using the batch well before the lease ends, so nobody reclaims a row we still send.
        safe_until = lease - dt.timedelta(seconds=2 * self.config.smtp_timeout)
        connection = self.connection_factory(self.settings)
        try:
            for index, msg in enumerate(batch):
                if self.stopping or self.clock() >= safe_until:
                    stats.released += self._release(batch[index:], lease)
                    break
                if not connection.is_open:
                    try:
                        connection.open()
                    except DeliveryError as exc:
                        # Server unreachable or settings wrong: every message of the batch is one
                        # failed attempt, and the whole batch backs off together.
                        for other in batch[index:]:
                            self._mark_failure(other, lease, exc, stats)
                        break
                try:
                    connection.send(msg.item)
                except DeliveryError as exc:
                    self._mark_failure(msg, lease, exc, stats)
                except BaseException:
                    # Anything unexpected: give the rest back untouched before propagating.
                    stats.released += self._release(batch[index:], lease)
                    raise
                else:
                    self._mark_sent(msg, lease)
                    stats.sent += 1
        finally:
            connection.close()
        return stats

    def drain(self) -> WorkerStats:
        """Send batches until nothing is due (or a stop is requested)."""
        total = WorkerStats()
        while not self.stopping:
            stats = self.process_batch()
            total.add(stats)
            if stats.sent + stats.retried + stats.failed + stats.released == 0:
                break
        return total

    # --- maintenance ---------------------------------------------------------------------

    def run_jobs(self, *, force: bool = False) -> list[periodic.JobResult]:
        """Check the periodic jobs (at most every `jobs_every` seconds unless forced)."""
        if not self.config.run_jobs:
            return []
        mono = time.monotonic()
        # The inbound-mail poll is a job too: look at least as often as it wants to run.
        every = min(self.config.jobs_every, float(self.settings.inbound_poll_seconds))
        if not force and self._jobs_checked_at is not None and mono - self._jobs_checked_at < every:
            return []
        self._jobs_checked_at = mono
        results = periodic.run_due_jobs(self.engine, self.clock(), self.jobs)
        for r in results:
            if r.outcome == "error" or (r.outcome == "ran" and r.detail):  # quiet when a job had nothing to do
                self.echo(f"job {r.name}: {r.outcome}{': ' + r.detail if r.detail else ''}")
        return results

    def queued_count(self) -> int:
        with Session(self.engine) as s:
            return s.scalar(
                select(func.count()).select_from(EmailNotification).where(
                    EmailNotification.status == EmailStatus.QUEUED.value
                )
            ) or 0

    # --- the loop ---------------------------------------------------------------------------

    def run(self, *, once: bool = False) -> WorkerStats:
        """The worker loop. `once`: run the due jobs, send everything due now, return."""
        total = WorkerStats()
        if not self.settings.smtp_configured:
            try:
                waiting = f" ({self.queued_count()} queued)"
            except DBAPIError:
                waiting = ""
            self.echo(NOT_CONFIGURED + waiting)
        while not self.stopping:
            try:
                total.jobs.extend(self.run_jobs(force=once))
                if self.settings.smtp_configured:
                    total.add(self.drain())
            except DBAPIError as exc:
                if once:
                    raise
                # The database is away (restart, fail-over) or refused one statement (a lock
                # timeout, say): keep the process, try again later. Rows this worker had
                # claimed come back when their lease ends.
                what = "database unavailable" if is_unreachable(exc) else "database error"
                self.echo(f"{what} ({type(exc.orig).__name__}); retrying in {self.config.poll_interval:g} s")
            if once:
                break
            self.stop_event.wait(self.config.poll_interval)
        return total
