"""The admin's view of the outbox: list and filter messages, and send them again.

Reading needs `VIEW_OUTBOX`, resending `RESEND_EMAIL` (both admins only: e-mail bodies hold
ticket text of every department). A resend puts the row back to `queued`, due now, with
`attempts` reset — the worker then treats it as a new message. A row that is `sending`
right now cannot be resent (that could deliver it twice); everything is checked before
anything changes, and each resent row is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit
from .email_templates import TEMPLATES
from .errors import ValidationError
from .models import EmailNotification, Employee
from .policy import Action, require
from .vocab import AuditAction, EmailStatus

MAX_ROWS = 1000


@dataclass(frozen=True)
class OutboxFilter:
    status: str | None = None
    recipient: str | None = None  # substring, case-insensitive
    template: str | None = None
    date_from: dt.date | None = None  # created on or after (UTC date)
    date_to: dt.date | None = None  # created on or before (UTC date)
    limit: int = 200


def _validate(f: OutboxFilter) -> None:
    errors: dict[str, str] = {}
    if f.status is not None and f.status not in {s.value for s in EmailStatus}:
        errors["status"] = "must be one of " + ", ".join(s.value for s in EmailStatus)
    if f.template is not None and f.template not in TEMPLATES:
        errors["template"] = "must be one of the notification templates"
    if f.recipient is not None and len(f.recipient) > 254:
        errors["recipient"] = "must be at most 254 characters"
    if f.date_from and f.date_to and f.date_from > f.date_to:
        errors["date_to"] = "must be on or after the start date"
    if not 1 <= f.limit <= MAX_ROWS:
        errors["limit"] = f"must be between 1 and {MAX_ROWS}"
    if errors:
        raise ValidationError(errors)


def list_messages(session: Session, actor: Employee, flt: OutboxFilter | None = None) -> list[EmailNotification]:
    """Newest first, filtered; raises ValidationError naming each bad filter."""
    require(actor, Action.VIEW_OUTBOX)
    f = flt or OutboxFilter()
    _validate(f)
    stmt = select(EmailNotification)
    if f.status:
        stmt = stmt.where(EmailNotification.status == f.status)
    if f.recipient and f.recipient.strip():
        needle = f.recipient.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(func.lower(EmailNotification.recipient_email).like(f"%{needle}%", escape="\\"))
    if f.template:
        stmt = stmt.where(EmailNotification.template_name == f.template)
    if f.date_from:
        start = dt.datetime.combine(f.date_from, dt.time.min, tzinfo=dt.UTC)
        stmt = stmt.where(EmailNotification.created_at >= start)
    if f.date_to:
        end = dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        stmt = stmt.where(EmailNotification.created_at < end)
    stmt = stmt.order_by(EmailNotification.created_at.desc(), EmailNotification.id.desc()).limit(f.limit)
    return list(session.scalars(stmt))


def status_counts(session: Session, actor: Employee) -> dict[str, int]:
    """Messages per status (every status present, zero when none)."""
    require(actor, Action.VIEW_OUTBOX)
    rows = session.execute(
        select(EmailNotification.status, func.count()).group_by(EmailNotification.status)
    ).all()
    counts = {s.value: 0 for s in EmailStatus}
    counts.update({status: n for status, n in rows})
    return counts


def resend(session: Session, actor: Employee, ids: Iterable[int]) -> list[EmailNotification]:
    """Queue the given messages again (due now, attempts reset); audited per row."""
    require(actor, Action.RESEND_EMAIL)
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        raise ValidationError({"ids": "choose at least one message to resend"})
    rows = list(
        session.scalars(
            select(EmailNotification).where(EmailNotification.id.in_(wanted)).order_by(EmailNotification.id)
            .with_for_update()
        )
    )
    missing = sorted(set(wanted) - {r.id for r in rows})
    busy = [r.id for r in rows if r.status == EmailStatus.SENDING.value]
    errors: dict[str, str] = {}
    if missing:
        errors["ids"] = "no such message: " + ", ".join(f"#{i}" for i in missing)
    if busy:
        errors["status"] = (
            "being sent right now, resend once it has finished: " + ", ".join(f"#{i}" for i in busy)
        )
    if errors:
        raise ValidationError(errors)
    now = dt.datetime.now(dt.UTC)
    for row in rows:
        old = {"status": row.status, "attempts": row.attempts, "error_message": row.error_message,
               "sent_at": row.sent_at}
        row.status = EmailStatus.QUEUED.value
        row.attempts = 0
        row.error_message = None
        row.sent_at = None
        row.next_attempt_at = now
        audit.record(session, actor, "core_emailnotification", row.id, AuditAction.UPDATE, old,
                     {"status": row.status, "attempts": 0, "error_message": None, "sent_at": None,
                      "resent": True})
    session.flush()
    return rows
