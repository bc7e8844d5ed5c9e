"""Inbound e-mail: mail to a help-desk mailbox becomes a ticket or a reply, by the
same service functions and rules as the portal.

Processing one message (`process_message`, one transaction):
1. the processed-message row is inserted first (`core_inboundmessage`, unique mailbox +
   UIDVALIDITY + UID): a message already processed is skipped, and a second worker trying the
   same key waits on the unique index and then skips. The ticket or comment, its audit and
   outbox rows, the bounce and the mailbox's `last_uid` commit together with that row, so a
   worker killed between fetch and commit leaves nothing behind and the message is simply
   processed again on the next poll;
2. machine-written mail (auto-replies, bulk, lists, reports, mailer-daemon) and mail failing
   DMARC is ignored: no ticket, no answer (no mail loops, no bounces to forged addresses);
   a Message-ID already processed (the same mail in two mailboxes) is ignored too;
3. the sender must be an approved, active account; a reply is threaded by In-Reply-To /
   References (a Message-ID SmartSupport sent, `core_emailnotification.message_id`) or by
   the `[TKT...]` tag in the subject, and needs the sender to see the ticket
   (`policy.can_see_ticket`); the requester's reply to a Resolved ticket within the reopen
   window reopens it (`tickets.reopen_ticket`) before the comment (`tickets.add_comment`);
4. anything else is a new ticket through `tickets.submit_ticket` with the mailbox's category;
5. every refusal (unknown or inactive sender, unseen ticket, bad attachment, no text, a rule
   of the services) rolls the ticket work back to a savepoint, is logged, and queues one
   polite `inbound_refused` e-mail, at most one per address per `BOUNCE_EVERY`.

Polling (`poll_mailbox`): a session-level advisory lock per mailbox (two workers never poll
the same mailbox at once), IMAP via `imap-tools`, UIDs above `last_uid` while UIDVALIDITY is
unchanged (the first poll, or a new UIDVALIDITY, takes the UNSEEN messages), fetched with
BODY.PEEK and flagged \\Seen (or moved to `move_to`) only after the commit. A failing
mailbox stores its error and time and never stops the others (`poll_all`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import ssl
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted, MailMessage
from imap_tools.consts import MailMessageFlags
from sqlalchemy import Engine, case, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from . import notifications, secret_box, tickets
from .email_templates import ticket_link
from .errors import DomainError, ValidationError
from .inbound_parse import InboundMail, parse
from .mailer import envelope_sender
from .models import EmailNotification, Employee, InboundBounce, InboundMailbox, InboundMessage, Ticket
from .policy import can_see_ticket, is_active_account
from .settings import get_settings
from .vocab import AccountStatus, ImapSecurity, InboundOutcome, TicketStatus

log = logging.getLogger("smartsupport.inbound")

Outcome = InboundOutcome
BOUNCE_EVERY = dt.timedelta(hours=1)
#: At most this many messages per mailbox per poll (the rest come next time).
MAX_PER_POLL = 200
#: Messages fetched per IMAP command (and flagged per command once committed).
FETCH_CHUNK = 10
IMAP_TIMEOUT = 30.0
#: Advisory-lock namespace of the per-mailbox poll lock (with the mailbox id).
LOCK_NAMESPACE = 17017
TICKET_TAG = re.compile(r"\[(TKT\d{10})\]", re.IGNORECASE)
OUTBOX_MESSAGE_ID = re.compile(r"^<smartsupport-outbox-(\d+)@", re.IGNORECASE)
MAX_ERROR_CHARS = 2000

NO_TEXT = "The message has no text (after removing quoted replies and the signature). Write what you need in it."


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Decision:
    """What processing decided for one message (the log row's content)."""

    outcome: InboundOutcome
    reason: str | None = None
    ticket: Ticket | None = None
    sender: Employee | None = None
    bounce: bool = False  # a refusal the sender is told about


class Refused(Exception):
    """A refusal the sender is told about (the message is the bounce's reason)."""


# --- threading ------------------------------------------------------------------------------


def _outbox_ids(refs: Iterable[str]) -> list[int]:
    return [int(m.group(1)) for ref in refs if (m := OUTBOX_MESSAGE_ID.match(ref))]


def find_thread(session: Session, mail: InboundMail) -> tuple[Ticket | None, str | None]:
    """The ticket a message answers, and how it was found ('header' / 'subject'), else (None, None).

    Headers first: In-Reply-To / References naming a Message-ID SmartSupport sent (the stored
    `message_id`, or the id inside `<smartsupport-outbox-ID@...>` for rows sent before it was
    stored). Then the `[TKT...]` tag of the subject."""
    refs = list(mail.refers_to)
    if refs:
        ids = _outbox_ids(refs)
        ticket_id = session.scalar(
            select(EmailNotification.related_ticket_id)
            .where(
                EmailNotification.related_ticket_id.is_not(None),
                or_(EmailNotification.message_id.in_(refs), EmailNotification.id.in_(ids or [-1])),
            )
            .order_by(EmailNotification.id.desc())
            .limit(1)
        )
        if ticket_id is not None:
            ticket = session.get(Ticket, ticket_id)
            if ticket is not None:
                return ticket, "header"
    tag = TICKET_TAG.search(mail.subject or "")
    if tag:
        ticket = session.scalars(select(Ticket).where(Ticket.ticket_number == tag.group(1).upper())).one_or_none()
        return ticket, "subject"
    return None, None


# --- deciding ---------------------------------------------------------------------------------


def _our_addresses(mailbox: InboundMailbox) -> set[str]:
    return {a.lower() for a in (mailbox.username, envelope_sender(get_settings())) if a and "@" in a}


def _duplicate(session: Session, mail: InboundMail, row_id: int) -> bool:
    """Whether the same Message-ID was already processed (e.g. one mail sent to two mailboxes).
    A transaction-level advisory lock on the id serialises two workers seeing it at once."""
    if not mail.message_id:
        return False
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext("inbound:" + mail.message_id))))
    return (
        session.scalar(
            select(InboundMessage.id)
            .where(InboundMessage.message_id == mail.message_id, InboundMessage.id != row_id)
            .limit(1)
        )
        is not None
    )


