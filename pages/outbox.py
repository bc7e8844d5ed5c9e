"""Admin: the e-mail outbox — what was queued, sent or failed, why, and resend.

Thin page: the filters go to `outbox.list_messages`, the resend to `outbox.resend`; both
check the policy and validate. Message text is shown with `st.text`/`st.code`/dataframes
only (never as HTML), since subjects and bodies contain user-written ticket text.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pandas as pd
import streamlit as st

from portal import state
from smartsupport_core import outbox
from smartsupport_core.email_templates import TEMPLATES
from smartsupport_core.errors import DomainError, ValidationError
from smartsupport_core.policy import Action, allowed
from smartsupport_core.settings import get_settings
from smartsupport_core.vocab import EmailStatus

FIELD_LABELS = {"status": "Status", "recipient": "Recipient", "template": "Template", "date_from": "From",
                "date_to": "To", "limit": "Rows", "ids": "Messages", "__all__": "Outbox"}
ALL = "(all)"

st.title("E-mail outbox")
user = state.current_user()
if user is None or not allowed(user, Action.VIEW_OUTBOX):
    st.error("You are not allowed to view the e-mail outbox.")
    st.stop()

settings = get_settings()
if not settings.smtp_configured:
    st.warning(
        "**SMTP is not configured**, so no e-mail is being sent. Nothing is lost: messages stay "
        "queued until `SMARTSUPPORT_SMTP_HOST` (with `_PORT`, `_USERNAME`, `_PASSWORD`; Gmail: "
        "smtp.gmail.com, 587 and an app password) is set and `smartsupport worker` runs.",
        icon=":material/mail_lock:",
    )
else:
    mode = "SSL" if settings.smtp_ssl else ("STARTTLS" if settings.smtp_starttls else "no TLS")
    st.caption(f"Sending through {settings.smtp_host}:{settings.smtp_port} ({mode}) by `smartsupport worker`.")

flash = st.session_state.pop("outbox_flash", None)
if flash:
    st.success(flash)

with state.session() as s:
    counts = outbox.status_counts(s, user)
for col, status in zip(st.columns(len(EmailStatus)), EmailStatus, strict=True):
    col.metric(status.value.capitalize(), counts[status.value])

c1, c2, c3, c4, c5 = st.columns([1, 2, 2, 1, 1])
status = c1.selectbox("Status", [ALL, *(s.value for s in EmailStatus)], key="outbox_status")
recipient = c2.text_input("Recipient contains", key="outbox_recipient", max_chars=254)
template = c3.selectbox("Template", [ALL, *sorted(TEMPLATES)], key="outbox_template")
date_from = c4.date_input("Created from", value=None, key="outbox_from")
date_to = c5.date_input("Created to", value=None, key="outbox_to")

flt = outbox.OutboxFilter(
    status=None if status == ALL else status,
    recipient=recipient or None,
    template=None if template == ALL else template,
    date_from=date_from if isinstance(date_from, dt.date) else None,
    date_to=date_to if isinstance(date_to, dt.date) else None,
)
try:
    with state.session() as s:
        messages = outbox.list_messages(s, user, flt)
except ValidationError as exc:
    for field, message in exc.errors.items():
        st.error(f"{FIELD_LABELS.get(field, field)}: {message}")
    st.stop()

tz = ZoneInfo(settings.timezone)


def _local(value: dt.datetime | None) -> str:
    return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if value else ""


if not messages:
    st.info("No messages match these filters.")
    st.stop()

st.caption(f"{len(messages)} message(s), newest first (at most {flt.limit}); times in {settings.timezone}.")
table = pd.DataFrame(
    [
        {
            "id": m.id,
            "created": _local(m.created_at),
            "status": m.status,
            "recipient": m.recipient_email,
            "template": m.template_name,
            "subject": m.subject,
            "attempts": m.attempts,
            "next attempt": _local(m.next_attempt_at) if m.status == EmailStatus.QUEUED.value else "",
            "sent": _local(m.sent_at),
            "error": m.error_message or "",
        }
        for m in messages
    ]
)
st.dataframe(table, hide_index=True, width="stretch", key="outbox_table")

by_id = {m.id: m for m in messages}


def _label(message_id: int) -> str:
    m = by_id[message_id]
    return f"#{m.id} · {m.status} · {m.recipient_email} · {m.template_name}"


st.subheader("Message")
shown = st.selectbox("Show message", list(by_id), format_func=_label, key="outbox_show")
if shown is not None:
    m = by_id[shown]
    st.text(f"To: {m.recipient_email}\nSubject: {m.subject}\nStatus: {m.status} (attempts: {m.attempts})")
    if m.error_message:
        st.markdown(":red[**Last error**]")
        st.code(m.error_message, language=None, wrap_lines=True)
    st.text(m.body)
    if m.html_body:
        with st.expander("HTML part (source)"):
            st.code(m.html_body, language="html")

if allowed(user, Action.RESEND_EMAIL):
    st.subheader("Resend")
    resendable = [m.id for m in messages if m.status != EmailStatus.SENDING.value]
    chosen = st.multiselect("Messages to send again", resendable, format_func=_label, key="outbox_resend_ids",
                            help="Back to the queue, due now, with the attempt count reset.")
    if st.button("Resend selected", type="primary", disabled=not chosen, key="outbox_resend"):
        try:
            with state.unit_of_work() as s:
                done = outbox.resend(s, user, chosen)
        except ValidationError as exc:
            for field, message in exc.errors.items():
                st.error(f"{FIELD_LABELS.get(field, field)}: {message}")
        except DomainError as exc:
            st.error(str(exc))
        else:
            st.session_state["outbox_flash"] = f"{len(done)} message(s) queued again."
            st.session_state.pop("outbox_resend_ids", None)
            st.rerun()
