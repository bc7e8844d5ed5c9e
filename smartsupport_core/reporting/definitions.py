"""What the dashboard reports: the KPI list, the filters, the period arithmetic and the
limits a request is validated against (definitions of each KPI: the package docstring)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.orm import Session

from .. import ticket_states
from ..errors import ValidationError
from ..models import TicketCategory
from ..settings import get_settings
from ..vocab import OPEN_STATUSES, Priority, TicketStatus

UTC = dt.UTC
MAX_RANGE_DAYS = 3 * 366
MIN_DATE, MAX_DATE = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
MAX_ID = 2**31 - 1
#: Percentiles computed per group in one ordered-set aggregate (one sort per group).
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.9, 0.95)
#: Backlog age buckets: upper bounds in days (calendar age since submission) and labels.
AGE_BOUNDS_DAYS = (1, 3, 7, 14, 30)
AGE_LABELS = ("< 1 day", "1-3 days", "3-7 days", "7-14 days", "14-30 days", "30+ days")
#: Resolution-time histogram: upper bounds in hours on the SLA clock, and labels.
RESOLUTION_BOUNDS_HOURS = (1, 2, 4, 8, 16, 24, 40, 80)
RESOLUTION_LABELS = ("< 1 h", "1-2 h", "2-4 h", "4-8 h", "8-16 h", "16-24 h", "24-40 h", "40-80 h", "80+ h")
DUE_SOON_BUSINESS_MINUTES = ticket_states.DUE_SOON_BUSINESS_MINUTES
DRILL_LIMIT = 500
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
UNASSIGNED = "unassigned"
OPEN_VALUES = [s.value for s in OPEN_STATUSES]
NEVER_ANSWERED_OK = [TicketStatus.REJECTED.value, TicketStatus.WITHDRAWN.value]


@dataclass(frozen=True)
class KpiDef:
    key: str
    label: str
    unit: str  # count | minutes | percent | score
    better: str  # higher | lower: how the page colours the change
    help: str = ""  # one sentence for people (the page's tooltip)


#: The KPI tiles in page order; definitions in the module docstring.
KPI_DEFS: tuple[KpiDef, ...] = (
    KpiDef(
        "open_backlog",
        "Open backlog",
        "count",
        "lower",
        "Tickets open at the end of the range (New, Open, In Progress, On Hold).",
    ),
    KpiDef(
        "created",
        "Created",
        "count",
        "lower",
        "Tickets submitted in the range.",
    ),
    KpiDef(
        "resolved",
        "Resolved",
        "count",
        "higher",
        "Tickets first resolved in the range (a reopen keeps the first resolution).",
    ),
    KpiDef(
        "response_p50",
        "Median first response",
        "minutes",
        "lower",
        "Median first response of tickets created in the range, on the SLA clock.",
    ),
    KpiDef(
        "response_p90",
        "p90 first response",
        "minutes",
        "lower",
        "90th percentile first response of tickets created in the range, on the SLA clock.",
    ),
    KpiDef(
        "resolution_p50",
        "Median resolution",
        "minutes",
        "lower",
        "Median resolution time (On Hold excluded) of tickets resolved in the range.",
    ),
    KpiDef(
        "resolution_p90",
        "p90 resolution",
        "minutes",
        "lower",
        "90th percentile resolution time of tickets resolved in the range.",
    ),
    KpiDef(
        "response_compliance",
        "Response SLA met",
        "percent",
        "higher",
        "Created in the range: share answered within target (unanswered past due count as missed).",
    ),
    KpiDef(
        "resolution_compliance",
        "Resolution SLA met",
        "percent",
        "higher",
        "Resolved in the range: share resolved within target.",
    ),
    KpiDef(
        "breached_open",
        "Open and breached",
        "count",
        "lower",
        "Open at the end of the range with the response or resolution target already missed.",
    ),
    KpiDef(
        "reopen_rate",
        "Reopen rate",
        "percent",
        "lower",
        "Resolved in the range: share reopened afterwards.",
    ),
    KpiDef(
        "satisfaction",
        "Satisfaction (1-5)",
        "score",
        "higher",
        "Average requester rating (1-5) given in the range.",
    ),
)


@dataclass(frozen=True)
class ReportFilters:
    """What a manager narrows the report to; every field is ANDed with visibility."""

    start: dt.date
    end: dt.date  # inclusive
    department: str | None = None
    category: str | None = None
    priority: str | None = None
    coordinator_id: int | None = None

    def key(self) -> tuple[Any, ...]:
        """Hashable identity (the portal's cache key)."""
        return tuple(getattr(self, f.name) for f in fields(self))

    def as_query(self) -> dict[str, str]:
        """The dashboard link's query parameters for these filters (`/dashboard?start=...`):
        the weekly summary e-mail links with them, and the page reads them back."""
        out = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        for name in ("department", "category", "priority"):
            if getattr(self, name) is not None:
                out[name] = str(getattr(self, name))
        if self.coordinator_id is not None:
            out["coordinator"] = str(self.coordinator_id)
        return out

    @classmethod
    def last_days(cls, days: int, today: dt.date | None = None, **dims: Any) -> ReportFilters:
        today = today or dt.datetime.now(report_tz()).date()
        return cls(start=today - dt.timedelta(days=days - 1), end=today, **dims)


@dataclass(frozen=True)
class Period:
    start: dt.datetime
    end: dt.datetime
    prev_start: dt.datetime
    tz: str

    @property
    def prev_end(self) -> dt.datetime:
        return self.start


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    unit: str
    better: str
    value: float | None
    previous: float | None
    help: str = ""

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


@dataclass
class Dashboard:
    """What the dashboard page shows, for one actor and filter set: the fields of the parts
    computed (`board.PARTS`, named in `parts`); the others are None."""

    filters: ReportFilters
    computed_at: dt.datetime
    parts: frozenset[str] = frozenset()
    kpis: list[Kpi] | None = None
    trends: pd.DataFrame | None = None
    breakdowns: dict[str, pd.DataFrame] | None = None
    distribution: pd.DataFrame | None = None
    histogram: pd.DataFrame | None = None
    backlog: pd.DataFrame | None = None
    due_soon: pd.DataFrame | None = None
    heatmap: pd.DataFrame | None = None
    workload: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def breached_now(self) -> pd.DataFrame:
        """The breached tickets of the breached/due-soon list (`ticket_states.breached`)."""
        assert self.due_soon is not None, "the summary part holds the due-soon list"
        return self.due_soon[self.due_soon["breached"].astype(bool)].reset_index(drop=True)


# --- Scope and validation ---------------------------------------------------------------


def report_tz() -> ZoneInfo:
    name = get_settings().timezone
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def validate_filters(session: Session, filters: ReportFilters) -> None:
    """Raise ValidationError naming every bad filter (nothing is queried before)."""
    errors: dict[str, str] = {}
    if not isinstance(filters.start, dt.date) or not isinstance(filters.end, dt.date):
        errors["date range"] = "start and end must be dates"
    elif not (MIN_DATE <= filters.start <= MAX_DATE and MIN_DATE <= filters.end <= MAX_DATE):
        errors["date range"] = f"dates must be between {MIN_DATE} and {MAX_DATE}"
    elif filters.end < filters.start:
        errors["date range"] = "the end date must be on or after the start date"
    elif (filters.end - filters.start).days + 1 > MAX_RANGE_DAYS:
        errors["date range"] = f"at most {MAX_RANGE_DAYS} days"
    if filters.priority is not None and filters.priority not in {p.value for p in Priority}:
        errors["priority"] = "must be one of " + ", ".join(p.value for p in Priority)
    if filters.category is not None and not session.scalar(
        select(func.count()).select_from(TicketCategory).where(TicketCategory.name == filters.category)
    ):
        errors["category"] = f"unknown category {filters.category!r}"
    if filters.department is not None and not isinstance(filters.department, str):
        errors["department"] = "must be a department name"
    cid = filters.coordinator_id
    if cid is not None and (isinstance(cid, bool) or not isinstance(cid, int) or not 0 < cid <= MAX_ID):
        errors["coordinator"] = "must be an employee id"
    if errors:
        raise ValidationError(errors)


def period_of(filters: ReportFilters) -> Period:
    tz = report_tz()
    days = (filters.end - filters.start).days + 1

    def midnight(day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(0), tzinfo=tz)

    return Period(
        start=midnight(filters.start),
        end=midnight(filters.end + dt.timedelta(days=1)),
        prev_start=midnight(filters.start - dt.timedelta(days=days)),
        tz=tz.key,
    )


def now_or(now: dt.datetime | None) -> dt.datetime:
    return now if now is not None else dt.datetime.now(UTC)
