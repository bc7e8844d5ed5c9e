"""Short-lived cache of the SLA dashboard's data, per actor and filter set.

Reports are aggregates over up to millions of tickets; a manager flipping between tabs or
clicking bars reruns the page many times a minute, so the computed `reporting.Dashboard`
is kept for 60 s. The key holds everything visibility depends on (role, department, user
id) plus the filters, so two users never share an entry they should not see; the core
still checks the policy on every miss, and the page itself re-checks the account on
every run (`state.current_user`).
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
