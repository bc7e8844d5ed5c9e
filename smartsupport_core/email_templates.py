"""Notification templates: subject, plain-text body and HTML body per template name.

Template data are plain JSON values (names, numbers, text). The plain part is the template
filled in as it is; the HTML part escapes every value (ticket subjects and comments are
user-written, so `<script>` in a subject must arrive as text), keeps line breaks, and turns
only `http(s)` values of `*link` keys into anchors — never `javascript:` or other schemes.
`link` is built from `SMARTSUPPORT_BASE_URL` by `ticket_link`; `rate_link` (resolved
e-mails) is derived from it when the caller does not pass one.

Unknown placeholders render as empty text rather than losing a notification: a message
with a gap is better than a change whose transaction fails because of an e-mail.
"""

from __future__ import annotations

import html
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .settings import get_settings

#: How long a requester may reopen a resolved ticket (issue 4); callers may pass their own.
DEFAULT_REOPEN_DAYS = 7


@dataclass(frozen=True)
class Template:
    subject: str
    body: str
    essential: bool = True  # account/security and decisions; muted users still get these
    action: str | None = "Open in SmartSupport"  # label of the HTML button pointing at {link}
    defaults: Mapping[str, Any] = field(default_factory=dict)


TEMPLATES: dict[str, Template] = {
    "account_registered": Template(
        "New account awaiting approval: {name}",
        "{name} ({email}, {company_id}, {department}) registered and is waiting for approval.\n\n"
        "Review pending accounts: {link}",
        action="Review pending accounts",
    ),
    "account_approved": Template(
        "Your SmartSupport account is approved",
        "Hello {first_name},\n\nyour account has been approved. You can sign in now: {link}",
        action="Sign in",
    ),
    "account_rejected": Template(
        "Your SmartSupport registration was not approved",
        "Hello {first_name},\n\nyour registration was not approved.\nReason: {reason}",
        action=None,
    ),
    "account_suspended": Template(
        "Your SmartSupport account is suspended",
        "Hello {first_name},\n\nyour account has been suspended.\nReason: {reason}",
        action=None,
    ),
    "account_reactivated": Template(
        "Your SmartSupport account is active again",
        "Hello {first_name},\n\nyour account has been reactivated. You can sign in: {link}",
        action="Sign in",
    ),
    "account_changed": Template(
        "Your SmartSupport account was updated",
        "Hello {first_name},\n\nan administrator changed your account: {change}.",
        action=None,
    ),
    "ticket_submitted": Template(
        "[{ticket_number}] Ticket received: {subject}",
        'Hello {first_name},\n\nwe received your ticket {ticket_number} "{subject}". '
        "It will be reviewed shortly.\n\nFollow it here: {link}",
        action="Follow your ticket",
    ),
    "ticket_awaiting_approval": Template(
        "[{ticket_number}] New ticket awaiting approval: {subject}",
        '{requester} submitted {ticket_number} "{subject}" ({category}, {priority}) for {department}.\n\n'
        "Open or reject it: {link}",
        action="Review the ticket",
    ),
    "ticket_opened": Template(
        "[{ticket_number}] Your ticket is being handled",
        'Hello {first_name},\n\nyour ticket {ticket_number} "{subject}" was accepted and is being handled.\n\n{link}',
        action="View your ticket",
    ),
    "ticket_rejected": Template(
        "[{ticket_number}] Your ticket was rejected",
        'Hello {first_name},\n\nyour ticket {ticket_number} "{subject}" was rejected.\nReason: {reason}\n\n{link}',
        action="View your ticket",
    ),
    "ticket_assigned": Template(
        "[{ticket_number}] Assigned to you: {subject}",
        'Hello {first_name},\n\nticket {ticket_number} "{subject}" ({priority}) is assigned to you.\n\n{link}',
        action="Open the ticket",
    ),
    "ticket_status_changed": Template(
        "[{ticket_number}] Status changed to {status}",
        'Hello {first_name},\n\nthe status of {ticket_number} "{subject}" is now {status}.\n\n{link}',
        essential=False,
        action="View the ticket",
    ),
    "ticket_comment": Template(
        "[{ticket_number}] New reply: {subject}",
        "Hello {first_name},\n\n{author} wrote on {ticket_number} \"{subject}\":\n\n{comment}\n\n{link}",
        essential=False,
        action="Reply on the ticket",
    ),
    "ticket_requester_replied_on_hold": Template(
        "[{ticket_number}] Requester replied to a ticket on hold",
        'Hello {first_name},\n\n{author} replied on {ticket_number} "{subject}", which is On Hold:\n\n'
        "{comment}\n\n{link}",
        action="Open the ticket",
    ),
    "ticket_resolved": Template(
        "[{ticket_number}] Resolved: {subject}",
        'Hello {first_name},\n\nyour ticket {ticket_number} "{subject}" was resolved.\n\n'
        'Not solved? Open the ticket and choose "Reopen" within {reopen_days} days; after that it '
        "closes automatically.\n\n"
        "How did we do? Rate the help you got: {rate_link}\n\n"
        "Your ticket: {link}",
        action="Rate or reopen the ticket",
        defaults={"reopen_days": DEFAULT_REOPEN_DAYS},
    ),
    "ticket_closed": Template(
        "[{ticket_number}] Closed: {subject}",
        'Hello {first_name},\n\nyour ticket {ticket_number} "{subject}" is closed.\n\n{link}',
        action="View the ticket",
    ),
    "inbound_refused": Template(
        "Not accepted: {subject}",
        "Hello,\n\nyour e-mail \"{subject}\" to {mailbox} was not accepted, and nothing was created "
        "from it:\n\n{reason}\n\nYou can also use the SmartSupport portal: {link}\n\n"
        "(We send at most one such answer per hour to an address.)",
        action="Open SmartSupport",
    ),
    "sla_weekly_summary": Template(
        "Weekly SLA summary for {department}",
        "{summary}",
        action="Open the dashboard",
    ),
}

