"""What each view of the SLA dashboard draws: compact Plotly figures and the tables as shown.

Built from the core's `reporting.Dashboard` and nothing else. Two rules make the page fast
and readable:

* Compact figures: one trace per series, bars carry only their drill-down target as
  `customdata`, hover text comes from one `hovertemplate` per trace (no per-point text), no
  Plotly template (Streamlit's theme styles the chart in the browser), a `uirevision` so a
  rerun keeps the user's zoom. `portal.reports.view` caches the BUILT figures and tables per
  scope, filters and view, so a rerun neither rebuilds nor re-validates them.
* Tables as shown: friendly headers, names instead of ids, local times, hours rounded as the
  tiles show them (one decimal), counts as integers, every week labelled by its Monday the
  same way on every chart and table. Exports are these frames, so a file says what the page
  says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import plotly.graph_objects as go

from smartsupport_core import reporting
from smartsupport_core.reporting import Dashboard

#: The views, in tab order; only the selected one is built and sent.
VIEWS = ("Trends", "Breakdown", "Resolution times", "Backlog", "Arrivals", "Breached / due soon")
DIMENSION_LABELS = {
    "department": "Department",
    "category": "Category",
    "priority": "Priority",
    "coordinator": "Coordinator",
}
METRIC_LABELS = {
    "resolution_compliance": "Resolution met %",
    "response_compliance": "Response met %",
    "created": "Created",
    "resolved": "Resolved",
}
HOURS = 1  # decimals of an hour figure, as the KPI tiles show it ("3.5 h")
PERCENT = 1


def week_label(day: dt.date) -> str:
    """A week, named by its Monday, the same on every chart and table ("02 Mar 2026")."""
    return f"{day:%d %b %Y}"


def _hours(minutes: Any) -> float | None:
    return None if minutes is None or pd.isna(minutes) else round(float(minutes) / 60, HOURS)


def _pct(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else round(float(value), PERCENT)


def _layout(fig: go.Figure, title: str, **extra: Any) -> go.Figure:
    fig.update_layout(
        title=title,
        template=None,
        uirevision="dashboard",
        margin={"l": 48, "r": 16, "t": 48, "b": 48},
        legend={"orientation": "h", "y": -0.2},
        **extra,
    )
    return fig


@dataclass
class ViewContent:
    """One view's figures (chart key -> figure) and tables (export name -> frame as shown)."""

    figures: dict[str, go.Figure] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


# --- Tables as shown ------------------------------------------------------------------------


def kpi_table(data: Dashboard) -> pd.DataFrame:
    """The KPI tiles as a table, each value in the unit its tile shows."""

    rounding: dict[str, Callable[[float], Any]] = {"count": round, "minutes": _hours, "percent": _pct}

    def shown(value: float | None, unit: str) -> Any:
        return None if value is None else rounding.get(unit, lambda v: round(v, 2))(value)

    units = {"count": "tickets", "minutes": "hours", "percent": "%", "score": "1-5"}
    return pd.DataFrame(
        [
            {
                "KPI": k.label,
                "Unit": units[k.unit],
                "This period": shown(k.value, k.unit),
                "Previous period": shown(k.previous, k.unit),
                "Change": shown(k.change, k.unit),
            }
            for k in data.kpis
        ],
        dtype=object,  # a count stays an integer beside hours and percentages
    )


def trends_table(data: Dashboard) -> pd.DataFrame:
    tr = data.trends
    return pd.DataFrame(
        {
            "Week (Monday)": [week_label(w) for w in tr["week"]],
            "Created": tr["created"].astype(int),
            "Resolved": tr["resolved"].astype(int),
            "Median first response (h)": tr["response_p50"].map(_hours),
            "p90 first response (h)": tr["response_p90"].map(_hours),
            "Median resolution (h)": tr["resolution_p50"].map(_hours),
            "p90 resolution (h)": tr["resolution_p90"].map(_hours),
            "Response met %": tr["response_compliance"].map(_pct),
            "Resolution met %": tr["resolution_compliance"].map(_pct),
        }
    )


def breakdown_table(data: Dashboard, dim: str) -> pd.DataFrame:
    bd = data.breakdowns[dim]
    return pd.DataFrame(
        {
            DIMENSION_LABELS[dim]: bd["label"].fillna("None"),
            "Created": bd["created"].astype(int),
            "Resolved": bd["resolved"].astype(int),
            "Median first response (h)": bd["response_p50"].map(_hours),
            "Median resolution (h)": bd["resolution_p50"].map(_hours),
            "Response met %": bd["response_compliance"].map(_pct),
            "Resolution met %": bd["resolution_compliance"].map(_pct),
        }
    )


def resolution_table(data: Dashboard) -> pd.DataFrame:
    dist = data.distribution
    out = pd.DataFrame({"Priority": dist["priority"], "Resolved": dist["resolved"].astype(int)})
    for col, name in (("p05", "p5"), ("p25", "p25"), ("p50", "Median"), ("p75", "p75"), ("p90", "p90"), ("p95", "p95")):
        out[f"{name} (h)"] = dist[col].map(_hours)
    return out


