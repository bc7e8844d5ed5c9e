"""One rule for every piece of text that reaches the core .

Whatever a form, a URL, a JSON body or a test passes as text goes through `clean_text` (one
field) or `text_errors` (collecting), so every entry point refuses the same things with the
same words, naming the field:

* not text at all (a dict as subject, a list as description): "must be text", never its
  `str()` stored;
* a control character other than tab, line feed and carriage return (U+0000 NUL first of
  all: PostgreSQL cannot store it, and the others are never typed by a person);
* longer than the field's maximum (the spec's where it has one, else the limits below; the
  page's widgets take their `max_chars` from the same constants).

The engine-level NUL guard in `db.py` stays as the last line of defence; this is the first,
and it can name the field as the person sees it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

from .errors import ValidationError

#: Limits of free text that the spec leaves open (its own: subject 5-200).
DESCRIPTION_MAX = 20_000
COMMENT_MAX = 20_000
NOTE_MAX = 2_000  # a status-change note or a rejection reason
SEARCH_MAX = 200  # a search box (queue, My tickets, help centre)
EMAIL_MAX = 254
PASSWORD_MAX = 1_024

MSG_NOT_TEXT = "must be text"
MSG_CONTROL = "must not contain control characters (such as NUL, U+0000); only tabs and line breaks are allowed"
_ALLOWED_CONTROLS = frozenset("\t\n\r")


def has_control(value: str) -> bool:
    """True when `value` holds a control character a person does not type (tab/CR/LF are fine)."""
    return any(ch not in _ALLOWED_CONTROLS and unicodedata.category(ch) == "Cc" for ch in value)


def text_error(value: Any, *, max_length: int | None = None, label: str | None = None) -> str | None:
    """The message for a bad text value (None when it is fine, or None/absent).

    With `label` the message starts with it ("Device type must be text"), for fields whose
    error key is not what a person reads (a category's own fields)."""
    prefix = f"{label} " if label else ""
    if value is None:
        return None
    if not isinstance(value, str):
        return prefix + MSG_NOT_TEXT
    if has_control(value):
        return prefix + MSG_CONTROL
    if max_length is not None and len(value.strip()) > max_length:
        return f"{prefix}must be at most {max_length:,} characters"
    return None


def clean_text(value: Any, field: str, *, max_length: int | None = None, strip: bool = True) -> str:
    """`value` as checked text (stripped; "" for None); ValidationError naming `field` otherwise."""
    message = text_error(value, max_length=max_length)
    if message is not None:
        raise ValidationError({field: message})
    if value is None:
        return ""
    return value.strip() if strip else value


def optional_text(value: Any, field: str, *, max_length: int | None = None) -> str | None:
    """Like `clean_text`, but blank becomes None."""
    return clean_text(value, field, max_length=max_length) or None


def text_errors(values: Mapping[str, Any], limits: Mapping[str, int | None]) -> dict[str, str]:
    """The error of each field in `limits` whose value in `values` is bad (collecting form)."""
    errors: dict[str, str] = {}
    for field, limit in limits.items():
        message = text_error(values.get(field), max_length=limit)
        if message is not None:
            errors[field] = message
    return errors
