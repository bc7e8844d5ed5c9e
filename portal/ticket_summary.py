"""The ticket page for a reader who may see only a ticket's summary (a department head who
does not work on the ticket): number, subject, category, status, priority, assignee and
times, from `smartsupport_core.ticket_summary` - which decides; nothing else is read."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import streamlit as st

from portal import state
from smartsupport_core import ticket_summary
from smartsupport_core.errors import NotFound
from smartsupport_core.models import Employee
from smartsupport_core.settings import get_settings


def _met(value: bool | None) -> str:
    return "—" if value is None else ("met" if value else "missed")


def show(user: Employee, ticket_id: int) -> bool:
    """Draw the summary of `ticket_id` if the core lets `user` read it; False when it does not."""
    try:
        with state.session() as s:
            summary = ticket_summary.get_summary(s, s.get(Employee, user.id), ticket_id)
    except NotFound:
        return False
    tz = ZoneInfo(get_settings().timezone)

    def when(value: dt.datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M") if value else "—"

    st.title(summary.ticket_number)
    st.text(summary.subject)
    st.caption(
        f"Summary for the head of {summary.department}: the conversation, files and history of this "
        "ticket are for its requester and the staff working on it."
    )
    a, b, c, d = st.columns(4)
    a.metric("Status", summary.status or "—")
    b.metric("Priority", summary.priority or "—")
    c.metric("Category", summary.category or "—")
    d.metric("Assignee", summary.assignee)
    st.table(
        {
            "": ["Submitted", "First response", "Resolved", "Closed"],
            "When": [
                when(summary.submit_date),
                when(summary.first_response_at),
                when(summary.resolved_at),
                when(summary.time_closed),
            ],
            "Due": ["", when(summary.sla_response_due_at), when(summary.sla_resolution_due_at), ""],
            "Target": ["", _met(summary.sla_response_met), _met(summary.sla_resolution_met), ""],
        }
    )
    return True
