"""Fault tests of e-mail delivery with the real worker process and a real SMTP server.

* The SMTP server is down for a while: every message waits (attempts counted, error kept),
  and once the server is back and the backoff has passed, each goes out exactly once.
* The worker is killed with SIGKILL in the middle of a batch, while a message is on the
  wire: nothing is lost, and after the claim's lease ends a new worker delivers the rest
  with no message delivered twice.

Waiting out a one-minute backoff or a five-minute lease in a test would be slow, so the
test moves those rows' `next_attempt_at` into the past: exactly what time passing does.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text, update
from sqlalchemy.orm import Session

from smartsupport_core import notifications
from smartsupport_core.models import EmailNotification
from tests.e2e.harness import wait_until
from tests.smtp_sink import Recorder, SmtpSink, free_port

ROOT = Path(__file__).resolve().parent.parent


class DropsUnconfirmed(Recorder):
    """Keeps a message only if the client was still there to hear the 250 (a real server
    does not deliver a message whose DATA the client abandoned before the reply)."""

    async def handle_DATA(self, server, session, envelope):
        self.data_started.set()
        if self.data_delay:
            await asyncio.sleep(self.data_delay)  # cancelled by aiosmtpd if the client dies
        if server.transport is None or server.transport.is_closing():
            return "451 client gone"
        return await super().handle_DATA(server, session, envelope)


def queue_messages(engine: Engine, n: int) -> list[int]:
    with Session(engine) as s:
        ids = []
        for i in range(n):
            row = notifications.queue(
                s, "account_approved", to=f"user{i}@example.com", data={"name": f"User {i}", "link": "http://x"}
            )
            s.flush()
            ids.append(row.id)
        s.commit()
    return ids


def worker_env(smtp_port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "SMARTSUPPORT_SMTP_HOST": "127.0.0.1",
            "SMARTSUPPORT_SMTP_PORT": str(smtp_port),
            "SMARTSUPPORT_SMTP_STARTTLS": "false",
            "SMARTSUPPORT_SMTP_SSL": "false",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def run_worker_once(smtp_port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smartsupport_core.cli", "worker", "--once"],
        env=worker_env(smtp_port),
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        timeout=180,
    )


def statuses(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(
            conn.execute(select(EmailNotification.status, func.count()).group_by(EmailNotification.status)).all()
        )


def time_passes(engine: Engine, status: str) -> None:
    """The backoff / lease of rows in `status` is over."""
    with engine.begin() as conn:
        conn.execute(
            update(EmailNotification)
            .where(EmailNotification.status == status)
            .values(next_attempt_at=text("now() - interval '1 second'"))
        )


def deliveries(sink: SmtpSink) -> collections.Counter[int]:
    return collections.Counter(m.outbox_id for m in sink.recorder.snapshot())


def test_smtp_down_for_a_while_then_everything_goes_out_once(clean_db: Engine) -> None:
    ids = queue_messages(clean_db, 12)
    port = free_port()  # nothing listens here yet: the server is down

    down = run_worker_once(port)
    assert down.returncode == 0, down.stderr
    with clean_db.connect() as conn:
        rows = conn.execute(
            select(EmailNotification.status, EmailNotification.attempts, EmailNotification.error_message)
        ).all()
    assert len(rows) == len(ids)
    assert all(status == "queued" and attempts == 1 and error for status, attempts, error in rows), rows

    again = run_worker_once(port)  # still inside the backoff: nobody retries early
    assert again.returncode == 0
    assert statuses(clean_db) == {"queued": len(ids)}
    with clean_db.connect() as conn:
        assert conn.scalar(select(func.max(EmailNotification.attempts))) == 1

    with SmtpSink(port) as sink:
        time_passes(clean_db, "queued")
        up = run_worker_once(port)
        assert up.returncode == 0, up.stderr
        assert statuses(clean_db) == {"sent": len(ids)}
        run_worker_once(port)  # a later run sends nothing again
        got = deliveries(sink)
    assert sorted(got) == sorted(ids)
    assert set(got.values()) == {1}, f"delivered more than once: {[i for i, n in got.items() if n > 1]}"


def test_worker_killed_mid_batch_loses_nothing_and_sends_nothing_twice(clean_db: Engine) -> None:
    ids = queue_messages(clean_db, 25)
    recorder = DropsUnconfirmed(data_delay=0.4)
    with SmtpSink(recorder=recorder) as sink:
        worker = subprocess.Popen(
            [sys.executable, "-m", "smartsupport_core.cli", "worker", "--batch-size", "10", "--poll-interval", "0.5"],
            env=worker_env(sink.port),
            cwd=str(ROOT),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_until(lambda: len(recorder.snapshot()) >= 4, 90, "the worker to deliver a few messages")
            recorder.data_started.clear()
            recorder.data_started.wait(30)  # a message is on the wire now (its DATA is pending)
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(10)
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGKILL)
        time.sleep(0.5)
        at_kill = statuses(clean_db)
        delivered_at_kill = deliveries(sink)
        assert at_kill.get("sending", 0) >= 1, at_kill  # claimed rows were left behind by the dead worker
        assert at_kill.get("sent", 0) == len(delivered_at_kill)

        recorder.data_delay = 0.0
        restarted = run_worker_once(sink.port)  # the lease has not ended: the rows stay claimed
        assert restarted.returncode == 0
        assert statuses(clean_db).get("sending", 0) == at_kill["sending"]

        time_passes(clean_db, "sending")  # the dead worker's lease ends
        for _ in range(3):
            assert run_worker_once(sink.port).returncode == 0
            time_passes(clean_db, "queued")  # reclaimed rows wait a backoff: let it pass
        got = deliveries(sink)

    assert statuses(clean_db) == {"sent": len(ids)}
    assert sorted(got) == sorted(ids), "a message was lost"
    assert set(got.values()) == {1}, f"delivered more than once: {[i for i, n in got.items() if n > 1]}"


@pytest.fixture(autouse=True)
def _no_smtp_settings_leak(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("SMARTSUPPORT_SMTP_"):
            monkeypatch.delenv(key)
