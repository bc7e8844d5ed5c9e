"""Inbound e-mail against a real IMAP server (Dovecot on loopback, messages delivered with
IMAP APPEND): new tickets, threaded replies, reopen, HTML mail, attachments, refusals with a
bounce seen at the SMTP sink, auto-replies, exactly-once processing (also when the worker is
killed between fetch and commit, and with two workers), and a broken mailbox next to a good one."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import textwrap
import threading
import uuid
import zipfile
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from smartsupport_core import inbound, inbound_admin, tickets, upload_check
from smartsupport_core.models import (
    AuditLog,
    EmailNotification,
    InboundMailbox,
    InboundMessage,
    Ticket,
    TicketAttachment,
    TicketComment,
)
from smartsupport_core.vocab import AccountStatus, InboundOutcome, Role, TicketStatus
from tests.factories import make_employee
from tests.imap_server import Dovecot
from tests.smtp_sink import SmtpSink, make_worker, smtp_settings
from tests.ticket_helpers import PNG, Clock, clock_fixture  # noqa: F401

pytestmark = pytest.mark.usefixtures("smtp_base_url")

O = InboundOutcome  # noqa: E741


@pytest.fixture(scope="module")
def imap():
    with Dovecot() as server:
        yield server


@pytest.fixture
def admin(session: Session):
    return make_employee(session, role=Role.ADMIN, department="IT Department", first_name="Ada",
                         email="ada.admin@example.com")


@pytest.fixture
def rita(session: Session):
    person = make_employee(session, department="Sales", first_name="Rita", email="rita@example.com")
    session.commit()
    return person


def new_mailbox(session: Session, imap: Dovecot, admin, *, name: str | None = None, password: str | None = None,
                port: int | None = None, **form: object) -> InboundMailbox:
    """A Dovecot user and its mailbox row (category Others: no fields an e-mail cannot fill)."""
    user = f"support-{uuid.uuid4().hex[:8]}@example.com"
    imap.add_user(user, "imap-secret")
    box = inbound_admin.create_mailbox(session, admin, inbound_admin.MailboxForm(
        name=name or user, host="127.0.0.1", port=port or imap.port, security="none", username=user,
        password=password or "imap-secret", category=str(form.pop("category", "Others")), **form))  # type: ignore[arg-type]
    session.commit()
    return box


def mail(sender: str, subject: str, body: str | None = "Please help, the printer on floor 2 is jammed.", *,
         html: str | None = None, files: list[tuple[str, bytes, str]] = (), **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@example.com"
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain="mail.example.com")
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    if body is not None:
        msg.set_content(body)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    elif html is not None:
        msg.set_content(html, subtype="html")
    for filename, content, ctype in files:
        maintype, subtype = ctype.split("/")
        msg.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def poll(engine: Engine, box: InboundMailbox, **kw) -> inbound.PollResult:
    return inbound.poll_mailbox(engine, box.id, **kw)


def log_rows(session: Session, box: InboundMailbox) -> list[InboundMessage]:
    session.expire_all()
    return list(session.scalars(select(InboundMessage).where(InboundMessage.mailbox_id == box.id)
                                .order_by(InboundMessage.uid)))


def outbox(session: Session, template: str) -> list[EmailNotification]:
    return list(session.scalars(select(EmailNotification).where(EmailNotification.template_name == template)
                                .order_by(EmailNotification.id)))


# --- new tickets --------------------------------------------------------------------------------


def test_a_message_becomes_a_ticket_once_with_history_and_signature_trimmed(session, imap, admin, rita, clean_db):
    box = new_mailbox(session, imap, admin)
    body = textwrap.dedent("""\
        Hello,

        the printer on floor 2 jams on every page.

        --
        Rita, Sales
        +63 555 0100

        On Mon, 1 Dec 2026 at 09:00, Someone <someone@example.com> wrote:
        > old quoted text
        """)
    imap.append(box.username, mail("Rita <RITA@example.com>", "Printer jams on floor 2", body))

    result = poll(clean_db, box)
    assert result.status == "ok" and result.processed == 1, result
    ticket = session.scalars(select(Ticket)).one()
    assert ticket.subject == "Printer jams on floor 2"
    assert ticket.description == "Hello,\n\nthe printer on floor 2 jams on every page."
    assert ticket.employee_id == rita.id and ticket.category == "Others" and ticket.department == "Operations"
    assert ticket.status == TicketStatus.NEW.value and ticket.sla_response_due_at is not None
    (confirmation,) = outbox(session, "ticket_submitted")
    assert confirmation.recipient_email == rita.email and f"[{ticket.ticket_number}]" in confirmation.subject
    assert session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.table_name == "core_ticket", AuditLog.record_id == ticket.id, AuditLog.user_id == rita.id)) == 1
    (row,) = log_rows(session, box)
    assert (row.outcome, row.ticket_id, row.employee_id, row.bounced) == (O.TICKET_CREATED, ticket.id, rita.id, False)
    assert all("\\Seen" in flags for flags in imap.flags(box.username).values())

    # Nothing is fetched twice: a second poll finds nothing new, even with the \Seen flag removed.
    with imap.client(box.username) as client:
        client.flag(client.uids("ALL"), "\\Seen", False)
    again = poll(clean_db, box)
    assert again.processed == 0 and session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_processed_mail_can_be_moved_to_a_folder(session, imap, admin, rita, clean_db):
    box = new_mailbox(session, imap, admin, move_to="SmartSupport")
    imap.append(box.username, mail(rita.email, "Moved after processing", "The fridge on floor 5 is warm."))
    assert poll(clean_db, box).processed == 1
    assert imap.flags(box.username) == {}
    assert len(imap.flags(box.username, "SmartSupport")) == 1
    assert poll(clean_db, box).processed == 0 and session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_first_poll_takes_the_unread_mail_then_every_new_message_read_or_not(session, imap, admin, rita, clean_db):
    box = new_mailbox(session, imap, admin)
    imap.append(box.username, mail(rita.email, "Old mail already read", "Somebody read this one already."))
    with imap.client(box.username) as client:
        client.flag(client.uids("ALL"), "\\Seen", True)
    assert poll(clean_db, box).processed == 0  # the history of a mailbox is not turned into tickets
    imap.append(box.username, mail(rita.email, "New mail read by a person", "Arrived after the first poll."))
    with imap.client(box.username) as client:
        client.flag(client.uids("ALL"), "\\Seen", True)  # a colleague opened it before the poll
    assert poll(clean_db, box).processed == 1
    assert session.scalars(select(Ticket.subject)).one() == "New mail read by a person"


def test_html_only_mail_becomes_text_without_script_style_or_quote(session, imap, admin, rita, clean_db):
    box = new_mailbox(session, imap, admin)
    html = ("<html><head><style>p{color:red}</style><title>t</title></head><body>"
            "<script>alert('x')</script><p>The <b>VPN</b> drops&nbsp;every hour.</p><ul><li>since Monday</li></ul>"
            "<div class='gmail_quote'>On Mon wrote:<blockquote>old</blockquote></div></body></html>")
    imap.append(box.username, mail(rita.email, "VPN drops every hour", None, html=html))
    poll(clean_db, box)
    ticket = session.scalars(select(Ticket)).one()
    assert ticket.description == "The VPN drops every hour.\n\n- since Monday"
    for leaked in ("alert", "color", "old", "wrote", "<"):
        assert leaked not in ticket.description


def test_outlook_reply_block_is_trimmed():
    from smartsupport_core.inbound_parse import trim_reply

    text = "Still broken.\n\n________________________________\nFrom: Help <h@x>\nSent: Monday\nTo: me\n\nold"
    assert trim_reply(text) == "Still broken."


# --- replies ------------------------------------------------------------------------------------


def _submitted(session, rita, subject="Monitor flickers badly") -> Ticket:
    ticket = tickets.submit_ticket(session, rita, {"category": "Others", "subject": subject,
                                                   "description": "The monitor flickers every few seconds."})
    session.commit()
    return ticket


def test_reply_by_subject_tag_is_a_public_comment_from_the_sender(session, imap, admin, rita, clean_db):
    box = new_mailbox(session, imap, admin)
    ticket = _submitted(session, rita)
    reply = "It also flickers on the second screen.\n\nOn Tue, Help wrote:\n> How is it now?"
    imap.append(box.username, mail(rita.email, f"Re: [{ticket.ticket_number}] Ticket received", reply,
                                   files=[("screen.png", PNG, "image/png")]))
    poll(clean_db, box)
    comment = session.scalars(select(TicketComment).where(TicketComment.ticket_id == ticket.id)).one()
    assert (comment.comment, comment.user_id, comment.is_internal) == (
        "It also flickers on the second screen.", rita.id, False)
    attachment = session.scalars(select(TicketAttachment)).one()
    assert (attachment.ticket_id, attachment.file_name) == (ticket.id, "screen.png")
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    assert log_rows(session, box)[0].outcome == O.COMMENT_ADDED


def test_reply_by_in_reply_to_of_a_sent_notification(session, imap, admin, rita, clean_db, sink: SmtpSink):
    """The confirmation goes out through the worker (its Message-ID is stored); a reply whose
    In-Reply-To names it lands on the ticket, whatever its subject says."""
    box = new_mailbox(session, imap, admin)
    ticket = _submitted(session, rita)
    make_worker(clean_db, smtp_settings(sink.port)).run(once=True)
    sent = next(d for d in sink.messages if d.rcpt_tos == [rita.email])
    session.expire_all()
    stored = session.get(EmailNotification, sent.outbox_id)
    assert stored.message_id == sent.message["Message-ID"]

    imap.append(box.username, mail(rita.email, "Re: your message", "Thanks, it is the left monitor.",
                                   In_Reply_To=sent.message["Message-ID"], References=sent.message["Message-ID"]))
    poll(clean_db, box)
    comment = session.scalars(select(TicketComment).where(TicketComment.ticket_id == ticket.id)).one()
    assert comment.comment == "Thanks, it is the left monitor." and comment.user_id == rita.id


def test_requester_reply_to_a_resolved_ticket_reopens_it(session, imap, admin, rita, clean_db):
    box = new_mailbox(session, imap, admin)
    ticket = _submitted(session, rita)
    tickets.approve_ticket(session, admin, ticket.id)
    tickets.change_status(session, admin, ticket.id, TicketStatus.RESOLVED.value)
    session.commit()
    imap.append(box.username, mail(rita.email, f"Re: [{ticket.ticket_number}] Resolved", "No, it flickers again."))
    poll(clean_db, box)
    session.expire_all()
    ticket = session.get(Ticket, ticket.id)
    assert ticket.status == TicketStatus.OPEN.value and ticket.reopen_count == 1
    assert log_rows(session, box)[0].outcome == O.REOPENED
    assert session.scalars(select(TicketComment.comment)).one() == "No, it flickers again."


def test_a_reply_after_the_reopen_window_is_a_comment_and_the_ticket_stays_resolved(
    session, imap, admin, rita, clean_db, clock
):
    box = new_mailbox(session, imap, admin)
    ticket = _submitted(session, rita)
    tickets.approve_ticket(session, admin, ticket.id)
    tickets.change_status(session, admin, ticket.id, TicketStatus.RESOLVED.value)
    session.commit()
    clock.advance(days=8)
    imap.append(box.username, mail(rita.email, f"Re: [{ticket.ticket_number}] Resolved", "Thanks, all good now."))
    poll(clean_db, box)
    session.expire_all()
    assert session.get(Ticket, ticket.id).status == TicketStatus.RESOLVED.value
    (row,) = log_rows(session, box)
    assert row.outcome == O.COMMENT_ADDED and "reopen window has passed" in row.reason


def test_staff_reply_comments_as_staff_and_is_the_first_response(session, imap, admin, rita, clean_db):
    box = new_mailbox(session, imap, admin)
    ticket = _submitted(session, rita)
    imap.append(box.username, mail(admin.email, f"Re: [{ticket.ticket_number}]", "Please restart the monitor."))
    poll(clean_db, box)
    session.expire_all()
    assert session.get(Ticket, ticket.id).first_response_at is not None
    assert session.scalars(select(TicketComment.user_id)).one() == admin.id


def test_a_coordinator_replying_on_their_own_request_elsewhere_is_its_requester_not_staff(
    session, imap, admin, clean_db
):
    fin = make_employee(session, role=Role.COORDINATOR, department="Finance", email="fin@example.com")
    session.commit()
    box = new_mailbox(session, imap, admin)
    ticket = _submitted(session, fin)  # category Others: the Operations department
    imap.append(box.username, mail(fin.email, f"Re: [{ticket.ticket_number}]", "Any news on this one?"))
    poll(clean_db, box)
    session.expire_all()
    assert session.scalars(select(TicketComment.user_id)).one() == fin.id
    assert session.get(Ticket, ticket.id).first_response_at is None  # not a staff response


def test_a_ticket_the_sender_cannot_see_is_refused_with_a_bounce(session, imap, admin, rita, clean_db):
    box = new_mailbox(session, imap, admin)
    ticket = _submitted(session, rita)
    make_employee(session, department="Sales", email="otto@example.com")
    session.commit()
    imap.append(box.username, mail("otto@example.com", f"Re: [{ticket.ticket_number}]", "I want to read this."))
    poll(clean_db, box)
    assert session.scalar(select(func.count()).select_from(TicketComment)) == 0
    (row,) = log_rows(session, box)
    assert row.outcome == O.REFUSED and row.bounced and "not one of the tickets you can see" in row.reason
    (bounce,) = outbox(session, "inbound_refused")
    assert bounce.recipient_email == "otto@example.com" and ticket.subject not in bounce.body


# --- refusals, bounces and machines -------------------------------------------------------------


def test_unknown_sender_gets_one_bounce_per_hour_seen_at_the_sink(session, imap, admin, clean_db, sink: SmtpSink):
    box = new_mailbox(session, imap, admin)
    imap.append(box.username, mail("stranger@elsewhere.org", "Give me access please", "Hello, I need VPN access."))
    imap.append(box.username, mail("stranger@elsewhere.org", "Second try at access", "Hello again, still need it."))
    poll(clean_db, box)
    first, second = log_rows(session, box)
    assert (first.outcome, first.bounced) == (O.REFUSED, True)
    assert (second.outcome, second.bounced) == (O.REFUSED, False)  # the per-address limit
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0
    make_worker(clean_db, smtp_settings(sink.port)).run(once=True)
    (delivered,) = [d for d in sink.messages if d.rcpt_tos == ["stranger@elsewhere.org"]]
    assert "Give me access please" in delivered.message["Subject"]
    assert delivered.message["Auto-Submitted"] == "auto-generated"  # our bounce never triggers their auto-reply
    assert "does not belong to a SmartSupport account" in delivered.part("plain")


@pytest.mark.parametrize("status", [AccountStatus.SUSPENDED, AccountStatus.PENDING])
def test_inactive_accounts_are_refused(session, imap, admin, clean_db, status):
    box = new_mailbox(session, imap, admin)
    make_employee(session, email="sam@example.com", status=status)
    session.commit()
    imap.append(box.username, mail("sam@example.com", "Please reset my password", "I cannot log in any more."))
    poll(clean_db, box)
    (row,) = log_rows(session, box)
    assert row.outcome == O.REFUSED and row.bounced and "account is" in row.reason
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0


@pytest.mark.parametrize(
    "headers",
    [{"Auto_Submitted": "auto-replied"}, {"Precedence": "bulk"}, {"X_Autoreply": "yes"},
     {"List_Id": "<news.example.com>"}, {"Return_Path": "<>"}],
)
def test_auto_replies_and_bulk_mail_are_ignored_without_answer(session, imap, admin, rita, clean_db, headers):
    box = new_mailbox(session, imap, admin)
    imap.append(box.username, mail(rita.email, "Out of office: Printer", "I am away until Monday.", **headers))
    poll(clean_db, box)
    (row,) = log_rows(session, box)
    assert row.outcome == O.IGNORED and not row.bounced
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0
    assert session.scalar(select(func.count()).select_from(EmailNotification)) == 0


def test_mailer_daemon_is_never_answered(session, imap, admin, clean_db):
    box = new_mailbox(session, imap, admin)
    imap.append(box.username, mail("MAILER-DAEMON@mx.example.com", "Undelivered Mail Returned", "It bounced."))
    poll(clean_db, box)
    assert log_rows(session, box)[0].outcome == O.IGNORED
    assert session.scalar(select(func.count()).select_from(EmailNotification)) == 0


def test_auto_reply_loop_is_refused(session, imap, admin, rita, clean_db, sink: SmtpSink):
    """A stranger's auto-responder answers our bounce: the answer is ignored, so the loop ends
    after one bounce."""
    box = new_mailbox(session, imap, admin)
    imap.append(box.username, mail("robot@elsewhere.org", "Question about invoices", "Where is my invoice?"))
    poll(clean_db, box)
    make_worker(clean_db, smtp_settings(sink.port)).run(once=True)
    (bounce,) = sink.messages
    auto = mail("robot@elsewhere.org", "Auto: " + bounce.message["Subject"], "I am out of the office.",
                Auto_Submitted="auto-replied", In_Reply_To=bounce.message["Message-ID"])
    imap.append(box.username, auto)
    poll(clean_db, box)
    rows = log_rows(session, box)
    assert [r.outcome for r in rows] == [O.REFUSED, O.IGNORED]
    assert session.scalar(select(func.count()).select_from(EmailNotification)) == 1


def test_no_text_is_refused(session, imap, admin, rita, clean_db):
    box = new_mailbox(session, imap, admin)
    imap.append(box.username, mail(rita.email, "Printer again", "-- \nRita, Sales"))
    poll(clean_db, box)
    (row,) = log_rows(session, box)
    assert row.outcome == O.REFUSED and "no text" in row.reason


def _docx_bomb() -> bytes:
    """A docx whose document part is 200 MB of zeros deflated to about 200 KB."""
    buf = io.BytesIO()
    ct = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        types = f'<Types><Override PartName="/word/document.xml" ContentType="{ct}"/></Types>'
        zf.writestr("[Content_Types].xml", types)
        zf.writestr("word/document.xml", b"\0" * (200 * 1024 * 1024))
    return buf.getvalue()


@pytest.mark.parametrize(
    ("filename", "content", "ctype", "expected"),
    [
        ("page.html", b"<html><script>alert(1)</script></html>", "text/html", "File type not allowed"),
        ("tool.exe", b"MZ\x90\x00" + b"\x00" * 64, "application/octet-stream", "File type not allowed"),
        ("big.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 + 1), "application/pdf", "cannot exceed 10MB"),
        ("report.docx", None, "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         upload_check.MSG_ZIP_BOMB[:30]),
    ],
    ids=["html", "exe", "oversize", "zip-bomb"],
)
def test_refused_attachments_create_nothing(session, imap, admin, rita, clean_db, filename, content, ctype, expected):
    box = new_mailbox(session, imap, admin)
    content = _docx_bomb() if content is None else content
    imap.append(box.username, mail(rita.email, "Report attached here", "See the attached file please.",
                                   files=[("ok.png", PNG, "image/png"), (filename, content, ctype)]))
    poll(clean_db, box)
    (row,) = log_rows(session, box)
    assert row.outcome == O.REFUSED and row.bounced and filename in row.reason and expected in row.reason
    for model in (Ticket, TicketAttachment, AuditLog):
        assert session.scalar(select(func.count()).select_from(model).where(
            True if model is not AuditLog else AuditLog.table_name != "core_inboundmailbox")) == 0
    assert [r.template_name for r in session.scalars(select(EmailNotification))] == ["inbound_refused"]


# --- exactly once -------------------------------------------------------------------------------

KILLER = """
import os, signal, sys
from smartsupport_core import db, inbound
hooks = inbound.Hooks(before_commit=lambda uid: os.kill(os.getpid(), signal.SIGKILL))
inbound.poll_mailbox(db.get_engine(), int(sys.argv[1]), hooks=hooks)
"""


def test_a_worker_killed_between_fetch_and_commit_leaves_nothing_and_the_rerun_processes_once(
    session, imap, admin, rita, clean_db
):
    box = new_mailbox(session, imap, admin)
    imap.append(box.username, mail(rita.email, "Killed worker test", "The scanner is offline again."))
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    done = subprocess.run([sys.executable, "-c", KILLER, str(box.id)], env=env, capture_output=True, timeout=60)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0
    assert session.scalar(select(func.count()).select_from(InboundMessage)) == 0
    assert session.scalar(select(func.count()).select_from(EmailNotification)) == 0
    assert not any("\\Seen" in f for f in imap.flags(box.username).values())  # fetched with BODY.PEEK

    assert poll(clean_db, box).processed == 1
    assert poll(clean_db, box).processed == 0
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    assert session.scalar(select(func.count()).select_from(InboundMessage)) == 1


def test_the_unique_key_refuses_a_second_processing(session, imap, admin, rita, clean_db):
    box = new_mailbox(session, imap, admin)
    raw = mail(rita.email, "Processed twice?", "The badge reader at door 3 is dead.")
    assert inbound.process_message(session, box, 7, 42, raw) is not None
    session.commit()
    assert inbound.process_message(session, box, 7, 42, raw) is None
    session.commit()
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_the_same_message_id_in_two_mailboxes_makes_one_ticket(session, imap, admin, rita, clean_db):
    one, two = new_mailbox(session, imap, admin), new_mailbox(session, imap, admin)
    raw = mail(rita.email, "Sent to both mailboxes", "The projector in room 4 has no signal.")
    imap.append(one.username, raw)
    imap.append(two.username, raw)
    inbound.poll_all(clean_db)
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    outcomes = sorted(r.outcome for r in session.scalars(select(InboundMessage)))
    assert outcomes == sorted([O.TICKET_CREATED, O.IGNORED])


def test_two_workers_polling_at_once_process_each_message_once(session, imap, admin, rita, clean_db):
    boxes = [new_mailbox(session, imap, admin) for _ in range(2)]
    for box in boxes:
        for n in range(4):
            imap.append(box.username, mail(rita.email, f"Concurrent {box.id}-{n}", f"Message number {n} here."))
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                inbound.poll_all(clean_db)
        except BaseException as exc:  # re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    subjects = list(session.scalars(select(Ticket.subject)))
    assert sorted(subjects) == sorted(f"Concurrent {b.id}-{n}" for b in boxes for n in range(4))


# --- mailboxes ----------------------------------------------------------------------------------


@pytest.mark.parametrize("broken", ["password", "port"])
def test_a_broken_mailbox_does_not_stop_another(session, imap, admin, rita, clean_db, broken):
    from tests.smtp_sink import free_port

    bad = new_mailbox(session, imap, admin, name="A broken one", **(
        {"password": "wrong"} if broken == "password" else {"port": free_port()}))
    good = new_mailbox(session, imap, admin, name="B good one")
    imap.append(good.username, mail(rita.email, "Good mailbox works", "The kitchen sink is leaking."))
    results = {r.name: r for r in inbound.poll_all(clean_db)}
    assert results["A broken one"].status == "error" and results["B good one"].processed == 1
    session.expire_all()
    bad = session.get(InboundMailbox, bad.id)
    assert bad.last_error and bad.last_error_at is not None and bad.last_success_at is None
    assert session.scalars(select(Ticket.subject)).one() == "Good mailbox works"


def test_worker_job_polls_due_mailboxes(session, imap, admin, rita, clean_db):
    from smartsupport_core import jobs

    box = new_mailbox(session, imap, admin)
    imap.append(box.username, mail(rita.email, "Through the worker job", "The lift on floor 3 is stuck."))
    import datetime as dt

    result = jobs.run_job_if_due(clean_db, jobs.REGISTRY["inbound_mail"], dt.datetime.now(dt.UTC))
    assert result.outcome == "ran" and "1 processed" in result.detail, result
    again = jobs.run_job_if_due(clean_db, jobs.REGISTRY["inbound_mail"], dt.datetime.now(dt.UTC))
    assert again.detail == ""  # polled a moment ago: not due yet
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1
