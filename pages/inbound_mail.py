"""Admin: inbound mail — the mailboxes whose mail becomes tickets and replies, how each one
is doing (last poll, counts, last error), and the log of processed messages.

Thin page: every change goes through `smartsupport_core.inbound_admin` (policy-checked,
validated with field-named messages, audited without the password). A stored password is
never shown: the edit form's password field is empty and leaving it empty keeps it. Text
that came in by e-mail (subjects, senders, reasons) is shown in dataframes only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from portal import state
from portal.safe_text import apply_change, md_escape, show_errors
from smartsupport_core import inbound_admin as ia
from smartsupport_core.email_templates import ticket_link
from smartsupport_core.errors import DomainError
from smartsupport_core.models import InboundMailbox
from smartsupport_core.policy import Action, allowed
from smartsupport_core.settings import get_settings
from smartsupport_core.ticket_forms import active_categories
from smartsupport_core.vocab import ImapSecurity, InboundOutcome

ALL = "(all)"
SECURITY_LABELS = {ImapSecurity.SSL.value: "SSL/TLS (port 993)", ImapSecurity.STARTTLS.value: "STARTTLS (port 143)",
                   ImapSecurity.NONE.value: "None (loopback/test servers only)"}

st.title("Inbound mail")
user = state.current_user()
if user is None or not allowed(user, Action.MANAGE_INBOUND_MAIL):
    st.error("You are not allowed to manage inbound mailboxes.")
    st.stop()

settings = get_settings()
tz = ZoneInfo(settings.timezone)
st.caption(
    "Mail to these mailboxes becomes tickets (from approved employees) and replies (with the ticket number "
    f"in the subject, or answering a SmartSupport e-mail). `smartsupport worker` polls each active mailbox "
    f"every {settings.inbound_poll_seconds} s (SMARTSUPPORT_INBOUND_POLL_SECONDS). Gmail: host imap.gmail.com, "
    "port 993, SSL/TLS, the full address as user name and an app password."
)
if notice := st.session_state.pop("inbound_notice", None):
    st.success(md_escape(notice))


def _local(value: dt.datetime | None) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if value else ""


with state.session() as s:
    statuses = ia.list_mailboxes(s, user)
    categories = active_categories(s)
    s.expunge_all()

# --- the mailboxes ---------------------------------------------------------------------------

if statuses:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Mailbox": st_.mailbox.name,
                    "Account": st_.mailbox.username,
                    "Server": f"{st_.mailbox.host}:{st_.mailbox.port} ({st_.mailbox.security})",
                    "Folder": st_.mailbox.folder,
                    "Category": st_.mailbox.category,
                    "Active": st_.mailbox.is_active,
                    "Last poll": _local(st_.mailbox.last_poll_at),
                    "Last success": _local(st_.mailbox.last_success_at),
                    "Messages": st_.total,
                    **{o.value.capitalize(): st_.counts[o.value] for o in InboundOutcome},
                    "Last error": (f"{_local(st_.mailbox.last_error_at)}: {st_.mailbox.last_error}"
                                   if st_.mailbox.last_error else ""),
                }
                for st_ in statuses
            ]
        ),
        hide_index=True,
        width="stretch",
        key="inbound_mailboxes",
    )
    for st_ in statuses:
        if st_.mailbox.last_error and st_.mailbox.is_active:
            st.error(md_escape(f"{st_.mailbox.name}: the last poll failed at {_local(st_.mailbox.last_error_at)}: "
                               f"{st_.mailbox.last_error}"))
else:
    st.info("No inbound mailbox yet: add one below.")

by_name = {c.name: c for c in categories}


def mailbox_form(prefix: str, current: InboundMailbox | None) -> ia.MailboxForm | None:
    """The form's fields (pre-filled from `current`); the MailboxForm when submitted."""
    cat_names = list(by_name)
    cat_default = current.category if current is not None and current.category in by_name else (
        "Others" if "Others" in by_name else cat_names[0])
    category = st.selectbox("Category", cat_names, index=cat_names.index(cat_default), key=f"{prefix}_category",
                            help="New tickets get this category and go to its department, as on the portal.")
    chosen = by_name[category]
    st.caption(f"Department: {chosen.assigned_department}")
    with st.form(f"{prefix}_form", clear_on_submit=False):
        c1, c2 = st.columns(2)
        name = c1.text_input("Name", value=current.name if current else "", max_chars=100, key=f"{prefix}_name")
        username = c2.text_input("User name", value=current.username if current else "", key=f"{prefix}_user",
                                 help="The login, for Gmail the full address")
        host = c1.text_input("IMAP host", value=current.host if current else "imap.gmail.com", key=f"{prefix}_host")
        security_values = [s.value for s in ImapSecurity]
        security = c2.selectbox("Security", security_values, format_func=SECURITY_LABELS.get,
                                index=security_values.index(current.security) if current else 0,
                                key=f"{prefix}_security")
        port = c1.text_input("Port", value=str(current.port) if current else "993", key=f"{prefix}_port")
        password = c2.text_input(
            "Password" if current is None else "New password (empty: keep the stored one)", type="password",
            key=f"{prefix}_password", help="For Gmail an app password (Google account > Security > App passwords)")
        folder = c1.text_input("Folder", value=current.folder if current else "INBOX", key=f"{prefix}_folder")
        move_to = c2.text_input("Move processed mail to", value=(current.move_to or "") if current else "",
                                key=f"{prefix}_move", help="Empty: processed mail is marked as read and stays")
        sub_category = None
        if chosen.sub_categories:
            subs = list(chosen.sub_categories)
            index = subs.index(current.sub_category) if current and current.sub_category in subs else None
            sub_category = st.selectbox("Sub-category", subs, index=index, placeholder="Choose…",
                                        key=f"{prefix}_{chosen.id}_sub")
        values: dict[str, Any] = {}
        for definition in chosen.required_fields or []:
            fname, label = definition["name"], definition.get("label") or definition["name"]
            old = (current.field_values or {}).get(fname) if current is not None else None
            if definition.get("type") == "select":
                options = [str(o) for o in definition.get("options") or []]
                values[fname] = st.selectbox(label, options, index=options.index(old) if old in options else None,
                                             placeholder="Choose…", key=f"{prefix}_{chosen.id}_{fname}")
            elif definition.get("type") in ("text", "textarea"):
                values[fname] = st.text_input(label, value=str(old or ""), key=f"{prefix}_{chosen.id}_{fname}")
        active = st.checkbox("Active", value=current.is_active if current else True, key=f"{prefix}_active")
        submitted = st.form_submit_button("Save mailbox" if current else "Add mailbox", type="primary")
    if not submitted:
        return None
    return ia.MailboxForm(name=name, host=host, port=port, security=security, username=username,
                          password=password or None, folder=folder, move_to=move_to or None, category=category,
                          sub_category=sub_category, field_values=values, is_active=active)