def _account(session: Session, address: str) -> Employee:
    """The approved, active account of `address`; `Refused` with the reason otherwise."""
    person = session.scalars(select(Employee).where(func.lower(Employee.email) == address)).first()
    if person is None:
        raise Refused(
            f"The address {address} does not belong to a SmartSupport account. Only employees with an "
            "approved account can open tickets or reply by e-mail; register in the portal first."
        )
    if not is_active_account(person):
        state = "deactivated" if not person.is_active else person.status.lower()
        if person.status == AccountStatus.PENDING.value:
            state = "waiting for approval"
        raise Refused(f"Your SmartSupport account is {state}, so e-mail from it cannot open tickets or reply.")
    return person


def _reply(session: Session, person: Employee, ticket: Ticket, mail: InboundMail) -> Decision:
    if not can_see_ticket(person, ticket):
        raise Refused(
            "The ticket your message answers is not one of the tickets you can see. To ask something new, "
            "write a new e-mail without a ticket number in the subject."
        )
    if not mail.text:
        raise Refused(NO_TEXT)
    outcome = Outcome.COMMENT_ADDED
    note = None
    if ticket.status == TicketStatus.RESOLVED.value and person.id == ticket.employee_id:
        _staff, requester = tickets.split_moves(session, person, ticket)
        if TicketStatus.OPEN in requester:
            tickets.reopen_ticket(session, person, ticket.id, note="Reopened by an e-mail reply")
            outcome = Outcome.REOPENED
        else:
            note = "the reopen window has passed, so the ticket stays Resolved"
    tickets.add_comment(session, person, ticket.id, mail.text)
    if mail.attachments:
        tickets.add_attachments(session, person, ticket.id, list(mail.attachments))
    return Decision(outcome, note, ticket, person)


def _new_ticket(session: Session, person: Employee, mailbox: InboundMailbox, mail: InboundMail) -> Decision:
    if not mail.text:
        raise Refused(NO_TEXT)
    data = {
        **(mailbox.field_values or {}),
        "subject": " ".join((mail.subject or "").split())[:200],
        "description": mail.text,
        "category": mailbox.category,
        "sub_category": mailbox.sub_category,
    }
    ticket = tickets.submit_ticket(session, person, data, list(mail.attachments))
    return Decision(Outcome.TICKET_CREATED, None, ticket, person)