def backlog_table(data: Dashboard) -> pd.DataFrame:
    bl = data.backlog
    matrix = bl.pivot_table(index="status", columns="age", values="tickets", sort=False, aggfunc="sum")
    matrix = matrix[list(reporting.AGE_LABELS)].fillna(0).astype(int)
    return matrix.rename_axis(index="Status", columns=None).reset_index()


def arrivals_table(data: Dashboard) -> pd.DataFrame:
    hm = data.heatmap
    z = hm.pivot(index="dow", columns="hour", values="created").fillna(0).astype(int)
    z.columns = [f"{h:02d}:00" for h in z.columns]
    z.insert(0, "Weekday", [reporting.WEEKDAYS[d - 1] for d in z.index])
    return z.reset_index(drop=True)


def workload_table(data: Dashboard) -> pd.DataFrame:
    wl = data.workload
    return pd.DataFrame(
        {
            "Coordinator": wl["coordinator"],
            "Open": wl["open"].astype(int),
            "Breached now": wl["breached"].astype(int),
            "Median age (h)": wl["median_age_hours"].map(lambda h: None if pd.isna(h) else round(float(h), HOURS)),
        }
    )


#: Ticket list columns: frame column -> header, in order (the id stays hidden: a row opens it).
TICKET_HEADERS = {
    "ticket_number": "Ticket",
    "subject": "Subject",
    "status": "Status",
    "priority": "Priority",
    "department": "Department",
    "category": "Category",
    "coordinator": "Assignee",
    "submit_date": "Submitted",
    "first_response_at": "First response",
    "resolved_at": "Resolved",
    "sla_response_met": "Response SLA",
    "sla_resolution_met": "Resolution SLA",
}
DUE_HEADERS = {"due_at": "Due", "clock": "Clock", "breached": "Breached now"}
TIME_COLUMNS = ("submit_date", "first_response_at", "resolved_at", "due_at")


def ticket_table(tickets: pd.DataFrame, tz: str, *, due: bool = False) -> pd.DataFrame:
    """A drill-down or due list as shown: names, local times (`tz`), met/missed, no ids; the
    hidden `id` column (the index) is what a selected row opens."""
    headers = {**TICKET_HEADERS, **(DUE_HEADERS if due else {})}
    out = pd.DataFrame(index=tickets["id"].astype(int).to_numpy())
    out.index.name = "id"
    zone = ZoneInfo(tz)
    for col, header in headers.items():
        values = tickets[col]
        if col in TIME_COLUMNS:
            values = values.map(lambda t: None if t is None or pd.isna(t) else t.astimezone(zone).replace(tzinfo=None))
            values = pd.to_datetime(values)
        elif col in ("sla_response_met", "sla_resolution_met"):
            values = values.map(lambda m: "—" if m is None or pd.isna(m) else ("met" if m else "missed"))
        elif col == "breached":
            values = values.map(lambda b: "yes" if b else "no")
        out[header] = values.to_numpy()
    return out


# --- Figures --------------------------------------------------------------------------------


def _trend_figures(data: Dashboard) -> dict[str, go.Figure]:
    tr = data.trends
    weeks = [week_label(w) for w in tr["week"]]
    iso = [str(w) for w in tr["week"]]
    axis = {"xaxis": {"type": "category", "title": "Week (Monday)"}}
    bars = go.Figure()
    for col, name, dim in (("created", "Created", "created_week"), ("resolved", "Resolved", "resolved_week")):
        bars.add_bar(
            x=weeks,
            y=tr[col].astype(int).tolist(),
            name=name,
            customdata=[[dim, w] for w in iso],
            hovertemplate=f"{name}: %{{y}}<extra>%{{x}}</extra>",
        )
    _layout(bars, "Created vs resolved per week", barmode="group", height=340, yaxis_title="Tickets", **axis)
    times = go.Figure()
    for col, name, dash in (
        ("response_p50", "Median first response", None),
        ("response_p90", "p90 first response", "dot"),
        ("resolution_p50", "Median resolution", None),
        ("resolution_p90", "p90 resolution", "dot"),
    ):
        times.add_scatter(
            x=weeks,
            y=tr[col].map(_hours).tolist(),
            name=name,
            mode="lines+markers",
            line={"dash": dash},
            hovertemplate=f"{name}: %{{y}} h<extra>%{{x}}</extra>",
        )
    _layout(times, "First response and resolution time (hours)", height=320, yaxis_title="Hours", **axis)
    comp = go.Figure()
    for col, name in (("response_compliance", "Response met %"), ("resolution_compliance", "Resolution met %")):
        comp.add_scatter(
            x=weeks,
            y=tr[col].map(_pct).tolist(),
            name=name,
            mode="lines+markers",
            hovertemplate=f"{name}: %{{y}} %<extra>%{{x}}</extra>",
        )
    _layout(comp, "SLA compliance %", height=320, yaxis={"range": [0, 105], "title": "%"}, **axis)
    return {"chart_trend": bars, "chart_times": times, "chart_compliance": comp}


