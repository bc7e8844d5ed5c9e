"""Accounts (admins): the pending queue first, then every account and its actions.

All rules (who may, which status may move where, the last active System Admin) live in
`smartsupport_core.accounts`; this page only offers the actions and shows the outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from portal import state
from portal.safe_text import md_escape
from smartsupport_core import accounts
from smartsupport_core.errors import DomainError
from smartsupport_core.models import Employee
from smartsupport_core.settings import get_settings
from smartsupport_core.vocab import AccountStatus, Role

user = state.current_user()
tz = ZoneInfo(get_settings().timezone)
if user is None:
    st.stop()

st.title("Accounts")

flash = st.session_state.pop("accounts_flash", None)
if flash:
    st.success(flash)


def act(call: Callable[..., Employee], *args: object, done: str) -> None:
    """Run one account service in its own transaction; show the outcome."""
    try:
        with state.unit_of_work() as s:
            emp = call(s, user, *args)
            name = emp.full_name
    except DomainError as exc:
        st.error(md_escape(str(exc)))
    else:
        st.session_state["accounts_flash"] = f"{md_escape(name)}: {md_escape(done)}."
        st.rerun()


try:
    with state.session() as s:
        everyone = accounts.list_accounts(s, user)
        departments = accounts.active_departments(s)
except DomainError as exc:
    st.error(md_escape(str(exc)))
    st.stop()

# --- Pending queue -------------------------------------------------------------------------------
pending = [e for e in everyone if e.status == AccountStatus.PENDING.value and e.is_active]
st.subheader(f"Waiting for approval ({len(pending)})")
if not pending:
    st.caption("No registrations are waiting.")
for emp in pending:
    with st.container(border=True):
        registered = emp.date_created.strftime("%Y-%m-%d %H:%M") if emp.date_created else "-"
        st.text(f"{emp.full_name} · {emp.email} · {emp.company_id} · {emp.department} · registered {registered}")
        c1, c2, c3 = st.columns([1, 3, 1], vertical_alignment="bottom")
        if c1.button("Approve", key=f"approve_{emp.id}", type="primary"):
            act(accounts.approve_account, emp.id, done="approved")
        reason = c2.text_input("Reason for rejecting", key=f"reject_reason_{emp.id}", max_chars=accounts.REASON_MAX)
        if c3.button("Reject", key=f"reject_{emp.id}"):
            act(accounts.reject_account, emp.id, reason, done="rejected")

# --- Every account ---------------------------------------------------------------------------------
st.subheader("All accounts")
search = st.text_input("Search by name, e-mail or company ID", key="accounts_search")
term = search.strip().lower()
shown = [
    e
    for e in everyone
    if not term
    or term in f"{e.first_name} {e.last_name}".lower()
    or term in e.email.lower()
    or term in e.company_id.lower()
]
table = pd.DataFrame(
    [
        {
            "Name": e.full_name,
            "E-mail": e.email,
            "Company ID": e.company_id,
            "Department": e.department,
            "Role": e.role,
            "Status": e.status,
            "Active": bool(e.is_active),
            "Last sign-in": e.last_login.astimezone(tz).strftime("%Y-%m-%d %H:%M") if e.last_login else "—",
        }
        for e in shown
    ]
)
st.dataframe(table, hide_index=True, width="stretch")

if not shown:
    st.stop()

labels = {e.id: f"{e.full_name} <{e.email}> ({e.status}{'' if e.is_active else ', deactivated'})" for e in shown}
# The browser shows (and sends back) the label it was last sent for the chosen account; after an
# action changed its status that label is stale, so the chosen account is sent again with its
# label of now (assigning the key before the widget is drawn makes Streamlit send the value).
if st.session_state.get("accounts_chosen") in labels:
    st.session_state["accounts_chosen"] = st.session_state["accounts_chosen"]
chosen_id = st.selectbox("Manage account", list(labels), format_func=labels.__getitem__, key="accounts_chosen")
chosen = next(e for e in shown if e.id == chosen_id)

with st.container(border=True):
    st.text(f"{chosen.full_name} · {chosen.role} · {chosen.department} · {chosen.status}")
    if chosen.status_reason:
        st.text(f"Reason on record: {chosen.status_reason}")

    status_col, role_col, dept_col = st.columns(3)
    with status_col:
        st.markdown("**Status**")
        status = chosen.status
        if status in accounts.DECISIONS["approve"].from_statuses and st.button("Approve", key="m_approve"):
            act(accounts.approve_account, chosen.id, done="approved")
        if status in accounts.DECISIONS["reject"].from_statuses:
            r = st.text_input("Reason for rejecting", key="m_reject_reason")
            if st.button("Reject", key="m_reject"):
                act(accounts.reject_account, chosen.id, r, done="rejected")
        if status in accounts.DECISIONS["suspend"].from_statuses:
            r = st.text_input("Reason for suspending", key="m_suspend_reason")
            if st.button("Suspend", key="m_suspend"):
                act(accounts.suspend_account, chosen.id, r, done="suspended")
        if status in accounts.DECISIONS["reactivate"].from_statuses and st.button("Reactivate", key="m_reactivate"):
            act(accounts.reactivate_account, chosen.id, done="reactivated")
    with role_col:
        st.markdown("**Role**")
        roles = [r.value for r in Role]
        new_role = st.selectbox("Role", roles, index=roles.index(chosen.role), key=f"m_role_{chosen.id}")
        if st.button("Change role", key="m_change_role", disabled=new_role == chosen.role):
            act(accounts.change_role, chosen.id, new_role, done=f"role changed to {new_role}")
    with dept_col:
        st.markdown("**Department**")
        options = departments if chosen.department in departments else [chosen.department, *departments]
        new_dept = st.selectbox(
            "Department", options, index=options.index(chosen.department), key=f"m_dept_{chosen.id}"
        )
        if st.button("Change department", key="m_change_dept", disabled=new_dept == chosen.department):
            act(accounts.change_department, chosen.id, new_dept, done=f"moved to {new_dept}")

    st.divider()
    if chosen.is_active:
        st.caption("Deactivating keeps the account and its history but it can no longer sign in.")
        if st.button("Deactivate account", key="m_deactivate", icon=":material/person_off:"):
            act(accounts.deactivate_account, chosen.id, done="deactivated")
    elif st.button("Restore account", key="m_restore", icon=":material/person:"):
        act(accounts.restore_account, chosen.id, done="restored")
