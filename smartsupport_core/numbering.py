"""Ticket numbers `TKT{YEAR}{######}` from a per-year PostgreSQL sequence.

The spec's `COUNT(*)+1` hands the same number to concurrent submitters. Each year has its own
sequence, `core_ticket_number_{YEAR}`: `nextval` is atomic and takes no lock that lasts, so
concurrent submissions never wait for each other (a counter row, locked until commit,
would serialise every submission). Numbers are unique (also enforced by
`uk_ticket_number`) and increase in the order they are taken; a submission that fails or is
rolled back after taking its number leaves a gap (the spec allows gaps; numbers are never
reused).

The sequence of a year is created by the first ticket of that year (`ensure_sequence`),
starting after the year's `core_ticketcounter` row: that row records the blocks bulk loaders
reserve (`reserve_block`, the demo loader) and the numbers handed out before the sequences
existed. Creating it locks that row until the creating transaction ends, so two first
tickets of a year do not both create it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from .settings import get_settings

#: Locks (creating if needed) the year's counter row and returns its value.
_LOCK_COUNTER = text(
    "INSERT INTO core_ticketcounter (year, last_value) VALUES (:year, 0) "
    "ON CONFLICT (year) DO UPDATE SET last_value = core_ticketcounter.last_value "
    "RETURNING last_value"
)


def format_number(year: int, value: int) -> str:
    return f"TKT{year}{value:06d}"


def ticket_year(when: dt.datetime | None = None) -> int:
    when = when or dt.datetime.now(dt.UTC)
    return when.astimezone(ZoneInfo(get_settings().timezone)).year


def sequence_name(year: int) -> str:
    return f"core_ticket_number_{int(year)}"


def ensure_sequence(session: Session, year: int) -> str:
    """The year's sequence, created if it does not exist yet; returns its name."""
    name = sequence_name(year)
    if session.scalar(text("SELECT to_regclass(:name) IS NULL"), {"name": name}):
        last = session.execute(_LOCK_COUNTER, {"year": year}).scalar_one()  # one creator at a time
        session.execute(text(f"CREATE SEQUENCE IF NOT EXISTS {name} AS integer START {int(last) + 1}"))
    return name


def next_ticket_number(session: Session, when: dt.datetime | None = None) -> str:
    year = ticket_year(when)
    name = ensure_sequence(session, year)
    return format_number(year, session.scalar(text("SELECT nextval(CAST(:name AS regclass))"), {"name": name}))


def reserve_block(session: Session, year: int, count: int) -> int:
    """Reserve `count` consecutive numbers of `year`; returns the first (bulk loaders).

    Raises RuntimeError when tickets of that year were submitted while the block was being
    taken (the numbers would not be consecutive); the caller's transaction then rolls back."""
    if count < 1:
        raise ValueError("reserve at least one number")
    name = ensure_sequence(session, year)
    session.execute(_LOCK_COUNTER, {"year": year})  # one reserver at a time
    first, last = session.execute(
        text("SELECT min(v), max(v) FROM (SELECT nextval(CAST(:name AS regclass)) AS v FROM generate_series(1, :n)) s"),
        {"name": name, "n": count},
    ).one()
    if last - first + 1 != count:
        raise RuntimeError(f"tickets of {year} were submitted while numbers were being reserved; try again")
    session.execute(
        text("UPDATE core_ticketcounter SET last_value = greatest(last_value, :last) WHERE year = :year"),
        {"last": last, "year": year},
    )
    return first


_SEQUENCES = text(
    "SELECT sequencename, last_value FROM pg_sequences "
    "WHERE schemaname = current_schema() AND sequencename ~ '^core_ticket_number_[0-9]+$' ORDER BY 1"
)


def sequence_names(conn: Connection | Session) -> list[str]:
    """The per-year sequences that exist."""
    return [name for name, _ in conn.execute(_SEQUENCES).tuples()]


def used_numbers(session: Session) -> dict[int, int]:
    """The highest number taken per year (sequences and reserved blocks)."""
    used = dict(session.execute(text("SELECT year, last_value FROM core_ticketcounter")).tuples().all())
    for name, last in session.execute(_SEQUENCES).tuples():
        year = int(name.rsplit("_", 1)[1])
        used[year] = max(used.get(year, 0), last or 0)
    return used