def trends(data: Dashboard) -> ViewContent:
    return ViewContent(_trend_figures(data), {"weekly_trends": trends_table(data)})


def breakdown(data: Dashboard, dim: str, metric: str) -> ViewContent:
    bd = data.breakdowns[dim]
    values = bd[metric].map(_pct) if metric.endswith("compliance") else bd[metric].astype(int)
    bar = go.Figure(
        go.Bar(
            x=bd["label"].fillna("None").tolist(),
            y=values.tolist(),
            customdata=[[dim, k] for k in bd["key"]],
            hovertemplate=f"{METRIC_LABELS[metric]}: %{{y}}<extra>%{{x}}</extra>",
        )
    )
    _layout(bar, f"{METRIC_LABELS[metric]} by {DIMENSION_LABELS[dim].lower()}", height=360, xaxis_type="category")
    return ViewContent({"chart_breakdown": bar}, {f"breakdown_{dim}": breakdown_table(data, dim)})


def resolution(data: Dashboard) -> ViewContent:
    dist, hist = data.distribution, data.histogram
    box = go.Figure()
    for _, r in dist.iterrows():
        box.add_trace(
            go.Box(
                name=r["priority"],
                q1=[_hours(r["p25"])],
                median=[_hours(r["p50"])],
                q3=[_hours(r["p75"])],
                lowerfence=[_hours(r["p05"])],
                upperfence=[_hours(r["p95"])],
                boxpoints=False,
            )
        )
    _layout(box, "Resolution time per priority (hours; whiskers p5-p95)", height=320, showlegend=False)
    bars = go.Figure()
    for pri, part in hist.groupby("priority", sort=False):
        bars.add_bar(
            x=part["label"].tolist(),
            y=part["resolved"].astype(int).tolist(),
            name=pri,
            customdata=[["resolution", f"{pri}|{b}"] for b in part["bucket"]],
            hovertemplate=f"{pri}: %{{y}} tickets<extra>%{{x}}</extra>",
        )
    _layout(bars, "Resolved tickets by resolution time", barmode="group", height=320, xaxis_title="SLA-clock time")
    return ViewContent({"chart_box": box, "chart_hist": bars}, {"resolution_quantiles": resolution_table(data)})


def backlog(data: Dashboard) -> ViewContent:
    bl = data.backlog
    fig = go.Figure()
    for status, part in bl.groupby("status", sort=False):
        fig.add_bar(
            x=part["age"].tolist(),
            y=part["tickets"].astype(int).tolist(),
            name=status,
            customdata=[["backlog", f"{status}|{b}"] for b in part["bucket"]],
            hovertemplate=f"{status}: %{{y}}<extra>%{{x}}</extra>",
        )
    _layout(fig, "Open tickets now by age and status", barmode="stack", height=340, xaxis_title="Age")
    return ViewContent({"chart_backlog": fig}, {"backlog": backlog_table(data)})


def arrivals(data: Dashboard) -> ViewContent:
    table = arrivals_table(data)
    heat = go.Figure(
        go.Heatmap(
            z=table.drop(columns="Weekday").to_numpy().tolist(),
            x=list(range(24)),
            y=table["Weekday"].tolist(),
            colorscale="Blues",
            hovertemplate="%{y} %{x}:00 - %{z} tickets<extra></extra>",
        )
    )
    _layout(heat, "Tickets created by weekday and hour (local time)", height=340, xaxis_title="Hour")
    heat.update_yaxes(autorange="reversed")
    return ViewContent({"chart_heat": heat}, {"arrivals": table})


def due(data: Dashboard, tz: str) -> ViewContent:
    return ViewContent({}, {"breached_due_soon": ticket_table(data.due_soon, tz, due=True)})


def top(data: Dashboard, tz: str) -> ViewContent:
    """What managers see first: the KPI table, the breached-now list and the workload."""
    return ViewContent(
        {},
        {
            "kpis": kpi_table(data),
            "breached_now": ticket_table(data.breached_now, tz, due=True),
            "workload": workload_table(data),
        },
    )


#: View -> the part of the data it is built from (`reporting.PARTS`).
PART_OF: dict[str, str] = {
    "top": "summary",
    "Trends": "summary",
    "Breakdown": "breakdowns",
    "Resolution times": "resolution",
    "Backlog": "backlog",
    "Arrivals": "arrivals",
    "Breached / due soon": "summary",
}

BUILDERS: dict[str, Callable[..., ViewContent]] = {
    "top": top,
    "Trends": trends,
    "Breakdown": breakdown,
    "Resolution times": resolution,
    "Backlog": backlog,
    "Arrivals": arrivals,
    "Breached / due soon": due,
}
