"""Per-process resources and the signed-in user, for every page.

The signed-in user is identified by `st.session_state["user_id"]` and
`st.session_state["session_version"]`; every script run re-reads the account from the
database, so a suspended, deactivated or signed-out-everywhere account is dropped at once.
"""

from __future__ import annotations

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from smartsupport_core import settings as core_settings
from smartsupport_core.db import get_engine
from smartsupport_core.models import Employee
from smartsupport_core.policy import is_active_account


def _secrets() -> dict[str, object]:
    try:
        return {k: v for k, v in st.secrets.items() if isinstance(v, (str, int, float, bool))}
    except Exception:  # no secrets.toml: environment only
        return {}


@st.cache_resource
def engine() -> Engine:
    core_settings.configure(core_settings.load_settings(_secrets()))
    return get_engine()


def session() -> Session:
    """A new ORM session; use as a context manager (`with state.session() as s:`)."""
    return Session(engine(), expire_on_commit=False)


def current_user() -> Employee | None:
    """The signed-in, still-approved, still-active employee, or None."""
    user_id = st.session_state.get("user_id")
    if user_id is None:
        return None
    with session() as s:
        user = s.get(Employee, user_id)
        if (
            user is None
            or not is_active_account(user)
            or user.session_version != st.session_state.get("session_version")
        ):
            st.session_state.pop("user_id", None)
            st.session_state.pop("session_version", None)
            return None
        s.expunge(user)
        return user


def sign_in(user: Employee) -> None:
    st.session_state["user_id"] = user.id
    st.session_state["session_version"] = user.session_version
