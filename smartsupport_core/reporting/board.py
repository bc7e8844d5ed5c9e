"""The whole dashboard in one call: the packed-row figures run in a thread while the SQL lists
are read."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from ..models import Employee
from .definitions import (
    Dashboard,
    ReportFilters,
    now_or,
    period_of,
)
from .figures import (
    start_figures,
    to_kpis,
)
from .lists import (
    backlog_now,
    due_soon_now,
    workload_now,
)
from .rules import (
    DIMENSIONS,
    checked,
)
from .tables import breakdown_table, distribution_tables, heatmap_table, trends_table


def dashboard(
    session: Session, actor: Employee, filters: ReportFilters, *, now: dt.datetime | None = None
) -> Dashboard:
    """All of the page's data: one read of the packed rows, then the backlog and due-soon queries."""
    sc = checked(session, actor, filters)
    now = now_or(now)
    p = period_of(filters)
    wait = start_figures(session, sc.mask, p, now)
    backlog, due = backlog_now(session, sc.conds, now), due_soon_now(session, sc.conds, now)  # while numpy works
    load = workload_now(session, sc.conds, now)
    f = wait()
    dist, hist = distribution_tables(f.resolved)
    return Dashboard(
        filters=filters,
        computed_at=now,
        kpis=to_kpis(f.kpis),
        trends=trends_table(f.created, f.resolved),
        breakdowns={dim: breakdown_table(session, f.created, f.resolved, dim) for dim in DIMENSIONS},
        distribution=dist,
        histogram=hist,
        backlog=backlog,
        due_soon=due,
        heatmap=heatmap_table(f.created),
        workload=load,
        extra={"ratings": f.kpis["_ratings"]},
    )
