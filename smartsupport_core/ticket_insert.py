"""The write of a new ticket: one statement that takes the number and inserts every row.

`tickets.submit_ticket` validates and prepares everything in Python first (SLA due dates,
the audit row, the rendered e-mails), then calls `insert_ticket`, which sends a single
statement:

    WITH n AS (SELECT 'TKT2026' || nextval('core_ticket_number_2026') ... AS number),
         t AS (INSERT INTO core_ticket ...), h AS (... history), a AS (... audit),
         e AS (INSERT INTO core_emailnotification ... the requester's and every admin's mail)
    SELECT number FROM n

The number is taken last, so a submission refused by validation takes none (no gap), and no
lock is held for it (`numbering`). It is not known while the e-mails and the audit row are
rendered, so they are rendered with a placeholder of the same length (`placeholder()`: `TKT`
+ 10 random hex digits, new for every ticket, unguessable and unchanged by HTML escaping),
which the statement replaces by the number it takes. The year's sequence must exist
(`numbering.ensure_sequence`).

WHY plain SQL text: this is the hottest write of the product (hundreds of tickets a second;
`bench/` measures it), and building the equivalent SQLAlchemy construct costs more Python time than the
server spends on the whole statement. The text is generated from the models' tables (every
value cast to its column's type), goes through the engine (`exec_driver_sql`: its NUL guard
and error handling apply; parameters are named after the columns), and is short enough for
psycopg's query cache and for a server-side prepared statement.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Table
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from .models import AuditLog, EmailNotification, Ticket, TicketStatusHistory
from .notifications import ACTIVE_ADMIN
from .numbering import sequence_name

_DIALECT = postgresql.dialect()
_ADMINS = str(ACTIVE_ADMIN.compile(dialect=_DIALECT, compile_kwargs={"literal_binds": True}))
_NUMBER = (
    "n AS (SELECT 'TKT' || %(year)s::integer || lpad(v::text, greatest(6, length(v::text)), '0') AS number "
    "FROM (SELECT nextval(%(sequence)s::regclass) AS v) AS s)"
)
#: Columns of an outbox row that may contain the ticket number.
_MAIL_NUMBERED = ("subject", "body", "html_body", "template_data")


def placeholder() -> str:
    """A stand-in for the ticket number while the rows that mention it are rendered."""
    return "TKT" + secrets.token_hex(5)


@dataclass(frozen=True)
class Message:
    """An outbox row (`notifications.message_values`) for one address, or for every active
    admin when `recipient` is None (`essential=False`: not for admins who muted it)."""

    values: Mapping[str, Any]
    recipient: str | None
    essential: bool = True


@cache
def _pg_type(table: Table, column: str) -> str:
    """The column's type for a cast, without length/precision: an explicit cast to
    VARCHAR(200) would silently truncate, the assignment to the column checks instead."""
    return re.sub(r"\(.*?\)", "", str(table.c[column].type.compile(dialect=_DIALECT)))


class _Params:
    """Named, typed placeholders; an equal value of the same type is sent once."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}
        self._seen: dict[tuple[Any, ...], str] = {}

    def add(self, name: str, value: Any, table: Table, column: str) -> str:
        pg = _pg_type(table, column)
        if value is None:
            return f"NULL::{pg}"
        if isinstance(value, (dict, list)):
            self.values[name] = Jsonb(value)
            return f"%({name})s::{pg}"
        key = (pg, type(value), value)
        known = self._seen.get(key)
        if known is None:
            self.values[name] = value
            known = self._seen[key] = f"%({name})s::{pg}"
        return known


def _numbered(expr: str, table: Table, column: str) -> str:
    pg = _pg_type(table, column)
    if pg in ("JSON", "JSONB"):
        return f"replace(({expr})::text, %(token)s, n.number)::{pg}"
    out = f"replace({expr}, %(token)s, n.number)"
    length = getattr(table.c[column].type, "length", None)
    return f"left({out}, {length})" if length else out


def _mail(messages: Sequence[Message], p: _Params) -> str:
    table = EmailNotification.__table__
    names = list(messages[0].values)
    branches = []
    for i, m in enumerate(messages):
        values = ", ".join(f"{p.add(f'mail{i}_{k}', v, table, k)} AS {k}" for k, v in m.values.items())
        if m.recipient is not None:
            recipient = p.add(f"mail{i}_recipient_email", m.recipient, table, "recipient_email")
            branches.append(f"SELECT {i} AS o, 0 AS p, {recipient} AS r, {values}")
        else:
            muted = "" if m.essential else " AND NOT core_employee.mute_non_essential"
            branches.append(
                f"SELECT {i} AS o, core_employee.id AS p, core_employee.email AS r, {values} "
                f"FROM core_employee WHERE {_ADMINS}{muted}"
            )
    columns = ", ".join(_numbered(f"m.{k}", table, k) if k in _MAIL_NUMBERED else f"m.{k}" for k in names)
    return (
        f"e AS (INSERT INTO core_emailnotification (recipient_email, {', '.join(names)}) "
        f"SELECT m.r, {columns} FROM ({' UNION ALL '.join(branches)}) AS m, n ORDER BY m.o, m.p)"
    )


def insert_ticket(
    session: Session,
    *,
    year: int,
    token: str,
    ticket: Mapping[str, Any],
    history: Mapping[str, Any],
    audit_row: Mapping[str, Any],
    messages: Sequence[Message],
) -> str:
    """Insert the ticket (with its id already drawn) and its rows; returns its number."""
    p = _Params()
    p.values.update(year=year, sequence=sequence_name(year), token=token)
    tickets, hist, audit = Ticket.__table__, TicketStatusHistory.__table__, AuditLog.__table__
    rows = {k: v for k, v in ticket.items() if k != "ticket_number"}
    t_values = [p.add(k, v, tickets, k) for k, v in rows.items()]
    h_values = [p.add(f"history_{k}", v, hist, k) for k, v in history.items()]
    a_values = [
        _numbered(p.add(f"audit_{k}", v, audit, k), audit, k) if k == "new_values" else p.add(f"audit_{k}", v, audit, k)
        for k, v in audit_row.items()
    ]
    ctes = [
        _NUMBER,
        f"t AS (INSERT INTO core_ticket (ticket_number, {', '.join(rows)}) SELECT n.number, {', '.join(t_values)} "
        "FROM n)",
        f"h AS (INSERT INTO core_ticketstatushistory ({', '.join(history)}) VALUES ({', '.join(h_values)}))",
        f"a AS (INSERT INTO core_auditlog ({', '.join(audit_row)}) SELECT {', '.join(a_values)} FROM n)",
    ]
    if messages:
        ctes.append(_mail(messages, p))
    sql = "WITH " + ",\n".join(ctes) + "\nSELECT number FROM n"
    return session.connection().exec_driver_sql(sql, p.values).scalar_one()
