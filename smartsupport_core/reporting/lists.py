"""The lists that describe tickets now or one bar of a chart, read in SQL: the backlog matrix,
the breached/due-soon list, the per-coordinator workload, drill-downs and the filter choices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import (
    Float,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import ColumnElement

from .. import policy, ticket_states
from ..errors import ValidationError
from ..models import Employee, Ticket, TicketCategory
from ..policy import Action
from ..vocab import Priority
from .definitions import (
    AGE_BOUNDS_DAYS,
    AGE_LABELS,
    DRILL_LIMIT,
    OPEN_VALUES,
    RESOLUTION_BOUNDS_HOURS,
    UNASSIGNED,
    Period,
    ReportFilters,
    now_or,
    period_of,
)
from .rules import (
    DIMENSIONS,
    breached_at,
    checked,
)


def _local(column: ColumnElement[Any], tz: str) -> ColumnElement[Any]:
    return func.timezone(tz, column)


def _week(column: ColumnElement[Any], tz: str) -> ColumnElement[Any]:
    return func.date_trunc("week", _local(column, tz))


def _age_bucket(now: dt.datetime) -> ColumnElement[Any]:
    days = extract("epoch", literal(now) - Ticket.submit_date) / 86400.0
    bounds = literal_column("ARRAY[" + ", ".join(str(b) for b in AGE_BOUNDS_DAYS) + "]::float8[]")
    return func.width_bucket(cast(days, Float), bounds)


def _resolution_bucket() -> ColumnElement[Any]:
    bounds = literal_column("ARRAY[" + ", ".join(str(b) for b in RESOLUTION_BOUNDS_HOURS) + "]::float8[]")
    return func.width_bucket(Ticket.sla_resolution_minutes / 60.0, bounds)


def backlog_now(session: Session, conds: list[ColumnElement[bool]], now: dt.datetime) -> pd.DataFrame:
    bucket = _age_bucket(now)
    inner = (
        select(Ticket.status, bucket.label("bucket"))
        .where(*conds, ticket_states.is_open(), Ticket.submit_date < now)
        .subquery("o")
    )
    grouped = (
        select(inner.c.status, inner.c.bucket, func.count().label("n"))
        .group_by(inner.c.status, inner.c.bucket)
        .subquery("og")
    )
    st = (
        func.unnest(literal_column("ARRAY[" + ",".join(f"'{s}'" for s in OPEN_VALUES) + "]"))
        .table_valued("s")
        .render_derived(name="ss")
    )
    b = func.generate_series(0, len(AGE_BOUNDS_DAYS)).table_valued("b").render_derived(name="bb")
    rows = (
        session.execute(
            select(st.c.s.label("status"), b.c.b.label("bucket"), func.coalesce(grouped.c.n, 0).label("tickets"))
            .select_from(st.join(b, literal(True)))
            .outerjoin(grouped, and_(grouped.c.status == st.c.s, grouped.c.bucket == b.c.b))
            .order_by(b.c.b)
        )
        .mappings()
        .all()
    )
    df = pd.DataFrame(rows, columns=["status", "bucket", "tickets"])
    df["age"] = df["bucket"].map(lambda i: AGE_LABELS[i])
    df["order"] = df["status"].map(OPEN_VALUES.index)
    return df.sort_values(["bucket", "order"]).drop(columns="order").reset_index(drop=True)


def backlog(session: Session, actor: Employee, filters: ReportFilters, *, now: dt.datetime | None = None):
    """Open tickets now by age bucket x status (every cell, zeros included)."""
    return backlog_now(session, checked(session, actor, filters).conds, now_or(now))


def _ticket_columns() -> tuple[list[Any], Any]:
    assignee = aliased(Employee)
    return [
        Ticket.id,
        Ticket.ticket_number,
        Ticket.subject,
        Ticket.status,
        Ticket.priority,
        Ticket.department,
        Ticket.category,
        func.coalesce(assignee.first_name + " " + assignee.last_name, "Unassigned").label("coordinator"),
        Ticket.submit_date,
        Ticket.first_response_at,
        Ticket.sla_response_due_at,
        Ticket.sla_response_minutes,
        Ticket.sla_response_met,
        Ticket.resolved_at,
        Ticket.sla_resolution_due_at,
        Ticket.sla_resolution_minutes,
        Ticket.sla_resolution_met,
        Ticket.reopen_count,
    ], assignee


def _ticket_frame(rows: list[Any], extra: tuple[str, ...] = ()) -> pd.DataFrame:
    base = [
        "id",
        "ticket_number",
        "subject",
        "status",
        "priority",
        "department",
        "category",
        "coordinator",
        "submit_date",
        "first_response_at",
        "sla_response_due_at",
        "sla_response_minutes",
        "sla_response_met",
        "resolved_at",
        "sla_resolution_due_at",
        "sla_resolution_minutes",
        "sla_resolution_met",
        "reopen_count",
    ]
    df = pd.DataFrame(rows, columns=[*base, *extra])
    df["link"] = df["id"].map(lambda i: f"/ticket?id={i}")
    return df


def due_soon_now(session: Session, conds: list[ColumnElement[bool]], now: dt.datetime) -> pd.DataFrame:
    """`ticket_states.urgent`: breached now or a running clock due within 4 business hours -
    the queue's "urgent" view, so the two lists are the same tickets."""
    until = ticket_states.due_soon_until(session, now)
    next_due = ticket_states.next_due()
    columns, assignee = _ticket_columns()
    clock = case(
        (and_(ticket_states.awaiting_response(), Ticket.sla_response_due_at == next_due), "response"),
        else_="resolution",
    )
    rows = session.execute(
        select(
            *columns,
            next_due.label("due_at"),
            func.coalesce(ticket_states.breached(now), False).label("breached"),
            clock.label("clock"),
        )
        .outerjoin(assignee, assignee.id == Ticket.assigned_to_id)
        .where(*conds, ticket_states.urgent(now, until))
        .order_by(next_due.nulls_first(), Ticket.id)
        .limit(DRILL_LIMIT)
    ).all()
    return _ticket_frame(rows, ("due_at", "breached", "clock"))


