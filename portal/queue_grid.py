"""The queue grid's data: the frame the read-only grid shows, and the export table.

The grid is an `st.dataframe` with row selection; what may be changed on the selected
tickets is offered by the side panel from `triage.choices` (a grid column's options would be
the same for every row, so the grid would offer choices the server refuses). The frame
carries only the columns the user chose to see (no hidden id or version column: the ticket
ids of the rows are kept beside it, in the same order), so the browser receives nothing it
does not show. Rows keep their order while a row is selected (`patch_rows`), so a save does
not move the selection or the scroll position.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from zoneinfo import ZoneInfo

import pandas as pd

from smartsupport_core.queue import SLA_LABELS, QueueRow

#: Grid columns a user may show, in display order: what is triaged first (status, priority,
#: assignee), then what it is judged by. The ticket number is always shown.
COLUMN_TITLES: dict[str, str] = {
    "number": "Ticket",
    "status": "Status",
    "priority": "Priority",
    "assignee": "Assignee",
    "sla": "SLA",
    "due": "Next due",
    "subject": "Subject",
    "requester": "Requester",
    "department": "Department",
    "category": "Category",
    "age": "Age",
}
OPTIONAL_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMN_TITLES if c != "number")
#: Shown unless the user picks others: these fit beside the side panel at 1,440 px.
DEFAULT_COLUMNS: tuple[str, ...] = ("status", "priority", "assignee", "sla", "subject")
#: Pixel widths (the grid is sized to fit its container without a horizontal scroll bar).
WIDTHS: dict[str, int] = {
    "number": 116,
    "status": 92,
    "priority": 68,
    "assignee": 124,
    "sla": 78,
    "due": 104,
    "subject": 150,
    "requester": 128,
    "department": 120,
    "category": 120,
    "age": 64,
}
UNASSIGNED = "Unassigned"


def format_age(age: dt.timedelta) -> str:
    minutes = max(0, int(age.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins}m"
    return f"{mins}m"


def _cell(row: QueueRow, column: str, tz: ZoneInfo) -> object:
    if column == "assignee":
        return row.assignee or UNASSIGNED
    if column == "sla":
        return SLA_LABELS.get(row.sla, "—") if row.sla else "—"
    if column == "due":
        return row.next_due.astimezone(tz).strftime("%a %d %b %H:%M") if row.next_due else "—"
    if column == "age":
        return format_age(row.age)
    return getattr(row, column)


def grid_frame(rows: Sequence[QueueRow], columns: Sequence[str], tz: ZoneInfo) -> pd.DataFrame:
    """The grid's frame: the ticket number and the chosen `columns`, one row per ticket, as
    text; its row order is `rows`' order (the caller keeps the ids beside it)."""
    shown = ["number", *[c for c in OPTIONAL_COLUMNS if c in columns]]
    return pd.DataFrame(
        {COLUMN_TITLES[c]: [_cell(r, c, tz) for r in rows] for c in shown},
        columns=[COLUMN_TITLES[c] for c in shown],
        dtype=object,
    )


def patch_rows(rows: Sequence[QueueRow], fresh: Mapping[int, QueueRow]) -> list[QueueRow]:
    """`rows` in the same order, each replaced by its `fresh` version when there is one."""
    return [fresh.get(r.id, r) for r in rows]


def export_frame(rows: Sequence[QueueRow]) -> pd.DataFrame:
    """The view as a plain table for CSV/Excel (text cells are neutralised by `exports`)."""
    return pd.DataFrame(
        {
            "Ticket": [r.number for r in rows],
            "Subject": [r.subject for r in rows],
            "Requester": [r.requester for r in rows],
            "Department": [r.department for r in rows],
            "Category": [r.category for r in rows],
            "Priority": [r.priority for r in rows],
            "Status": [r.status for r in rows],
            "Assignee": [r.assignee or "" for r in rows],
            "Submitted (UTC)": pd.to_datetime([r.submit_date for r in rows], utc=True),
            "Age (hours)": [round(r.age.total_seconds() / 3600, 1) for r in rows],
            "SLA": [SLA_LABELS.get(r.sla, "") if r.sla else "" for r in rows],
            "Next due (UTC)": pd.to_datetime([r.next_due for r in rows], utc=True),
        }
    )
