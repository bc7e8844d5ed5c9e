"""The dashboard's data in parts: a page computes only the part of the view in sight.

WHY parts: at 1M tickets and 365 days, grouping both cohorts by every dimension, hour and
resolution bucket costs more than the KPIs and weekly trends a first open shows. Each part
reads the packed rows it needs once (the figures run in a thread while the SQL lists are
read); `dashboard(..., parts=PARTS)` (the default) computes them all in one pass."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..errors import ValidationError
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


@dataclass(frozen=True)
class Part:
    """One part of the dashboard: the row kinds it groups each cohort by
    (`figures.ALL_KINDS`), whether it has the KPI tiles, and the SQL lists of *now* it reads."""

    created: frozenset[str] = frozenset()
    resolved: frozenset[str] = frozenset()
    kpis: bool = False
    lists: frozenset[str] = frozenset()


WEEK = frozenset({"week"})
#: Part -> what it computes. "summary" is what the page shows on opening: the KPI tiles,
#: the weekly trends, the breached/due-soon list and the workload per coordinator.
PARTS: dict[str, Part] = {
    "summary": Part(WEEK, WEEK, kpis=True, lists=frozenset({"due_soon", "workload"})),
    "breakdowns": Part(frozenset(DIMENSIONS), frozenset(DIMENSIONS)),
    "resolution": Part(resolved=frozenset({"priority", "hist"})),
    "backlog": Part(lists=frozenset({"backlog"})),
    "arrivals": Part(created=frozenset({"heat"})),
}

_LISTS = {"backlog": backlog_now, "due_soon": due_soon_now, "workload": workload_now}


def dashboard(
    session: Session,
    actor: Employee,
    filters: ReportFilters,
    *,
    now: dt.datetime | None = None,
    parts: Collection[str] = tuple(PARTS),
) -> Dashboard:
    """The page's data for `parts` (all by default); a field of a part not asked for is None.
    The policy and the filters are checked whatever is asked."""
    unknown = sorted(set(parts) - set(PARTS))
    if unknown or not parts:
        raise ValidationError(f"Dashboard part: {', '.join(unknown) or 'none'} is not one of {', '.join(PARTS)}.")
    sc = checked(session, actor, filters)
    now = now_or(now)
    asked = [PARTS[name] for name in parts]
    created = frozenset().union(*(part.created for part in asked))
    resolved = frozenset().union(*(part.resolved for part in asked))
    with_kpis = any(part.kpis for part in asked)
    wait = None
    if created or resolved or with_kpis:
        wait = start_figures(session, sc.mask, period_of(filters), now, created, resolved, with_kpis=with_kpis)
    listed = frozenset().union(*(part.lists for part in asked))
    lists = {name: _LISTS[name](session, sc.conds, now) for name in sorted(listed)}  # while numpy works
    data = Dashboard(filters=filters, computed_at=now, parts=frozenset(parts), **lists)
    if wait is None:
        return data
    f = wait()
    if "summary" in parts:
        data.kpis = to_kpis(f.kpis)
        data.extra["ratings"] = f.kpis["_ratings"]
        data.trends = trends_table(f.created, f.resolved)
    if "breakdowns" in parts:
        data.breakdowns = {dim: breakdown_table(session, f.created, f.resolved, dim) for dim in DIMENSIONS}
    if "resolution" in parts:
        data.distribution, data.histogram = distribution_tables(f.resolved)
    if "arrivals" in parts:
        data.heatmap = heatmap_table(f.created)
    return data
