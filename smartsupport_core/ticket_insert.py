"""The write of a new ticket: one statement that takes the number and inserts every row.

`tickets.submit_ticket` validates and prepares everything in Python first (SLA due dates,
the audit row, the rendered e-mails), then calls `insert_ticket`, which sends a single
statement:

    WITH n AS (INSERT INTO core_ticketcounter ... ON CONFLICT DO UPDATE ... RETURNING number),
         t AS (INSERT INTO core_ticket ...), h AS (... history), a AS (... audit),
         e AS (INSERT INTO core_emailnotification ... the requester's and every admin's mail)
    SELECT number FROM n

The counter row is therefore locked only from this statement to the caller's commit, the
shortest time possible, instead of for the whole submission: numbers stay unique and
gap-free (a rolled-back submission rolls the counter back), and concurrent submitters queue
only for that last step.

The number is not known while the e-mails and the audit row are rendered, so they are
rendered with a placeholder of the same length (`placeholder()`: `TKT` + 10 random hex
digits, new for every ticket, unguessable and unchanged by HTML escaping), which the
statement replaces by the number it takes.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Column, ColumnElement, String, Text, cast, func, insert, literal, select, true, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from .models import AuditLog, EmailNotification, Employee, Ticket, TicketCounter, TicketStatusHistory
from .notifications import ACTIVE_ADMIN

_COUNTER = TicketCounter.__table__
_MAIL = EmailNotification.__table__
#: Columns of an outbox or audit row that may contain the ticket number.
_MAIL_NUMBERED = frozenset({"subject", "body", "html_body", "template_data"})
_AUDIT_NUMBERED = frozenset({"new_values"})


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


def _number_cte(year: int):
    digits = cast(_COUNTER.c.last_value, Text)
    width = func.greatest(6, func.length(digits))
    number = literal("TKT") + cast(_COUNTER.c.year, Text) + func.lpad(digits, width, "0")
    stmt = pg_insert(_COUNTER).values(year=year, last_value=1)
    stmt = stmt.on_conflict_do_update(index_elements=[_COUNTER.c.year], set_={"last_value": _COUNTER.c.last_value + 1})
    return stmt.returning(number.label("number")).cte("n")


def _numbered(expr: ColumnElement[Any], column: Column[Any], token: str, number: ColumnElement[str]):
    """`expr` with the placeholder replaced by the number, in `column`'s type."""
    if isinstance(column.type, JSON):
        return cast(func.replace(cast(expr, Text), token, number), column.type)
    out = func.replace(expr, token, number)
    length = getattr(column.type, "length", None)
    return func.left(out, length) if length else out


def _values(table, row: Mapping[str, Any], token: str, number, numbered=frozenset()) -> list[ColumnElement[Any]]:
    out = []
    for name, value in row.items():
        column = table.c[name]
        expr: ColumnElement[Any] = literal(value, column.type)
        if name in numbered:
            expr = _numbered(expr, column, token, number)
        out.append(expr.label(name))
    return out


def _mail_cte(messages: Sequence[Message], token: str, n) -> Any:
    names = list(messages[0].values)
    branches = []
    for i, m in enumerate(messages):
        values = [literal(v, _MAIL.c[k].type).label(k) for k, v in m.values.items()]
        if m.recipient is not None:
            branches.append(
                select(literal(m.recipient, String).label("recipient_email"), *values, literal(i), literal(0))
            )
        else:
            admins = select(Employee.email.label("recipient_email"), *values, literal(i), Employee.id).where(
                ACTIVE_ADMIN
            )
            if not m.essential:
                admins = admins.where(Employee.mute_non_essential.is_(False))
            branches.append(admins)
    rows = union_all(*branches).subquery("m")
    order = list(rows.c)[-2:]
    columns = [rows.c.recipient_email] + [
        _numbered(rows.c[k], _MAIL.c[k], token, n.c.number) if k in _MAIL_NUMBERED else rows.c[k] for k in names
    ]
    body = select(*columns).select_from(rows).join(n, true()).order_by(*order)
    return insert(_MAIL).from_select(["recipient_email", *names], body).cte("e")


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
    n = _number_cte(year)
    rows = {k: v for k, v in ticket.items() if k != "ticket_number"}
    t = insert(Ticket.__table__).from_select(
        ["ticket_number", *rows], select(n.c.number, *_values(Ticket.__table__, rows, token, n.c.number))
    )
    h = insert(TicketStatusHistory.__table__).values(**history)
    a = insert(AuditLog.__table__).from_select(
        list(audit_row),
        select(*_values(AuditLog.__table__, audit_row, token, n.c.number, _AUDIT_NUMBERED)).select_from(n),
    )
    ctes = [t.cte("t"), h.cte("h"), a.cte("a")]
    if messages:
        ctes.append(_mail_cte(messages, token, n))
    return session.execute(select(n.c.number).add_cte(*ctes)).scalar_one()