def due_soon(session: Session, actor: Employee, filters: ReportFilters, *, now: dt.datetime | None = None):
    """Open tickets breached or due within 4 business hours (earliest first; at most 500)."""
    return due_soon_now(session, checked(session, actor, filters).conds, now_or(now))


def workload_now(session: Session, conds: list[ColumnElement[bool]], now: dt.datetime) -> pd.DataFrame:
    """Per assignee (and "Unassigned"): open tickets now, how many are breached now
    (`ticket_states`), and the median age in hours (calendar time since submission) of the
    open ones. Most breached first. Dimension filters apply; the date range does not."""
    assignee = aliased(Employee)
    breached = func.count().filter(ticket_states.breached(now))
    age_hours = extract("epoch", literal(now) - Ticket.submit_date) / 3600.0
    rows = session.execute(
        select(
            Ticket.assigned_to_id,
            func.coalesce(assignee.first_name + " " + assignee.last_name, "Unassigned"),
            func.count(),
            breached,
            func.percentile_cont(0.5).within_group(age_hours),
        )
        .outerjoin(assignee, assignee.id == Ticket.assigned_to_id)
        .where(*conds, ticket_states.is_open())
        .group_by(Ticket.assigned_to_id, assignee.first_name, assignee.last_name)
        .order_by(breached.desc(), func.count().desc(), Ticket.assigned_to_id)
    ).all()
    df = pd.DataFrame(rows, columns=["key", "coordinator", "open", "breached", "median_age_hours"])
    df["key"] = df["key"].map(lambda k: UNASSIGNED if k is None or pd.isna(k) else str(int(k)))
    df["open"] = df["open"].astype(int)
    df["breached"] = df["breached"].astype(int)
    df["median_age_hours"] = df["median_age_hours"].astype(float)
    return df


def workload(session: Session, actor: Employee, filters: ReportFilters, *, now: dt.datetime | None = None):
    """Open, breached-now and median age per coordinator (see `workload_now`)."""
    return workload_now(session, checked(session, actor, filters).conds, now_or(now))


# --- Drill-down ---------------------------------------------------------------------------


def _in_range(column: Any, p: Period) -> ColumnElement[bool]:
    return and_(column >= p.start, column < p.end)


