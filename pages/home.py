"""Home: what the portal is, where to go next, and (in demo mode) the demo accounts."""

from __future__ import annotations

import os
from collections import Counter

import streamlit as st

from portal import state
from portal.nav import PAGES, page_file, visible
from smartsupport_core.tickets import list_my_tickets
from smartsupport_core.vocab import OPEN_STATUSES, status_label

st.title("SmartSupport")
st.write(
    "The internal help desk for IT, HR, Finance, Facilities and Asset requests: file a ticket, "
    "follow it to resolution, and ask the assistant first."
)
user = state.current_user()
if user is None:
    st.page_link(page_file("sign_in.py"), label="Sign in", icon=":material/login:")
    st.page_link(page_file("register.py"), label="Register for an account", icon=":material/person_add:")
else:
    st.text(f"Signed in as {user.full_name} ({user.role}, {user.department}).")
    with state.session() as s:
        mine = list_my_tickets(s, user)
    open_mine = Counter(status_label(t.status or "", for_requester=True) for t in mine if t.status in OPEN_STATUSES)
    cols = st.columns(max(1, len(open_mine)) + 1)
    cols[0].metric("My open tickets", sum(open_mine.values()))
    for col, (label, n) in zip(cols[1:], sorted(open_mine.items()), strict=False):
        col.metric(label, n)
    st.subheader("Go to")
    for spec in PAGES:
        if spec.public or not visible(spec, user):  # Home itself is public
            continue
        st.page_link(page_file(spec.file), label=spec.title, icon=spec.icon)

if os.environ.get("SMARTSUPPORT_DEMO_MODE") == "1":
    from smartsupport_core.demo import DEFAULT_PASSWORD, DEMO_ACCOUNTS

    st.subheader("Demo accounts")
    st.table(
        [{"e-mail": a.email, "role": f"{a.role} ({a.department})", "company ID": a.company_id} for a in DEMO_ACCOUNTS]
    )
    st.caption(f"The password is the one printed by `smartsupport demo` (default `{DEFAULT_PASSWORD}`).")
