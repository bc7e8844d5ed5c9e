"""The outbox worker against a real SMTP server (aiosmtpd on loopback), started and stopped here."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import html
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from smartsupport_core import notifications
from smartsupport_core.email_templates import TEMPLATES, body_placeholders, render, sample_data
from smartsupport_core.models import EmailNotification
from smartsupport_core.vocab import EmailStatus
from smartsupport_core.worker import Worker, WorkerConfig, backoff
from tests.factories import make_employee, make_ticket
from tests.smtp_sink import BASE_URL, FakeClock, SmtpSink, free_port, make_certificate, make_worker, smtp_settings

ROOT = Path(__file__).resolve().parent.parent


pytestmark = pytest.mark.usefixtures("smtp_base_url")


def queue_plain(session: Session, n: int, *, to: str = "someone@example.com") -> list[int]:
    ids = []
    for i in range(n):
        row = notifications.queue(
            session, "account_changed", to=to, data={"first_name": f"P{i}", "change": f"change {i}"}
        )
        assert row is not None
        session.flush()
        ids.append(row.id)
    session.commit()
    return ids


def rows(session: Session) -> dict[int, EmailNotification]:
    session.expire_all()
    return {r.id: r for r in session.scalars(select(EmailNotification))}


def test_every_template_is_delivered_with_recipient_and_content(session: Session, clean_db: Engine, sink: SmtpSink):
    expected = {}
    for name in TEMPLATES:
        data = sample_data(name)
        recipient = f"{name.replace('_', '.')}@example.com"
        row = notifications.queue(session, name, to=recipient, data=data)
        assert row is not None
        session.flush()
        expected[row.id] = (name, recipient, data)
    session.commit()

    stats = make_worker(clean_db, smtp_settings(sink.port)).run(once=True)

    assert stats.sent == len(TEMPLATES) and stats.failed == stats.retried == 0
    delivered = {d.outbox_id: d for d in sink.messages}
    assert set(delivered) == set(expected)
    for outbox_id, (name, recipient, data) in expected.items():
        got = delivered[outbox_id]
        subject, _, _ = render(name, data)
        assert got.rcpt_tos == [recipient] and got.message["To"] == recipient, name
        assert got.mail_from == "help@example.com"
        assert got.message["Subject"] == subject, name
        plain, html_part = got.part("plain"), got.part("html")
        in_body = body_placeholders(name)
        for key, value in data.items():
            first_line = str(value).splitlines()[0]
            if key in in_body:
                assert first_line in plain, (name, key)
                assert html.escape(first_line) in html_part, (name, key)
            else:
                assert first_line in got.message["Subject"], (name, key)
        if "link" in data:
            assert f'href="{html.escape(data["link"])}"' in html_part, name
        assert not plain.lstrip().startswith("<")
    resolved = next(d for d in delivered.values() if expected[d.outbox_id][0] == "ticket_resolved")
    text = resolved.part("plain")
    assert "Reopen" in text and "7 days" in text and f"{BASE_URL}/ticket?id=42&rate=1" in text
    assert "rate=1" in resolved.part("html")

    for row in rows(session).values():
        assert row.status == EmailStatus.SENT.value and row.sent_at is not None and row.attempts == 0


def test_html_part_escapes_markup_in_ticket_subject(session: Session, clean_db: Engine, sink: SmtpSink):
    requester = make_employee(session, email="req@example.com")
    evil = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
    ticket = make_ticket(session, requester, subject=evil)
    from smartsupport_core.email_templates import ticket_link

    notifications.queue(
        session,
        "ticket_submitted",
        to=requester,
        data={"first_name": requester.first_name, "ticket_number": ticket.ticket_number, "subject": evil,
              "link": ticket_link(ticket.id)},
        ticket_id=ticket.id,
    )
    session.commit()
    make_worker(clean_db, smtp_settings(sink.port)).run(once=True)

    (got,) = sink.messages
    html_part = got.part("html")
    assert "<script>" not in html_part and "<img" not in html_part
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;" in html_part
    assert evil in got.part("plain")  # the plain part shows the text as written
    assert evil in got.message["Subject"]
    assert f'href="{BASE_URL}/ticket?id={ticket.id}"' in html_part


def test_unsafe_link_is_not_made_clickable():
    _, _, html_doc = render("account_approved", {"first_name": "A", "link": "javascript:alert(1)"})
    assert "href" not in html_doc and "javascript:alert(1)" in html_doc


def test_server_down_retries_with_backoff_then_delivers(session: Session, clean_db: Engine):
    (msg_id,) = queue_plain(session, 1)
    port = free_port()  # nothing listens here yet
    clock = FakeClock()
    worker = make_worker(clean_db, smtp_settings(port), clock)

    worker.run(once=True)
    row = rows(session)[msg_id]
    assert row.status == EmailStatus.QUEUED.value and row.attempts == 1
    assert "cannot reach the SMTP server" in row.error_message
    assert row.next_attempt_at == clock.now + dt.timedelta(minutes=1)

    clock.advance(dt.timedelta(seconds=59))
    worker.run(once=True)  # not due yet: nothing is tried
    assert rows(session)[msg_id].attempts == 1

    clock.advance(dt.timedelta(seconds=1))
    worker.run(once=True)
    row = rows(session)[msg_id]
    assert row.attempts == 2 and row.next_attempt_at == clock.now + dt.timedelta(minutes=2)

    with SmtpSink(port) as server:
        clock.advance(dt.timedelta(minutes=2))
        stats = worker.run(once=True)
        assert stats.sent == 1
        assert [d.outbox_id for d in server.messages] == [msg_id]
    row = rows(session)[msg_id]
    assert row.status == EmailStatus.SENT.value and row.sent_at == clock.now
    assert row.attempts == 2 and row.error_message is None


def test_gives_up_after_five_attempts(session: Session, clean_db: Engine):
    (msg_id,) = queue_plain(session, 1)
    clock = FakeClock()
    worker = make_worker(clean_db, smtp_settings(free_port()), clock)
    delays = []
    for _ in range(5):
        worker.run(once=True)
        row = rows(session)[msg_id]
        delays.append(row.next_attempt_at - clock.now)
        clock.advance(dt.timedelta(hours=2))
    row = rows(session)[msg_id]
    assert row.status == EmailStatus.FAILED.value and row.attempts == 5
    assert row.error_message.startswith("gave up after 5 attempts")
    assert delays[:4] == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert backoff(WorkerConfig(), 20) == dt.timedelta(hours=1)  # capped


def test_permanent_5xx_fails_at_once_and_others_still_go(session: Session, clean_db: Engine, sink: SmtpSink):
    sink.recorder.reject_permanent.add("gone@example.com")
    sink.recorder.reject_temporary.add("busy@example.com")
    (bad,) = queue_plain(session, 1, to="gone@example.com")
    (busy,) = queue_plain(session, 1, to="busy@example.com")
    (good,) = queue_plain(session, 1, to="fine@example.com")

    stats = make_worker(clean_db, smtp_settings(sink.port)).run(once=True)

    assert (stats.sent, stats.failed, stats.retried) == (1, 1, 1)
    got = rows(session)
    assert got[bad].status == EmailStatus.FAILED.value and got[bad].attempts == 1
    assert "550" in got[bad].error_message and "mailbox unavailable" in got[bad].error_message
    assert got[busy].status == EmailStatus.QUEUED.value and "450" in got[busy].error_message
    assert got[good].status == EmailStatus.SENT.value
    assert [d.outbox_id for d in sink.messages] == [good]


def test_without_smtp_settings_messages_stay_queued(session: Session, clean_db: Engine):
    ids = queue_plain(session, 3)
    said: list[str] = []
    worker = Worker(clean_db, smtp_settings(None), config=WorkerConfig(run_jobs=False), echo=said.append)
    stats = worker.run(once=True)
    assert stats.sent == stats.failed == stats.retried == 0
    assert any("SMTP is not configured" in line and "3 queued" in line for line in said)
    for msg_id in ids:
        row = rows(session)[msg_id]
        assert row.status == EmailStatus.QUEUED.value and row.attempts == 0 and row.error_message is None


def test_two_workers_deliver_500_messages_exactly_once(session: Session, clean_db: Engine, sink: SmtpSink):
    subject, body, html_body = render("account_changed", {"first_name": "Bulk", "change": "bulk"})
    session.add_all(
        EmailNotification(recipient_email=f"bulk{i}@example.com", subject=subject, body=body, html_body=html_body,
                          template_name="account_changed", template_data={})
        for i in range(500)
    )
    session.commit()
    settings = smtp_settings(sink.port)
    workers = [make_worker(clean_db, settings, batch_size=10) for _ in range(2)]
    start = threading.Barrier(2)
    results: dict[int, object] = {}

    def run(i: int) -> None:
        start.wait()
        results[i] = workers[i].drain()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    counts = collections.Counter(d.outbox_id for d in sink.messages)
    assert len(counts) == 500 and set(counts.values()) == {1}
    assert all(d.rcpt_tos == [d.message["To"]] for d in sink.messages)
    assert sum(r.sent for r in results.values()) == 500  # type: ignore[attr-defined]
    assert all(r.sent > 0 for r in results.values())  # type: ignore[attr-defined]  # both really worked
    statuses = session.execute(select(EmailNotification.status, func.count()).group_by(EmailNotification.status))
    assert dict(statuses.all()) == {"sent": 500}


def test_expired_lease_is_reclaimed_and_stale_worker_cannot_overwrite(session: Session, clean_db: Engine,
                                                                      sink: SmtpSink):
    (msg_id,) = queue_plain(session, 1)
    clock = FakeClock()
    crashed = make_worker(clean_db, smtp_settings(sink.port), clock)
    lease, claimed = crashed.claim()  # ... and then the process dies before sending
    assert [c.item.id for c in claimed] == [msg_id]
    assert rows(session)[msg_id].status == EmailStatus.SENDING.value

    other = make_worker(clean_db, smtp_settings(sink.port), clock)
    assert other.run(once=True).sent == 0  # lease still running: nobody touches it
    clock.advance(dt.timedelta(minutes=5))
    stats = other.run(once=True)
    assert stats.reclaimed == 1 and stats.sent == 1
    row = rows(session)[msg_id]
    assert row.status == EmailStatus.SENT.value and row.attempts == 1
    sent_at = row.sent_at

    clock.advance(dt.timedelta(minutes=1))
    crashed._mark_sent(claimed[0], lease)  # the stale claim token no longer matches
    assert rows(session)[msg_id].sent_at == sent_at
    assert [d.outbox_id for d in sink.messages] == [msg_id]


def test_starttls_and_login(session: Session, clean_db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    cert = make_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))  # trust the throwaway certificate
    (msg_id,) = queue_plain(session, 1)
    with SmtpSink(users={"help@example.com": "app-password"}, starttls_cert=cert) as server:
        good = smtp_settings(server.port, smtp_starttls=True, smtp_username="help@example.com",
                             smtp_password="app-password")
        bad = dataclasses.replace(good, smtp_password="wrong")
        clock = FakeClock()
        make_worker(clean_db, bad, clock).run(once=True)
        row = rows(session)[msg_id]
        assert row.status == EmailStatus.QUEUED.value and "SMTP login failed: 535" in row.error_message

        clock.advance(dt.timedelta(minutes=1))
        assert make_worker(clean_db, good, clock).run(once=True).sent == 1
        (got,) = server.messages
        assert got.login == "help@example.com" and got.outbox_id == msg_id


def test_implicit_tls(session: Session, clean_db: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    cert = make_certificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert[0]))
    (msg_id,) = queue_plain(session, 1)
    with SmtpSink(implicit_tls_cert=cert) as server:
        settings = smtp_settings(server.port, smtp_ssl=True)
        assert make_worker(clean_db, settings).run(once=True).sent == 1
        assert [d.outbox_id for d in server.messages] == [msg_id]


def test_sigterm_finishes_message_in_hand_and_loses_nothing(session: Session, clean_db: Engine, sink: SmtpSink,
                                                            db_url: str):
    ids = queue_plain(session, 6)
    sink.recorder.data_delay = 1.5  # each DATA takes a while: the signal lands mid-send
    env = dict(os.environ)
    env.update(
        SMARTSUPPORT_DATABASE_URL=db_url,
        SMARTSUPPORT_SMTP_HOST="127.0.0.1",
        SMARTSUPPORT_SMTP_PORT=str(sink.port),
        SMARTSUPPORT_SMTP_STARTTLS="false",
        SMARTSUPPORT_SMTP_FROM="SmartSupport <help@example.com>",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "smartsupport_core.cli", "worker", "--batch-size", "3", "--poll-interval", "0.2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert sink.recorder.data_started.wait(60), "the worker never started sending"
        with Session(clean_db) as s:
            assert s.scalar(select(func.count()).where(EmailNotification.status == "sending")) == 3
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    assert "worker: stopped" in out

    got = rows(session)
    assert not [r for r in got.values() if r.status == EmailStatus.SENDING.value]
    delivered = [d.outbox_id for d in sink.messages]
    sent = sorted(i for i, r in got.items() if r.status == EmailStatus.SENT.value)
    assert sorted(delivered) == sent and len(sent) >= 1  # the message in hand was finished
    assert len(sent) < 6  # ... and the worker did stop early
    assert all(got[i].status == EmailStatus.QUEUED.value and got[i].attempts == 0 for i in ids if i not in sent)

    sink.recorder.data_delay = 0
    make_worker(clean_db, smtp_settings(sink.port)).run(once=True)
    counts = collections.Counter(d.outbox_id for d in sink.messages)
    assert set(counts) == set(ids) and set(counts.values()) == {1}


def test_cli_worker_once_without_smtp_says_so(clean_db: Engine, db_url: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARTSUPPORT_SMTP")}
    env["SMARTSUPPORT_DATABASE_URL"] = db_url
    out = subprocess.run(
        [sys.executable, "-m", "smartsupport_core.cli", "worker", "--once"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "SMTP is not configured" in out.stdout


def test_muted_flag_reaches_the_outbox_rows(session: Session):
    muted = make_employee(session, mute_non_essential=True)
    for name, spec in TEMPLATES.items():
        row = notifications.queue(session, name, to=muted, data=sample_data(name))
        assert (row is None) == (not spec.essential), name
    session.flush()
    assert session.scalar(select(func.count()).select_from(EmailNotification)) == sum(
        1 for s in TEMPLATES.values() if s.essential
    )


def test_worker_survives_an_unreachable_database_and_stops_on_request(db_url: str):
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    dead = create_engine(make_url(db_url).set(host="127.0.0.1", port=free_port()), pool_pre_ping=True)
    said: list[str] = []
    worker = Worker(dead, smtp_settings(free_port()), config=WorkerConfig(poll_interval=0.05, jobs_every=0),
                    echo=said.append)
    thread = threading.Thread(target=worker.run)
    thread.start()
    deadline = dt.datetime.now() + dt.timedelta(seconds=30)
    while sum("database unavailable" in line for line in said) < 2 and dt.datetime.now() < deadline:
        threading.Event().wait(0.05)
    worker.request_stop()
    thread.join(30)
    assert not thread.is_alive()
    assert sum("database unavailable" in line for line in said) >= 2  # kept trying, did not crash
    once = Worker(dead, smtp_settings(free_port()), config=WorkerConfig(), echo=said.append)
    with pytest.raises(DBAPIError):
        once.run(once=True)  # --once reports the failure (exit code != 0)
    dead.dispose()


def test_error_classes():
    import smtplib

    from smartsupport_core.mailer import PermanentFailure, TemporaryFailure, classify

    assert isinstance(classify(smtplib.SMTPRecipientsRefused({"a@x": (550, b"no such user")})), PermanentFailure)
    assert isinstance(classify(smtplib.SMTPRecipientsRefused({"a@x": (451, b"later")})), TemporaryFailure)
    assert isinstance(classify(smtplib.SMTPDataError(554, b"spam")), PermanentFailure)
    assert isinstance(classify(smtplib.SMTPDataError(452, b"full")), TemporaryFailure)
    needs_login = classify(smtplib.SMTPSenderRefused(530, b"5.7.0 Authentication Required", "a@x"))
    assert isinstance(needs_login, TemporaryFailure) and "check the SMTP login" in str(needs_login)
    assert isinstance(classify(smtplib.SMTPAuthenticationError(535, b"bad")), TemporaryFailure)
    assert isinstance(classify(smtplib.SMTPServerDisconnected("gone")), TemporaryFailure)
    assert isinstance(classify(ConnectionRefusedError(111, "refused")), TemporaryFailure)
    assert isinstance(classify(TimeoutError("slow")), TemporaryFailure)
