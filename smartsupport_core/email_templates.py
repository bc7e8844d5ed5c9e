"""Notification templates: subject, plain-text body and HTML body per template name.

Template data are plain JSON values (names, numbers, text); the HTML part escapes every
value, so ticket text containing markup arrives as text. `link` is built from
`SMARTSUPPORT_BASE_URL` by `ticket_link`.
"""

from __future__ import annotations

import html
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .settings import get_settings


@dataclass(frozen=True)
class Template:
    subject: str
    body: str
    essential: bool = True  # account/security and decisions; muted users still get these


TEMPLATES: dict[str, Template] = {
    "account_registered": Template(
        "New account awaiting approval: {name}",
        "{name} ({email}, {company_id}, {department}) registered and is waiting for approval.\n\n"
        "Review pending accounts: {link}",
    ),
    "account_approved": Template(
        "Your SmartSupport account is approved",
        "Hello {first_name},\n\nyour account has been approved. You can sign in now: {link}",
    ),
    "account_rejected": Template(
        "Your SmartSupport registration was not approved",
        "Hello {first_name},\n\nyour registration was not approved.\nReason: {reason}",
    ),
    "account_suspended": Template(
        "Your SmartSupport account is suspended",
        "Hello {first_name},\n\nyour account has been suspended.\nReason: {reason}",
    ),
    "account_reactivated": Template(
        "Your SmartSupport account is active again",
        "Hello {first_name},\n\nyour account has been reactivated. You can sign in: {link}",
    ),
    "account_changed": Template(
        "Your SmartSupport account was updated",
        "Hello {first_name},\n\nan administrator changed your account: {change}.",
    ),
    "ticket_submitted": Template(
        "[{ticket_number}] Ticket received: {subject}",
        'Hello {first_name},\n\nwe received your ticket {ticket_number} "{subject}". '
        "It will be reviewed shortly.\n\nFollow it here: {link}",
    ),
    "ticket_awaiting_approval": Template(
        "[{ticket_number}] New ticket awaiting approval: {subject}",
        '{requester} submitted {ticket_number} "{subject}" ({category}, {priority}) for {department}.\n\n'
        "Open or reject it: {link}",
    ),
    "ticket_opened": Template(
        "[{ticket_number}] Your ticket is being handled",
        'Hello {first_name},\n\nyour ticket {ticket_number} "{subject}" was accepted.\n\n{link}',
    ),
    "ticket_rejected": Template(
        "[{ticket_number}] Your ticket was rejected",
        'Hello {first_name},\n\nyour ticket {ticket_number} "{subject}" was rejected.\nReason: {reason}\n\n{link}',
    ),
    "ticket_assigned": Template(
        "[{ticket_number}] Assigned to you: {subject}",
        'Hello {first_name},\n\nticket {ticket_number} "{subject}" ({priority}) is assigned to you.\n\n{link}',
    ),
    "ticket_status_changed": Template(
        "[{ticket_number}] Status changed to {status}",
        'Hello {first_name},\n\nthe status of {ticket_number} "{subject}" is now {status}.\n\n{link}',
        essential=False,
    ),
    "ticket_comment": Template(
        "[{ticket_number}] New reply: {subject}",
        "Hello {first_name},\n\n{author} wrote on {ticket_number}:\n\n{comment}\n\n{link}",
        essential=False,
    ),
    "ticket_requester_replied_on_hold": Template(
        "[{ticket_number}] Requester replied to a ticket on hold",
        'Hello {first_name},\n\n{author} replied on {ticket_number} "{subject}", which is On Hold:\n\n'
        "{comment}\n\n{link}",
    ),
    "ticket_resolved": Template(
        "[{ticket_number}] Resolved: {subject}",
        'Hello {first_name},\n\nyour ticket {ticket_number} "{subject}" was resolved.\n\n'
        "If the problem is not solved, reopen it from the ticket page within {reopen_days} days; "
        "otherwise it closes itself. You can also rate how we did: {link}",
    ),
    "ticket_closed": Template(
        "[{ticket_number}] Closed: {subject}",
        'Hello {first_name},\n\nyour ticket {ticket_number} "{subject}" is closed.\n\n{link}',
    ),
    "sla_weekly_summary": Template(
        "Weekly SLA summary for {department}",
        "{summary}",
    ),
}


class _Lenient(dict):
    """Missing keys render as empty text rather than breaking a notification."""

    def __missing__(self, key: str) -> str:
        return ""


def ticket_link(ticket_id: int | None) -> str:
    base = get_settings().base_url
    return f"{base}/ticket?id={ticket_id}" if ticket_id is not None else base


def render(template: str, data: Mapping[str, Any]) -> tuple[str, str, str]:
    """(subject, plain body, HTML body) of a template with `data`."""
    spec = TEMPLATES[template]
    values = _Lenient({k: "" if v is None else v for k, v in data.items()})
    fmt = string.Formatter()
    subject = fmt.vformat(spec.subject, (), values).replace("\n", " ")
    body = fmt.vformat(spec.body, (), values)
    escaped = _Lenient({k: html.escape(str(v)) for k, v in values.items()})
    html_body = fmt.vformat(spec.body, (), escaped).replace("\n", "<br>\n")
    html_doc = (
        '<!doctype html><html><body style="font-family:sans-serif">'
        f"<p>{html_body}</p><hr><small>SmartSupport help desk</small></body></html>"
    )
    return subject, body, html_doc
