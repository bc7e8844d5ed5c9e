"""The SLA dashboard page through AppTest, on the hand-built data set of test_reporting."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import pytest
import streamlit as st
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from portal import report_views
from portal.nav import PAGES
from smartsupport_core import settings as core_settings
from smartsupport_core.models import Employee
from smartsupport_core.policy import allowed
from tests.portal_helpers import open_page
from tests.test_reporting import PERIOD, World, world  # noqa: F401 (fixture)


@pytest.fixture(autouse=True)
def fresh(db_url: str) -> Iterator[None]:
    core_settings.configure(None)
    st.cache_data.clear()  # ids restart in every test: never reuse another test's cached report
    yield
    st.cache_data.clear()


def _open(user: Employee) -> AppTest:
    at = open_page(user, "dashboard.py")
    at.date_input(key="dash_range").set_value((PERIOD.start, PERIOD.end)).run()
    assert not at.exception, at.exception
    return at


def _show(at: AppTest, view: str) -> AppTest:
    """Select one of the lazy tabs (what a click on the tab does: a rerun with its label)."""
    at.session_state["dash_view"] = view
    at.run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_admin_sees_the_worked_out_kpis(session: Session, world: World) -> None:  # noqa: F811
    at = _open(world.admin)
    m = _metrics(at)
    assert m["Created"] == "7" and m["Resolved"] == "4" and m["Open backlog"] == "4"
    assert m["Median first response"] == "2.0 h" and m["Median resolution"] == "7.5 h"
    assert m["Response SLA met"] == "50.0 %" and m["Resolution SLA met"] == "75.0 %"
    assert m["Satisfaction (1-5)"] == "3.50" and m["Reopen rate"] == "25.0 %"
    deltas = {x.label: x.delta for x in at.metric}
    assert deltas["Created"] == "+5" and deltas["Satisfaction (1-5)"] == "-0.50"
    # only the selected view is built and sent (issue 15): one Trends chart at a time, no other
    assert [c.key for c in at.get("plotly_chart")] == ["chart_trend"]
    at.segmented_control(key="dash_trend_chart").set_value("chart_times").run()
    assert [c.key for c in at.get("plotly_chart")] == ["chart_times"]
    _show(at, "Arrivals")
    assert [c.key for c in at.get("plotly_chart")] == ["chart_heat"]


def test_coordinator_report_excludes_other_departments(session: Session, world: World) -> None:  # noqa: F811
    at = _open(world.coordinator)
    assert _metrics(at)["Created"] == "6"


def test_manual_drilldown_lists_the_tickets(session: Session, world: World) -> None:  # noqa: F811
    at = _open(world.admin)
    at.selectbox(key="drill_dim").set_value("priority")
    at.text_input(key="drill_value").set_value("High")
    at.button(key="drill_go").click().run()
    assert not at.exception, at.exception
    table = at.dataframe[-1].value  # the drill-down table is the last one (AppTest keeps no keys)
    assert sorted(table["Ticket"]) == sorted([world.t[1].ticket_number, world.t[2].ticket_number])
    # friendly headers, names, no ids shown (the hidden index is what a selected row opens)
    assert list(table.columns) == list(report_views.TICKET_HEADERS.values())
    assert set(table.index) == {world.t[1].id, world.t[2].id}
    assert set(table["Assignee"]) == {f"{world.coordinator.first_name} {world.coordinator.last_name}"}
    # the drill-down belongs to its view: leaving the view closes it
    _show(at, "Backlog")
    _show(at, "Trends")
    assert not any("ticket(s)" in m.value for m in at.markdown)
    at.selectbox(key="drill_dim").set_value("heat")
    at.text_input(key="drill_value").set_value("monday")
    at.button(key="drill_go").click().run()
    assert any("heat-map cell" in e.value for e in at.error)


def test_due_soon_and_breached_now_lists(session: Session, world: World) -> None:  # noqa: F811
    at = _show(_open(world.admin), "Breached / due soon")
    due = next(d.value for d in at.dataframe if "Clock" in d.value.columns and len(d.value) > 3)
    assert {world.t[5].id, world.t[8].id} <= set(due.index)
    breached = at.dataframe[0].value  # at the top, for managers: breached now only
    assert set(breached.index) == set(due.index[due["Breached now"] == "yes"]) != set()
    workload = at.dataframe[1].value
    assert list(workload.columns) == ["Coordinator", "Open", "Breached now", "Median age (h)"]
    assert workload["Open"].sum() == 7 and workload["Breached now"].sum() == len(breached)


@pytest.mark.slow
def test_every_filter_value_renders(session: Session, world: World) -> None:  # noqa: F811
    at = _open(world.admin)
    for key in ("dash_department", "dash_category", "dash_priority"):
        for option in at.selectbox(key=key).options:
            at.selectbox(key=key).set_value(option).run()
            assert not at.exception, (key, option, at.exception)
        at.selectbox(key=key).set_value("All").run()
    for staff in (None, world.admin.id, world.coordinator.id, world.other_coordinator.id):
        at.selectbox(key="dash_coordinator").set_value(staff).run()
        assert not at.exception, (staff, at.exception)


@pytest.mark.slow
def test_filter_combinations_and_ranges_render(session: Session, world: World) -> None:  # noqa: F811
    at = _open(world.admin)
    departments = ["All", "IT Department", "Finance"]
    priorities = ["All", "High", "Low"]
    coordinators = [None, world.coordinator.id]
    for dept, pri, coord in itertools.product(departments, priorities, coordinators):
        at.selectbox(key="dash_department").set_value(dept)
        at.selectbox(key="dash_priority").set_value(pri)
        at.selectbox(key="dash_coordinator").set_value(coord)
        at.selectbox(key="dash_category").set_value("IT Support" if dept == "IT Department" else "All")
        at.run()
        assert not at.exception, (dept, pri, coord, at.exception)
    for start, end in ((dt.date(2026, 3, 9), dt.date(2026, 3, 9)), (dt.date(2025, 3, 1), dt.date(2026, 3, 20))):
        at.date_input(key="dash_range").set_value((start, end)).run()
        assert not at.exception, (start, end, at.exception)
    _show(at, "Breakdown")
    for dim in ("category", "priority", "coordinator"):
        at.segmented_control(key="dash_dim").set_value(dim).run()
        assert not at.exception, at.exception
    for view in report_views.VIEWS:
        _show(at, view)


def test_page_only_for_report_viewers(world: World) -> None:  # noqa: F811
    spec = next(p for p in PAGES if p.file == "dashboard.py")
    assert allowed(world.admin, spec.needs) and allowed(world.coordinator, spec.needs)
    assert not allowed(world.requester, spec.needs)
