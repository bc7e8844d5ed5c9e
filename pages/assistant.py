"""Assistant: ask first, then turn the conversation into a ticket.

Thin page: the core validates, rate-limits, retrieves only what this user may see, and
falls back to retrieval-only when the language model fails. The "Create a ticket" button
puts the suggestion in `st.session_state["ticket_prefill"]` ({subject, description,
category, sub_category, priority}) and switches to the submit page, which pre-fills from it.
"""

from __future__ import annotations

import re
from typing import Any

import streamlit as st

from portal import state
from portal.nav import page_file
from smartsupport_core import assistant
from smartsupport_core.assistant.providers import get_provider
from smartsupport_core.errors import DomainError
from smartsupport_core.policy import Action, allowed

PREFILL_KEY = "ticket_prefill"

user = state.current_user()
if user is None:
    st.warning("Sign in to use the assistant.")
    st.stop()

provider = get_provider()
st.title("Assistant")
if provider.generative:
    st.caption("Answers come from the help centre, your own tickets and anonymised past resolutions.")
else:
    st.caption(
        "No language model is configured: the assistant answers with the best-matching help articles "
        "and past resolutions."
    )

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


def md_escape(text: str) -> str:
    """User-written text (ticket subjects) shown literally inside Markdown."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def show_sources(sources: list[dict[str, Any]] | None) -> None:
    if not sources:
        return
    lines = []
    for i, src in enumerate(sources, 1):
        title = md_escape(str(src.get("title") or ""))
        link = src.get("link")
        lines.append(f"{i}. [{title}]({link})" if link else f"{i}. {title}")
    st.caption("Sources")
    st.markdown("\n".join(lines))


def show(role: str, content: str, sources: list[dict[str, Any]] | None = None) -> None:
    with st.chat_message(role):
        if role == "user":
            st.text(content)  # the user's own words, never interpreted
        else:
            st.markdown(content)
            show_sources(sources)


with state.session() as s:
    try:
        messages = assistant.history(s, user)
    except DomainError as exc:
        st.error(str(exc))
        messages = []

has_conversation = bool(messages)
if not messages:
    st.info(
        "Ask about IT, HR, Finance, company assets or your own tickets — for example “How do I connect to the VPN?”"
    )
for m in messages:
    show(m.role, m.content, m.sources)

prompt = st.chat_input("Ask a question", max_chars=assistant.MAX_MESSAGE_CHARS, key="assistant_input")
if prompt:
    show("user", prompt)
    turn = None
    with state.session() as s:
        try:
            turn = assistant.start_turn(s, user, prompt)
            s.commit()
        except DomainError as exc:
            s.rollback()
            st.error(str(exc))
    if turn is not None:
        with st.chat_message("assistant"):
            written = st.write_stream(assistant.stream_answer(provider, turn))
            answer = written if isinstance(written, str) else "".join(str(x) for x in written)
            sources = [src.as_json() for src in turn.sources]
            show_sources(sources)
        with state.unit_of_work() as s:
            assistant.save_reply(s, user, answer, turn.sources)
        has_conversation = True

left, right = st.columns(2)
with left:
    create = st.button(
        "Create a ticket",
        icon=":material/confirmation_number:",
        disabled=not has_conversation or not allowed(user, Action.CREATE_TICKET),
        help="Turn this conversation into a pre-filled ticket you review before submitting.",
        key="assistant_create_ticket",
    )
with right:
    clear = st.button(
        "Clear history", icon=":material/delete:", disabled=not has_conversation, key="assistant_clear_history"
    )

if create:
    with state.session() as s:
        try:
            suggestion = assistant.suggest_ticket(s, user, None, provider)
        except DomainError as exc:
            suggestion = None
            st.error(str(exc))
    if suggestion is not None:
        st.session_state[PREFILL_KEY] = suggestion
        st.switch_page(page_file("submit_ticket.py"))

if clear:
    with state.unit_of_work() as s:
        assistant.clear_history(s, user)
    st.rerun()
