"""One script run, one database session: a page run checks one connection out of the pool
and reads the signed-in account once (issue 19). Counted with SQLAlchemy's own events on
the portal's engine while AppTest runs the page through the entry point."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from smartsupport_core.models import Employee
from smartsupport_core.vocab import Role
from tests.factories import make_employee, make_ticket
from tests.portal_helpers import signed_in

#: How `Session.get(Employee, id)` and any other read of one account by its key look.
ACCOUNT_READ = re.compile(r"FROM core_employee\b.*WHERE core_employee\.id = %\(\w+\)s", re.S)


@dataclass
class Counts:
    checkouts: int = 0
    statements: list[tuple[str, object]] = field(default_factory=list)

    def account_reads(self, user: Employee) -> int:
        return sum(
            1
            for sql, params in self.statements
            if ACCOUNT_READ.search(sql) and isinstance(params, dict) and user.id in params.values()
        )


@pytest.fixture
def counted(engine: Engine) -> Iterator[Counts]:
    """Statements and pool check-outs of the portal's engine while the test runs."""
    counts = Counts()

    def on_checkout(*_args) -> None:
        counts.checkouts += 1

    def on_statement(conn, cursor, statement, parameters, context, executemany) -> None:
        counts.statements.append((statement, parameters))

    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "before_cursor_execute", on_statement)
    yield counts
    event.remove(engine, "checkout", on_checkout)
    event.remove(engine, "before_cursor_execute", on_statement)


@pytest.mark.parametrize(
    ("role", "page", "query"),
    [
        (Role.COORDINATOR, "queue.py", {}),
        (Role.EMPLOYEE, "my_tickets.py", {}),
        (Role.EMPLOYEE, "ticket.py", {"id": "ticket"}),  # the page gets the account again by id
        (Role.ADMIN, "admin_console.py", {}),
        (Role.ADMIN, "audit_log.py", {}),
    ],
)
def test_page_run_checks_out_one_connection_and_reads_the_account_once(
    session: Session, counted: Counts, role: Role, page: str, query: dict[str, str]
) -> None:
    user = make_employee(session, role=role, department="IT Department")
    ticket = make_ticket(session, user if role == Role.EMPLOYEE else make_employee(session), status="Open")
    session.commit()
    at = signed_in(user, **{k: str(ticket.id) for k in query})
    counted.checkouts, counted.statements[:] = 0, []  # the page's own run from here

    at.switch_page(f"../pages/{page}").run()

    assert not at.exception, at.exception
    assert counted.statements, "the page ran no statement: nothing was measured"
    assert counted.checkouts == 1, f"{counted.checkouts} pool check-outs in one run of {page}"
    assert counted.account_reads(user) == 1, [s for s, _ in counted.statements if "core_employee" in s]


def test_grants_are_read_once_per_run(session: Session, counted: Counts) -> None:
    """The entry point (navigation) and the dashboard page both need the department-head
    grants: one statement answers both."""
    admin = make_employee(session, role=Role.ADMIN)
    session.commit()
    at = signed_in(admin)
    counted.statements[:] = []
    at.switch_page("../pages/dashboard.py").run()
    assert not at.exception, at.exception
    assert sum("head_email" in sql for sql, _ in counted.statements) == 1


def test_blocks_of_a_run_end_as_a_closed_session_did(session: Session, engine: Engine) -> None:
    """Work a block did not commit is gone for the next block of the same run, and what a
    block loaded is still readable after it (detached, not expired)."""
    from portal import state

    user = make_employee(session)
    session.commit()
    with state.run_scope():
        with state.session() as s:
            loaded = s.get(Employee, user.id)
            loaded.first_name = "Changed but not committed"
        with state.session() as s:
            again = s.get(Employee, user.id)
            assert again is not loaded
            assert again.first_name == user.first_name
        assert loaded.first_name == "Changed but not committed"  # detached, attributes kept


def test_a_commit_ends_the_lending_of_the_account(session: Session, engine: Engine) -> None:
    """After a block of the run commits (the write may have changed the account), later
    blocks read the account from the database again instead of the copy read at the start."""
    from portal import state

    user = make_employee(session, first_name="Before")
    session.commit()
    session.expunge(user)
    with state.run_scope() as scope:
        scope.users = {(user.id, user.session_version): user}  # what current_user() leaves behind
        with state.session() as s:
            s.get(Employee, user.id).first_name = "After"
            s.commit()
        with state.session() as s:
            assert s.get(Employee, user.id).first_name == "After"
