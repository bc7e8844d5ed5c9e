"""End to end: the ticket workflow queues mail, the worker delivers it to a real SMTP server;
muting from the profile page; auto-close run by the worker."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartsupport_core import jobs, notifications, tickets
from smartsupport_core.models import AuditLog, EmailNotification, Employee, Ticket
from smartsupport_core.vocab import TicketStatus
from smartsupport_core.worker import Worker, WorkerConfig
from tests.portal_helpers import signed_in
from tests.smtp_sink import BASE_URL, FakeClock, SmtpSink, make_worker, smtp_settings
from tests.ticket_helpers import IT_DATA, Clock, People, clock_fixture, people_fixture, ticket_in  # noqa: F401

pytestmark = pytest.mark.usefixtures("smtp_base_url")


def deliver(session: Session, sink: SmtpSink, **kw: object) -> dict[tuple[str, str], list]:
    """Run the worker once; (template, recipient) -> delivered messages."""
    make_worker(session.get_bind(), smtp_settings(sink.port)).run(once=True)
    names = dict(session.execute(select(EmailNotification.id, EmailNotification.template_name)).all())
    out: dict[tuple[str, str], list] = {}
    for d in sink.messages:
        out.setdefault((names[d.outbox_id], d.rcpt_tos[0]), []).append(d)
    return out


def test_ticket_life_mails_reach_the_right_people(session: Session, sink: SmtpSink, people: People, clock: Clock):
    subject = 'Printer <b>jam</b> & "paper" <script>alert(1)</script>'
    t = tickets.submit_ticket(session, people.requester, {**IT_DATA, "subject": subject})
    tickets.approve_ticket(session, people.admin, t.id)
    assignee = session.get(Employee, t.assigned_to_id)
    assert assignee is not None
    clock.advance(hours=1)
    tickets.add_comment(session, assignee, t.id, "Try <img src=x onerror=alert(2)> the tray")
    clock.advance(hours=1)
    tickets.change_status(session, assignee, t.id, "Resolved")
    session.commit()

    got = deliver(session, sink)
    r, a = people.requester.email, people.admin.email
    for key in [("ticket_submitted", r), ("ticket_awaiting_approval", a), ("ticket_opened", r),
                ("ticket_assigned", assignee.email), ("ticket_comment", r), ("ticket_resolved", r)]:
        assert len(got.get(key, [])) == 1, (key, sorted(got))

    link = f"{BASE_URL}/ticket?id={t.id}"
    (resolved,) = got[("ticket_resolved", r)]
    plain, html_part = resolved.part("plain"), resolved.part("html")
    assert subject in plain and subject in resolved.message["Subject"]
    assert "Reopen" in plain and "within 7 days" in plain and f"{link}&rate=1" in plain
    assert f'href="{link}&amp;rate=1"' in html_part and f'href="{link}"' in html_part
    assert "<script>" not in html_part and "<b>jam</b>" not in html_part
    assert "Printer &lt;b&gt;jam&lt;/b&gt; &amp; &quot;paper&quot; &lt;script&gt;" in html_part

    (comment,) = got[("ticket_comment", r)]
    assert "Try <img src=x onerror=alert(2)> the tray" in comment.part("plain")
    assert "<img" not in comment.part("html") and "&lt;img src=x onerror=alert(2)&gt;" in comment.part("html")


def test_muted_requester_gets_decisions_but_not_replies(session: Session, sink: SmtpSink, people: People,
                                                        clock: Clock):
    notifications.set_notification_preference(session, people.requester, True)
    t = tickets.submit_ticket(session, people.requester, IT_DATA)
    tickets.approve_ticket(session, people.admin, t.id)
    assignee = session.get(Employee, t.assigned_to_id)
    assert assignee is not None
    tickets.add_comment(session, assignee, t.id, "On it")
    tickets.change_status(session, assignee, t.id, "In Progress")
    tickets.change_status(session, assignee, t.id, "Resolved")
    session.commit()

    to_requester = {tpl for (tpl, to) in deliver(session, sink) if to == people.requester.email}
    assert to_requester == {"ticket_submitted", "ticket_opened", "ticket_resolved"}


def test_worker_runs_auto_close_and_delivers_the_closed_mail(session: Session, sink: SmtpSink, people: People):
    old = ticket_in(session, people.requester, TicketStatus.RESOLVED, at=dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC))
    session.commit()
    worker = Worker(session.get_bind(), smtp_settings(sink.port), config=WorkerConfig(), clock=FakeClock(),
                    echo=lambda m: None, jobs=[jobs.REGISTRY["auto_close"]])
    stats = worker.run(once=True)
    outcomes = [(r.name, r.outcome, r.detail) for r in stats.jobs]
    assert outcomes == [("auto_close", "ran", f"1 item(s): {old.ticket_number}")]
    session.expire_all()
    assert session.get(Ticket, old.id).status == "Closed"  # type: ignore[union-attr]
    (got,) = sink.messages
    assert got.rcpt_tos == [people.requester.email] and "Closed" in got.message["Subject"]


def test_profile_toggle_mutes_and_is_audited(session: Session):
    from tests.factories import make_employee

    emp = make_employee(session)
    session.commit()
    at = signed_in(emp)
    at.switch_page("../pages/profile.py").run()
    (toggle,) = [t for t in at.toggle if t.label == "Mute non-essential e-mails"]
    assert toggle.value is False
    toggle.set_value(True).run()
    assert not at.exception
    assert any("Notification preference saved" in s.value for s in at.success)
    session.expire_all()
    assert session.get(Employee, emp.id).mute_non_essential is True  # type: ignore[union-attr]
    (log,) = session.scalars(select(AuditLog).where(AuditLog.table_name == "core_employee"))
    assert log.new_values == {"mute_non_essential": True} and log.user_id == emp.id
