"""The weekly SLA summary e-mailed to each department head (through the outbox).

The worker's periodic-job registry (`jobs.py`, job `sla_weekly_summary`, every 7 days,
guarded by `core_jobrun` so any number of workers send it once) calls
`send_weekly_summaries(session, now)` here; `smartsupport
sla-summary` runs the same job by hand. It summarises the last complete local week
(Monday-Sunday before `now`) with the dashboard's own KPI definitions, restricted to the
department, against the week before. There is no acting user: the job is the system, so it
builds the department scope itself instead of going through `policy.ticket_visibility`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import notifications
from ..models import Department
from ..settings import get_settings
from .definitions import KPI_DEFS, ReportFilters, report_tz
from .figures import department_kpi_figures
from .formatting import FORMATTERS, change_text


def last_week(now: dt.datetime) -> ReportFilters:
    """The last complete local Monday-Sunday week before `now`."""
    today = now.astimezone(report_tz()).date()
    monday = today - dt.timedelta(days=today.weekday())
    return ReportFilters(start=monday - dt.timedelta(days=7), end=monday - dt.timedelta(days=1))


def dashboard_link(department: str, filters: ReportFilters) -> str:
    """The SLA dashboard with this summary's week and department already chosen."""
    query = replace(filters, department=department).as_query()
    return f"{get_settings().base_url}/dashboard?{urlencode(query)}"


def summary_text(department: str, filters: ReportFilters, figures: dict[str, Any]) -> str:
    """The plain-text summary of one department's week (previous week in brackets), from its
        KPI figures (`department_kpi_figures`), ending with a link to the dashboard on the
    same week and department (the head of the department may open it: `policy.GRANTS`)."""
    lines = [
        f"Weekly SLA summary for {department}: {filters.start:%a %d %b %Y} to {filters.end:%a %d %b %Y}",
        "(the week before in brackets)",
        "",
    ]
    for d in KPI_DEFS:
        value, previous = (None if v is None else float(v) for v in figures[d.key])
        fmt = FORMATTERS[d.unit]
        change = None if value is None or previous is None else change_text(value - previous, d.unit)
        lines.append(f"- {d.label}: {fmt(value)} ({fmt(previous)}{'' if change is None else ', ' + change})")
    lines += [
        "",
        "Times are on the SLA clock (business hours unless a target says calendar time).",
        f"Dashboard: {dashboard_link(department, filters)}",
    ]
    return "\n".join(lines)


def send_weekly_summaries(session: Session, now: dt.datetime) -> int:
    """Queue one summary per active department that has a head e-mail; returns how many."""
    filters = last_week(now)
    departments = session.scalars(
        select(Department)
        .where(Department.is_active.is_not(False), Department.head_email.is_not(None), Department.head_email != "")
        .order_by(Department.name)
    ).all()
    figures = department_kpi_figures(session, [d.name for d in departments], filters, now)
    for dept in departments:
        notifications.queue(
            session,
            "sla_weekly_summary",
            to=str(dept.head_email),
            data={
                "department": dept.name,
                "week_start": filters.start.isoformat(),
                "week_end": filters.end.isoformat(),
                "summary": summary_text(dept.name, filters, figures[dept.name]),
            },
        )
    session.flush()
    return len(departments)
