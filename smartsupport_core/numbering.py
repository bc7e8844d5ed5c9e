"""Ticket numbers `TKT{YEAR}{######}` from a per-year counter row.

The spec's `COUNT(*)+1` hands the same number to concurrent submitters. Here the counter
row is incremented with `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`, which takes the
row lock until the creating transaction ends: concurrent creators queue on it, and a
rolled-back creation rolls the counter back too, so numbers are unique *and* gap-free.
Call it as late as possible in the transaction to keep the lock short.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from .settings import get_settings

_NEXT = text(
    "INSERT INTO core_ticketcounter (year, last_value) VALUES (:year, :n) "
    "ON CONFLICT (year) DO UPDATE SET last_value = core_ticketcounter.last_value + :n "
    "RETURNING last_value"
)


def format_number(year: int, value: int) -> str:
    return f"TKT{year}{value:06d}"


def ticket_year(when: dt.datetime | None = None) -> int:
    when = when or dt.datetime.now(dt.UTC)
    return when.astimezone(ZoneInfo(get_settings().timezone)).year


def next_ticket_number(session: Session, when: dt.datetime | None = None) -> str:
    year = ticket_year(when)
    value = session.execute(_NEXT, {"year": year, "n": 1}).scalar_one()
    return format_number(year, value)


def reserve_block(session: Session, year: int, count: int) -> int:
    """Reserve `count` consecutive numbers of `year`; returns the first (bulk loaders)."""
    last = session.execute(_NEXT, {"year": year, "n": count}).scalar_one()
    return last - count + 1
