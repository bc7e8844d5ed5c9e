"""Notification templates: subject, plain-text body and HTML body per template name.

Templates are Jinja2 (`{{name}}`). Template data are plain JSON values (names, numbers,
text). The plain part is the template filled in as it is; the HTML part is rendered by an
environment with autoescape on, so every value is escaped (ticket subjects and comments are
user-written: `<script>` in a subject must arrive as text) unless this module marked it safe
itself - line breaks turned into `<br>`, and only `http(s)` values of `*link` keys turned
into anchors, never `javascript:` or other schemes.
`link` is built from `SMARTSUPPORT_BASE_URL` by `ticket_link`; `rate_link` (resolved
e-mails) is derived from it when the caller does not pass one.

Unknown placeholders render as empty text (Jinja2's default `Undefined`) rather than losing a
notification: a message with a gap is better than a change whose transaction fails because of
an e-mail.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, meta
from markupsafe import Markup

from .settings import get_settings

#: How long a requester may reopen a resolved ticket; callers may pass their own.
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
        "New account awaiting approval: {{name}}",
        "{{name}} ({{email}}, {{company_id}}, {{department}}) registered and is waiting for approval.\n\n"
        "Review pending accounts: {{link}}",
        action="Review pending accounts",
    ),
    "account_approved": Template(
        "Your SmartSupport account is approved",
        "Hello {{first_name}},\n\nyour account has been approved. You can sign in now: {{link}}",
        action="Sign in",
    ),
    "account_rejected": Template(
        "Your SmartSupport registration was not approved",
        "Hello {{first_name}},\n\nyour registration was not approved.\nReason: {{reason}}",
        action=None,
    ),
    "account_suspended": Template(
        "Your SmartSupport account is suspended",
        "Hello {{first_name}},\n\nyour account has been suspended.\nReason: {{reason}}",
        action=None,
    ),
    "account_reactivated": Template(
        "Your SmartSupport account is active again",
        "Hello {{first_name}},\n\nyour account has been reactivated. You can sign in: {{link}}",
        action="Sign in",
    ),
    "account_changed": Template(
        "Your SmartSupport account was updated",
        "Hello {{first_name}},\n\nan administrator changed your account: {{change}}.",
        action=None,
    ),
    "ticket_submitted": Template(
        "[{{ticket_number}}] Ticket received: {{subject}}",
        'Hello {{first_name}},\n\nwe received your ticket {{ticket_number}} "{{subject}}". '
        "It will be reviewed shortly.\n\nFollow it here: {{link}}",
        action="Follow your ticket",
    ),
    "ticket_awaiting_approval": Template(
        "[{{ticket_number}}] New ticket awaiting approval: {{subject}}",
        '{{requester}} submitted {{ticket_number}} "{{subject}}" ({{category}}, {{priority}}) for {{department}}.\n\n'
        "Open or reject it: {{link}}",
        action="Review the ticket",
    ),
    "ticket_opened": Template(
        "[{{ticket_number}}] Your ticket is being handled",
        'Hello {{first_name}},\n\nyour ticket {{ticket_number}} "{{subject}}" was accepted and is being handled.\n\n'
        '{{link}}',
        action="View your ticket",
    ),
    "ticket_rejected": Template(
        "[{{ticket_number}}] Your ticket was rejected",
        'Hello {{first_name}},\n\nyour ticket {{ticket_number}} "{{subject}}" was rejected.\nReason: {{reason}}\n\n'
        '{{link}}',
        action="View your ticket",
    ),
    "ticket_assigned": Template(
        "[{{ticket_number}}] Assigned to you: {{subject}}",
        'Hello {{first_name}},\n\nticket {{ticket_number}} "{{subject}}" ({{priority}}) is assigned to you.\n\n'
        '{{link}}',
        action="Open the ticket",
    ),
    "ticket_status_changed": Template(
        "[{{ticket_number}}] Status changed to {{status}}",
        'Hello {{first_name}},\n\nthe status of {{ticket_number}} "{{subject}}" is now {{status}}.\n\n{{link}}',
        essential=False,
        action="View the ticket",
    ),
    "ticket_comment": Template(
        "[{{ticket_number}}] New reply: {{subject}}",
        "Hello {{first_name}},\n\n{{author}} wrote on {{ticket_number}} \"{{subject}}\":\n\n{{comment}}\n\n{{link}}",
        essential=False,
        action="Reply on the ticket",
    ),
    "ticket_requester_replied_on_hold": Template(
        "[{{ticket_number}}] Requester replied to a ticket on hold",
        'Hello {{first_name}},\n\n{{author}} replied on {{ticket_number}} "{{subject}}", which is On Hold:\n\n'
        "{{comment}}\n\n{{link}}",
        action="Open the ticket",
    ),
    "ticket_resolved": Template(
        "[{{ticket_number}}] Resolved: {{subject}}",
        'Hello {{first_name}},\n\nyour ticket {{ticket_number}} "{{subject}}" was resolved.\n\n'
        'Not solved? Open the ticket and choose "Reopen" within {{reopen_days}} days; after that it '
        "closes automatically.\n\n"
        "How did we do? Rate the help you got: {{rate_link}}\n\n"
        "Your ticket: {{link}}",
        action="Rate or reopen the ticket",
        defaults={"reopen_days": DEFAULT_REOPEN_DAYS},
    ),
    "ticket_closed": Template(
        "[{{ticket_number}}] Closed: {{subject}}",
        'Hello {{first_name}},\n\nyour ticket {{ticket_number}} "{{subject}}" is closed.\n\n{{link}}',
        action="View the ticket",
    ),
    "inbound_refused": Template(
        "Not accepted: {{subject}}",
        "Hello,\n\nyour e-mail \"{{subject}}\" to {{mailbox}} was not accepted, and nothing was created "
        "from it:\n\n{{reason}}\n\nYou can also use the SmartSupport portal: {{link}}\n\n"
        "(We send at most one such answer per hour to an address.)",
        action="Open SmartSupport",
    ),
    "sla_weekly_summary": Template(
        "Weekly SLA summary for {{department}}",
        "{{summary}}",
        action="Open the dashboard",
    ),
}

MUTE_HINT = "You can turn off status and reply e-mails in your SmartSupport profile."
FOOTER = "SmartSupport help desk"


#: Plain parts (subject, text body): values as they are.
_TEXT = Environment(autoescape=False, keep_trailing_newline=True)


def _escaped(value: Any) -> Any:
    """Escape as `html.escape(quote=True)` does (`&quot;`, `&#x27;`: the e-mails stay byte-for-byte
    what they were), leaving values this module marked safe alone."""
    return value if isinstance(value, Markup) else Markup(html.escape(str(value), quote=True))


#: The HTML part: every value escaped unless marked safe here (autoescape stays on behind it).
_HTML = Environment(autoescape=True, keep_trailing_newline=True, finalize=_escaped)

_DOCUMENT = _HTML.from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ subject }}</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;color:#1f2328;line-height:1.5">
<div style="max-width:640px;margin:0 auto;padding:16px">
{% for part in paragraphs %}<p style="margin:0 0 14px 0">{{ part }}</p>
{% endfor %}{% if href %}<p style="margin:18px 0"><a href="{{ href }}" style="background:#1f6feb;color:#ffffff;\
padding:10px 16px;border-radius:6px;text-decoration:none;display:inline-block">{{ action }}</a></p>
{% endif %}<hr style="border:none;border-top:1px solid #d0d7de">
<p style="color:#656d76;font-size:12px">{{ footer }}{% if hint %}<br>{{ hint }}{% endif %}</p>
</div></body></html>
"""
)


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


