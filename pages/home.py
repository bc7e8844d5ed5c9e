"""Home: what the portal is, and (in demo mode) the demo accounts."""

from __future__ import annotations

import os

import streamlit as st

from portal import state

st.title("SmartSupport")
st.write(
    "The internal help desk for IT, HR, Finance, Facilities and Asset requests: file a ticket, "
    "follow it to resolution, and ask the assistant first."
)
user = state.current_user()
if user is not None:
    st.text(f"Signed in as {user.full_name} ({user.role}, {user.department}).")
else:
    from portal.nav import page_file

    st.page_link(page_file("sign_in.py"), label="Sign in", icon=":material/login:")
    st.page_link(page_file("register.py"), label="Register for an account", icon=":material/person_add:")

if os.environ.get("SMARTSUPPORT_DEMO_MODE") == "1":
    st.subheader("Demo accounts")
    st.table(
        [
            {"e-mail": "admin@example.com", "role": "System Admin", "company ID": "MA0001"},
            {"e-mail": "coordinator@example.com", "role": "Ticket Coordinator (IT Department)", "company ID": "MA0002"},
            {"e-mail": "employee@example.com", "role": "Employee (Sales)", "company ID": "MA0003"},
        ]
    )
    st.caption("The password is the one printed by `smartsupport demo` (default `Demo#2026pass`).")
