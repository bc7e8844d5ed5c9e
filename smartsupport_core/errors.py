"""Domain errors: the only exceptions a service raises on purpose.

Each carries a message a person can read; the UI shows it as it is. `field` names the
input at fault so forms can put the message next to it.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a user may be shown."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


#: The label a person sees for each field a service names (forms show these labels), so a
#: message reads "Reason: A reason is required", not "reason: A reason is required". A field
#: not listed is shown as its words ("day_start" -> "Day start"); "filters.x" as x's label.
FIELD_LABELS: dict[str, str] = {
    "assigned_to": "Assignee",
    "assigned_department": "Department",
    "attachments": "Attachments",
    "body": "Text",
    "comment": "Comment",
    "company_id": "Company ID",
    "created_to": "Created to",
    "current_password": "Current password",
    "date_to": "To",
    "default_priority": "Default priority",
    "email": "E-mail address",
    "field_values": "Category fields",
    "head_email": "Department head's e-mail",
    "host": "IMAP host",
    "ids": "Tickets",
    "is_active": "Active",
    "is_published": "Published",
    "move_to": "Move processed mail to",
    "mute_non_essential": "Mute non-essential e-mail",
    "page_size": "Rows",
    "password_confirm": "Confirm password",
    "priorities": "Priority",
    "query": "Search",
    "record_id": "Record",
    "resolution_clock": "Resolution clock",
    "resolution_minutes": "Resolution target",
    "response_clock": "Response clock",
    "sla_state": "SLA",
    "states": "State",
    "statuses": "Status",
    "sub_categories": "Sub-categories",
    "sub_category": "Sub-category",
    "text": "Search",
    "username": "User name",
    "working_days": "Working days",
}


def field_label(field: str) -> str:
    """The label a person sees for a field name (see `FIELD_LABELS`)."""
    name = field.rsplit(".", 1)[-1]
    if " " in name:  # already words (e.g. "High resolution target", built by a page)
        return name
    return FIELD_LABELS.get(name) or name.replace("_", " ").strip().capitalize()


class ValidationError(DomainError):
    """Input breaks a rule; `errors` maps each field to its message (all of them at once)."""

    def __init__(self, errors: dict[str, str] | str, *, field: str | None = None) -> None:
        if isinstance(errors, str):
            errors = {field or "__all__": errors}
        self.errors = dict(errors)
        first_field, first_message = next(iter(self.errors.items()))
        super().__init__("; ".join(self.lines()), field=None if first_field == "__all__" else first_field)
        self.first_message = first_message

    def labelled(self) -> list[tuple[str | None, str]]:
        """(label a person sees or None for a form-wide message, message) per field."""
        return [(None, m) if f == "__all__" else (field_label(f), m) for f, m in self.errors.items()]

    def lines(self) -> list[str]:
        """One line per field, as a person reads it: "Reason: A reason is required". The message
        stays as the core wrote it (the spec's validation messages are quoted verbatim)."""
        return [m if label is None else f"{label}: {m}" for label, m in self.labelled()]


class PermissionDenied(DomainError):
    """The acting user may not do this."""


class NotFound(DomainError):
    """The object does not exist, or the acting user may not know that it does."""


class Conflict(DomainError):
    """Someone else changed the object since the acting user read it, or a uniqueness clash."""


def page_errors(page: int, page_size: int, max_page_size: int) -> dict[str, str]:
    """The field errors of a paged listing's `page` / `page_size` (empty when both are valid)."""
    errors = {}
    if not 1 <= page_size <= max_page_size:
        errors["page_size"] = f"must be between 1 and {max_page_size}"
    if page < 1:
        errors["page"] = "must be 1 or more"
    return errors
