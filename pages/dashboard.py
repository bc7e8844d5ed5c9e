"""SLA dashboard: are we meeting our SLAs, where not, and why.

Thin page: the filters become a `ReportFilters`, `portal.reports` returns the core's
`reporting.Dashboard` (packed ticket rows read from the database, figures in numpy; cached
60 s per user and filter set), one part at a time: opening the page computes the summary
(KPIs, weekly trends, breached/due soon, workload), a view's part is computed when the view
is first opened (`report_views.PART_OF`). What is drawn is only what is in view: the KPI
tiles, then what managers look at first (tickets breached now, workload per coordinator),
then the ONE selected view - the tabs are lazy (`st.tabs(on_change=...)`: a hidden tab's
content is not built, sent or drawn), and its figures and tables come built from
`portal.reports.view_for` (`portal.report_views`: compact figures, tables as shown).
Clicking a bar or cell (`on_select="rerun"`), or choosing it by hand, lists the tickets
behind it (`reporting.drilldown`) under that view; leaving the view closes the list.
Selecting a ticket row opens the ticket in the same session. Every table exports
(formula-safe CSV / Excel) exactly as shown.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from portal import nav, report_views, reports, state
from smartsupport_core import reporting
from smartsupport_core.errors import DomainError
from smartsupport_core.exports import to_csv_bytes, to_excel_bytes
from smartsupport_core.reporting import FORMATTERS, ReportFilters

user = state.current_user()
if user is None:
    st.warning("Sign in to see the dashboard.")
    st.stop()

st.title("SLA dashboard")

ALL = "All"

grants = state.grants_of(user)
try:
    options = reports.options_for(user, grants)
except DomainError as exc:
    st.error(str(exc))
    st.stop()

# --- Filters ------------------------------------------------------------------------------
today = dt.datetime.now(reporting.report_tz()).date()
DEFAULT_RANGE = (today - dt.timedelta(days=29), today)
if "dash_range" not in st.session_state:  # first run: a link's filters (the weekly e-mail's) apply
    linked, link_errors = reports.filters_from_link(st.query_params.to_dict(), options, DEFAULT_RANGE)
    st.session_state.update(linked)
    for message in link_errors:
        st.warning(f"The link's filter was not applied: {message}")
if options.heads_only:
    st.caption("You see the departments you head: " + ", ".join(options.departments) + ".")
with st.container(border=True):
    c1, c2, c3, c4, c5 = st.columns([2, 1.3, 1.3, 1, 1.4])
    picked = c1.date_input(
        "Date range",
        value=DEFAULT_RANGE,
        key="dash_range",
        max_value=today + dt.timedelta(days=1),
    )
    department = c2.selectbox("Department", [ALL, *options.departments], key="dash_department")
    category = c3.selectbox("Category", [ALL, *options.categories], key="dash_category")
    priority = c4.selectbox("Priority", [ALL, *options.priorities], key="dash_priority")
    names = dict(options.coordinators)
    coordinator = c5.selectbox(
        "Coordinator",
        [None, *names],
        key="dash_coordinator",
        format_func=lambda i: ALL if i is None else names.get(i, f"#{i}"),
    )

if not isinstance(picked, (tuple, list)) or len(picked) != 2:
    st.info("Pick the end date of the range.")
    st.stop()
filters = ReportFilters(
    start=picked[0],
    end=picked[1],
    department=None if department == ALL else department,
    category=None if category == ALL else category,
    priority=None if priority == ALL else priority,
    coordinator_id=coordinator,
)
st.query_params.from_dict(filters.as_query())  # the address bar is a link to this view
if st.session_state.get("dash_filters") != filters.key():  # new filters: forget the old drill-down
    st.session_state["dash_filters"] = filters.key()
    st.session_state.pop("dash_drill", None)

try:
    data = reports.for_user(user, grants, filters)
except DomainError as exc:
    st.error(str(exc))
    st.stop()

days = (filters.end - filters.start).days + 1
tz = reporting.report_tz().key
st.caption(
    f"{filters.start:%d %b %Y} - {filters.end:%d %b %Y} ({days} days), compared with the {days} days before. "
    f"Times are on the SLA clock (business hours unless a target is in calendar time), in hours. "
    f"Computed {data.computed_at.astimezone(reporting.report_tz()):%H:%M:%S}; kept for {reports.TTL_SECONDS} s."
)


def export_buttons(df: pd.DataFrame, name: str) -> None:
    """CSV and Excel of the table as shown; the files are built when clicked."""
    shown = df.reset_index(drop=True)
    a, b, _ = st.columns([1, 1, 4])
    a.download_button(
        "CSV", lambda: to_csv_bytes(shown), f"{name}.csv", "text/csv", key=f"csv_{name}", icon=":material/download:"
    )
    b.download_button(
        "Excel",
        lambda: to_excel_bytes(shown, name),
        f"{name}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"xlsx_{name}",
        icon=":material/download:",
    )


TIME_FORMAT = "YYYY-MM-DD HH:mm"


def fitted(df: pd.DataFrame, rows: int = 6) -> int | str:
    """A grid's height: its rows, up to `rows` (then it scrolls), never empty lines."""
    return "auto" if len(df) <= rows else 36 + 35 * rows