def _parse_week(value: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise ValidationError({"value": "a week must be given as its Monday, YYYY-MM-DD"}) from exc


def _parse_ints(value: str, n: int, what: str) -> list[int]:
    try:
        parts = [int(x) for x in str(value).split("|")]
    except ValueError:
        parts = []
    if len(parts) != n:
        raise ValidationError({"value": f"{what} must be given as " + "|".join(["N"] * n)})
    return parts


def _drill_condition(dimension: str, value: str, p: Period, now: dt.datetime) -> ColumnElement[bool]:
    """The SQL condition selecting exactly the tickets counted in one bar/cell."""
    if dimension in DIMENSIONS:
        col = DIMENSIONS[dimension]
        if dimension == "coordinator":
            key = col.is_(None) if value == UNASSIGNED else col == _parse_ints(value, 1, "a coordinator")[0]
        else:
            key = col == value
        return and_(key, or_(_in_range(Ticket.submit_date, p), _in_range(Ticket.resolved_at, p)))
    if dimension == "created_week":
        return and_(_in_range(Ticket.submit_date, p), _week(Ticket.submit_date, p.tz) == _parse_week(value))
    if dimension == "resolved_week":
        return and_(_in_range(Ticket.resolved_at, p), _week(Ticket.resolved_at, p.tz) == _parse_week(value))
    if dimension == "heat":
        dow, hour = _parse_ints(value, 2, "a heat-map cell (weekday 1-7 | hour)")
        local = _local(Ticket.submit_date, p.tz)
        return and_(_in_range(Ticket.submit_date, p), extract("isodow", local) == dow, extract("hour", local) == hour)
    if dimension == "backlog":
        status, _, bucket = str(value).partition("|")
        if status not in OPEN_VALUES:
            raise ValidationError({"value": "a backlog cell is status|age bucket with an open status"})
        b = _parse_ints(bucket, 1, "an age bucket")[0]
        return and_(Ticket.status == status, Ticket.submit_date < now, _age_bucket(now) == b)
    if dimension == "resolution":
        priority, _, bucket = str(value).partition("|")
        b = _parse_ints(bucket, 1, "a resolution bucket")[0]
        return and_(_in_range(Ticket.resolved_at, p), Ticket.priority == priority, _resolution_bucket() == b)
    if dimension == "breached":
        return breached_at(min(p.end, now))
    raise ValidationError({"dimension": "must be one of " + ", ".join(DRILL_DIMENSIONS)})


DRILL_DIMENSIONS = (*DIMENSIONS, "created_week", "resolved_week", "heat", "backlog", "resolution", "breached")


@dataclass
class Drilldown:
    dimension: str
    value: str
    total: int
    tickets: pd.DataFrame


def drilldown(
    session: Session,
    actor: Employee,
    filters: ReportFilters,
    dimension: str,
    value: str,
    *,
    now: dt.datetime | None = None,
) -> Drilldown:
    """The tickets behind one bar or cell (newest first, at most 500; `total` counts all)."""
    if dimension not in DRILL_DIMENSIONS:
        raise ValidationError({"dimension": "must be one of " + ", ".join(DRILL_DIMENSIONS)})
    conds = checked(session, actor, filters).conds
    now = now_or(now)
    cond = _drill_condition(dimension, value, period_of(filters), now)
    total = session.scalar(select(func.count()).select_from(Ticket).where(*conds, cond)) or 0
    columns, assignee = _ticket_columns()
    rows = session.execute(
        select(*columns)
        .outerjoin(assignee, assignee.id == Ticket.assigned_to_id)
        .where(*conds, cond)
        .order_by(Ticket.submit_date.desc(), Ticket.id.desc())
        .limit(DRILL_LIMIT)
    ).all()
    return Drilldown(dimension, str(value), int(total), _ticket_frame(rows))


@dataclass(frozen=True)
class FilterOptions:
    departments: list[str]
    categories: list[str]
    priorities: list[str]
    coordinators: list[tuple[int, str]]  # (id, name) of staff who can be assigned tickets
    #: True when the actor reports only on the departments it heads (`departments` lists them).
    heads_only: bool = False


def filter_options(session: Session, actor: Employee) -> FilterOptions:
    """What the filter boxes offer (visibility still limits what any choice can show): a
    department head whose role gives no reports is offered only the departments it heads."""
    from ..models import Department
    from ..vocab import AccountStatus, Role

    grants = policy.grants_of(session, actor)
    policy.require(actor, Action.VIEW_REPORTS, grants)
    heads_only = not policy.role_allows(actor, Action.VIEW_REPORTS)
    staff = session.execute(
        select(Employee.id, Employee.first_name, Employee.last_name)
        .where(
            Employee.role.in_([Role.COORDINATOR.value, Role.ADMIN.value]),
            Employee.status == AccountStatus.APPROVED.value,
        )
        .order_by(Employee.first_name, Employee.last_name, Employee.id)
    ).all()
    return FilterOptions(
        departments=sorted(grants.departments(Action.VIEW_REPORTS))
        if heads_only
        else list(session.scalars(select(Department.name).order_by(Department.name))),
        categories=list(session.scalars(select(TicketCategory.name).order_by(TicketCategory.name))),
        priorities=[p.value for p in Priority],
        coordinators=[(r.id, f"{r.first_name} {r.last_name}") for r in staff],
        heads_only=heads_only,
    )
