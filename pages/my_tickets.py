"""My tickets: the signed-in user's own tickets with status (as a requester reads it) and age.

"Show" narrows them to one `ticket_states` state (Home's employee tiles link here with
`?show=<state>` and count with the same definition); selecting a row opens the ticket in
this tab."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from portal import state
from portal.nav import page_file
from portal.queue_grid import format_age
from smartsupport_core import tickets
from smartsupport_core.errors import DomainError
from smartsupport_core.models import Employee
from smartsupport_core.settings import get_settings
from smartsupport_core.text_input import SEARCH_MAX
from smartsupport_core.ticket_states import MY_STATES, TicketState
from smartsupport_core.vocab import FINAL_STATUSES, TicketStatus, status_label

#: The states as the requester reads them (the same definitions as Home's tiles).
STATE_LABELS_FOR_ME = {
    TicketState.OPEN: "Open (work remains)",
    TicketState.WAITING_FOR_REQUESTER: "Waiting for my reply",
    TicketState.AWAITING_CONFIRMATION: "Resolved: awaiting my confirmation",
}

st.title("My tickets")
user = state.current_user()
if user is None:
    st.warning("Sign in to see your tickets.")
    st.stop()


SHOW: dict[str | None, str] = {None: "All my tickets", **{str(x): STATE_LABELS_FOR_ME[x] for x in MY_STATES}}
asked = st.query_params.get("show")
if asked in SHOW and st.session_state.get("my_show_asked") != asked:  # a Home tile's link
    st.session_state["my_show_asked"] = asked
    st.session_state["my_show"] = asked
c = st.columns([2, 3])
show = c[0].selectbox("Show", list(SHOW), key="my_show", format_func=SHOW.__getitem__)
query = c[1].text_input(
    "Search my tickets",
    placeholder="words from the subject or description",
    key="my_search",
    max_chars=SEARCH_MAX,
)
show_closed = st.toggle(
    "Show closed, rejected and withdrawn", value=True, key="my_show_closed", disabled=show is not None
)

with state.session() as s:
    me = s.get(Employee, user.id)
    try:
        rows = (
            tickets.search_tickets(s, me, query, limit=200, own_only=True)
            if query.strip()
            else tickets.list_my_tickets(s, me, state=show)
        )
    except DomainError as exc:  # a search the core refuses (a control character, too long)
        st.error(str(exc))
        st.stop()
    if query.strip() and show is not None:  # a search within the chosen state
        in_state = {t.id for t in tickets.list_my_tickets(s, me, state=show)}
        rows = [t for t in rows if t.id in in_state]
    counts = tickets.count_my_tickets_by_state(s, me)  # the three counts in one statement
now = dt.datetime.now(dt.UTC)
tz = ZoneInfo(get_settings().timezone)
final = {s.value for s in FINAL_STATUSES}
if not show_closed and show is None:
    rows = [t for t in rows if t.status not in final]

st.caption(
    f"{counts[TicketState.OPEN]} open (work remains) · {counts[TicketState.WAITING_FOR_REQUESTER]} waiting for "
    f"your reply · {counts[TicketState.AWAITING_CONFIRMATION]} resolved, awaiting your confirmation"
)
if not rows:
    st.info("No tickets match." if query.strip() or show else "You have not submitted any tickets yet.")
    st.page_link(page_file("submit_ticket.py"), label="Submit a ticket", icon=":material/add_circle:")
    st.stop()

frame = pd.DataFrame(
    [
        {
            "Ticket": t.ticket_number,
            "Subject": t.subject,
            "Category": t.category,
            "Status": status_label(t.status or TicketStatus.NEW.value, for_requester=True),
            "Priority": t.priority,
            "Submitted": t.submit_date.astimezone(tz) if t.submit_date else None,
            "Age": format_age(now - t.submit_date) if t.submit_date and t.status not in final else "",
            "Last update": t.update_date.astimezone(tz) if t.update_date else None,
        }
        for t in rows
    ]
)
st.caption("Select a ticket to open it.")
event = st.dataframe(
    frame,
    hide_index=True,
    key="my_table",
    on_select="rerun",
    selection_mode="single-row",
    column_config={
        "Submitted": st.column_config.DatetimeColumn("Submitted", format="YYYY-MM-DD HH:mm"),
        "Last update": st.column_config.DatetimeColumn("Last update", format="YYYY-MM-DD HH:mm"),
    },
)
picked = [i for i in event.selection.rows if 0 <= i < len(rows)]
if picked:  # one click opens the ticket, in this tab and session
    st.switch_page(page_file("ticket.py"), query_params={"id": str(rows[picked[0]].id)})
