""""Insert canned response" for a reply box: pick a template, fill it in for the ticket
(`canned.render_canned`, visibility-checked) and append it to the reply being written.

The insert runs in the button's callback, before the reply box is drawn, which is the one
moment Streamlit lets code change a text area's value.
"""

from __future__ import annotations

import streamlit as st

from portal import state
from smartsupport_core import canned, policy
from smartsupport_core.errors import DomainError
from smartsupport_core.models import Employee
from smartsupport_core.policy import Action


def _insert(user: Employee, ticket_id: int, reply_key: str, slot: str = "") -> None:
    choice = st.session_state.get(f"canned_pick_{ticket_id}{slot}")
    if choice is None:
        return
    try:
        with state.session() as s:
            text = canned.render_canned(s, user, choice.id, ticket_id)
    except DomainError as exc:
        st.session_state[f"canned_error_{ticket_id}{slot}"] = str(exc)
        return
    current = (st.session_state.get(reply_key) or "").rstrip()
    st.session_state[reply_key] = f"{current}\n\n{text}" if current else text


def canned_picker(user: Employee, ticket_id: int, reply_key: str, *, slot: str = "") -> None:
    """Draw the picker above the reply text area whose widget key is `reply_key`; `slot`
    tells two pickers on one page apart (the reply box's and the resolution dialog's)."""
    if not policy.allowed(user, Action.USE_QUEUE):
        return
    with state.session() as s:
        items = canned.list_canned(s, user)
    if not items:
        st.caption("No canned responses yet: add yours on the Queue page (Canned responses tab).")
        return
    cols = st.columns([4, 1], vertical_alignment="bottom")
    cols[0].selectbox(
        "Insert canned response",
        items,
        format_func=lambda c: ("Shared · " if c.shared else "Mine · ") + c.title,
        index=None,
        placeholder="Choose a canned response",
        key=f"canned_pick_{ticket_id}{slot}",
    )
    cols[1].button(
        "Insert", key=f"canned_insert_{ticket_id}{slot}", on_click=_insert, args=(user, ticket_id, reply_key, slot)
    )
    if error := st.session_state.pop(f"canned_error_{ticket_id}{slot}", None):
        st.error(error)
