"""Showing user-written text through Markdown-rendering elements exactly as written."""

from __future__ import annotations

import re
from collections.abc import Callable

import streamlit as st
from sqlalchemy.orm import Session

from smartsupport_core.errors import DomainError, ValidationError

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md_escape(text: str) -> str:
    """Escape Markdown (and :emoji:/:material: shortcodes) so st.error/st.success show `text` verbatim."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def highlight(text: str, terms: list[str]) -> str:
    """`text` as Markdown that shows it verbatim, with each of `terms` (whole-word prefixes,
    any case) marked; only the marks are Markdown."""
    words = sorted({t for t in terms if len(t) >= 2}, key=len, reverse=True)
    if not words:
        return md_escape(text)
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\w*", re.IGNORECASE)
    out, at = [], 0
    for m in pattern.finditer(text):
        out.append(md_escape(text[at : m.start()]))
        out.append(f":orange-background[{md_escape(m.group(0))}]")
        at = m.end()
    out.append(md_escape(text[at:]))
    return "".join(out)


def show_errors(exc: DomainError) -> None:
    """A core error as messages: one per field of a `ValidationError` ("Label: message", the
    label a person sees; form-wide `__all__` without the prefix), else the error's text; all
    shown verbatim."""
    if isinstance(exc, ValidationError):
        for label, message in exc.labelled():
            st.error(("" if label is None else f"{label}: ") + md_escape(message))
    else:
        st.error(md_escape(str(exc)))


def apply_change(change: Callable[[Session], object], done: str, notice_key: str) -> bool:
    """Run `change(session)` in one transaction (`state.session()`); on a domain error show
    its messages and return False, else keep `done` under `notice_key` for the next run's
    success message and return True. The admin pages' one way to save a form."""
    from portal import state  # state imports Streamlit's runtime pieces; keep this module light

    try:
        with state.unit_of_work() as s:
            change(s)
    except DomainError as exc:
        show_errors(exc)
        return False
    st.session_state[notice_key] = done
    return True
