"""The coordinator queue: one SQL query that filters, sorts and pages tickets.

Everything a coordinator narrows the queue by is turned into SQL here, so the database does
the filtering, sorting and paging and the page stays fast with a million tickets. The
actor's staff scope (`policy.staff_scope`: the tickets they act as staff on, a subset of what
they may see) is ANDed into every query, so the grid can never show a ticket its user may not
work, whatever the filters say.

SLA state (only for open tickets, i.e. work remains; other tickets have no state, shown as
"—") and every other state a view can be narrowed to (`QueueFilters.states`) come from
`ticket_states`, the one definition Home and the dashboard use too:

* **breached** — a running clock has run out (`ticket_states.breached`); a first response
  given late is not "breached now".
* **at risk** (shown "Due soon") — not breached, a running clock due within the next
  4 business hours (`ticket_states.due_soon`).
* **on track** — everything else that is open, including an open ticket without clocks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Text,
    and_,
    case,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from . import policy, refdata, settings, ticket_states, vocab
from .errors import ValidationError, page_errors
from .models import TICKET_TSVECTOR, Employee, Ticket
from .policy import Action
from .text_input import SEARCH_MAX, text_errors
from .ticket_states import TicketState
from .vocab import Priority, TicketStatus


class SlaState(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    BREACHED = "breached"


SLA_LABELS: dict[str, str] = {
    SlaState.ON_TRACK: "On track",
    SlaState.AT_RISK: "Due soon",
    SlaState.BREACHED: "Breached",
}

#: "Not closed" for the default view: everything still open plus Resolved (awaiting close).
NOT_CLOSED_STATUSES: tuple[str, ...] = tuple(s.value for s in vocab.NOT_CLOSED_STATUSES)

#: "mine_or_department": assigned to me, or unassigned (`ticket_states.unassigned`) in my
#: department — a coordinator's working set.
ASSIGNEE_KEYWORDS = ("me", "unassigned", "anyone", "mine_or_department")
ASSIGNEE_LABELS: dict[str, str] = {
    "me": "Me",
    "unassigned": "Unassigned",
    "anyone": "Anyone",
    "mine_or_department": "Me, or unassigned in my department",
}
STATE_VALUES: tuple[str, ...] = tuple(s.value for s in TicketState)
PAGE_SIZES = (25, 50, 100, 200)
MAX_PAGE_SIZE = 200
#: Totals above this are reported as "more than" (an exact count of a huge result is the
#: slowest part of a page and nobody pages that far).
COUNT_CAP = 1_000

#: Workflow order of statuses and urgency order of priorities, for sorting (not alphabetical).
STATUS_ORDER: tuple[str, ...] = tuple(s.value for s in TicketStatus)
PRIORITY_ORDER: tuple[str, ...] = (
    Priority.CRITICAL.value,
    Priority.HIGH.value,
    Priority.MEDIUM.value,
    Priority.LOW.value,
)

#: Grid columns, in display order; every one of them is a sort key.
COLUMNS: tuple[str, ...] = (
    "number",
    "subject",
    "requester",
    "department",
    "category",
    "priority",
    "status",
    "assignee",
    "age",
    "sla",
    "version",
)


@dataclass(frozen=True)
class QueueFilters:
    """A coordinator's filter set; also what a saved view stores (`to_dict`/`from_dict`).

    Empty tuples / None / "" mean "any". `assignee` is "me", "unassigned", "anyone" or an
    employee id. Created dates are calendar days in the configured time zone, inclusive.
    `sort` is one of `COLUMNS`; "age" ascending means youngest first. `states` are
    `ticket_states.TicketState` values, all of which must hold (the definitions Home counts by).
    """

    statuses: tuple[str, ...] = ()
    states: tuple[str, ...] = ()
    department: str | None = None
    category: str | None = None
    priorities: tuple[str, ...] = ()
    assignee: str | int = "anyone"
    text: str = ""
    sla_state: str | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    sort: str = "age"
    descending: bool = False

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["statuses"] = list(self.statuses)
        data["priorities"] = list(self.priorities)
        data["states"] = list(self.states)
        for key in ("created_from", "created_to"):
            data[key] = data[key].isoformat() if data[key] else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> QueueFilters:
        """Rebuild from `to_dict` output; unknown keys (from older versions) are ignored."""
        known = {f for f in cls.__dataclass_fields__}
        values: dict[str, Any] = {k: v for k, v in data.items() if k in known}
        for key in ("statuses", "priorities", "states"):
            if key in values:
                values[key] = tuple(values[key] or ())
        for key in ("created_from", "created_to"):
            if isinstance(values.get(key), str):
                values[key] = dt.date.fromisoformat(values[key])
        return cls(**values)


#: The default view: "assigned to me, not closed".
DEFAULT_FILTERS = QueueFilters(statuses=NOT_CLOSED_STATUSES, assignee="me")
DEFAULT_VIEW_NAME = "Assigned to me, not closed"


@dataclass(frozen=True)
class QueueRow:
    id: int
    number: str
    subject: str
    requester: str
    department: str
    category: str
    priority: str
    status: str
    assignee_id: int | None
    assignee: str | None
    submit_date: dt.datetime
    age: dt.timedelta
    sla: str | None
    next_due: dt.datetime | None
    version: int


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    total_capped: bool  # True: there are more than `total` matches
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass
class _Parts:
    """SQL pieces shared by the filters, the SLA column and the SLA sort, for one moment."""

    now: dt.datetime
    until: dt.datetime  # the end of the "due soon" window
    breached: ColumnElement[bool]
    at_risk: ColumnElement[bool]
    state: ColumnElement[Any]
    rank: ColumnElement[Any]
    next_due: ColumnElement[Any]
    is_open: ColumnElement[bool] = field(default_factory=ticket_states.is_open)


def _sla_parts(session: Session, now: dt.datetime) -> _Parts:
    until = ticket_states.due_soon_until(session, now)
    is_open = ticket_states.is_open()
    breached = ticket_states.breached(now)
    at_risk = ticket_states.due_soon(now, until)
    state = case(
        (~is_open, null()),
        (breached, literal(SlaState.BREACHED.value)),
        (at_risk, literal(SlaState.AT_RISK.value)),
        else_=literal(SlaState.ON_TRACK.value),
    )
    rank = case((~is_open, 3), (breached, 0), (at_risk, 1), else_=2)
    return _Parts(
        now=now,
        until=until,
        breached=breached,
        at_risk=at_risk,
        state=state,
        rank=rank,
        next_due=ticket_states.next_due(),
        is_open=is_open,
    )


def validate_filters(filters: QueueFilters) -> None:
    """Raise `ValidationError` naming every bad filter (before any query runs)."""
    errors: dict[str, str] = {}
    bad = [s for s in filters.statuses if s not in STATUS_ORDER]
    if bad:
        errors["statuses"] = f"unknown status {', '.join(map(repr, bad))}; use {', '.join(STATUS_ORDER)}"
    bad = [p for p in filters.priorities if p not in PRIORITY_ORDER]
    if bad:
        errors["priorities"] = f"unknown priority {', '.join(map(repr, bad))}; use {', '.join(PRIORITY_ORDER)}"
    a = filters.assignee
    if isinstance(a, bool) or not ((isinstance(a, int) and a > 0) or (isinstance(a, str) and a in ASSIGNEE_KEYWORDS)):
        errors["assignee"] = "must be 'me', 'unassigned', 'anyone', 'mine_or_department' or an employee id"
    bad = [x for x in filters.states if x not in STATE_VALUES]
    if bad:
        errors["states"] = f"unknown state {', '.join(map(repr, bad))}; use {', '.join(STATE_VALUES)}"
    if filters.sla_state is not None and filters.sla_state not in {s.value for s in SlaState}:
        errors["sla_state"] = "must be one of on_track, at_risk, breached"
    if filters.created_from and filters.created_to and filters.created_from > filters.created_to:
        errors["created_to"] = "must be on or after the 'created from' date"
    if filters.sort not in COLUMNS:
        errors["sort"] = f"must be one of {', '.join(COLUMNS)}"
    errors.update(
        text_errors(
            {"text": filters.text, "department": filters.department, "category": filters.category},
            {"text": SEARCH_MAX, "department": 100, "category": 100},
        )
    )
    if errors:
        raise ValidationError(errors)


def _day_start(day: dt.date) -> dt.datetime:
    tz = ZoneInfo(settings.get_settings().timezone or "UTC")
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


def _conditions(actor: Employee, filters: QueueFilters, parts: _Parts) -> list[ColumnElement[bool]]:
    # The queue is where staff work: only tickets the actor acts as staff on (a subset of what
    # they can see). A coordinator's own request to another department is in My tickets.
    conds: list[ColumnElement[bool]] = [policy.staff_scope(actor)]
    if filters.statuses:
        conds.append(Ticket.status.in_(list(filters.statuses)))
    if filters.department:
        conds.append(Ticket.department == filters.department)
    if filters.category:
        conds.append(Ticket.category == filters.category)
    if filters.priorities:
        conds.append(Ticket.priority.in_(list(filters.priorities)))
    if filters.assignee == "me":
        conds.append(Ticket.assigned_to_id == actor.id)
    elif filters.assignee == "unassigned":
        conds.append(Ticket.assigned_to_id.is_(None))
    elif filters.assignee == "mine_or_department":
        conds.append(
            or_(
                Ticket.assigned_to_id == actor.id,
                and_(ticket_states.unassigned(), Ticket.department == actor.department),
            )
        )
    elif isinstance(filters.assignee, int):
        conds.append(Ticket.assigned_to_id == filters.assignee)
    for state in filters.states:
        conds.append(ticket_states.condition(state, now=parts.now, until=parts.until, viewer_id=actor.id))
    text = filters.text.strip()
    if text:
        query = func.websearch_to_tsquery(literal_column("'english'::regconfig"), literal(text, type_=Text))
        match = TICKET_TSVECTOR.op("@@")(query)
        conds.append(or_(match, Ticket.ticket_number == text.upper()))
    if filters.sla_state == SlaState.BREACHED:
        conds.append(parts.breached)
    elif filters.sla_state == SlaState.AT_RISK:
        conds.append(parts.at_risk)
    elif filters.sla_state == SlaState.ON_TRACK:
        conds.append(and_(parts.is_open, ~func.coalesce(parts.breached, False), ~func.coalesce(parts.at_risk, False)))
    if filters.created_from:
        conds.append(Ticket.submit_date >= _day_start(filters.created_from))
    if filters.created_to:
        conds.append(Ticket.submit_date < _day_start(filters.created_to + dt.timedelta(days=1)))
    return conds


#: Sort keys that can be NULL (unassigned, no SLA): those go last in either direction.
NULLS_LAST_KEYS = frozenset({"requester", "assignee", "sla"})


def _order(filters: QueueFilters, parts: _Parts, requester: Any, assignee: Any) -> list[Any]:
    keys: dict[str, list[Any]] = {
        "number": [Ticket.ticket_number],
        "subject": [func.lower(Ticket.subject)],
        "requester": [func.lower(requester.last_name), func.lower(requester.first_name)],
        "department": [Ticket.department],
        "category": [Ticket.category],
        "priority": [case(*[(Ticket.priority == p, i) for i, p in enumerate(PRIORITY_ORDER)], else_=9)],
        "status": [case(*[(Ticket.status == s, i) for i, s in enumerate(STATUS_ORDER)], else_=99)],
        "assignee": [func.lower(assignee.last_name), func.lower(assignee.first_name)],
        "age": [Ticket.submit_date],
        "sla": [parts.rank, parts.next_due],
        "version": [Ticket.version],
    }
    # Age grows as submit_date falls: "age ascending" is "newest first".
    descending = (not filters.descending) if filters.sort == "age" else filters.descending
    if filters.sort in NULLS_LAST_KEYS:
        order = [k.desc().nulls_last() if descending else k.asc().nulls_last() for k in keys[filters.sort]]
    else:
        # Plain ASC/DESC (PostgreSQL's default null placement) so a B-tree index on the
        # column, read forwards or backwards, delivers the order and LIMIT stops early.
        order = [k.desc() if descending else k.asc() for k in keys[filters.sort]]
    order.append(Ticket.id.desc() if descending else Ticket.id.asc())
    return order


def _name(first: Any, last: Any) -> ColumnElement[str]:
    return func.concat_ws(literal(" "), first, last)


def _rows_stmt(filters: QueueFilters, parts: _Parts, conds: list[ColumnElement[bool]]) -> Any:
    requester = aliased(Employee, name="requester")
    assignee = aliased(Employee, name="assignee")
    return (
        select(
            Ticket.id,
            Ticket.ticket_number,
            Ticket.subject,
            _name(requester.first_name, requester.last_name).label("requester"),
            Ticket.department,
            Ticket.category,
            Ticket.priority,
            Ticket.status,
            Ticket.assigned_to_id,
            _name(assignee.first_name, assignee.last_name).label("assignee"),
            Ticket.submit_date,
            parts.state.label("sla"),
            parts.next_due.label("next_due"),
            Ticket.version,
        )
        .join(requester, requester.id == Ticket.employee_id)
        .outerjoin(assignee, assignee.id == Ticket.assigned_to_id)
        .where(*conds)
        .order_by(*_order(filters, parts, requester, assignee))
    )


def _rows(session: Session, stmt: Any, now: dt.datetime) -> list[QueueRow]:
    return [
        QueueRow(
            id=r.id,
            number=r.ticket_number,
            subject=r.subject,
            requester=r.requester,
            department=r.department,
            category=r.category,
            priority=r.priority or Priority.MEDIUM.value,
            status=r.status or TicketStatus.NEW.value,
            assignee_id=r.assigned_to_id,
            assignee=r.assignee if r.assigned_to_id is not None else None,
            submit_date=r.submit_date,
            age=now - r.submit_date,
            sla=r.sla,
            next_due=r.next_due,
            version=r.version,
        )
        for r in session.execute(stmt)
    ]


def _capped_count(session: Session, conds: list[ColumnElement[bool]], cap: int) -> tuple[int, bool]:
    """How many rows match, counting at most `cap` + 1 of them; (min(count, cap), count > cap)."""
    capped = select(Ticket.id).where(*conds).limit(cap + 1).subquery()
    total = session.scalar(select(func.count()).select_from(capped)) or 0
    return min(total, cap), total > cap


def query_queue(
    session: Session,
    actor: Employee,
    filters: QueueFilters,
    *,
    page: int = 1,
    page_size: int = 50,
    now: dt.datetime | None = None,
    count_cap: int = COUNT_CAP,
) -> QueuePage:
    """One page of the queue and the total number of matches, visible to `actor` only."""
    policy.require(actor, Action.USE_QUEUE)
    validate_filters(filters)
    if errors := page_errors(page, page_size, MAX_PAGE_SIZE):
        raise ValidationError(errors)
    now = now or dt.datetime.now(dt.UTC)
    parts = _sla_parts(session, now)
    conds = _conditions(actor, filters, parts)

    total, total_capped = _capped_count(session, conds, count_cap)
    stmt = _rows_stmt(filters, parts, conds).limit(page_size).offset((page - 1) * page_size)
    rows = _rows(session, stmt, now)
    return QueuePage(rows=rows, total=total, total_capped=total_capped, page=page, page_size=page_size)


#: Most rows one export carries (a view larger than this is narrowed first).
EXPORT_MAX = 10_000


def export_rows(
    session: Session, actor: Employee, filters: QueueFilters, *, limit: int = EXPORT_MAX, now: dt.datetime | None = None
) -> list[QueueRow]:
    """Every row of the view (up to `limit`) in the view's order, for CSV/Excel export."""
    policy.require(actor, Action.USE_QUEUE)
    validate_filters(filters)
    now = now or dt.datetime.now(dt.UTC)
    parts = _sla_parts(session, now)
    return _rows(session, _rows_stmt(filters, parts, _conditions(actor, filters, parts)).limit(limit), now)