def _refusal_text(exc: DomainError) -> str:
    """A service's refusal in words for a bounce, one line per field, as the portal shows it."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    lines = [f"- {line}" for line in exc.lines()]
    if {"subject", "description"} & set(exc.errors):
        lines.append("(The subject is your e-mail's subject; the description is its text.)")
    return "\n".join(lines)


def decide(session: Session, mailbox: InboundMailbox, mail: InboundMail, row_id: int) -> Decision:
    """What to do with one message; ticket work happens in a savepoint that a refusal undoes."""
    if mail.automatic:
        return Decision(Outcome.IGNORED, f"not answered: {mail.automatic}")
    if not mail.sender:
        return Decision(Outcome.IGNORED, "no sender address")
    if mail.sender in _our_addresses(mailbox):
        return Decision(Outcome.IGNORED, "sent from SmartSupport's own address")
    if mail.auth_failure:
        return Decision(Outcome.IGNORED, f"not answered: {mail.auth_failure}")
    if _duplicate(session, mail, row_id):
        return Decision(Outcome.IGNORED, f"duplicate: Message-ID {mail.message_id} was already processed")
    person: Employee | None = None
    savepoint = session.begin_nested()
    try:
        person = _account(session, mail.sender)
        ticket, _how = find_thread(session, mail)
        if ticket is not None:
            decision = _reply(session, person, ticket, mail)
        elif TICKET_TAG.search(mail.subject or ""):
            raise Refused(
                "The ticket number in the subject is not one of the tickets you can see. To ask something new, "
                "write a new e-mail without a ticket number in the subject."
            )
        else:
            decision = _new_ticket(session, person, mailbox, mail)
        savepoint.commit()
        return decision
    except Refused as exc:
        savepoint.rollback()
        return Decision(Outcome.REFUSED, str(exc), None, person, bounce=True)
    except DomainError as exc:
        savepoint.rollback()
        return Decision(Outcome.REFUSED, _refusal_text(exc), None, person, bounce=True)


# --- bounces ------------------------------------------------------------------------------------


def may_bounce(session: Session, address: str, now: dt.datetime) -> bool:
    """Take the address's bounce slot when the last bounce is older than `BOUNCE_EVERY` (atomic)."""
    stmt = (
        insert(InboundBounce)
        .values(address=address, last_sent_at=now)
        .on_conflict_do_update(
            index_elements=[InboundBounce.address],
            set_={"last_sent_at": now},
            where=InboundBounce.last_sent_at <= now - BOUNCE_EVERY,
        )
        .returning(InboundBounce.address)
    )
    return session.scalar(stmt) is not None


def queue_bounce(session: Session, mailbox: InboundMailbox, mail: InboundMail, reason: str, now: dt.datetime) -> bool:
    """Queue the polite refusal through the outbox; False when the per-address limit holds it back."""
    assert mail.sender
    if not may_bounce(session, mail.sender, now):
        return False
    notifications.queue(
        session,
        "inbound_refused",
        to=mail.sender,
        data={
            "subject": mail.subject or "(no subject)",
            "mailbox": mailbox.username,
            "reason": reason,
            "link": ticket_link(None),
        },
    )
    return True


# --- one message --------------------------------------------------------------------------------


def process_message(
    session: Session, mailbox: InboundMailbox, uidvalidity: int, uid: int, raw: bytes, *, now: dt.datetime | None = None
) -> InboundMessage | None:
    """Process one fetched message in the caller's transaction (the caller commits).

    Returns the log row, or None when this mailbox + UIDVALIDITY + UID was processed before."""
    now = now or _now()
    row_id = session.scalar(
        insert(InboundMessage)
        .values(
            mailbox_id=mailbox.id, uidvalidity=uidvalidity, uid=uid, outcome=Outcome.IGNORED.value, processed_at=now
        )
        .on_conflict_do_nothing(constraint="uk_inboundmessage_mailbox_uid")
        .returning(InboundMessage.id)
    )
    if row_id is None:
        return None
    mail = parse(raw)
    decision = decide(session, mailbox, mail, row_id)
    bounced = False
    if decision.bounce and mail.sender:
        bounced = queue_bounce(session, mailbox, mail, decision.reason or "", now)
    return session.scalars(
        update(InboundMessage)
        .where(InboundMessage.id == row_id)
        .values(
            message_id=mail.message_id[:255] if mail.message_id else None,
            sender=(mail.sender or "")[:254] or None,
            subject=(mail.subject or "")[:255] or None,
            outcome=decision.outcome.value,
            reason=decision.reason,
            ticket_id=decision.ticket.id if decision.ticket is not None else None,
            employee_id=decision.sender.id if decision.sender is not None else None,
            bounced=bounced,
        )
        .returning(InboundMessage)
    ).one()


