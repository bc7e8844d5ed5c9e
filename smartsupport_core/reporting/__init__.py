"""Reporting Service (spec process 7.0): SLA dashboards.

Every figure is an aggregate over numbers the SLA clock stored on `core_ticket` when the
events happened (`smartsupport_core.sla`): nothing here recomputes business time per row,
and no Python loop walks tickets. Every figure is limited to `scope(actor, filters)`
(`policy.ticket_visibility`: a coordinator's report covers their department plus tickets
assigned to them) and the caller must hold `Action.VIEW_REPORTS`.

How the package is split. The backlog matrix, the due-soon list, the workload and the
drill-downs are SQL queries (`lists`). The KPIs, trends, breakdowns, distribution and heat
map - exact percentiles over every ticket of the period for about a dozen groupings - are
computed by numpy (`figures`) from the tickets the database keeps *packed per UTC day*
(`packed_rows`: one bytea per day, kept exact by triggers and dirty-day marks), because
percentile aggregates per grouping set in SQL were an order of magnitude slower (the
measurements are in `bench/README.md`, next to `bench/dashboard.py`). `rules` holds each
SQL rule (`scope`, `open_at`, `breached_at`) with its numpy mirror beside it;
`tests/test_report_rows.py` and `tests/test_report_states.py` compare every figure and
mirror with SQL on generated tickets. `tables` shapes the page's pandas tables, `board`
assembles the whole page, `formatting` writes values for people, `weekly` is the weekly
e-mail to department heads, `definitions` the KPI list, filters and periods.

Periods. `ReportFilters.start`/`end` are local dates (settings time zone), `end` inclusive:
the period is [start 00:00, end+1 00:00). The *previous period* is the same number of days
right before it. "As of" the period end means min(period end, now).

KPI definitions (current period; the previous value uses the same rule on the previous
period; `change` = current - previous):

* open_backlog: tickets open at the period end - submitted before it and either still in an
  open status (New, Open, In Progress, On Hold) or resolved/closed (`resolved_at` or
  `time_closed`) after it. (A reopened ticket that is open now counts as open throughout.)
* created: tickets with `submit_date` in the period.
* resolved: tickets whose first resolution (`resolved_at`, kept across reopens) is in the period.
* response_p50 / response_p90: median / 90th percentile of `sla_response_minutes` (minutes on
  the response target's clock - business minutes by default) of tickets *created* in the
  period that have had a first response.
* resolution_p50 / resolution_p90: same over `sla_resolution_minutes` (On-Hold time excluded)
  of tickets *resolved* in the period.
* response_compliance: % of tickets created in the period that met the response target
  (`sla_response_met`), out of those with a first response plus those still waiting past
  `sla_response_due_at` now (a Rejected/Withdrawn ticket never answered is not counted).
* resolution_compliance: % of tickets resolved in the period with `sla_resolution_met`.
* breached_open: tickets open at the period end whose response is overdue (no first response
  by then and `sla_response_due_at` passed) or whose resolution is overdue
  (`sla_resolution_due_at` passed before the period end - or before `on_hold_since` for a
  ticket On Hold, since the clock is paused). For a period ending today this is exactly
  `ticket_states.breached(now)`, the queue's and Home's "breached" (`breached_at`).
* reopen_rate: % of tickets resolved in the period that were reopened (`reopen_count` > 0).
* satisfaction: average rating (1-5) of ratings given (`core_ticketrating.created_at`) in the
  period, on tickets in scope.

Trends are by local ISO week (Monday): created/response figures by week of submission,
resolved/resolution figures by week of first resolution. Breakdowns use the same two
cohorts per department, category, priority and coordinator (assignee). The backlog matrix
and the due-soon list describe *now* (dimension filters apply, the date range does not).
"""

from . import board, definitions, figures, formatting, lists, packed_rows, rules, tables, weekly
from .board import PARTS, dashboard
from .definitions import (
    AGE_BOUNDS_DAYS,
    AGE_LABELS,
    DRILL_LIMIT,
    DUE_SOON_BUSINESS_MINUTES,
    KPI_DEFS,
    MAX_DATE,
    MAX_ID,
    MAX_RANGE_DAYS,
    MIN_DATE,
    NEVER_ANSWERED_OK,
    OPEN_VALUES,
    QUANTILES,
    RESOLUTION_BOUNDS_HOURS,
    RESOLUTION_LABELS,
    UNASSIGNED,
    UTC,
    WEEKDAYS,
    Dashboard,
    Kpi,
    KpiDef,
    Period,
    ReportFilters,
    now_or,
    period_of,
    report_tz,
    validate_filters,
)
from .figures import (
    Cohort,
    Figures,
    created_cohort,
    created_frame,
    department_kpi_figures,
    figures_for,
    kpi_figures,
    kpis,
    kpis_only,
    load_rows,
    resolved_cohort,
    resolved_frame,
    start_figures,
    to_kpis,
)
from .formatting import FORMATTERS, change_text, hours
from .lists import (
    DRILL_DIMENSIONS,
    Drilldown,
    FilterOptions,
    backlog,
    backlog_now,
    drilldown,
    due_soon,
    due_soon_now,
    filter_options,
    workload,
    workload_now,
)
from .rules import (
    DIMENSIONS,
    PACKED_DIMENSIONS,
    RowMask,
    Scope,
    breached_at,
    checked,
    department_mask,
    open_and_breached,
    open_at,
    row_mask,
    scope,
)
from .tables import breakdown, breakdown_table, distribution_tables, heatmap_table, trends, trends_table

__all__ = [
    "AGE_BOUNDS_DAYS",
    "AGE_LABELS",
    "DIMENSIONS",
    "DRILL_DIMENSIONS",
    "DRILL_LIMIT",
    "DUE_SOON_BUSINESS_MINUTES",
    "FORMATTERS",
    "KPI_DEFS",
    "MAX_DATE",
    "MAX_ID",
    "MAX_RANGE_DAYS",
    "MIN_DATE",
    "NEVER_ANSWERED_OK",
    "OPEN_VALUES",
    "PACKED_DIMENSIONS",
    "PARTS",
    "QUANTILES",
    "RESOLUTION_BOUNDS_HOURS",
    "RESOLUTION_LABELS",
    "UNASSIGNED",
    "UTC",
    "WEEKDAYS",
    "Cohort",
    "Dashboard",
    "Drilldown",
    "Figures",
    "FilterOptions",
    "Kpi",
    "KpiDef",
    "Period",
    "ReportFilters",
    "RowMask",
    "Scope",
    "backlog",
    "backlog_now",
    "board",
    "breached_at",
    "breakdown",
    "breakdown_table",
    "change_text",
    "checked",
    "created_cohort",
    "created_frame",
    "dashboard",
    "definitions",
    "department_kpi_figures",
    "department_mask",
    "distribution_tables",
    "drilldown",
    "due_soon",
    "due_soon_now",
    "figures",
    "figures_for",
    "filter_options",
    "formatting",
    "heatmap_table",
    "hours",
    "kpi_figures",
    "kpis",
    "kpis_only",
    "lists",
    "load_rows",
    "now_or",
    "open_and_breached",
    "open_at",
    "packed_rows",
    "period_of",
    "report_tz",
    "resolved_cohort",
    "resolved_frame",
    "row_mask",
    "rules",
    "scope",
    "start_figures",
    "tables",
    "to_kpis",
    "trends",
    "trends_table",
    "validate_filters",
    "weekly",
    "workload",
    "workload_now",
]