def ticket_list(df: pd.DataFrame, key: str, *, height: int | str = "auto") -> None:
    """Tickets as shown (`report_views.ticket_table`); selecting a row opens that ticket in
    this session (its id is the frame's index, never shown)."""
    config = {
        header: st.column_config.DatetimeColumn(header, format=TIME_FORMAT)
        for header in ("Submitted", "First response", "Resolved", "Due")
        if header in df.columns
    }
    event = st.dataframe(
        df,
        hide_index=True,
        column_config=config,
        key=key,
        on_select="rerun",
        selection_mode="single-row",
        height=height,
    )
    rows = event.selection.rows if event is not None else []
    if rows:
        st.switch_page(nav.page_file("ticket.py"), query_params={"id": str(df.index[rows[0]])})


# --- KPI tiles: four per row, so no title is cut ---------------------------------------------
PER_ROW = 4
for start in range(0, len(data.kpis), PER_ROW):
    cols = st.columns(PER_ROW)
    for col, kpi in zip(cols, data.kpis[start : start + PER_ROW], strict=False):
        fmt = FORMATTERS[kpi.unit]
        col.metric(
            kpi.label,
            fmt(kpi.value),
            delta=reporting.change_text(kpi.change, kpi.unit),
            delta_color="inverse" if kpi.better == "lower" else "normal",
            help=f"{kpi.help} Previous period: {fmt(kpi.previous)}.",
            border=True,
        )
top = reports.view_for(user, grants, filters, "top", tz)
if st.toggle("KPIs as a table, to export", key="dash_kpi_table"):
    st.dataframe(top.tables["kpis"], hide_index=True)
    export_buttons(top.tables["kpis"], "kpis")

# --- For managers: breached now, and each coordinator's workload (now; no date range) --------
left, right = st.columns([3, 2])
with left:
    breached = top.tables["breached_now"]
    more = f" (first {reporting.DRILL_LIMIT})" if len(breached) >= reporting.DRILL_LIMIT else ""
    st.subheader(f"Breached now: {len(breached)}{more}")
    if breached.empty:
        st.success("No open ticket in view has missed its target.")
    else:
        ticket_list(breached, "breached_now_table", height=fitted(breached))
        st.caption("Select a row to open the ticket. Oldest due first; the date range does not apply.")
with right:
    st.subheader("Workload per coordinator")
    st.dataframe(top.tables["workload"], hide_index=True, height=fitted(top.tables["workload"]), key="workload_table")
    st.caption("Open tickets now; median age is calendar hours since submission.")


def picked_point(event: Any) -> dict[str, Any] | None:
    try:
        points = event.selection.points  # type: ignore[union-attr]
    except AttributeError:
        try:
            points = event["selection"]["points"]
        except (KeyError, TypeError):
            return None
    return points[0] if points else None


def by_customdata(point: dict[str, Any]) -> tuple[str, str] | None:
    """Bars carry their drill-down target as `customdata` = [dimension, value]."""
    return tuple(point["customdata"]) if point.get("customdata") else None  # type: ignore[return-value]


def heat_cell(p: dict[str, Any]) -> tuple[str, str] | None:
    try:
        return "heat", f"{reporting.WEEKDAYS.index(p['y']) + 1}|{int(p['x'])}"
    except (KeyError, ValueError, TypeError):
        return None


def one_of(label: str, labels: dict[str, str], default: str, key: str) -> str:
    """A segmented choice among `labels` (value -> label); clicking the chosen segment again
    clears it in Streamlit, which here means the default."""
    return st.segmented_control(label, list(labels), format_func=labels.get, default=default, key=key) or default


def chart(fig: go.Figure, key: str, view: str, resolve=by_customdata) -> None:
    """Draw a chart; on a clickable one a newly clicked bar/cell becomes the drill-down target
    of `view`. Streamlit keeps a chart's selection across reruns, so only a selection that
    differs from the one already handled counts: otherwise "Clear" would be undone."""
    if resolve is None:
        st.plotly_chart(fig, key=key)
        return
    event = st.plotly_chart(fig, on_select="rerun", selection_mode="points", key=key)
    point = picked_point(event)
    seen = json.dumps(point, sort_keys=True, default=str)
    if st.session_state.get(f"{key}_handled") == seen:
        return
    st.session_state[f"{key}_handled"] = seen
    target = resolve(point) if point is not None else None
    if target is not None:
        st.session_state["dash_drill"] = (view, *target)


