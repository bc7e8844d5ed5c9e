"""Fault test (issue 9): the database restarts while the portal is up.

The portal runs (through the CLI, as an operator starts it) against a PostgreSQL server of
its own (`PrivatePostgres`, an embedded pgserver on a unix socket: never the machine's
shared server). An employee signs in and opens My tickets; the server is stopped with a
fast shutdown (every session killed, as in a restart); the employee's next action shows a
plain message and a "Try again" button, no stack trace or driver name; the server starts
again; the next action works: "Try again" shows the form, the employee is still signed in,
submits a ticket and it is in the database. Screenshots: test-artifacts/e2e/<test>/.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests.e2e.harness import (
    ARTIFACTS,
    Portal,
    PrivatePostgres,
    choose,
    click_button,
    create_throwaway_database,
    exceptions_shown,
    expect_text,
    fill,
    key_locator,
    main_text,
    nav,
    portal_env,
    sign_in,
)

pytestmark = pytest.mark.browser

DB_DOWN_MESSAGE = "The database is not reachable right now"
LEAKS = ("Traceback", "psycopg", "OperationalError", "sqlalchemy", 'File "')
EMPLOYEE = {"email": "fault.tester@e2e.example.com", "password": "Fault#Pass2026"}


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[tuple[PrivatePostgres, Portal]]:
    """A private PostgreSQL with one approved employee, and a portal serving from it."""
    pg_server = PrivatePostgres().start()
    portal = None
    try:
        url = create_throwaway_database(pg_server.url(), prefix="ss_fault")
        env = portal_env(url, tmp_path / "portal-data", secret_key="fault-" + secrets.token_hex(16))
        log = ARTIFACTS / "e2e" / "portal-fault-db-restart.log"
        log.unlink(missing_ok=True)
        portal = Portal(env=env, log_path=log).start(timeout=60)  # migrates the empty database first
        _approved_employee(url)
        yield pg_server, portal
    finally:
        if portal is not None:
            portal.stop()
        pg_server.close()


def _approved_employee(url: str) -> None:
    from smartsupport_core.passwords import hash_password
    from tests.factories import make_employee

    engine = create_engine(url)
    try:
        with Session(engine) as s:
            make_employee(s, email=EMPLOYEE["email"], password=hash_password(EMPLOYEE["password"]))
            s.commit()
    finally:
        engine.dispose()


def _tickets_with_subject(url: str, subject: str) -> list[str]:
    from smartsupport_core.models import Ticket

    engine = create_engine(url)
    try:
        with Session(engine) as s:
            return list(s.scalars(select(Ticket.ticket_number).where(Ticket.subject == subject)))
    finally:
        engine.dispose()


def assert_no_leak(page) -> None:
    """No Streamlit exception box, no trace and no driver or exception name on the page."""
    assert exceptions_shown(page) == []
    shown = main_text(page)
    for word in LEAKS:
        assert word not in shown, f"{word!r} shown to the user:\n{shown[:1500]}"
    assert "Traceback" not in page.content()


def test_database_restart_while_portal_is_up(restartable, new_page, shots):
    pg_server, portal = restartable
    page = new_page()
    sign_in(page, portal, EMPLOYEE["email"], EMPLOYEE["password"])
    nav(page, "my-tickets")
    expect_text(page, "My tickets")
    shots(page, "signed-in-my-tickets")
    assert_no_leak(page)

    pg_server.stop()  # fast shutdown: the portal's pooled connections die with their sessions

    nav(page, "submit")
    expect_text(page, DB_DOWN_MESSAGE)
    shots(page, "database-down")
    assert_no_leak(page)
    click_button(page, "Try again")  # still down: the same message, still no trace
    expect_text(page, DB_DOWN_MESSAGE)
    assert_no_leak(page)

    pg_server.start()

    click_button(page, "Try again")  # the next action after the restart works, still signed in
    expect_text(page, "Subject")
    assert DB_DOWN_MESSAGE not in main_text(page)
    assert key_locator(page, "sign_out").count() == 1
    choose(page, "submit_0_category", "Others")
    subject = "Printer on the 3rd floor jams " + secrets.token_hex(3)
    fill(page, "submit_0_subject", subject)
    fill(page, "submit_0_description", "It jams on every second page since this morning.")
    click_button(page, "Submit ticket")
    text = expect_text(page, "was submitted")
    shots(page, "submitted-after-restart")
    assert_no_leak(page)
    numbers = _tickets_with_subject(portal.env["SMARTSUPPORT_DATABASE_URL"], subject)
    assert len(numbers) == 1 and numbers[0] in text
