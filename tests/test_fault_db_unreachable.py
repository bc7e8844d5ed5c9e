"""The database being unreachable (down, restarting, connection cut): the core tells it apart
from other database errors, and the portal's page runner shows a plain message and a
"Try again" button instead of a stack trace, then works again once the server is back."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from portal import state
from smartsupport_core.db import is_unreachable
from tests.factories import make_employee
from tests.portal_helpers import signed_in


def _wrapped(orig: Exception) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError.instance("SELECT 1", {}, orig, psycopg.Error)


@pytest.fixture
def dead_engine():
    """An engine whose server does not exist (port 1 on loopback refuses at once)."""
    engine = create_engine("postgresql+psycopg://postgres@127.0.0.1:1/nowhere", connect_args={"connect_timeout": 2})
    yield engine
    engine.dispose()


def test_refused_connection_is_unreachable(dead_engine) -> None:
    with pytest.raises(sa_exc.OperationalError) as caught, dead_engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert is_unreachable(caught.value)


@pytest.mark.parametrize(
    ("orig", "expected"),
    [
        (psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly"), True),
        (psycopg.errors.AdminShutdown("terminating connection due to administrator command"), True),
        (psycopg.errors.CannotConnectNow("the database system is starting up"), True),
        (psycopg.errors.TooManyConnections("sorry, too many clients already"), True),
        (psycopg.errors.QueryCanceled("canceling statement due to statement timeout"), False),
        (psycopg.errors.UniqueViolation("duplicate key value"), False),
        (psycopg.errors.UndefinedTable("relation does not exist"), False),
    ],
)
def test_only_connection_failures_count_as_unreachable(orig: Exception, expected: bool) -> None:
    assert is_unreachable(_wrapped(orig)) is expected


def test_errors_that_wrap_a_disconnect_and_other_errors() -> None:
    try:
        try:
            raise _wrapped(psycopg.OperationalError("connection is lost"))
        except sa_exc.DBAPIError as inner:
            raise RuntimeError("while loading the page") from inner
    except RuntimeError as outer:
        assert is_unreachable(outer)
    assert not is_unreachable(ValueError("bad input"))


def test_portal_shows_message_while_down_and_recovers(session: Session, dead_engine, monkeypatch) -> None:
    emp = make_employee(session)
    session.commit()
    real_engine = state.engine
    monkeypatch.setattr(state, "engine", lambda: dead_engine)  # the server goes away
    at = signed_in(emp)
    assert not at.exception
    assert [e.value for e in at.error] == [state.DB_UNREACHABLE_MESSAGE]
    retry = at.button(key=state.RETRY_KEY)
    assert retry.label == "Try again"

    monkeypatch.setattr(state, "engine", real_engine)  # the server is back
    retry.click().run()
    assert not at.exception
    assert not at.error
    assert at.session_state["user_id"] == emp.id  # still signed in
    assert any(emp.full_name in t.value for t in at.text)


def test_other_errors_are_not_disguised(session: Session, monkeypatch) -> None:
    def broken():
        raise RuntimeError("a bug, not an outage")

    monkeypatch.setattr(state, "current_user", broken)
    at = signed_in(None)
    assert at.exception
    assert state.DB_UNREACHABLE_MESSAGE not in [e.value for e in at.error]


def _fragment_app() -> None:
    import streamlit as st
    from sqlalchemy import text

    from portal import state

    @st.fragment
    @state.survives_database_outage
    def refresh() -> None:
        with state.session() as s:
            st.write(f"rows: {s.execute(text('SELECT 1')).scalar()}")

    st.title("Queue")
    refresh()
    st.caption("the rest of the page")


def test_fragment_shows_message_while_down_and_the_page_goes_on(session: Session, dead_engine, monkeypatch) -> None:
    monkeypatch.setattr(state, "engine", lambda: dead_engine)
    at = AppTest.from_function(_fragment_app, default_timeout=30)
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [state.DB_UNREACHABLE_MESSAGE]
    assert [c.value for c in at.caption] == ["the rest of the page"]


def test_fragment_guard_lets_other_errors_through(monkeypatch) -> None:
    def broken():
        raise RuntimeError("a bug, not an outage")

    monkeypatch.setattr(state, "session", broken)
    at = AppTest.from_function(_fragment_app, default_timeout=30)
    at.run()
    assert at.exception