MUTE_HINT = "You can turn off status and reply e-mails in your SmartSupport profile."
FOOTER = "SmartSupport help desk"


class _Lenient(dict):
    """Missing keys render as empty text rather than breaking a notification."""

    def __missing__(self, key: str) -> str:
        return ""


def ticket_link(ticket_id: int | None) -> str:
    """The ticket's page in the portal (or the portal itself without an id)."""
    base = get_settings().base_url
    return f"{base}/ticket?id={ticket_id}" if ticket_id is not None else base


def with_query(link: str, param: str) -> str:
    """`link` with one more query parameter (`rate=1`), before any #fragment."""
    head, sep, fragment = link.partition("#")
    joined = f"{head}{'&' if '?' in head else '?'}{param}"
    return joined + sep + fragment


def rating_link(ticket_id: int) -> str:
    """Where the resolved e-mail sends a requester to rate: the ticket page with `rate=1`."""
    return with_query(ticket_link(ticket_id), "rate=1")


def is_safe_url(value: str) -> bool:
    """Only absolute http(s) URLs become anchors (no `javascript:`, `data:`, relative tricks)."""
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not any(c in value for c in "\r\n\"'<>")


def _values(spec: Template, data: Mapping[str, Any]) -> _Lenient:
    values = _Lenient({k: v for k, v in spec.defaults.items()})
    values.update({k: v for k, v in data.items() if v is not None})
    link = values.get("link")
    if "rate_link" not in values and isinstance(link, str) and link:
        values["rate_link"] = with_query(link, "rate=1")
    return values


def _html_value(key: str, value: Any) -> str:
    text = str(value)
    if key.endswith("link") and is_safe_url(text):
        href = html.escape(text.strip(), quote=True)
        return f'<a href="{href}">{href}</a>'
    return html.escape(text, quote=True).replace("\r\n", "\n").replace("\n", "<br>")


def _html_document(spec: Template, subject: str, body_html: str, link: Any) -> str:
    paragraphs = "".join(
        f'<p style="margin:0 0 14px 0">{part.replace(chr(10), "<br>")}</p>\n' for part in body_html.split("\n\n")
    )
    button = ""
    if spec.action and isinstance(link, str) and is_safe_url(link):
        href = html.escape(link.strip(), quote=True)
        button = (
            f'<p style="margin:18px 0"><a href="{href}" style="background:#1f6feb;color:#ffffff;'
            f'padding:10px 16px;border-radius:6px;text-decoration:none;display:inline-block">'
            f"{html.escape(spec.action)}</a></p>\n"
        )
    hint = "" if spec.essential else f"<br>{html.escape(MUTE_HINT)}"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head>\n"
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;color:#1f2328;line-height:1.5">\n'
        f'<div style="max-width:640px;margin:0 auto;padding:16px">\n{paragraphs}{button}'
        f'<hr style="border:none;border-top:1px solid #d0d7de">\n'
        f'<p style="color:#656d76;font-size:12px">{html.escape(FOOTER)}{hint}</p>\n</div></body></html>\n'
    )


def render(template: str, data: Mapping[str, Any]) -> tuple[str, str, str]:
    """(subject, plain body, HTML body) of a template with `data`."""
    spec = TEMPLATES[template]
    values = _values(spec, data)
    fmt = string.Formatter()
    # A header never carries a line break (header injection); collapse all whitespace runs.
    subject = " ".join(fmt.vformat(spec.subject, (), values).split())
    footer = FOOTER if spec.essential else f"{FOOTER}. {MUTE_HINT}"
    body = fmt.vformat(spec.body, (), values).rstrip() + "\n\n-- \n" + footer + "\n"
    escaped = _Lenient({k: _html_value(k, v) for k, v in values.items()})
    body_html = fmt.vformat(spec.body, (), escaped).replace("\r\n", "\n")
    return subject, body, _html_document(spec, subject, body_html, values.get("link"))


def sample_data(template: str) -> dict[str, Any]:
    """Realistic data for every placeholder of a template (outbox preview, tests, benchmark)."""
    link = ticket_link(42)
    sample: dict[str, Any] = {
        "name": "Maria Santos",
        "first_name": "Maria",
        "email": "maria.santos@example.com",
        "company_id": "MA0042",
        "department": "IT Department",
        "reason": "Duplicate of an existing request",
        "change": "role changed to Ticket Coordinator",
        "ticket_number": "TKT2026000042",
        "subject": "Laptop will not start",
        "requester": "Maria Santos",
        "category": "IT Support",
        "priority": "High",
        "status": "In Progress",
        "author": "Juan Cruz",
        "comment": "Please bring the laptop to the 2nd floor desk.\nWe will swap the battery.",
        "mailbox": "support@example.com",
        "summary": "Tickets resolved: 12\nFirst response within target: 92%\nResolution within target: 83%",
        "link": link if template.startswith("ticket_") else get_settings().base_url,
    }
    names = {f for part in (TEMPLATES[template].subject, TEMPLATES[template].body)
             for _, f, _, _ in string.Formatter().parse(part) if f}
    return {k: v for k, v in sample.items() if k in names}
