"""My tickets: the signed-in user's own tickets with status (as a requester reads it) and age."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from portal import state
from portal.queue_grid import format_age
from smartsupport_core import tickets
from smartsupport_core.models import Employee
from smartsupport_core.settings import get_settings
from smartsupport_core.vocab import FINAL_STATUSES, TicketStatus, status_label

st.title("My tickets")
user = state.current_user()
if user is None:
    st.warning("Sign in to see your tickets.")
    st.stop()


query = st.text_input("Search my tickets", placeholder="words from the subject or description", key="my_search")
show_closed = st.toggle("Show closed, rejected and withdrawn", value=True, key="my_show_closed")

with state.session() as s:
    me = s.get(Employee, user.id)
    rows = (
        tickets.search_tickets(s, me, query, limit=200, own_only=True)
        if query.strip()
        else tickets.list_my_tickets(s, me)
    )
now = dt.datetime.now(dt.UTC)
tz = ZoneInfo(get_settings().timezone)
final = {s.value for s in FINAL_STATUSES}
if not show_closed:
    rows = [t for t in rows if t.status not in final]

if not rows:
    st.info("No tickets match." if query.strip() else "You have not submitted any tickets yet.")
    st.markdown("[Submit a ticket](submit)")
    st.stop()

frame = pd.DataFrame(
    [
        {
            "Ticket": f"ticket?id={t.id}#{t.ticket_number}",
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
open_count = sum(1 for t in rows if t.status not in final)
st.caption(f"{len(rows)} ticket(s), {open_count} still open.")
st.dataframe(
    frame,
    hide_index=True,
    column_config={
        "Ticket": st.column_config.LinkColumn("Ticket", display_text=r"#(.*)$"),
        "Submitted": st.column_config.DatetimeColumn("Submitted", format="YYYY-MM-DD HH:mm"),
        "Last update": st.column_config.DatetimeColumn("Last update", format="YYYY-MM-DD HH:mm"),
    },
)