# --- polling ------------------------------------------------------------------------------------


class RawMessage(MailMessage):
    """imap-tools' message that also keeps the raw bytes (we parse them ourselves)."""

    def __init__(self, fetch_data: list) -> None:
        super().__init__(fetch_data)
        self.raw: bytes = self._get_message_data_parts(fetch_data)[0]


def connect(mailbox: InboundMailbox, password: str, *, timeout: float = IMAP_TIMEOUT):
    """A logged-in imap-tools client with `mailbox.folder` selected (TLS verifies the certificate)."""
    security = ImapSecurity(mailbox.security)
    if security is ImapSecurity.SSL:
        client = MailBox(mailbox.host, mailbox.port, timeout=timeout, ssl_context=ssl.create_default_context())
    elif security is ImapSecurity.STARTTLS:
        client = MailBoxStartTls(mailbox.host, mailbox.port, timeout=timeout, ssl_context=ssl.create_default_context())
    else:
        client = MailBoxUnencrypted(mailbox.host, mailbox.port, timeout=timeout)
    client.email_message_class = RawMessage
    try:
        client.login(mailbox.username, password, initial_folder=mailbox.folder)
    except BaseException:
        _close(client)
        raise
    return client


def _close(client) -> None:
    try:
        client.logout()
    except Exception:
        with contextlib.suppress(Exception):
            client.client.shutdown()


@dataclass
class Hooks:
    """Test points: called after a message is fetched and before its transaction commits."""

    after_fetch: Callable[[int], None] = lambda uid: None
    before_commit: Callable[[int], None] = lambda uid: None


@dataclass
class PollResult:
    mailbox_id: int
    name: str
    status: str  # "ok" | "busy" | "error" | "inactive"
    processed: int = 0
    skipped: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    def line(self) -> str:
        if self.status != "ok":
            return f"{self.name}: {self.status}{': ' + self.error if self.error else ''}"
        counts = ", ".join(f"{k} {v}" for k, v in sorted(self.outcomes.items()))
        return f"{self.name}: {self.processed} processed" + (f" ({counts})" if counts else "")


def _describe_error(exc: BaseException) -> str:
    text_ = f"{type(exc).__name__}: {exc}"
    return " ".join(text_.split())[:MAX_ERROR_CHARS]


def _set_status(engine: Engine, mailbox_id: int, now: dt.datetime, error: str | None) -> None:
    values: dict[str, object] = {"last_poll_at": now}
    if error is None:
        values.update(last_success_at=now, last_error=None, last_error_at=None)
    else:
        values.update(last_error=error, last_error_at=now)
    with engine.begin() as conn:
        conn.execute(update(InboundMailbox).where(InboundMailbox.id == mailbox_id).values(**values))


def _folder_status(client) -> tuple[int, int]:
    """(UIDVALIDITY, UIDNEXT) of the selected folder."""
    status = client.folder.status(client.folder.get(), ["UIDVALIDITY", "UIDNEXT"])
    return int(status["UIDVALIDITY"]), int(status["UIDNEXT"])


def fresh_start(mailbox: InboundMailbox, uidvalidity: int) -> bool:
    """No UID remembered for this UIDVALIDITY (the first poll, or the folder was rebuilt)."""
    return mailbox.uidvalidity != uidvalidity or mailbox.last_uid is None


def _pending_uids(client, mailbox: InboundMailbox, uidvalidity: int) -> list[int]:
    """UIDs to process: above `last_uid` while UIDVALIDITY holds; UNSEEN ones on a fresh start."""
    if not fresh_start(mailbox, uidvalidity):
        assert mailbox.last_uid is not None
        found = client.uids(f"UID {mailbox.last_uid + 1}:*")
        uids = [int(u) for u in found if int(u) > mailbox.last_uid]  # "n:*" always matches the last one
    else:
        uids = [int(u) for u in client.uids("UNSEEN")]
    return sorted(uids)[:MAX_PER_POLL]


