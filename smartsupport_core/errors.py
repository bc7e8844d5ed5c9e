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
