"""Short-lived cache of the SLA dashboard's data, per actor and filter set.

Reports are aggregates over up to millions of tickets; a manager flipping between tabs or
clicking bars reruns the page many times a minute, so each computed part of the
`reporting.Dashboard` (`reporting.PARTS`: the summary on opening, a view's part when the view
opens) is kept for 60 s, and so are the filter boxes' choices and the tickets behind a clicked bar
(the drill-down stays on screen while the user reruns the page). The key holds everything
visibility depends on (role, department, user id, the departments the user heads, read on
every run by the page) plus the filters, so two users never share
an entry they should not see; the core still checks the policy on every miss, and the page
itself re-checks the account on every run (`state.current_user`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import streamlit as st

from portal import report_views, state
from smartsupport_core import reporting
from smartsupport_core.models import Employee
from smartsupport_core.policy import Grants
from smartsupport_core.reporting import offload

TTL_SECONDS = 60


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Computing the dashboard ...")
def dashboard(
    role: str, department: str, user_id: int, grants: tuple, filters_key: tuple, part: str
) -> reporting.Dashboard:
    """One part of the data (`reporting.PARTS`): a first open computes only the summary, a
    view's part when the view is first opened; computed in a report process
    (`reporting.offload`), so the portal's other sessions are not held up meanwhile."""
    with state.session() as s:  # the run's connection, used only if computed in this process
        return offload.dashboard_of(user_id, reporting.ReportFilters(*filters_key), (part,), session=s)


def for_user(
    user: Employee, grants: Grants, filters: reporting.ReportFilters, part: str = "summary"
) -> reporting.Dashboard:
    return dashboard(user.role, user.department, user.id, grants.key(), filters.key(), part)


@st.cache_resource(ttl=TTL_SECONDS, max_entries=500, show_spinner=False)
def _view(
    role: str, department: str, user_id: int, grants: tuple, filters_key: tuple, view: str, args: tuple
) -> report_views.ViewContent:
    """The BUILT figures and tables of one view (shared, never mutated: `st.plotly_chart`
    copies a figure before serialising it), so a rerun neither rebuilds nor re-validates them;
    the same key as `dashboard` plus the view and its choices."""
    data = dashboard(role, department, user_id, grants, filters_key, report_views.PART_OF[view])
    return report_views.BUILDERS[view](data, *args)


def view_for(
    user: Employee, grants: Grants, filters: reporting.ReportFilters, view: str, *args: str
) -> report_views.ViewContent:
    """One view's content (`report_views.BUILDERS[view](data, *args)`), cached."""
    return _view(user.role, user.department, user.id, grants.key(), filters.key(), view, tuple(args))


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def options(role: str, department: str, user_id: int, grants: tuple) -> reporting.FilterOptions:
    with state.session() as s:
        return reporting.filter_options(s, s.get(Employee, user_id))


def options_for(user: Employee, grants: Grants) -> reporting.FilterOptions:
    return options(user.role, user.department, user.id, grants.key())


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def drilldown(
    role: str, department: str, user_id: int, grants: tuple, filters_key: tuple, dimension: str, value: str
) -> reporting.Drilldown:
    with state.session() as s:
        actor = s.get(Employee, user_id)
        return reporting.drilldown(s, actor, reporting.ReportFilters(*filters_key), dimension, value)


def drilldown_for(
    user: Employee, grants: Grants, filters: reporting.ReportFilters, dimension: str, value: str
) -> reporting.Drilldown:
    return drilldown(user.role, user.department, user.id, grants.key(), filters.key(), dimension, value)


#: Query parameter -> the filter's label (what a message about a bad link names).
LINK_FIELDS = {
    "start": "Date range (start)",
    "end": "Date range (end)",
    "department": "Department",
    "category": "Category",
    "priority": "Priority",
    "coordinator": "Coordinator",
}


def filters_from_link(
    params: Mapping[str, str], options: reporting.FilterOptions, default: tuple[dt.date, dt.date]
) -> tuple[dict[str, Any], list[str]]:
    """The filter widgets' starting values from a dashboard link (`ReportFilters.as_query`,
    e.g. the weekly summary e-mail's), and one message per parameter that cannot be used,
    naming the filter and the rule; a bad parameter is left out, the rest still apply."""
    values: dict[str, Any] = {}
    errors: list[str] = []
    dates: dict[str, dt.date] = {}
    for name in ("start", "end"):
        raw = params.get(name)
        if raw is None:
            continue
        try:
            dates[name] = dt.date.fromisoformat(str(raw))
        except ValueError:
            errors.append(f"{LINK_FIELDS[name]}: {raw!r} is not a date like 2026-01-31.")
    if dates:
        start, end = dates.get("start", default[0]), dates.get("end", default[1])
        if end < start:
            errors.append(f"{LINK_FIELDS['end']}: must be on or after the start date.")
        else:
            values["dash_range"] = (start, end)
    choices = {
        "department": ("dash_department", options.departments),
        "category": ("dash_category", options.categories),
        "priority": ("dash_priority", options.priorities),
    }
    for name, (key, allowed) in choices.items():
        raw = params.get(name)
        if raw is None:
            continue
        if raw in allowed:
            values[key] = raw
        else:
            errors.append(f"{LINK_FIELDS[name]}: {raw!r} is not one you can choose.")
    raw = params.get("coordinator")
    if raw is not None:
        ids = dict(options.coordinators)
        try:
            values["dash_coordinator"] = next(i for i in ids if str(i) == str(raw))
        except StopIteration:
            errors.append(f"{LINK_FIELDS['coordinator']}: {raw!r} is not one you can choose.")
    return values, errors
