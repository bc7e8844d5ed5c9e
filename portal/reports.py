"""Short-lived cache of the SLA dashboard's data, per actor and filter set.

Reports are aggregates over up to millions of tickets; a manager flipping between tabs or
clicking bars reruns the page many times a minute, so the computed `reporting.Dashboard` is
kept for 60 s, and so are the filter boxes' choices and the tickets behind a clicked bar
(the drill-down stays on screen while the user reruns the page). The key holds everything
visibility depends on (role, department, user id) plus the filters, so two users never share
an entry they should not see; the core still checks the policy on every miss, and the page
itself re-checks the account on every run (`state.current_user`).
"""

from __future__ import annotations

import streamlit as st

from portal import state
from smartsupport_core import reporting
from smartsupport_core.models import Employee

TTL_SECONDS = 60


@st.cache_data(ttl=TTL_SECONDS, show_spinner="Computing the dashboard ...")
def dashboard(role: str, department: str, user_id: int, filters_key: tuple) -> reporting.Dashboard:
    with state.session() as s:
        actor = s.get(Employee, user_id)
        data = reporting.dashboard(s, actor, reporting.ReportFilters(*filters_key))
        s.rollback()
    return data


def for_user(user: Employee, filters: reporting.ReportFilters) -> reporting.Dashboard:
    return dashboard(user.role, user.department, user.id, filters.key())


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def options(role: str, department: str, user_id: int) -> reporting.FilterOptions:
    with state.session() as s:
        return reporting.filter_options(s, s.get(Employee, user_id))


def options_for(user: Employee) -> reporting.FilterOptions:
    return options(user.role, user.department, user.id)


@st.cache_data(ttl=TTL_SECONDS, show_spinner=False)
def drilldown(
    role: str, department: str, user_id: int, filters_key: tuple, dimension: str, value: str
) -> reporting.Drilldown:
    with state.session() as s:
        actor = s.get(Employee, user_id)
        return reporting.drilldown(s, actor, reporting.ReportFilters(*filters_key), dimension, value)


def drilldown_for(user: Employee, filters: reporting.ReportFilters, dimension: str, value: str) -> reporting.Drilldown:
    return drilldown(user.role, user.department, user.id, filters.key(), dimension, value)
