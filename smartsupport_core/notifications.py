"""Outbox: notification e-mails are rows of `core_emailnotification`, written in the
transaction of the change that causes them, and sent later by `smartsupport worker`.

Callers use `queue(...)` with a template name from `email_templates.TEMPLATES`; the
rendered subject and body are stored with the template data so the outbox page shows
exactly what goes out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .email_templates import render
from .models import EmailNotification, Employee
from .vocab import AccountStatus, Role


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
    from .email_templates import TEMPLATES

    spec = TEMPLATES[template]
    if isinstance(to, Employee):
        if not spec.essential and to.mute_non_essential:
            return None
        recipient = to.email
    else:
        recipient = to
    subject, body, html = render(template, data)
    row = EmailNotification(
        recipient_email=recipient,
        subject=subject[:255],
        body=body,
        html_body=html,
        template_name=template,
        template_data=dict(data),
        related_ticket_id=ticket_id,
        triggered_by_id=actor.id if actor is not None else None,
    )
    session.add(row)
    return row


def active_admins(session: Session) -> list[Employee]:
    return list(
        session.scalars(
            select(Employee).where(
                Employee.role == Role.ADMIN.value,
                Employee.status == AccountStatus.APPROVED.value,
                Employee.is_active.is_(True),
            )
        )
    )


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
