"""Audit log viewer (admins): filter by table, record, user, action and date; each entry's
old and new values side by side. Reading only; the query is `audit_log.query_audit_log`."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from portal import state
from portal.safe_text import show_errors
from smartsupport_core import policy
from smartsupport_core.audit_log import AuditFilters, audit_users, query_audit_log, table_names
from smartsupport_core.errors import ValidationError
from smartsupport_core.policy import Action
from smartsupport_core.vocab import AuditAction

PAGE_SIZE = 25

user = state.current_user()
if user is None or not policy.allowed(user, Action.VIEW_AUDIT_LOG):
    st.error("You are not allowed to view the audit log.")
    st.stop()


def shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


st.title("Audit log")
with state.session() as s:
    users = dict(audit_users(s, user))

c = st.columns(3)
table = c[0].selectbox("Table", [None, *table_names()], format_func=lambda v: v or "Any", key="al_table")
record = c[1].text_input("Record id", key="al_record")
action = c[2].selectbox(
    "Action", [None, *(a.value for a in AuditAction)], format_func=lambda v: v or "Any", key="al_action"
)
c = st.columns(3)
who = c[0].selectbox("User", [None, *users], format_func=lambda v: "Anyone" if v is None else users[v], key="al_user")
date_from = c[1].date_input("From", value=None, key="al_from")
date_to = c[2].date_input("To", value=None, key="al_to")

record_id = None
if record.strip():
    if not record.strip().isdigit():
        st.error("Record id: must be a whole number.")
        st.stop()
    record_id = int(record.strip())
filters = AuditFilters(
    table_name=table, record_id=record_id, user_id=who, action=action, date_from=date_from, date_to=date_to
)
signature = repr(filters)
if st.session_state.get("al_signature") != signature:
    st.session_state["al_signature"] = signature
    st.session_state["al_page"] = 1
page = int(st.session_state.get("al_page") or 1)

try:
    with state.session() as s:
        entries, total = query_audit_log(s, user, filters, page=page, page_size=PAGE_SIZE)
except ValidationError as exc:
    show_errors(exc)
    st.stop()

st.markdown(f"**{total}** matching entries")
if entries:
    st.dataframe(
        pd.DataFrame(
            {
                "When": [e.timestamp for e in entries],
                "Table": [e.table_name for e in entries],
                "Record": [e.record_id for e in entries],
                "Action": [e.action for e in entries],
                "User": [e.user or "(system)" for e in entries],
                "IP": [e.ip_address or "" for e in entries],
            }
        ),
        hide_index=True,
        key="al_table_view",
    )
    for e in entries:
        with st.expander(f"{e.timestamp:%Y-%m-%d %H:%M:%S} · {e.action} {e.table_name} #{e.record_id or '-'}"):
            rows = e.side_by_side()
            if rows:
                st.dataframe(
                    pd.DataFrame(
                        {
                            "Field": [r[0] for r in rows],
                            "Old": [shown(r[1]) for r in rows],
                            "New": [shown(r[2]) for r in rows],
                        }
                    ),
                    hide_index=True,
                )
            else:
                st.caption("No values recorded.")
pages = max(1, -(-total // PAGE_SIZE))
if pages > 1:
    st.pagination(pages, key="al_page")
