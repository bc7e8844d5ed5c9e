"""Submit a ticket: one screen, the category's own fields rendered from its definitions.

Thin: it reads the inputs, calls `tickets.submit_ticket`, and shows each validation message
under its field. Nothing here re-checks a rule; the core decides.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import streamlit as st

from portal import state
from portal.safe_text import md_escape
from smartsupport_core import ticket_forms, tickets
from smartsupport_core.errors import DomainError, ValidationError
from smartsupport_core.models import Employee
from smartsupport_core.settings import get_settings
from smartsupport_core.text_input import DESCRIPTION_MAX
from smartsupport_core.ticket_forms import (
    COST_DESCRIPTION_MAX,
    COST_ITEM_LABELS,
    COST_QUANTITY_MAX,
    COST_UNIT_MAX,
    SUBJECT_MAX,
    active_categories,
    clean_cost_items,
    text_limit,
)
from smartsupport_core.upload_check import KINDS, MAX_PER_SUBMIT
from smartsupport_core.vocab import Priority

COST_COLUMNS = ["description", "quantity", "unit_cost"]
#: Page state a caller may preset: the rows the cost-items editor starts from.
COST_BASE_KEY = "submit_cost_items"
#: The assistant's ticket suggestion (see pages/assistant.py), and its priority for this form.
PREFILL_KEY = "ticket_prefill"
PREFILL_PRIORITY_KEY = "submit_prefill_priority"

st.title("Submit a ticket")
user = state.current_user()
if user is None:
    st.warning("Sign in to submit a ticket.")
    st.stop()

flash = st.session_state.pop("submit_flash", None)
if flash:
    number, ticket_id = flash
    st.success(f"Ticket {number} was submitted. You will get an e-mail when it is reviewed.")
    st.markdown(f"[Open ticket {number}](ticket?id={ticket_id})")

gen = st.session_state.setdefault("submit_gen", 0)  # bumped after a success: a fresh, empty form


def k(name: str) -> str:
    return f"submit_{gen}_{name}"


with state.session() as s:
    categories = active_categories(s)
    for c in categories:
        s.expunge(c)

if not categories:
    st.error("No ticket categories are configured; ask an administrator.")
    st.stop()

by_name = {c.name: c for c in categories}
slots: dict[str, Any] = {}

# The assistant's "Create a ticket" leaves its suggestion here ({category, sub_category,
# subject, description, priority}); it pre-fills the form once, for the requester to review.
prefill = st.session_state.pop(PREFILL_KEY, None)
if isinstance(prefill, dict):
    chosen = by_name.get(str(prefill.get("category") or ""))
    if chosen is not None:
        st.session_state[k("category")] = chosen.name
        if prefill.get("sub_category") in (chosen.sub_categories or []):
            st.session_state[f"submit_{gen}_{chosen.id}_sub"] = prefill["sub_category"]
    st.session_state[PREFILL_PRIORITY_KEY] = prefill.get("priority")
    st.session_state[k("subject")] = str(prefill.get("subject") or "")[:200]
    st.session_state[k("description")] = str(prefill.get("description") or "")
    st.session_state["submit_prefilled"] = gen
if st.session_state.get("submit_prefilled") == gen:
    st.info("Pre-filled from your conversation with the assistant: check every field before submitting.")


def error_slot(field: str) -> None:
    slots[field] = st.empty()


cat_name = st.selectbox(
    "Category",
    list(by_name),
    key=k("category"),
    help="; ".join(f"{c.name}: {c.description}" for c in categories if c.description),
)
error_slot("category")
category = by_name[cat_name]
ck = f"{gen}_{category.id}"  # widgets of the category's own fields reset when it changes

sub_category = None
if category.sub_categories:
    sub_category = st.selectbox(
        "Sub-category", category.sub_categories, index=None, placeholder="Choose…", key=f"submit_{ck}_sub"
    )
error_slot("sub_category")
subject = st.text_input("Subject *", max_chars=SUBJECT_MAX, key=k("subject"))
error_slot("subject")
description = st.text_area("Description *", key=k("description"), height=150, max_chars=DESCRIPTION_MAX)
error_slot("description")
priorities = [p.value for p in Priority]
default_priority = st.session_state.get(PREFILL_PRIORITY_KEY) or category.default_priority or Priority.MEDIUM.value
priority = st.selectbox(
    "Priority",
    priorities,
    index=priorities.index(default_priority) if default_priority in priorities else 1,
    key=f"submit_{ck}_priority",
)
error_slot("priority")

values: dict[str, Any] = {}
if category.required_fields:
    st.subheader(f"{category.name} details")
for definition in category.required_fields or []:
    name = definition["name"]
    label = definition.get("label") or name
    conditional = definition.get("required_if")
    if not ticket_forms.applies(definition, values):
        continue
    shown = label + (" *" if definition.get("required") or conditional else "")
    kind = definition.get("type", "text")
    key = f"submit_{ck}_{name}"
    if kind == "text":
        values[name] = st.text_input(shown, max_chars=text_limit(definition), key=key)
    elif kind == "textarea":
        values[name] = st.text_area(shown, max_chars=text_limit(definition), key=key)
    elif kind == "select":
        values[name] = st.selectbox(shown, definition.get("options") or [], index=None, placeholder="Choose…", key=key)
    elif kind == "date":
        values[name] = st.date_input(shown, value=None, key=key, format="YYYY-MM-DD")
    elif kind == "number":
        values[name] = st.number_input(shown, value=None, key=key)
    elif kind == "cost_items":
        base = st.session_state.get(COST_BASE_KEY)
        if not isinstance(base, pd.DataFrame):
            base = pd.DataFrame([{"description": "", "quantity": None, "unit_cost": None}], columns=COST_COLUMNS)
        base = base.reindex(columns=COST_COLUMNS).astype(
            {"description": "string", "quantity": "float", "unit_cost": "float"}
        )
        st.markdown(f"**{md_escape(shown)}** — one row per item; add rows at the bottom of the grid")
        edited = st.data_editor(
            base,
            num_rows="dynamic",
            hide_index=True,
            key=key,
            column_config={
                "description": st.column_config.TextColumn(
                    COST_ITEM_LABELS["description"], max_chars=COST_DESCRIPTION_MAX
                ),
                "quantity": st.column_config.NumberColumn(
                    COST_ITEM_LABELS["quantity"], min_value=0, max_value=float(COST_QUANTITY_MAX), step=1
                ),
                "unit_cost": st.column_config.NumberColumn(
                    f"{COST_ITEM_LABELS['unit_cost']} ({get_settings().currency})",
                    min_value=0,
                    max_value=float(COST_UNIT_MAX),
                    format="%.2f",
                ),
            },
        )
        rows = edited.to_dict("records")
        values[name] = rows
        try:
            _items, total = clean_cost_items(label, rows)
            st.metric(f"Requested budget ({get_settings().currency})", f"{total:,.2f}")
        except ValueError as exc:  # the core names the cell (row and column) at fault
            st.caption(f"The requested budget is the total of the valid rows above. {exc}")
    error_slot(name)

allowed = [
    ext
    for key_, kind in KINDS.items()
    if key_ in get_settings().allowed_attachment_types
    for ext in ({kind.extension, key_} if key_ != "jpeg" else {"jpg", "jpeg"})
]
uploads = st.file_uploader(
    f"Attachments (up to {MAX_PER_SUBMIT}, {get_settings().max_attachment_bytes // 2**20} MB each)",
    type=sorted(set(allowed)),
    accept_multiple_files=True,
    key=k("files"),
)
error_slot("attachments")
error_slot("__all__")

if st.button("Submit ticket", type="primary", key=k("submit")):
    data: dict[str, Any] = {
        "category": cat_name,
        "sub_category": sub_category,
        "subject": subject,
        "description": description,
        "priority": priority,
        **{n: (v.isoformat() if isinstance(v, dt.date) else v) for n, v in values.items()},
    }
    files = [(f.name, f.getvalue()) for f in (uploads or [])]
    try:
        with state.unit_of_work() as s:
            me = s.get(Employee, user.id)
            ticket = tickets.submit_ticket(s, me, data, files)
            number, ticket_id = ticket.ticket_number, ticket.id
    except ValidationError as exc:
        for field, message in exc.errors.items():
            (slots.get(field) or slots["__all__"]).error(message)
        st.error("The ticket was not submitted: please correct the fields marked above.")
    except DomainError as exc:
        st.error(str(exc))
    else:
        st.session_state["submit_flash"] = (number, ticket_id)
        st.session_state["submit_gen"] = gen + 1
        st.session_state.pop(COST_BASE_KEY, None)
        st.session_state.pop(PREFILL_PRIORITY_KEY, None)
        st.rerun()