def _values(spec: Template, data: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(spec.defaults)
    values.update({k: v for k, v in data.items() if v is not None})
    link = values.get("link")
    if "rate_link" not in values and isinstance(link, str) and link:
        values["rate_link"] = with_query(link, "rate=1")
    return values


def _html_value(key: str, value: Any) -> Markup:
    text = str(value)
    if key.endswith("link") and is_safe_url(text):
        href = _escaped(text.strip())
        return Markup(f'<a href="{href}">{href}</a>')
    return Markup(str(_escaped(text.replace("\r\n", "\n"))).replace("\n", "<br>"))


def render(template: str, data: Mapping[str, Any]) -> tuple[str, str, str]:
    spec = TEMPLATES[template]
    values = _values(spec, data)
    # A header never carries a line break (header injection); collapse all whitespace runs.
    subject = " ".join(_TEXT.from_string(spec.subject).render(values).split())
    footer = FOOTER if spec.essential else f"{FOOTER}. {MUTE_HINT}"
    body = _TEXT.from_string(spec.body).render(values).rstrip() + "\n\n-- \n" + footer + "\n"
    body_html = _HTML.from_string(spec.body).render({k: _html_value(k, v) for k, v in values.items()})
    link = values.get("link")
    document = _DOCUMENT.render(
        subject=subject,
        paragraphs=[Markup(part.replace("\n", "<br>")) for part in body_html.replace("\r\n", "\n").split("\n\n")],
        href=link.strip() if spec.action and isinstance(link, str) and is_safe_url(link) else None,
        action=spec.action,
        footer=FOOTER,
        hint=None if spec.essential else MUTE_HINT,
    )
    return subject, body, document


def body_placeholders(template: str) -> set[str]:
    """The names a template's body uses."""
    return set(meta.find_undeclared_variables(_TEXT.parse(TEMPLATES[template].body)))


def placeholders(template: str) -> set[str]:
    """The names a template's subject and body use."""
    subject = meta.find_undeclared_variables(_TEXT.parse(TEMPLATES[template].subject))
    return body_placeholders(template) | subject


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
    names = placeholders(template)
    return {k: v for k, v in sample.items() if k in names}