def _mark_done(client, mailbox: InboundMailbox, uids: list[int]) -> None:
    """Flag processed messages \\Seen (or move them). Only a courtesy for people reading the
    mailbox: what was processed is decided by the database (`last_uid`, the log's key)."""
    if mailbox.move_to:
        client.move([str(u) for u in uids], mailbox.move_to)
    else:
        client.flag([str(u) for u in uids], MailMessageFlags.SEEN, True)


def _process_one(engine: Engine, mailbox: InboundMailbox, uidvalidity: int, uid: int, raw: bytes, hooks: Hooks,
                 now: dt.datetime, result: PollResult) -> InboundMessage | None:
    """Process one fetched message and count it in `result`; a message that breaks processing
    is recorded (`_record_failure`) instead of stopping the mailbox. A database error stops
    the poll (nothing is lost: the message comes again next time)."""
    try:
        row = _process_fetched(engine, mailbox, uidvalidity, uid, raw, hooks, now)
    except DBAPIError:
        raise
    except Exception as exc:
        log.exception("inbound message %s of mailbox %s could not be processed", uid, mailbox.name)
        _record_failure(engine, mailbox.id, uidvalidity, uid, _describe_error(exc), now)
        result.outcomes["failed"] = result.outcomes.get("failed", 0) + 1
        result.skipped += 1
        return None
    mailbox.uidvalidity, mailbox.last_uid = uidvalidity, uid
    if row is None:
        result.skipped += 1
    else:
        result.processed += 1
        result.outcomes[row.outcome] = result.outcomes.get(row.outcome, 0) + 1
    return row


def _record_failure(engine: Engine, mailbox_id: int, uidvalidity: int, uid: int, error: str, now: dt.datetime) -> None:
    """A message that breaks processing (not a refusal: a bug or unreadable bytes) is logged as
    refused without an answer and passed over, so it cannot block its mailbox for ever."""
    with Session(engine) as s:
        s.execute(
            insert(InboundMessage)
            .values(mailbox_id=mailbox_id, uidvalidity=uidvalidity, uid=uid, outcome=Outcome.REFUSED.value,
                    reason=f"could not be processed: {error}", processed_at=now)
            .on_conflict_do_nothing(constraint="uk_inboundmessage_mailbox_uid")
        )
        _advance(s, mailbox_id, uidvalidity, uid)
        s.commit()


def _advance(session: Session, mailbox_id: int, uidvalidity: int, uid: int) -> None:
    """Remember `uid` as processed (a new UIDVALIDITY starts the count again: old numbers mean nothing)."""
    same = InboundMailbox.uidvalidity == uidvalidity
    session.execute(
        update(InboundMailbox)
        .where(InboundMailbox.id == mailbox_id)
        .values(
            uidvalidity=uidvalidity,
            last_uid=case((same, func.greatest(func.coalesce(InboundMailbox.last_uid, 0), uid)), else_=uid),
        )
    )


def _process_fetched(engine: Engine, mailbox: InboundMailbox, uidvalidity: int, uid: int, raw: bytes,
                     hooks: Hooks, now: dt.datetime) -> InboundMessage | None:
    """One message, one transaction: the log row, the ticket work, the bounce and `last_uid`.
    `mailbox` is the poller's detached copy (it holds the mailbox's lock)."""
    with Session(engine, expire_on_commit=False) as s:
        row = process_message(s, mailbox, uidvalidity, uid, raw, now=now)
        _advance(s, mailbox.id, uidvalidity, uid)
        hooks.before_commit(uid)
        s.commit()
        return row


def poll_mailbox(
    engine: Engine, mailbox_id: int, *, now: dt.datetime | None = None, hooks: Hooks | None = None
) -> PollResult:
    """Fetch and process the mailbox's new messages (see the module doc). Never raises for
    IMAP or message trouble: the error is stored on the mailbox and returned."""
    hooks = hooks or Hooks()
    now = now or _now()
    with engine.connect() as lock_conn:
        locked = lock_conn.scalar(select(func.pg_try_advisory_lock(LOCK_NAMESPACE, mailbox_id)))
        lock_conn.commit()
        if not locked:
            return PollResult(mailbox_id, f"mailbox {mailbox_id}", "busy")
        try:
            return _poll_locked(engine, mailbox_id, now, hooks)
        finally:
            lock_conn.execute(select(func.pg_advisory_unlock(LOCK_NAMESPACE, mailbox_id)))
            lock_conn.commit()


