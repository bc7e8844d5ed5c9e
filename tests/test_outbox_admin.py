"""Outbox administration (list, filter, resend), notification preferences, and the periodic jobs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from smartsupport_core import jobs, notifications, outbox
from smartsupport_core.email_templates import render, sample_data
from smartsupport_core.errors import PermissionDenied, ValidationError
from smartsupport_core.models import AuditLog, EmailNotification, Employee, JobRun
from smartsupport_core.outbox import OutboxFilter
from smartsupport_core.vocab import EmailStatus, Role
from tests.factories import make_employee


def _message(session: Session, to: str, template: str = "account_changed", **cols: object) -> EmailNotification:
    subject, body, html_body = render(template, sample_data(template))
    row = EmailNotification(recipient_email=to, subject=subject, body=body, html_body=html_body,
                            template_name=template, template_data={}, **cols)
    session.add(row)
    session.flush()
    return row


# --- preferences ------------------------------------------------------------------------


def test_mute_preference_is_audited_and_stops_only_non_essential_mail(session: Session):
    emp = make_employee(session)
    session.commit()
    notifications.set_notification_preference(session, emp, True)
    session.commit()
    session.refresh(emp)
    assert emp.mute_non_essential is True
    (log,) = session.scalars(select(AuditLog).where(AuditLog.table_name == "core_employee"))
    assert log.record_id == emp.id and log.user_id == emp.id
    assert log.old_values == {"mute_non_essential": False} and log.new_values == {"mute_non_essential": True}

    assert notifications.queue(session, "ticket_comment", to=emp, data=sample_data("ticket_comment")) is None
    assert notifications.queue(session, "ticket_status_changed", to=emp, data=sample_data("ticket_status_changed")) \
        is None
    assert notifications.queue(session, "account_suspended", to=emp, data=sample_data("account_suspended")) is not None
    assert notifications.queue(session, "ticket_resolved", to=emp, data=sample_data("ticket_resolved")) is not None

    notifications.set_notification_preference(session, emp, True)  # no change: no second audit row
    assert session.scalar(select(func.count()).select_from(AuditLog)) == 1
    notifications.set_notification_preference(session, emp, False)
    assert notifications.queue(session, "ticket_comment", to=emp, data=sample_data("ticket_comment")) is not None


def test_mute_preference_rejects_bad_input_and_inactive_accounts(session: Session):
    emp = make_employee(session)
    with pytest.raises(ValidationError) as err:
        notifications.set_notification_preference(session, emp, "yes")  # type: ignore[arg-type]
    assert "mute_non_essential" in err.value.errors
    suspended = make_employee(session, status="Suspended")
    with pytest.raises(PermissionDenied):
        notifications.set_notification_preference(session, suspended, True)
    session.flush()
    assert session.scalar(select(func.count()).select_from(AuditLog)) == 0
    assert not session.scalar(select(func.bool_or(Employee.mute_non_essential)))


# --- listing and resending ------------------------------------------------------------


def test_list_filters_and_counts(session: Session):
    admin = make_employee(session, role=Role.ADMIN)
    a = _message(session, "alice@example.com", "ticket_comment", status="sent")
    b = _message(session, "bob@example.com", "account_changed", status="failed", error_message="550 no such user")
    c = _message(session, "ALICE.two@example.com", "account_changed")
    old = _message(session, "carol@example.com", "account_changed",
                   created_at=dt.datetime(2025, 1, 5, 12, tzinfo=dt.UTC))

    def ids(**kw: object) -> list[int]:
        return [m.id for m in outbox.list_messages(session, admin, OutboxFilter(**kw))]  # type: ignore[arg-type]

    assert ids() == [c.id, b.id, a.id, old.id]
    assert ids(status="failed") == [b.id]
    assert ids(recipient="alice") == [c.id, a.id]
    assert ids(recipient="%") == []  # LIKE wildcards are literal
    assert ids(template="ticket_comment") == [a.id]
    assert ids(date_from=dt.date(2025, 1, 5), date_to=dt.date(2025, 1, 5)) == [old.id]
    assert ids(date_to=dt.date(2025, 1, 4)) == []
    assert outbox.status_counts(session, admin) == {"queued": 2, "sending": 0, "sent": 1, "failed": 1}

    with pytest.raises(ValidationError) as err:
        outbox.list_messages(session, admin, OutboxFilter(status="lost", template="nope",
                                                          date_from=dt.date(2025, 2, 1), date_to=dt.date(2025, 1, 1)))
    assert set(err.value.errors) == {"status", "template", "date_to"}


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.COORDINATOR])
def test_outbox_is_for_admins_only(session: Session, role: Role):
    user = make_employee(session, role=role)
    row = _message(session, "x@example.com", status="failed")
    with pytest.raises(PermissionDenied):
        outbox.list_messages(session, user)
    with pytest.raises(PermissionDenied):
        outbox.status_counts(session, user)
    with pytest.raises(PermissionDenied):
        outbox.resend(session, user, [row.id])
    assert session.get(EmailNotification, row.id).status == "failed"  # type: ignore[union-attr]


def test_resend_requeues_resets_and_audits(session: Session):
    admin = make_employee(session, role=Role.ADMIN)
    failed = _message(session, "a@example.com", status="failed", attempts=5, error_message="gave up")
    sent = _message(session, "b@example.com", status="sent", sent_at=dt.datetime.now(dt.UTC))
    session.commit()
    outbox.resend(session, admin, [failed.id, sent.id])
    session.commit()
    for row in (failed, sent):
        session.refresh(row)
        assert row.status == EmailStatus.QUEUED.value and row.attempts == 0
        assert row.error_message is None and row.sent_at is None
    logs = list(session.scalars(select(AuditLog).where(AuditLog.table_name == "core_emailnotification")
                                .order_by(AuditLog.record_id)))
    assert [log.record_id for log in logs] == [failed.id, sent.id]
    assert logs[0].old_values["status"] == "failed" and logs[0].old_values["attempts"] == 5
    assert logs[0].new_values["resent"] is True and logs[0].user_id == admin.id


def test_resend_refuses_unknown_and_in_flight_messages_and_changes_nothing(session: Session):
    admin = make_employee(session, role=Role.ADMIN)
    failed = _message(session, "a@example.com", status="failed", attempts=5)
    busy = _message(session, "b@example.com", status="sending")
    session.commit()
    with pytest.raises(ValidationError) as err:
        outbox.resend(session, admin, [failed.id, busy.id, 9999])
    assert f"#{busy.id}" in err.value.errors["status"] and "#9999" in err.value.errors["ids"]
    session.rollback()
    assert session.get(EmailNotification, failed.id).status == "failed"  # type: ignore[union-attr]
    with pytest.raises(ValidationError) as err:
        outbox.resend(session, admin, [])
    assert "ids" in err.value.errors
    assert session.scalar(select(func.count()).select_from(AuditLog)) == 0


# --- periodic jobs ------------------------------------------------------------------------


NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def test_job_runs_once_per_interval_across_workers(clean_db: Engine):
    calls: list[dt.datetime] = []

    def work(session: Session, now: dt.datetime) -> str:
        calls.append(now)
        session.execute(text("SELECT 1"))
        return "did it"

    job = jobs.PeriodicJob("test_job", dt.timedelta(minutes=15), work)
    assert jobs.run_job_if_due(clean_db, job, NOW).outcome == "ran"
    assert jobs.run_job_if_due(clean_db, job, NOW + dt.timedelta(minutes=14)).outcome == "not due"
    assert jobs.run_job_if_due(clean_db, job, NOW + dt.timedelta(minutes=15)).outcome == "ran"
    assert calls == [NOW, NOW + dt.timedelta(minutes=15)]
    with Session(clean_db) as s:
        assert s.get(JobRun, "test_job").last_run_at == NOW + dt.timedelta(minutes=15)  # type: ignore[union-attr]


def test_job_is_skipped_while_another_worker_runs_it(clean_db: Engine):
    inside, release = threading.Event(), threading.Event()
    calls: list[str] = []

    def slow(session: Session, now: dt.datetime) -> None:
        calls.append("slow")
        inside.set()
        release.wait(30)

    job = jobs.PeriodicJob("slow_job", dt.timedelta(minutes=5), slow)
    results: list[jobs.JobResult] = []
    t = threading.Thread(target=lambda: results.append(jobs.run_job_if_due(clean_db, job, NOW)))
    t.start()
    assert inside.wait(30)
    assert jobs.run_job_if_due(clean_db, job, NOW).outcome == "busy"
    release.set()
    t.join(30)
    assert results[0].outcome == "ran" and calls == ["slow"]


def test_failing_job_rolls_back_and_waits_an_interval(clean_db: Engine):
    def broken(session: Session, now: dt.datetime) -> None:
        session.add(EmailNotification(recipient_email="x@example.com", subject="s", body="b",
                                      template_name="account_changed"))
        session.flush()
        raise RuntimeError("boom")

    job = jobs.PeriodicJob("broken_job", dt.timedelta(minutes=10), broken)
    result = jobs.run_job_if_due(clean_db, job, NOW)
    assert result.outcome == "error" and "boom" in result.detail
    assert jobs.run_job_if_due(clean_db, job, NOW + dt.timedelta(minutes=1)).outcome == "not due"
    with Session(clean_db) as s:
        assert s.scalar(select(func.count()).select_from(EmailNotification)) == 0


def test_unavailable_job_is_not_marked_as_run(clean_db: Engine):
    job = jobs.PeriodicJob("missing_job", dt.timedelta(minutes=10), jobs.lazy("smartsupport_core.nothing_here", "f"))
    result = jobs.run_job_if_due(clean_db, job, NOW)
    assert result.outcome == "unavailable" and "nothing_here" in result.detail
    with Session(clean_db) as s:
        assert s.get(JobRun, "missing_job").last_run_at == jobs.EPOCH  # type: ignore[union-attr]


def test_builtin_jobs_are_registered_and_the_worker_runs_auto_close(clean_db: Engine, monkeypatch: pytest.MonkeyPatch):
    assert {"auto_close", "sla_weekly_summary"} <= set(jobs.REGISTRY)
    import types

    import smartsupport_core

    seen: list[dt.datetime] = []
    fake = types.ModuleType("smartsupport_core.tickets")
    fake.auto_close = lambda session, now: seen.append(now) or 3  # type: ignore[attr-defined]
    monkeypatch.setitem(__import__("sys").modules, "smartsupport_core.tickets", fake)
    monkeypatch.setattr(smartsupport_core, "tickets", fake, raising=False)

    from smartsupport_core.worker import Worker, WorkerConfig

    worker = Worker(clean_db, config=WorkerConfig(), clock=lambda: NOW, echo=lambda m: None,
                    jobs=[jobs.REGISTRY["auto_close"]])
    worker.settings = dataclasses.replace(worker.settings, smtp_host=None)  # jobs run without SMTP too
    stats = worker.run(once=True)
    assert [(r.name, r.outcome, r.detail) for r in stats.jobs] == [("auto_close", "ran", "3")]
    assert seen == [NOW]
    stats = worker.run(once=True)  # a second pass within the interval does not repeat it
    assert [r.outcome for r in stats.jobs] == ["not due"]
    assert seen == [NOW]


def test_register_validates():
    with pytest.raises(ValueError):
        jobs.register(jobs.PeriodicJob("", dt.timedelta(minutes=1), lambda s, n: None))
    with pytest.raises(ValueError):
        jobs.register(jobs.PeriodicJob("x", dt.timedelta(0), lambda s, n: None))


def test_queue_skips_nobody_without_preference(session: Session):
    emp = make_employee(session)
    row = notifications.queue(session, "ticket_comment", to=emp, data=sample_data("ticket_comment"), actor=emp)
    assert row is not None and row.recipient_email == emp.email and row.triggered_by_id == emp.id


def test_job_results_are_described_briefly():
    assert jobs.describe(None) == ""
    assert jobs.describe([]) == "0 item(s)"
    assert jobs.describe([f"TKT{i}" for i in range(7)]) == "7 item(s): TKT0, TKT1, TKT2, TKT3, TKT4, ..."
    assert jobs.describe(3) == "3"


def test_the_real_auto_close_runs_as_a_job(clean_db: Engine):
    from smartsupport_core import tickets

    assert callable(tickets.auto_close)
    result = jobs.run_job_if_due(clean_db, jobs.REGISTRY["auto_close"], dt.datetime.now(dt.UTC))
    assert (result.outcome, result.detail) == ("ran", "0 item(s)")
