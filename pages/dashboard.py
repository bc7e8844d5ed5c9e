"""SLA dashboard (issue 7): are we meeting our SLAs, where not, and why.

Thin page: the filters become a `ReportFilters`, `portal.reports` returns the core's
`reporting.Dashboard` (packed ticket rows read from the database, figures in numpy; cached
60 s per user and filter set), and every chart is Plotly. Clicking a bar, box or cell
(`on_select="rerun"`) - or choosing it in the "Drill down" box - lists the tickets behind
it through `reporting.drilldown`, with links to their detail pages. Every table can be
exported (formula-safe CSV / Excel).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from portal import reports, state
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
DIMENSION_LABELS = {
    "department": "Department",
    "category": "Category",
    "priority": "Priority",
    "coordinator": "Coordinator",
}
KPI_HELP = {
    "open_backlog": "Tickets open at the end of the range (New, Open, In Progress, On Hold).",
    "created": "Tickets submitted in the range.",
    "resolved": "Tickets first resolved in the range (a reopen keeps the first resolution).",
    "response_p50": "Median first response of tickets created in the range, on the SLA clock.",
    "response_p90": "90th percentile first response of tickets created in the range, on the SLA clock.",
    "resolution_p50": "Median resolution time (On Hold excluded) of tickets resolved in the range.",
    "resolution_p90": "90th percentile resolution time of tickets resolved in the range.",
    "response_compliance": "Created in the range: share answered within target (unanswered past due count as missed).",
    "resolution_compliance": "Resolved in the range: share resolved within target.",
    "breached_open": "Open at the end of the range with the response or resolution target already missed.",
    "reopen_rate": "Resolved in the range: share reopened afterwards.",
    "satisfaction": "Average requester rating (1-5) given in the range.",
}

grants = state.grants_of(user)
try:
    options = reports.options_for(user, grants)
except DomainError as exc:
    st.error(str(exc))
    st.stop()

# --- Filters ------------------------------------------------------------------------------
today = dt.datetime.now(reporting._tz()).date()
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
st.caption(
    f"{filters.start:%d %b %Y} - {filters.end:%d %b %Y} ({days} days), compared with the {days} days before. "
    f"Times are on the SLA clock (business hours unless a target is in calendar time). "
    f"Computed {data.computed_at.astimezone(reporting._tz()):%H:%M:%S}; kept for {reports.TTL_SECONDS} s."
)


def export_buttons(df: pd.DataFrame, name: str) -> None:
    """CSV and Excel buttons; the files are built when clicked, not on every run of every tab."""
    a, b, _ = st.columns([1, 1, 4])
    a.download_button(
        "CSV", lambda: to_csv_bytes(df), f"{name}.csv", "text/csv", key=f"csv_{name}", icon=":material/download:"
    )
    b.download_button(
        "Excel",
        lambda: to_excel_bytes(df, name),
        f"{name}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"xlsx_{name}",
        icon=":material/download:",
    )


# --- KPI tiles ---------------------------------------------------------------------------
kpi_rows = pd.DataFrame(
    [{"kpi": k.label, "value": k.value, "previous": k.previous, "change": k.change, "unit": k.unit} for k in data.kpis]
)
for start in range(0, len(data.kpis), 6):
    cols = st.columns(6)
    for col, kpi in zip(cols, data.kpis[start : start + 6], strict=False):
        fmt = FORMATTERS[kpi.unit]
        col.metric(
            kpi.label,
            fmt(kpi.value),
            delta=reporting.change_text(kpi.change, kpi.unit),
            delta_color="inverse" if kpi.better == "lower" else "normal",
            help=f"{KPI_HELP[kpi.key]} Previous period: {fmt(kpi.previous)}.",
            border=True,
        )
with st.expander("KPI table and export"):
    st.dataframe(kpi_rows, hide_index=True)
    export_buttons(kpi_rows, "kpis")


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


def drill_chart(fig: go.Figure, key: str, resolve=by_customdata) -> None:
    """Draw a clickable chart; a newly clicked bar/cell becomes the drill-down target.

    Streamlit keeps a chart's selection across reruns, so only a selection that differs from
    the one already handled counts: otherwise "Clear" would be undone by the next rerun.
    """
    event = st.plotly_chart(fig, on_select="rerun", selection_mode="points", key=key)
    point = picked_point(event)
    seen = json.dumps(point, sort_keys=True, default=str)
    if st.session_state.get(f"{key}_handled") == seen:
        return
    st.session_state[f"{key}_handled"] = seen
    target = resolve(point) if point is not None else None
    if target is not None:
        st.session_state["dash_drill"] = target


def hours_col(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    out = df.copy()
    for c in cols:
        out[c] = out[c].map(lambda m: None if m is None or pd.isna(m) else round(m / 60, 2))
    return out.rename(columns={c: c.replace("_p", " p") + " (h)" for c in cols})


tab_trend, tab_break, tab_dist, tab_backlog, tab_heat, tab_due = st.tabs(
    ["Trends", "Breakdown", "Resolution times", "Backlog", "Arrivals", "Breached / due soon"]
)

# --- Trends ------------------------------------------------------------------------------
with tab_trend:
    tr = data.trends
    weeks = [str(w) for w in tr["week"]]
    fig = go.Figure()
    fig.add_bar(x=weeks, y=tr["created"], name="Created", customdata=[["created_week", w] for w in weeks])
    fig.add_bar(x=weeks, y=tr["resolved"], name="Resolved", customdata=[["resolved_week", w] for w in weeks])
    fig.update_layout(
        barmode="group",
        title="Created vs resolved per week",
        xaxis_title="Week (Monday)",
        yaxis_title="Tickets",
        height=360,
    )
    drill_chart(fig, "chart_trend")
    left, right = st.columns(2)
    times = go.Figure()
    for col, name, dash in (
        ("response_p50", "Response p50", None),
        ("response_p90", "Response p90", "dot"),
        ("resolution_p50", "Resolution p50", None),
        ("resolution_p90", "Resolution p90", "dot"),
    ):
        times.add_scatter(x=weeks, y=tr[col] / 60, name=name, mode="lines+markers", line={"dash": dash})
    times.update_layout(title="Response and resolution time (hours)", yaxis_title="Hours", height=320)
    left.plotly_chart(times, key="chart_times")
    comp = go.Figure()
    comp.add_scatter(x=weeks, y=tr["response_compliance"], name="Response met %", mode="lines+markers")
    comp.add_scatter(x=weeks, y=tr["resolution_compliance"], name="Resolution met %", mode="lines+markers")
    comp.update_layout(title="SLA compliance %", yaxis={"range": [0, 105], "title": "%"}, height=320)
    right.plotly_chart(comp, key="chart_compliance")
    st.dataframe(hours_col(tr, ["response_p50", "response_p90", "resolution_p50", "resolution_p90"]), hide_index=True)
    export_buttons(tr, "weekly_trends")

# --- Breakdown ---------------------------------------------------------------------------
with tab_break:
    dim = (
        st.segmented_control(
            "Break down by",
            list(DIMENSION_LABELS),
            format_func=DIMENSION_LABELS.get,
            default="department",
            key="dash_dim",
        )
        or "department"
    )
    metric = (
        st.segmented_control(
            "Bar shows",
            ["resolution_compliance", "response_compliance", "created", "resolved"],
            format_func={
                "resolution_compliance": "Resolution met %",
                "response_compliance": "Response met %",
                "created": "Created",
                "resolved": "Resolved",
            }.get,
            default="resolution_compliance",
            key="dash_metric",
        )
        or "resolution_compliance"
    )
    bd = data.breakdowns[dim]
    bar = go.Figure(go.Bar(x=bd["label"], y=bd[metric], customdata=[[dim, k] for k in bd["key"]]))
    bar.update_layout(title=f"{DIMENSION_LABELS[dim]}: {metric.replace('_', ' ')}", height=360)
    drill_chart(bar, "chart_breakdown")
    st.dataframe(
        hours_col(bd.drop(columns="key"), ["response_p50", "resolution_p50"]),
        hide_index=True,
        column_config={
            "response_compliance": st.column_config.NumberColumn("Response met %", format="%.1f"),
            "resolution_compliance": st.column_config.NumberColumn("Resolution met %", format="%.1f"),
        },
    )
    export_buttons(bd, f"breakdown_{dim}")

# --- Resolution-time distribution --------------------------------------------------------
with tab_dist:
    dist, hist = data.distribution, data.histogram
    box = go.Figure()
    for _, r in dist.iterrows():
        box.add_trace(
            go.Box(
                name=r["priority"],
                q1=[r["p25"] / 60],
                median=[r["p50"] / 60],
                q3=[r["p75"] / 60],
                lowerfence=[r["p05"] / 60],
                upperfence=[r["p95"] / 60],
                boxpoints=False,
            )
        )
    box.update_layout(title="Resolution time per priority (hours; whiskers p5-p95)", height=340, showlegend=False)
    st.plotly_chart(box, key="chart_box")
    hfig = go.Figure()
    for pri, part in hist.groupby("priority", sort=False):
        hfig.add_bar(
            x=part["label"],
            y=part["resolved"],
            name=pri,
            customdata=[["resolution", f"{pri}|{b}"] for b in part["bucket"]],
        )
    hfig.update_layout(
        barmode="group", title="Resolved tickets by resolution time", xaxis_title="SLA-clock time", height=340
    )
    drill_chart(hfig, "chart_hist")
    st.dataframe(dist, hide_index=True)
    export_buttons(dist, "resolution_quantiles")

# --- Backlog -----------------------------------------------------------------------------
with tab_backlog:
    bl = data.backlog
    bfig = go.Figure()
    for status, part in bl.groupby("status", sort=False):
        bfig.add_bar(
            x=part["age"],
            y=part["tickets"],
            name=status,
            customdata=[["backlog", f"{status}|{b}"] for b in part["bucket"]],
        )
    bfig.update_layout(barmode="stack", title="Open tickets now by age and status", xaxis_title="Age", height=360)
    drill_chart(bfig, "chart_backlog")
    matrix = bl.pivot_table(index="status", columns="age", values="tickets", sort=False).reset_index()
    st.dataframe(matrix, hide_index=True)
    export_buttons(matrix, "backlog")

# --- Arrivals heat map -------------------------------------------------------------------
with tab_heat:
    hm = data.heatmap
    z = hm.pivot(index="dow", columns="hour", values="created")
    heat = go.Figure(
        go.Heatmap(
            z=z.to_numpy(),
            x=list(z.columns),
            y=[reporting.WEEKDAYS[d - 1] for d in z.index],
            colorscale="Blues",
            hovertemplate="%{y} %{x}:00 - %{z} tickets<extra></extra>",
        )
    )
    heat.update_layout(
        title="Tickets created by weekday and hour (local time)",
        xaxis_title="Hour",
        yaxis={"autorange": "reversed"},
        height=360,
    )

    def heat_cell(p: dict[str, Any]) -> tuple[str, str] | None:
        try:
            return "heat", f"{reporting.WEEKDAYS.index(p['y']) + 1}|{int(p['x'])}"
        except (KeyError, ValueError, TypeError):
            return None

    drill_chart(heat, "chart_heat", heat_cell)
    export_buttons(hm, "arrivals")

# --- Breached / due soon -----------------------------------------------------------------
TICKET_COLUMNS = {
    "link": st.column_config.LinkColumn("Ticket", display_text=r"/ticket\?id=(\d+)"),
    "ticket_number": "Number",
    "subject": st.column_config.TextColumn("Subject"),
}


def ticket_table(df: pd.DataFrame, extra: list[str], key: str) -> None:
    cols = ["link", "ticket_number", "subject", "status", "priority", "department", "coordinator", *extra]
    st.dataframe(df[cols], hide_index=True, column_config=TICKET_COLUMNS, key=key)


with tab_due:
    due = data.due_soon
    st.caption(
        f"Open tickets whose response or resolution target is missed or due within "
        f"{reporting.DUE_SOON_BUSINESS_MINUTES // 60} business hours (now; the date range does not apply)."
    )
    if due.empty:
        st.success("Nothing breached or due soon.")
    else:
        ticket_table(due, ["clock", "due_at", "breached"], "due_table")
        export_buttons(due.drop(columns=["link"]), "breached_due_soon")

# --- Drill-down --------------------------------------------------------------------------
st.subheader("Drill down")
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
        st.session_state["dash_drill"] = (manual_dim, manual_value)

target = st.session_state.get("dash_drill")
if target is None:
    st.caption("Click a bar or a heat-map cell to list the tickets behind it.")
else:
    try:
        drill = reports.drilldown_for(user, grants, filters, target[0], target[1])
    except DomainError as exc:
        st.error(str(exc))
    else:
        shown = len(drill.tickets)
        st.write(
            f"**{target[0].replace('_', ' ')} = {target[1]}**: {drill.total} ticket(s)"
            + (f", newest {shown} shown" if shown < drill.total else "")
        )
        if st.button("Clear", key="drill_clear"):
            st.session_state.pop("dash_drill", None)
            st.rerun()
        if shown:
            ticket_table(
                drill.tickets, ["submit_date", "sla_response_met", "resolved_at", "sla_resolution_met"], "drill_table"
            )
            export_buttons(drill.tickets.drop(columns=["link"]), "drilldown")
