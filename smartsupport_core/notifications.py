"""Outbox: notification e-mails are rows of `core_emailnotification`, written in the
transaction of the change that causes them, and sent later by `smartsupport worker`.

Callers use `queue(...)` with a template name from `email_templates.TEMPLATES`; the
rendered subject and body are stored with the template data so the outbox page shows
exactly what goes out. Because the row commits or rolls back with the change, a change is
never announced without happening, and never happens without its e-mail.

Muting: an employee with `mute_non_essential` gets no non-essential messages (status
changes, replies); account, security and decision mails are always queued. The employee
sets it with `set_notification_preference` (profile page).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from . import audit
from .email_templates import TEMPLATES, render
from .errors import NotFound, ValidationError
from .models import EmailNotification, Employee
from .policy import Action, require
from .vocab import AccountStatus, AuditAction, Role


def queue(
    session: Session,
    template: str,
    *,
    to: Employee | str,
    data: Mapping[str, Any],
    ticket_id: int | None = None,
    actor: Employee | None = None,
) -> EmailNotification | None:
    """Queue one message; returns None when the recipient muted this kind of message."""
    if isinstance(to, Employee):
        if is_muted(to, template):
            return None
        recipient = to.email
    else:
        recipient = to
    row = EmailNotification(recipient_email=recipient, **message_values(template, data, ticket_id, actor))
    session.add(row)
    return row


def message_values(
    template: str, data: Mapping[str, Any], ticket_id: int | None = None, actor: Employee | None = None
) -> dict[str, Any]:
    """The column values of an outbox row but its recipient (the same for every recipient)."""
    subject, body, html = render(template, data)
    return {
        "subject": subject[:255],
        "body": body,
        "html_body": html,
        "template_name": template,
        "template_data": dict(data),
        "related_ticket_id": ticket_id,
        "triggered_by_id": actor.id if actor is not None else None,
    }


def is_muted(recipient: Employee, template: str) -> bool:
    """True when `recipient` will not be sent `template` (non-essential and muted)."""
    return not TEMPLATES[template].essential and bool(recipient.mute_non_essential)


#: Who `active_admins` returns (also used by statements that address every admin in SQL).
ACTIVE_ADMIN = and_(
    Employee.role == Role.ADMIN.value,
    Employee.status == AccountStatus.APPROVED.value,
    Employee.is_active.is_(True),
)


def active_admins(session: Session) -> list[Employee]:
    return list(session.scalars(select(Employee).where(ACTIVE_ADMIN)))


def queue_many(
    session: Session,
    template: str,
    recipients: Iterable[Employee],
    *,
    data: Mapping[str, Any],
    ticket_id: int | None = None,
    actor: Employee | None = None,
) -> None:
    for person in recipients:
        queue(session, template, to=person, data=data, ticket_id=ticket_id, actor=actor)


def set_notification_preference(session: Session, actor: Employee, mute: bool) -> Employee:
    """Mute (or unmute) the actor's own non-essential e-mails; audited; returns the account.

    Only the actor's own preference: nobody silences someone else's notifications.
    """
    require(actor, Action.MANAGE_OWN_NOTIFICATIONS)
    if not isinstance(mute, bool):
        raise ValidationError({"mute_non_essential": "must be true (mute) or false (receive all e-mails)"})
    employee = session.get(Employee, actor.id, with_for_update=True)
    if employee is None:
        raise NotFound(f"Employee {actor.id} was not found.")
    if employee.mute_non_essential == mute:
        return employee
    old = {"mute_non_essential": employee.mute_non_essential}
    employee.mute_non_essential = mute
    audit.record(session, actor, "core_employee", employee.id, AuditAction.UPDATE, old, {"mute_non_essential": mute})
    session.flush()
    return employee