def apply(change, done: str) -> None:
    if apply_change(change, done, "inbound_notice"):
        st.rerun()


add_tab, edit_tab, log_tab = st.tabs(["Add a mailbox", "Change a mailbox", "Processed messages"])

with add_tab:
    form = mailbox_form("inbound_new", None)
    if form is not None:
        apply(lambda s: ia.create_mailbox(s, user, form), f"Mailbox {form.name.strip()} added.")

with edit_tab:
    if not statuses:
        st.info("No mailbox to change yet.")
    else:
        boxes = {st_.mailbox.id: st_.mailbox for st_ in statuses}
        chosen_id = st.selectbox("Mailbox", list(boxes), format_func=lambda i: boxes[i].name, key="inbound_edit_id")
        current = boxes[chosen_id]
        form = mailbox_form(f"inbound_edit_{current.id}", current)
        if form is not None:
            apply(lambda s: ia.update_mailbox(s, user, current.id, form), f"Mailbox {form.name.strip()} saved.")
        sure = st.checkbox(f"Delete {current.name} and its log of processed messages (deactivating keeps the log)",
                           key=f"inbound_delete_sure_{current.id}")
        if st.button("Delete mailbox", disabled=not sure, key=f"inbound_delete_{current.id}"):
            apply(lambda s: ia.delete_mailbox(s, user, current.id), f"Mailbox {current.name} deleted.")

with log_tab:
    c1, c2 = st.columns(2)
    box_names = {st_.mailbox.id: st_.mailbox.name for st_ in statuses}
    box_filter = c1.selectbox("Mailbox", [None, *box_names], format_func=lambda i: ALL if i is None else box_names[i],
                              key="inbound_log_box")
    outcome = c2.selectbox("Outcome", [ALL, *(o.value for o in InboundOutcome)], key="inbound_log_outcome")
    try:
        with state.session() as s:
            entries = ia.list_log(s, user, mailbox_id=box_filter, outcome=None if outcome == ALL else outcome)
            s.expunge_all()
    except DomainError as exc:
        show_errors(exc)
        entries = []
    if not entries:
        st.info("No processed messages match.")
    else:
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        "Processed": _local(e.message.processed_at),
                        "Mailbox": e.mailbox_name,
                        "From": e.message.sender or "",
                        "Subject": e.message.subject or "",
                        "Outcome": e.message.outcome,
                        "Ticket": ticket_link(e.message.ticket_id) if e.message.ticket_id else None,
                        "Number": e.ticket_number or "",
                        "Why": e.message.reason or "",
                        "Answered": e.message.bounced,
                    }
                    for e in entries
                ]
            ),
            hide_index=True,
            width="stretch",
            key="inbound_log",
            column_config={"Ticket": st.column_config.LinkColumn("Ticket", display_text="open")},
        )
