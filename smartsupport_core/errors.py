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


class ValidationError(DomainError):
    """Input breaks a rule; `errors` maps each field to its message (all of them at once)."""

    def __init__(self, errors: dict[str, str] | str, *, field: str | None = None) -> None:
        if isinstance(errors, str):
            errors = {field or "__all__": errors}
        self.errors = dict(errors)
        first_field, first_message = next(iter(self.errors.items()))
        text = "; ".join(msg if f == "__all__" else f"{f}: {msg}" for f, msg in self.errors.items())
        super().__init__(text, field=None if first_field == "__all__" else first_field)
        self.first_message = first_message


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
