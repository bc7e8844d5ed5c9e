"""The dashboard's views as drawn and exported (issue 15 item 4), on test_reporting's data:
Monday week labels alike on every chart and table, hours rounded as the tiles show them,
counts as integers, names and local times in ticket lists, compact figures; and the
per-coordinator workload against the shared state definitions."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import report_views
from smartsupport_core import reporting, ticket_states
from smartsupport_core.models import Ticket
from tests.test_reporting import NOW, PERIOD, World, world  # noqa: F401 (fixture)


@pytest.fixture
def data(session: Session, world: World) -> reporting.Dashboard:  # noqa: F811
    return reporting.dashboard(session, world.admin, PERIOD, now=NOW)


def test_every_weekly_chart_and_table_names_weeks_by_their_monday(data: reporting.Dashboard) -> None:
    content = report_views.trends(data)
    labels = [list(fig.data[0].x) for fig in content.figures.values()]
    assert labels[0] == labels[1] == labels[2] == list(content.tables["weekly_trends"]["Week (Monday)"])
    assert all(dt.datetime.strptime(w, "%d %b %Y").weekday() == 0 for w in labels[0])
    for fig in content.figures.values():
        assert fig.layout.xaxis.type == "category" and fig.layout.xaxis.title.text == "Week (Monday)"


def test_figures_are_compact(data: reporting.Dashboard) -> None:
    """No template and no per-point text: a figure is its numbers and its drill targets."""
    for build in (report_views.trends, report_views.resolution, report_views.backlog, report_views.arrivals):
        for fig in build(data).figures.values():
            spec = fig.to_plotly_json()
            assert spec["layout"].get("template") in (None, {}), build
            assert all("text" not in trace and "hovertext" not in trace for trace in spec["data"])
            assert len(fig.to_json()) < 6000


def test_tables_show_hours_as_the_tiles_and_counts_as_integers(data: reporting.Dashboard) -> None:
    trends = report_views.trends_table(data)
    raw = data.trends
    assert trends["Created"].dtype.kind == "i" and trends["Resolved"].dtype.kind == "i"
    for minutes, hours in zip(raw["resolution_p50"], trends["Median resolution (h)"], strict=True):
        assert (hours is None or pd.isna(hours)) if pd.isna(minutes) else hours == round(minutes / 60, 1)
    kpis = report_views.kpi_table(data).set_index("KPI")
    tile = {k.label: k for k in data.kpis}
    assert kpis.loc["Created", "This period"] == 7 and isinstance(kpis.loc["Created", "This period"], int)
    assert kpis.loc["Median resolution", "This period"] == 7.5  # the tile says "7.5 h"
    assert reporting.FORMATTERS["minutes"](tile["Median resolution"].value) == "7.5 h"
    assert kpis.loc["Median resolution", "Unit"] == "hours"
    for dim in reporting.DIMENSIONS:
        table = report_views.breakdown_table(data, dim)
        assert table["Created"].dtype.kind == "i"
        assert report_views.DIMENSION_LABELS[dim] in table.columns
    assert report_views.backlog_table(data).drop(columns="Status").to_numpy().dtype.kind == "i"


def test_ticket_lists_show_names_and_local_times(data: reporting.Dashboard, world: World) -> None:  # noqa: F811
    shown = report_views.ticket_table(data.due_soon, "Europe/Berlin", due=True)
    assert "id" not in shown.columns and list(shown.index) == list(data.due_soon["id"])
    assert list(shown.columns) == [*report_views.TICKET_HEADERS.values(), *report_views.DUE_HEADERS.values()]
    first = data.due_soon.iloc[0]
    assert shown["Submitted"].iloc[0] == pd.Timestamp(
        first["submit_date"].astimezone(dt.timezone(dt.timedelta(hours=1))).replace(tzinfo=None)
    )  # March: Berlin is UTC+1
    assert set(shown["Response SLA"]) <= {"met", "missed", "—"}


def test_workload_counts_the_shared_states(session: Session, data: reporting.Dashboard, world: World) -> None:  # noqa: F811
    wl = data.workload.set_index("key")
    open_by = dict(
        session.execute(
            select(Ticket.assigned_to_id, func.count()).where(ticket_states.is_open()).group_by(Ticket.assigned_to_id)
        )
        .tuples()
        .all()
    )
    breached_by = dict(
        session.execute(
            select(Ticket.assigned_to_id, func.count())
            .where(ticket_states.breached(NOW))
            .group_by(Ticket.assigned_to_id)
        )
        .tuples()
        .all()
    )
    key = {None: reporting.UNASSIGNED}
    assert {key.get(k, str(k)): n for k, n in open_by.items()} == wl["open"].to_dict()
    assert {key.get(k, str(k)): breached_by.get(k, 0) for k in open_by} == wl["breached"].to_dict()
    assert wl.loc[reporting.UNASSIGNED, "coordinator"] == "Unassigned"
    assert list(report_views.workload_table(data).columns) == ["Coordinator", "Open", "Breached now", "Median age (h)"]
