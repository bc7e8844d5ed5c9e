"""Per-process resources and the signed-in user, for every page.

The signed-in user is identified by `st.session_state["user_id"]` and
`st.session_state["session_version"]`; every script run re-reads the account from the
database, so a suspended, deactivated or signed-out-everywhere account is dropped at once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from smartsupport_core import settings as core_settings
from smartsupport_core.db import get_engine, is_unreachable
from smartsupport_core.models import Employee
from smartsupport_core.policy import NO_GRANTS, Grants, is_active_account
from smartsupport_core.policy import grants_of as core_grants_of

DB_UNREACHABLE_MESSAGE = "The database is not reachable right now; try again in a moment."
RETRY_KEY = "db_unreachable_retry"

log = logging.getLogger("smartsupport.portal")
P = ParamSpec("P")


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


def grants_of(user: Employee | None) -> Grants:
    """The signed-in user's role-independent grants (department head of ...), read now: an
    admin's change of a head e-mail applies at the user's next click."""
    if user is None:
        return NO_GRANTS
    with session() as s:
        return core_grants_of(s, user)


def sign_in(user: Employee) -> None:
    st.session_state["user_id"] = user.id
    st.session_state["session_version"] = user.session_version


def database_unreachable(exc: BaseException, *, key: str = RETRY_KEY) -> bool:
    """Handle an error of a script run: True when it was the database being unreachable
    (down, restarting, connection cut), after showing a plain message and a "Try again"
    button instead of a stack trace; False for any other error (the caller re-raises it).

    The engine's pool is emptied so that the next run opens fresh connections (`pool_pre_ping`
    would find the dead ones too, one by one); the signed-in session is kept, so the next
    action after the server is back works as before.
    """
    if not is_unreachable(exc):
        return False
    cause = getattr(exc, "orig", None) or exc  # the driver's words, not the statement and its parameters
    log.warning("database unreachable: %s: %s", type(cause).__name__, str(cause).strip()[:500])
    try:
        engine().dispose()
    except Exception:  # the engine itself could not be made (its server is the one that is down)
        log.debug("engine not disposed", exc_info=True)
    st.error(DB_UNREACHABLE_MESSAGE, icon=":material/cloud_off:")
    st.button("Try again", key=key, icon=":material/refresh:")  # a click is a rerun
    return True


def survives_database_outage(func: Callable[P, None]) -> Callable[P, None]:
    """For a fragment (`@st.fragment(run_every=...)` reruns only itself, outside the entry
    point's handler): the database being unreachable shows the plain message in its place."""

    @functools.wraps(func)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            func(*args, **kwargs)
        except Exception as exc:
            if not database_unreachable(exc, key=f"{RETRY_KEY}_{func.__name__}"):  # its own button
                raise

    return guarded
