"""The admin outbox page through AppTest: notice without SMTP, filters, error text, resend, access."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from smartsupport_core import settings as core_settings
from smartsupport_core.email_templates import render, sample_data
from smartsupport_core.models import AuditLog, EmailNotification, Employee
from smartsupport_core.vocab import Role
from tests.factories import make_employee
from tests.portal_helpers import open_page, signed_in


@pytest.fixture(autouse=True)
def fresh_settings(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("SMARTSUPPORT_SMTP_HOST", "SMARTSUPPORT_SMTP_PORT"):
        monkeypatch.delenv(name, raising=False)
    core_settings.configure(None)
    yield
    core_settings.configure(None)


def _message(session: Session, to: str, template: str = "account_changed", **cols: object) -> EmailNotification:
    subject, body, html_body = render(template, sample_data(template))
    row = EmailNotification(recipient_email=to, subject=subject, body=body, html_body=html_body,
                            template_name=template, template_data={}, **cols)
    session.add(row)
    session.flush()
    return row


def _open(user: Employee) -> AppTest:
    return open_page(user, "outbox.py")


def _table_ids(at: AppTest) -> list[int]:
    return list(at.dataframe[0].value["id"])


def test_admin_sees_notice_counts_filters_and_error_text(session: Session):
    admin = make_employee(session, role=Role.ADMIN)
    sent = _message(session, "alice@example.com", "ticket_comment", status="sent", sent_at=dt.datetime.now(dt.UTC))
    failed = _message(session, "bob@example.com", status="failed", attempts=1,
                      error_message="recipient refused: 550 5.1.1 <bob@example.com>: mailbox unavailable")
    queued = _message(session, "carol@example.com")
    session.commit()

    at = _open(admin)
    assert any("SMTP is not configured" in w.value for w in at.warning)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"Queued": "1", "Sending": "0", "Sent": "1", "Failed": "1"}
    assert _table_ids(at) == [queued.id, failed.id, sent.id]

    at.selectbox(key="outbox_status").set_value("failed").run()
    assert _table_ids(at) == [failed.id]
    assert "550 5.1.1" in at.dataframe[0].value["error"].iloc[0]
    assert any("mailbox unavailable" in c.value for c in at.code)  # the selected message's error

    at.selectbox(key="outbox_status").set_value("(all)").run()
    at.text_input(key="outbox_recipient").set_value("ALICE").run()
    assert _table_ids(at) == [sent.id]
    at.text_input(key="outbox_recipient").set_value("").run()
    at.selectbox(key="outbox_template").set_value("account_changed").run()
    assert _table_ids(at) == [queued.id, failed.id]


def test_bad_date_range_names_the_field(session: Session):
    admin = make_employee(session, role=Role.ADMIN)
    _message(session, "a@example.com")
    session.commit()
    at = _open(admin)
    at.date_input(key="outbox_from").set_value(dt.date(2026, 3, 2)).run()
    at.date_input(key="outbox_to").set_value(dt.date(2026, 3, 1)).run()
    assert any(e.value == "To: must be on or after the start date" for e in at.error)
    assert not at.dataframe


def test_resend_from_the_page(session: Session):
    admin = make_employee(session, role=Role.ADMIN)
    failed = _message(session, "bob@example.com", status="failed", attempts=5, error_message="gave up")
    session.commit()
    at = _open(admin)
    at.multiselect(key="outbox_resend_ids").set_value([failed.id]).run()
    at.button(key="outbox_resend").click().run()
    assert not at.exception
    assert any("1 message(s) queued again" in s.value for s in at.success)
    session.expire_all()
    row = session.get(EmailNotification, failed.id)
    assert row is not None and row.status == "queued" and row.attempts == 0 and row.error_message is None
    assert session.scalars(select(AuditLog.record_id).where(AuditLog.table_name == "core_emailnotification")).all() \
        == [failed.id]


def test_smtp_configured_shows_the_server_not_the_notice(session: Session, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SMARTSUPPORT_SMTP_HOST", "smtp.gmail.com")
    monkeypatch.setenv("SMARTSUPPORT_SMTP_PORT", "587")
    core_settings.configure(None)
    admin = make_employee(session, role=Role.ADMIN)
    session.commit()
    at = _open(admin)
    assert not any("SMTP is not configured" in w.value for w in at.warning)
    assert any("smtp.gmail.com:587 (STARTTLS)" in c.value for c in at.caption)
    assert any("No messages match" in i.value for i in at.info)


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.COORDINATOR])
def test_non_admins_cannot_reach_the_page(session: Session, role: Role):
    user = make_employee(session, role=role)
    session.commit()
    at = signed_in(user)
    with pytest.raises(ValueError):
        at.switch_page("../pages/outbox.py")