def _poll_locked(engine: Engine, mailbox_id: int, now: dt.datetime, hooks: Hooks) -> PollResult:
    with Session(engine, expire_on_commit=False) as s:
        mailbox = s.get(InboundMailbox, mailbox_id)
        if mailbox is None:
            return PollResult(mailbox_id, f"mailbox {mailbox_id}", "inactive", error="deleted")
        s.expunge(mailbox)
    result = PollResult(mailbox.id, mailbox.name, "ok")
    if not mailbox.is_active:
        result.status = "inactive"
        return result
    client = None
    try:
        client = connect(mailbox, secret_box.decrypt(mailbox.password_encrypted))
        uidvalidity, uidnext = _folder_status(client)
        fresh = fresh_start(mailbox, uidvalidity)
        if mailbox.move_to and not client.folder.exists(mailbox.move_to):
            client.folder.create(mailbox.move_to)  # where processed mail goes; made once
        pending = _pending_uids(client, mailbox, uidvalidity)
        for start in range(0, len(pending), FETCH_CHUNK):
            done: list[int] = []
            chunk = [str(uid) for uid in pending[start : start + FETCH_CHUNK]]
            try:
                for fetched in client.fetch(uid_list=chunk, mark_seen=False, bulk=True):
                    uid = int(fetched.uid or 0)
                    hooks.after_fetch(uid)
                    _process_one(engine, mailbox, uidvalidity, uid, fetched.raw, hooks, now, result)
                    done.append(uid)
            finally:
                if done:  # committed: now mark them read (or move them), one IMAP command per chunk
                    _mark_done(client, mailbox, done)
        if fresh and len(pending) < MAX_PER_POLL:
            # Every unread message there was at the start is processed, the read ones are left
            # alone: from now on, everything above the UIDNEXT seen at the start is new.
            with Session(engine) as s:
                _advance(s, mailbox.id, uidvalidity, uidnext - 1)
                s.commit()
    except Exception as exc:
        result.status, result.error = "error", _describe_error(exc)
        log.warning("inbound mailbox %s: %s", mailbox.name, result.error)
    finally:
        if client is not None:
            _close(client)
    _set_status(engine, mailbox.id, now, result.error)
    return result


def due_mailboxes(session: Session, now: dt.datetime, every: dt.timedelta | None) -> list[int]:
    """Active mailboxes, least recently polled first; with `every`, only those due."""
    stmt = select(InboundMailbox.id).where(InboundMailbox.is_active.is_(True))
    if every is not None:
        stmt = stmt.where(or_(InboundMailbox.last_poll_at.is_(None), InboundMailbox.last_poll_at <= now - every))
    return list(session.scalars(stmt.order_by(InboundMailbox.last_poll_at.asc().nullsfirst(), InboundMailbox.id)))


def poll_all(engine: Engine, *, now: dt.datetime | None = None, every: dt.timedelta | None = None,
             hooks: Hooks | None = None) -> list[PollResult]:
    """Poll every active (due) mailbox; one failing mailbox never stops the others."""
    now = now or _now()
    with Session(engine) as s:
        ids = due_mailboxes(s, now, every)
    results = []
    for mailbox_id in ids:
        try:
            results.append(poll_mailbox(engine, mailbox_id, now=now, hooks=hooks))
        except DBAPIError:
            raise
        except Exception as exc:  # pragma: no cover - poll_mailbox stores its own errors
            results.append(PollResult(mailbox_id, f"mailbox {mailbox_id}", "error", error=_describe_error(exc)))
    return results


def poll_job(session: Session, now: dt.datetime) -> str | None:
    """The worker's periodic job: poll the mailboxes due (SMARTSUPPORT_INBOUND_POLL_SECONDS).

    Runs in every worker (a non-exclusive job): mailboxes are shared out by their advisory
    locks, so two workers poll two mailboxes at once and never one mailbox twice."""
    every = dt.timedelta(seconds=get_settings().inbound_poll_seconds)
    engine = session.get_bind()
    results = poll_all(engine, now=now, every=every)  # type: ignore[arg-type]
    return "; ".join(r.line() for r in results) if results else None