def table(content: report_views.ViewContent, name: str) -> None:
    """A view's table and its export, drawn only when asked for (it is one more grid)."""
    if st.toggle("Show the table", key=f"dash_table_{name}"):
        st.dataframe(content.tables[name], hide_index=True)
    export_buttons(content.tables[name], name)


def drill_section(view: str) -> None:
    """The tickets behind the clicked bar/cell of this view (or one chosen by hand)."""
    with st.expander("Choose a bar or cell by hand", expanded=False):
        d1, d2, d3 = st.columns([1, 2, 1])
        manual_dim = d1.selectbox("Dimension", reporting.DRILL_DIMENSIONS, key="drill_dim")
        manual_value = d2.text_input(
            "Value",
            key="drill_value",
            help="department/category/priority name, coordinator id or 'unassigned', week Monday YYYY-MM-DD, "
            "heat 'weekday|hour' (1=Mon), backlog 'status|age bucket', resolution 'priority|bucket'.",
        )
        if d3.button("Show tickets", key="drill_go"):
            st.session_state["dash_drill"] = (view, manual_dim, manual_value)
    target = st.session_state.get("dash_drill")
    if target is None or target[0] != view:
        st.caption("Click a bar or a cell to list the tickets behind it.")
        return
    _, dim, value = target
    try:
        drill = reports.drilldown_for(user, grants, filters, dim, value)
    except DomainError as exc:
        st.error(str(exc))
        return
    shown = len(drill.tickets)
    st.subheader("Drill down")
    st.write(
        f"**{dim.replace('_', ' ')} = {value}**: {drill.total} ticket(s)"
        + (f", newest {shown} shown" if shown < drill.total else "")
    )
    if st.button("Clear", key="drill_clear"):
        st.session_state.pop("dash_drill", None)
        st.rerun()
    if shown:
        frame = report_views.ticket_table(drill.tickets, tz)
        ticket_list(frame, "drill_table")
        st.caption("Select a row to open the ticket.")
        export_buttons(frame, "drilldown")


TREND_CHARTS = {
    "chart_trend": "Created vs resolved",
    "chart_times": "Response and resolution time",
    "chart_compliance": "SLA compliance %",
}

# --- The selected view only (lazy tabs: hidden tabs run nothing) ------------------------------
tabs = dict(zip(report_views.VIEWS, st.tabs(report_views.VIEWS, key="dash_view", on_change="rerun"), strict=True))
open_view = next((name for name, tab in tabs.items() if tab.open), report_views.VIEWS[0])
if st.session_state.get("dash_drill", (open_view,))[0] != open_view:  # a drill-down belongs to its view
    st.session_state.pop("dash_drill", None)
with tabs["Trends"] as tab:
    if tab.open:
        content = reports.view_for(user, grants, filters, "Trends")
        # one chart at a time: each Plotly chart costs the browser more than the data
        shown = one_of("Chart", TREND_CHARTS, "chart_trend", "dash_trend_chart")
        chart(content.figures[shown], shown, "Trends", resolve=by_customdata if shown == "chart_trend" else None)
        table(content, "weekly_trends")
        drill_section("Trends")

with tabs["Breakdown"] as tab:
    if tab.open:
        dim = one_of("Break down by", report_views.DIMENSION_LABELS, "department", "dash_dim")
        metric = one_of("Bar shows", report_views.METRIC_LABELS, "resolution_compliance", "dash_metric")
        content = reports.view_for(user, grants, filters, "Breakdown", dim, metric)
        chart(content.figures["chart_breakdown"], "chart_breakdown", "Breakdown")
        table(content, f"breakdown_{dim}")
        drill_section("Breakdown")

#: Views that are charts, a table and a drill-down: view -> ([(chart key, how a click drills)], table).
PLAIN_VIEWS: dict[str, tuple[list[tuple[str, Any]], str]] = {
    "Resolution times": ([("chart_box", None), ("chart_hist", by_customdata)], "resolution_quantiles"),
    "Backlog": ([("chart_backlog", by_customdata)], "backlog"),
    "Arrivals": ([("chart_heat", heat_cell)], "arrivals"),
}
for view, (charts, table_name) in PLAIN_VIEWS.items():
    with tabs[view] as tab:
        if tab.open:
            content = reports.view_for(user, grants, filters, view)
            for key, resolve in charts:
                chart(content.figures[key], key, view, resolve=resolve)
            table(content, table_name)
            drill_section(view)

with tabs["Breached / due soon"] as tab:
    if tab.open:
        content = reports.view_for(user, grants, filters, "Breached / due soon", tz)
        due = content.tables["breached_due_soon"]
        st.caption(
            f"Open tickets whose response or resolution target is missed or due within "
            f"{reporting.DUE_SOON_BUSINESS_MINUTES // 60} business hours (now; the date range does not apply). "
            "Select a row to open the ticket."
        )
        if due.empty:
            st.success("Nothing breached or due soon.")
        else:
            ticket_list(due, "due_table")
            export_buttons(due, "breached_due_soon")