def rows_by_id(
    session: Session, actor: Employee, ticket_ids: list[int], *, now: dt.datetime | None = None
) -> dict[int, QueueRow]:
    """The current queue rows of these tickets (those in the actor's staff scope, as the queue
    itself), to refresh rows in place after a save without re-sorting the grid under the
    user's selection."""
    policy.require(actor, Action.USE_QUEUE)
    if not ticket_ids:
        return {}
    now = now or dt.datetime.now(dt.UTC)
    parts = _sla_parts(session, now)
    conds = [policy.staff_scope(actor), Ticket.id.in_([int(i) for i in ticket_ids])]
    return {r.id: r for r in _rows(session, _rows_stmt(QueueFilters(), parts, conds), now)}


def count_new_since(session: Session, actor: Employee, filters: QueueFilters, since: dt.datetime) -> int:
    """Tickets in this view submitted after `since` (the live queue's "new" badge)."""
    policy.require(actor, Action.USE_QUEUE)
    validate_filters(filters)
    parts = _sla_parts(session, dt.datetime.now(dt.UTC))
    conds = [*_conditions(actor, filters, parts), Ticket.submit_date > since]
    return _capped_count(session, conds, COUNT_CAP)[0]


def count_view(
    session: Session, actor: Employee, filters: QueueFilters, *, now: dt.datetime | None = None
) -> tuple[int, bool]:
    """(matches, more than that) of a view: the number its queue page says (Home's tiles)."""
    policy.require(actor, Action.USE_QUEUE)
    validate_filters(filters)
    parts = _sla_parts(session, now or dt.datetime.now(dt.UTC))
    return _capped_count(session, _conditions(actor, filters, parts), COUNT_CAP)


def assignable_staff(session: Session, actor: Employee) -> list[tuple[int, str, str]]:
    """(id, name, department) of active coordinators and admins, for the assignee picker.

    The ticket service still decides whether a given assignment is allowed.
    """
    policy.require(actor, Action.USE_QUEUE)
    return [(p.id, p.name, p.department) for p in refdata.choices(session).staff]


def filter_choices(session: Session, actor: Employee) -> tuple[list[str], list[str]]:
    """(department names, category names) for the filter pickers, active ones first."""
    policy.require(actor, Action.USE_QUEUE)
    found = refdata.choices(session)
    return list(found.departments), list(found.categories)


__all__ = [
    "COLUMNS",
    "DEFAULT_FILTERS",
    "DEFAULT_VIEW_NAME",
    "NOT_CLOSED_STATUSES",
    "QueueFilters",
    "QueuePage",
    "QueueRow",
    "SlaState",
    "assignable_staff",
    "count_new_since",
    "count_view",
    "export_rows",
    "filter_choices",
    "query_queue",
    "rows_by_id",
    "validate_filters",
]
