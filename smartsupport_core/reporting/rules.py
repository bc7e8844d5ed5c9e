"""Who and which tickets a report counts: the SQL rules (`scope`, `open_at`, `breached_at`) and,
next to each, its numpy mirror over packed rows (`row_mask`, `open_and_breached`), which the
figures use for speed; `tests/test_report_rows.py` and `tests/test_report_states.py` check
each mirror against its SQL rule on generated data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import (
    and_,
    func,
    literal,
    or_,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from .. import policy, ticket_states
from ..models import Employee, Ticket
from ..policy import Action
from . import packed_rows
from .definitions import (
    OPEN_VALUES,
    ReportFilters,
    validate_filters,
)


def scope(
    actor: Employee, filters: ReportFilters, grants: policy.Grants = policy.NO_GRANTS
) -> list[ColumnElement[bool]]:
    """Who may see what (`policy.action_scope` of VIEW_REPORTS: the role's visibility plus the
    departments the actor heads) AND the dimension filters (the date range is per cohort)."""
    conds: list[ColumnElement[bool]] = [policy.action_scope(actor, Action.VIEW_REPORTS, grants)]
    if filters.department is not None:
        conds.append(Ticket.department == filters.department)
    if filters.category is not None:
        conds.append(Ticket.category == filters.category)
    if filters.priority is not None:
        conds.append(Ticket.priority == filters.priority)
    if filters.coordinator_id is not None:
        conds.append(Ticket.assigned_to_id == filters.coordinator_id)
    return conds


@dataclass(frozen=True)
class Scope:
    """One report request's scope, as SQL conditions and as their numpy mirror."""

    conds: list[ColumnElement[bool]]
    mask: RowMask


def checked(session: Session, actor: Employee, filters: ReportFilters) -> Scope:
    """Check the policy (role or a grant read now) and the filters; the scope they give."""
    grants = policy.grants_of(session, actor)
    policy.require(actor, Action.VIEW_REPORTS, grants)
    validate_filters(session, filters)
    packed_rows.tune(session)
    return Scope(scope(actor, filters, grants), row_mask(actor, filters, grants))


# --- Shared SQL expressions ---------------------------------------------------------------


def open_at(when: dt.datetime) -> ColumnElement[bool]:
    """Open at `when`: submitted before it and either in an open status now or resolved/closed
    after it. At `when` = now this is `ticket_states.is_open()` (one definition with Home and
    the queue; `tests/test_report_states.py` checks it on generated tickets)."""
    return and_(
        Ticket.submit_date < when,
        or_(ticket_states.is_open(), Ticket.resolved_at >= when, Ticket.time_closed >= when),
    )


def breached_at(when: dt.datetime) -> ColumnElement[bool]:
    """Open at `when` with a running clock run out by then: no first response by `when` and
    the response due time passed, or the resolution due time passed before `when` (before
    `on_hold_since` for a ticket On Hold: that clock is paused). At `when` = now this is
    `ticket_states.breached(now)`: a late first response already given is not breached now,
    and a reopened ticket (its first `resolved_at` is kept) is judged by its due time alone."""
    paused_at = func.least(literal(when), func.coalesce(Ticket.on_hold_since, literal(when)))
    return and_(
        open_at(when),
        or_(
            and_(
                Ticket.sla_response_due_at < when,
                or_(Ticket.first_response_at.is_(None), Ticket.first_response_at > when),
            ),
            Ticket.sla_resolution_due_at < paused_at,
        ),
    )


# --- Dimensions and the numpy mirror of `scope` over packed rows ---------------------------

#: Breakdown dimensions: name -> Ticket column (for drill-down; the figures group packed rows).
DIMENSIONS: dict[str, Any] = {
    "department": Ticket.department,
    "category": Ticket.category,
    "priority": Ticket.priority,
    "coordinator": Ticket.assigned_to_id,
}
#: Breakdown dimension -> its packed column (`packed_rows.FIELDS`, named as the Ticket attribute).
PACKED_DIMENSIONS: dict[str, str] = {dim: column.key for dim, column in DIMENSIONS.items()}
RowMask = Callable[[packed_rows.Rows], np.ndarray]


def row_mask(actor: Employee, filters: ReportFilters, grants: policy.Grants = policy.NO_GRANTS) -> RowMask:
    """Numpy mirror of `scope(actor, filters, grants)` over packed rows (tests compare it to the SQL)."""

    def mask(rows: packed_rows.Rows) -> np.ndarray:
        m = policy.action_scope_mask(
            actor,
            Action.VIEW_REPORTS,
            grants,
            lambda names: _in_departments(rows, names),
            rows["assigned_to_id"],
            rows["employee_id"],
        )
        if filters.department is not None:
            m &= department_mask(filters.department)(rows)
        if filters.category is not None:
            m &= rows["category"] == _id_of(rows.categories, filters.category)
        if filters.priority is not None:
            m &= rows["priority"] == packed_rows.PRIORITIES.index(filters.priority)
        if filters.coordinator_id is not None:
            m &= rows["assigned_to_id"] == filters.coordinator_id
        return m

    return mask


def _id_of(names: dict[int, str], name: str) -> int:
    """The row id of a department/category name (-2, matching no ticket, when unknown)."""
    return next((i for i, n in names.items() if n == name), -2)


def _in_departments(rows: packed_rows.Rows, names: frozenset[str]) -> np.ndarray:
    ids = [i for i, n in rows.departments.items() if n in names]
    return np.isin(rows["department"], ids)


def department_mask(department: str) -> RowMask:
    return lambda rows: rows["department"] == _id_of(rows.departments, department)


def open_and_breached(rows: packed_rows.Rows, visible: np.ndarray, when: dt.datetime) -> tuple[int, int]:
    """How many visible tickets `open_at(when)` and `breached_at(when)` select (numpy mirrors;
    a NULL timestamp is the smallest int64, so `x >= w` is false for it as in SQL)."""
    w = packed_rows.to_us(when)
    null = packed_rows.NULL_US
    sub = rows["submit_date"]
    still_open = rows.status_in(OPEN_VALUES)
    ended_after = (rows["resolved_at"] >= w) | (rows["time_closed"] >= w)
    is_open = visible & (sub != null) & (sub < w) & (still_open | ended_after)
    ix = np.flatnonzero(is_open)
    first, resp_due = rows["first_response_at"][ix], rows["sla_response_due_at"][ix]
    res_due, hold = rows["sla_resolution_due_at"][ix], rows["on_hold_since"][ix]
    response = (resp_due != null) & (resp_due < w) & ((first == null) | (first > w))
    paused_at = np.where(hold == null, w, np.minimum(hold, w))
    resolution = (res_due != null) & (res_due < paused_at)
    return len(ix), int(np.count_nonzero(response | resolution))
