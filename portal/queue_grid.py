"""The queue grid's data: the editor's input frame, and edits read back from its output.

Kept out of the page script so it is plain, testable code. The input frame is built once
per (view, page, refresh) and kept in `st.session_state`; the page never feeds the editor's
output back in as its input (that loses every second edit). Edits are found by comparing
the editor's output with that stable input, row by row (the index is the ticket id).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import pandas as pd

from smartsupport_core.queue import COLUMNS, SLA_LABELS, QueueRow
from smartsupport_core.queue_edits import KEEP, RowEdit

UNASSIGNED = "— unassigned —"
EDITABLE = ("status", "priority", "assignee")
#: The ticket detail page (its url_path in portal/nav.py), opened from the grid.
TICKET_URL = "ticket?id={id}"
_AFTER_SLA = COLUMNS.index("sla") + 1
#: The queue's sortable columns (`queue.COLUMNS`, one list for sorting and the grid) plus the
#: link that opens a ticket, first, and the SLA due time right after the SLA state.
GRID_COLUMNS = ("open", *COLUMNS[:_AFTER_SLA], "due", *COLUMNS[_AFTER_SLA:])


def staff_label(staff_id: int, name: str, department: str) -> str:
    """Unique, readable label of an assignee option (names can repeat)."""
    return f"{name} ({department}) #{staff_id}"


def assignee_options(staff: Sequence[tuple[int, str, str]]) -> dict[str, int | None]:
    """Label -> employee id (None for unassigned), in display order."""
    options: dict[str, int | None] = {UNASSIGNED: None}
    options.update({staff_label(i, n, d): i for i, n, d in staff})
    return options


def format_age(age: dt.timedelta) -> str:
    minutes = max(0, int(age.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {mins}m"
    return f"{mins}m"


def input_frame(rows: Sequence[QueueRow], labels_by_id: Mapping[int, str]) -> pd.DataFrame:
    """The editor's input: one row per ticket, indexed by ticket id."""

    def assignee(row: QueueRow) -> str:
        if row.assignee_id is None:
            return UNASSIGNED
        # Someone no longer assignable (e.g. deactivated) still shows, by name.
        return labels_by_id.get(row.assignee_id) or f"{row.assignee} #{row.assignee_id}"

    df = pd.DataFrame(
        {
            "open": [TICKET_URL.format(id=r.id) for r in rows],
            "number": [r.number for r in rows],
            "subject": [r.subject for r in rows],
            "requester": [r.requester for r in rows],
            "department": [r.department for r in rows],
            "category": [r.category for r in rows],
            "priority": [r.priority for r in rows],
            "status": [r.status for r in rows],
            "assignee": [assignee(r) for r in rows],
            "age": [format_age(r.age) for r in rows],
            "sla": [SLA_LABELS.get(r.sla, "—") if r.sla else "—" for r in rows],
            "due": pd.to_datetime([r.next_due for r in rows], utc=True),
            "version": pd.array([r.version for r in rows], dtype="Int64"),
        },
        index=pd.Index([r.id for r in rows], name="ticket_id", dtype="int64"),
        columns=list(GRID_COLUMNS),
    )
    for column in GRID_COLUMNS:
        if column not in ("due", "version"):
            df[column] = df[column].astype(object)
    return df


def edits_from_grid(before: pd.DataFrame, after: pd.DataFrame, options: Mapping[str, int | None]) -> list[RowEdit]:
    """One `RowEdit` per row whose status, priority or assignee differs from the input."""
    edits: list[RowEdit] = []
    for ticket_id in before.index:
        if ticket_id not in after.index:
            continue
        old, new = before.loc[ticket_id], after.loc[ticket_id]
        status = new["status"] if new["status"] != old["status"] else None
        priority = new["priority"] if new["priority"] != old["priority"] else None
        assignee = KEEP
        if new["assignee"] != old["assignee"] and new["assignee"] in options:
            assignee = options[new["assignee"]]
        if status is None and priority is None and assignee is KEEP:
            continue
        edits.append(
            RowEdit(
                int(ticket_id),
                int(old["version"]),
                status=status or None,
                priority=priority or None,
                assignee_id=assignee,
                label=str(old["number"]),
            )
        )
    return edits


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
