"""What may leave towards a language model: ticket text without e-mail addresses, phone
numbers, ticket numbers, company ids and serials (`scrub`), and every source without any
employee's name but the asker's (`name_scrub`)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from sqlalchemy.orm import Session

from ..models import Employee
from . import name_scrub
from .definitions import (
    TICKET_NUMBER,
)
from .providers import (
    Source,
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{6,}\d")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COMPANY_ID = re.compile(r"\bMA\d{4}\b", re.IGNORECASE)
_GREETING = re.compile(r"\b(Hi|Hello|Dear|Hey|Good (?:morning|afternoon|day))\s+[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)?")


def scrub(text: str, names: Sequence[str] = (), values: Sequence[str] = ()) -> str:
    """`text` without personal data: e-mails, phone numbers, ticket numbers, company IDs,
    the given people's names, greetings' names and the given identifying values (serials)."""

    def phone(m: re.Match[str]) -> str:
        s = m.group(0)
        digits = sum(c.isdigit() for c in s)
        return "[phone]" if digits >= 7 and not _DATE.match(s.strip()) else s

    text = _EMAIL.sub("[e-mail]", text)
    text = TICKET_NUMBER.sub("[ticket]", text)
    text = _COMPANY_ID.sub("[company ID]", text)
    text = _PHONE.sub(phone, text)
    text = _GREETING.sub(lambda m: m.group(1) + " [name]", text)
    for value in sorted({v.strip() for v in values if v and len(v.strip()) >= 3}, key=len, reverse=True):
        text = re.sub(re.escape(value), "[asset]", text, flags=re.IGNORECASE)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(name)}\b", "[name]", text, flags=re.IGNORECASE)
    return text



def asker_names(actor: Employee) -> list[str | None]:
    return [actor.first_name, actor.middle_name, actor.last_name, actor.suffix]


def names_of(session: Session, actor: Employee) -> tuple[name_scrub.NameIndex, frozenset[str]]:
    """The employees' name index and the asker's own name words (which are not scrubbed)."""
    return name_scrub.current(session), frozenset(name_scrub.name_words(asker_names(actor)))


def without_names(session: Session, actor: Employee, sources: list[Source]) -> list[Source]:
    """The sources with every employee's name but the asker's replaced (titles and text)."""
    index, keep = names_of(session, actor)
    return [
        dataclasses.replace(src, title=index.scrub(src.title, keep), text=index.scrub(src.text, keep))
        for src in sources
    ]
