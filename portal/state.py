"""Per-process resources, the script run's database session and the signed-in user.

The signed-in user is identified by `st.session_state["user_id"]` and
`st.session_state["session_version"]`; every script run re-reads the account from the
database (once per run), so a suspended, deactivated or signed-out-everywhere account is
dropped at once.

WHY one session per run (`run_scope`): a page run used to open a Session per `with` block,
each checking a connection out of the pool (and pinging it first), and read the signed-in
account two or three times. Now the entry point opens a `RunScope`: the first `with
state.session()` block checks out one connection and every later block of the run reuses it
and its Session; the account is read once and lent to each block's identity map, so
`s.get(Employee, user.id)` costs no statement. Each block still ends as closing a Session
did (objects detached with their loaded attributes, uncommitted work rolled back), so pages
keep the semantics they were written for; the connection goes back to the pool at the end of
the run.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import ParamSpec

import streamlit as st
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session

from portal import timing
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


class RunScope:
    """The database session of one script run (or fragment run) and what it already read."""

    def __init__(self) -> None:
        self.connection: Connection | None = None
        self._session: Session | None = None
        self.users: dict[tuple[object, object], Employee | None] = {}  # (id, version) -> account
        self.loaded: Employee | None = None  # an account read this run (sign-in, cookie restore)

    @contextmanager
    def session(self) -> Iterator[Session]:
        if self._session is None:
            self.connection = engine().connect()  # the run's one check-out
            self._session = Session(bind=self.connection, expire_on_commit=False)
            event.listen(self._session, "after_commit", self._after_commit)
        s = self._session
        user = next((u for u in self.users.values() if u is not None), None)
        lent = None  # the identity map holds objects weakly: this reference keeps the account in it
        if user is not None:
            try:
                lent = s.merge(user, load=False)  # in the identity map: a get() of the account runs no SQL
            except Exception:  # changed in memory by a page: then it is read as before
                log.debug("account not lent to the block", exc_info=True)
        ok = False
        try:
            yield s
            ok = True
        finally:
            del lent
            self._end_block(s, ok)

    def _after_commit(self, _session: Session) -> None:
        """A write may have changed the account: later blocks and `current_user` read it anew."""
        self.users = {}
        self.loaded = None

    def _end_block(self, s: Session, ok: bool) -> None:
        """What closing the block's own Session used to do, keeping the connection."""
        s.expunge_all()  # first: a rollback would expire what the page still holds
        try:
            s.rollback()  # uncommitted work of the block is dropped; nothing else is pending
        except Exception:
            if ok:
                raise
            log.debug("rollback after a failed block", exc_info=True)
            self.close()  # the connection is likely gone: the next block checks out a new one

    def close(self) -> None:
        session, connection = self._session, self.connection
        self._session = self.connection = None
        try:
            if session is not None:
                session.close()
        finally:
            if connection is not None:
                with contextlib.suppress(Exception):  # a dead connection is discarded by the pool
                    connection.close()


_scope: contextvars.ContextVar[RunScope | None] = contextvars.ContextVar("smartsupport_run_scope", default=None)


@contextmanager
def run_scope() -> Iterator[RunScope]:
    """One script run: `session()` blocks share a Session and one connection until the end.

    Nested use (a fragment drawn inside a full run) joins the run's scope. Each script run
    has its own thread context, so sessions of different browsers never share a scope."""
    scope = _scope.get()
    if scope is not None:
        yield scope
        return
    scope = RunScope()
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)
        scope.close()


def session() -> AbstractContextManager[Session]:
    """The ORM session for a block: `with state.session() as s:`.

    Inside a run (`run_scope`) the run's shared Session; outside one (a thread of its own,
    a bare page script under test) a new Session closed at the end of the block."""
    scope = _scope.get()
    if scope is None:
        return Session(engine(), expire_on_commit=False)
    return scope.session()


@contextmanager
def unit_of_work() -> Iterator[Session]:
    """A block whose writes land together: `with state.unit_of_work() as s:` commits when the
    block ends without an error and rolls back otherwise (the pages' one way to write)."""
    with session() as s:
        yield s
        s.commit()


def current_user() -> Employee | None:
    """The signed-in, still-approved, still-active employee, or None (read once per run)."""
    user_id = st.session_state.get("user_id")
    if user_id is None:
        return None
    key = (user_id, st.session_state.get("session_version"))
    scope = _scope.get()
    if scope is not None and key in scope.users:
        return scope.users[key]
    loaded = scope.loaded if scope is not None else None
    if loaded is not None and loaded.id == user_id:
        user: Employee | None = loaded  # just read by the sign-in or the cookie check of this run
    else:
        with session() as s:
            user = s.get(Employee, user_id)
            if user is not None:
                s.expunge(user)
    if user is None or not is_active_account(user) or user.session_version != key[1]:
        st.session_state.pop("user_id", None)
        st.session_state.pop("session_version", None)
        user = None
    if scope is not None:
        scope.users = {key: user}
    return user


def grants_of(user: Employee | None) -> Grants:
    """The signed-in user's role-independent grants (department head of ...), read now: an
    admin's change of a head e-mail applies at the user's next click."""
    if user is None:
        return NO_GRANTS
    with session() as s:  # the run's session: read once per run (policy.grants_of keeps it)
        return core_grants_of(s, user)


def sign_in(user: Employee) -> None:
    st.session_state["user_id"] = user.id
    st.session_state["session_version"] = user.session_version
    scope = _scope.get()
    if scope is not None:
        scope.loaded = user  # current_user() checks it without reading it again
        scope.users = {}


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
        # a fragment's own rerun does not pass the entry point: it gets its run scope here
        with run_scope(), timing.measure(f"fragment:{func.__name__}", engine):
            try:
                func(*args, **kwargs)
            except Exception as exc:
                if not database_unreachable(exc, key=f"{RETRY_KEY}_{func.__name__}"):  # its own button
                    raise

    return guarded
