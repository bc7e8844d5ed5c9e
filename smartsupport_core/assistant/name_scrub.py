"""Every employee's name out of text bound for a language model.

Why every name: a reply on someone else's ticket says "I asked Ossian Drummerk ...", an
article says "ask Mia in Facilities". Scrubbing only the people linked to a ticket (requester,
author, assignee) lets everyone else through, so the assistant removes every name of
`core_employee` (first, middle, last, suffix; each word of them, and the parts of a
hyphenated or apostrophised one like O'Brien-Smith) from ticket and article text before it
leaves the database, in any case and on word boundaries, except the asker's own.

How it stays cheap at thousands of employees: the names become one set of case-folded words,
and the text is split into words once; a word is replaced when it (or a part of it) is in the
set (a set lookup per word, whatever the number of employees). The set is cached per process
under a fingerprint of the names (row count and sum of a 64-bit hash of every row's name
columns, computed by the server in the caller's transaction, like `refdata`), so a new or renamed employee is scrubbed
from the next question on. A name that is also an English stop word ("Will", "May") is
removed only when written with a capital, so "you will need" stays readable; the stop words
are PostgreSQL's own (`plainto_tsquery('english', w)` is empty for them).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import Text

NAME = "[name]"
NAME_COLUMNS = ("first_name", "middle_name", "last_name", "suffix")
#: Changes whenever a name is added, removed or changed: the row count and the sum of a 64-bit
#: hash of every row's names (no sort and no big string, so it stays cheap at 20,000 rows).
FINGERPRINT = text(
    "SELECT count(*) || ':' || coalesce(sum(hashtextextended(concat_ws(chr(31), "
    + ", ".join(NAME_COLUMNS)
    + "), 0)::numeric), 0) FROM core_employee"
)
NAMES = text(f"SELECT DISTINCT {', '.join(NAME_COLUMNS)} FROM core_employee")
STOP_WORDS = text("SELECT w FROM unnest(:words) AS w WHERE numnode(plainto_tsquery('english', w)) = 0").bindparams(
    bindparam("words", type_=ARRAY(Text))
)
MIN_LENGTH = 2  # initials ("J.") are not scrubbed: they would take every "a" and "I" with them

#: A word: letters, with inner apostrophes or hyphens ("O'Brien-Smith", "Drummerk's").
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019\-][^\W\d_]+)*")
_PART = re.compile(r"[^\W\d_]+")
_RUN = re.compile(re.escape(NAME) + r"(?:[ \t]+" + re.escape(NAME) + ")+")
_KEEP = 8  # fingerprints kept (one per database the process talks to, normally one)


def _fold(word: str) -> str:
    return word.replace("\u2019", "'").casefold()


def name_words(names: Iterable[str | None]) -> set[str]:
    """The case-folded words a set of name fields is scrubbed by (whole words and parts)."""
    out: set[str] = set()
    for name in names:
        for word in _WORD.findall(name or ""):
            for piece in (word, *_PART.findall(word)):
                if len(piece) >= MIN_LENGTH:
                    out.add(_fold(piece))
    return out


@dataclass(frozen=True)
class NameIndex:
    """The employees' name words: `always` are removed in any case, `capitalised` (names that
    are also stop words) only when not written all in lower case."""

    always: frozenset[str]
    capitalised: frozenset[str]

    def scrub(self, value: str, keep: frozenset[str] = frozenset()) -> str:
        """`value` with every name word not in `keep` replaced by [name] (a full name by one)."""

        def is_name(word: str) -> bool:
            folded = _fold(word)
            if folded in keep:
                return False
            return folded in self.always or (folded in self.capitalised and word != word.lower())

        def replace(match: re.Match[str]) -> str:
            word = match.group(0)
            if is_name(word):
                return NAME
            if len(word) > 1 and not word.isalpha():  # O'Brien-Smith's: its parts
                return _PART.sub(lambda p: NAME if is_name(p.group(0)) else p.group(0), word)
            return word

        return _RUN.sub(NAME, _WORD.sub(replace, value))


_cache: dict[str, NameIndex] = {}
_lock = threading.Lock()


def current(session: Session) -> NameIndex:
    """The name index of the database `session` talks to, re-read only when a name changed."""
    fingerprint = str(session.execute(FINGERPRINT).scalar_one())
    index = _cache.get(fingerprint)
    if index is not None:
        return index
    words = name_words(value for row in session.execute(NAMES) for value in row)
    stop = set(session.scalars(STOP_WORDS, {"words": sorted(words)})) if words else set()
    index = NameIndex(always=frozenset(words - stop), capitalised=frozenset(stop))
    with _lock:
        if len(_cache) >= _KEEP:
            _cache.clear()
        _cache[fingerprint] = index
    return index


def scrub_names(session: Session, value: str, *, keep: Iterable[str | None] = ()) -> str:
    """`value` without any employee's name, except the words of the names in `keep` (the
    asker's own)."""
    return current(session).scrub(value, frozenset(name_words(keep)))
