"""The admin's side of inbound e-mail: configure mailboxes, watch them, read the inbound log.

Everything needs `MANAGE_INBOUND_MAIL` (admins). A mailbox's password is encrypted
(`secret_box`) before it is stored, is never returned, and never reaches the audit log: the
audit row says `"credential": "set"` / `"changed"`. The category a mailbox files under must
be one an e-mail can fill: the check is the submit form's own validator
(`ticket_forms.validate_submission`) run with the mailbox's sub-category and fixed field
values, so a category whose form needs a date or cost items is refused with the field named.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit, secret_box
from .errors import NotFound, ValidationError
from .models import Employee, InboundMailbox, InboundMessage, Ticket
from .policy import Action, require
from .ticket_forms import validate_submission
from .vocab import AuditAction, ImapSecurity, InboundOutcome

DEFAULT_PORTS = {ImapSecurity.SSL: 993, ImapSecurity.STARTTLS: 143, ImapSecurity.NONE: 143}
AUDITED = ("name", "host", "port", "security", "username", "folder", "move_to", "category", "sub_category",
           "field_values", "is_active")
_HOST = re.compile(r"^[A-Za-z0-9.\-:\[\]]{1,255}$")
MAX_LOG_ROWS = 1000


@dataclass(frozen=True)
class MailboxForm:
    """What the admin enters; `password` None on an edit keeps the stored one."""

    name: str
    host: str
    port: int | str | None
    security: str
    username: str
    password: str | None
    folder: str = "INBOX"
    move_to: str | None = None
    category: str = ""
    sub_category: str | None = None
    field_values: Mapping[str, Any] | None = None
    is_active: bool = True


def _clean(session: Session, form: MailboxForm, *, creating: bool, own_id: int | None) -> dict[str, Any]:
    """The column values of a valid form; ValidationError naming every bad field (by its label)."""
    errors: dict[str, str] = {}
    name = (form.name or "").strip()
    if not 1 <= len(name) <= 100:
        errors["name"] = "must be 1 to 100 characters"
    elif session.scalar(
        select(InboundMailbox.id).where(
            func.lower(InboundMailbox.name) == name.lower(), InboundMailbox.id != (own_id or -1)
        )
    ):
        errors["name"] = f"another mailbox is already called {name}"
    host = (form.host or "").strip()
    if not _HOST.match(host):
        errors["host"] = "must be a host name or address, e.g. imap.gmail.com"
    try:
        security = ImapSecurity(form.security)
    except ValueError:
        security = None
        errors["security"] = "must be one of: " + ", ".join(s.value for s in ImapSecurity)
    port: int | None = None
    if form.port in (None, "") and security is not None:
        port = DEFAULT_PORTS[security]
    else:
        try:
            port = int(str(form.port).strip())
        except ValueError:
            port = None
        if port is None or not 1 <= port <= 65535:
            errors["port"] = "must be a whole number from 1 to 65535 (993 for SSL/TLS)"
    username = (form.username or "").strip()
    if not 1 <= len(username) <= 254:
        errors["username"] = "is required (for Gmail: the full address)"
    password = form.password if form.password else None
    if creating and not password:
        errors["password"] = "is required (for Gmail: an app password)"
    elif password is not None and len(password) > 1000:
        errors["password"] = "must be at most 1000 characters"
    folder = (form.folder or "").strip() or "INBOX"
    if len(folder) > 255:
        errors["folder"] = "must be at most 255 characters"
    move_to = (form.move_to or "").strip() or None
    if move_to is not None and (len(move_to) > 255 or move_to == folder):
        errors["move_to"] = f"must be another folder than {folder} (or empty to mark mail as read)"
    values = dict(form.field_values or {})
    sample = {**values, "subject": "Inbound mailbox check", "description": "A message sent by e-mail.",
              "category": (form.category or "").strip(), "sub_category": (form.sub_category or "").strip() or None}
    try:
        validate_submission(session, sample)
    except ValidationError as exc:
        for (field, message), (label, text) in zip(exc.errors.items(), exc.labelled(), strict=True):
            if field in ("category", "sub_category"):
                errors[field] = message
            else:  # a field of the category's own form: e-mail cannot give it, the mailbox must
                errors["field_values"] = "; ".join(filter(None, [errors.get("field_values"), f"{label}: {text}"]))
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "host": host,
        "port": port,
        "security": security.value if security else None,
        "username": username,
        "folder": folder,
        "move_to": move_to,
        "category": sample["category"],
        "sub_category": sample["sub_category"],
        "field_values": {k: v for k, v in values.items() if v not in (None, "")},
        "is_active": bool(form.is_active),
        "_password": password,
    }


def create_mailbox(session: Session, actor: Employee, form: MailboxForm) -> InboundMailbox:
    require(actor, Action.MANAGE_INBOUND_MAIL)
    values = _clean(session, form, creating=True, own_id=None)
    password = values.pop("_password")
    mailbox = InboundMailbox(**values, password_encrypted=secret_box.encrypt(password))
    session.add(mailbox)
    session.flush()
    audit.record(session, actor, "core_inboundmailbox", mailbox.id, AuditAction.CREATE, None,
                 {**{k: values[k] for k in AUDITED}, "credential": "set"})
    return mailbox


def update_mailbox(session: Session, actor: Employee, mailbox_id: int, form: MailboxForm) -> InboundMailbox:
    """Change a mailbox; an empty password keeps the stored one. A new host, user or folder
    forgets the remembered UIDs (they belong to the old mailbox)."""
    require(actor, Action.MANAGE_INBOUND_MAIL)
    mailbox = session.get(InboundMailbox, mailbox_id, with_for_update=True)
    if mailbox is None:
        raise NotFound(f"Mailbox {mailbox_id} was not found.")
    values = _clean(session, form, creating=False, own_id=mailbox.id)
    password = values.pop("_password")
    old, new = audit.changes(mailbox, list(AUDITED), values)
    if password is not None:
        mailbox.password_encrypted = secret_box.encrypt(password)
        old["credential"], new["credential"] = "set", "changed"
    if any(k in new for k in ("host", "port", "username", "folder")):
        mailbox.uidvalidity = mailbox.last_uid = None
    for key in AUDITED:
        setattr(mailbox, key, values[key])
    if not new:
        return mailbox
    mailbox.updated_at = dt.datetime.now(dt.UTC)
    audit.record(session, actor, "core_inboundmailbox", mailbox.id, AuditAction.UPDATE, old, new)
    session.flush()
    return mailbox


def delete_mailbox(session: Session, actor: Employee, mailbox_id: int) -> None:
    """Remove a mailbox and its log (deactivating keeps the log)."""
    require(actor, Action.MANAGE_INBOUND_MAIL)
    mailbox = session.get(InboundMailbox, mailbox_id, with_for_update=True)
    if mailbox is None:
        raise NotFound(f"Mailbox {mailbox_id} was not found.")
    audit.record(session, actor, "core_inboundmailbox", mailbox.id, AuditAction.DELETE,
                 {"name": mailbox.name, "username": mailbox.username}, None)
    session.delete(mailbox)
    session.flush()


@dataclass(frozen=True)
class MailboxStatus:
    """A mailbox as the admin page lists it (never its password)."""

    mailbox: InboundMailbox
    counts: dict[str, int]  # outcome -> messages ever processed

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def list_mailboxes(session: Session, actor: Employee) -> list[MailboxStatus]:
    require(actor, Action.MANAGE_INBOUND_MAIL)
    boxes = list(session.scalars(select(InboundMailbox).order_by(InboundMailbox.name)))
    rows = session.execute(
        select(InboundMessage.mailbox_id, InboundMessage.outcome, func.count())
        .group_by(InboundMessage.mailbox_id, InboundMessage.outcome)
    ).all()
    counts: dict[int, dict[str, int]] = {}
    for mailbox_id, outcome, n in rows:
        counts.setdefault(mailbox_id, {})[outcome] = n
    return [
        MailboxStatus(b, {o.value: counts.get(b.id, {}).get(o.value, 0) for o in InboundOutcome}) for b in boxes
    ]


@dataclass(frozen=True)
class LogEntry:
    message: InboundMessage
    mailbox_name: str
    ticket_number: str | None


def list_log(
    session: Session, actor: Employee, *, mailbox_id: int | None = None, outcome: str | None = None,
    limit: int = 200,
) -> list[LogEntry]:
    """The processed messages, newest first, optionally of one mailbox / one outcome."""
    require(actor, Action.MANAGE_INBOUND_MAIL)
    errors = {}
    if outcome is not None and outcome not in {o.value for o in InboundOutcome}:
        errors["outcome"] = "Outcome must be one of: " + ", ".join(o.value for o in InboundOutcome)
    if not 1 <= limit <= MAX_LOG_ROWS:
        errors["limit"] = f"Rows must be between 1 and {MAX_LOG_ROWS}"
    if errors:
        raise ValidationError(errors)
    stmt = (
        select(InboundMessage, InboundMailbox.name, Ticket.ticket_number)
        .join(InboundMailbox, InboundMailbox.id == InboundMessage.mailbox_id)
        .outerjoin(Ticket, Ticket.id == InboundMessage.ticket_id)
    )
    if mailbox_id is not None:
        stmt = stmt.where(InboundMessage.mailbox_id == mailbox_id)
    if outcome is not None:
        stmt = stmt.where(InboundMessage.outcome == outcome)
    rows = session.execute(stmt.order_by(InboundMessage.processed_at.desc(), InboundMessage.id.desc()).limit(limit))
    return [LogEntry(m, name, number) for m, name, number in rows]
