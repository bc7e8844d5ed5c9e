"""A session keeps the answers of repeated reads (grants, reference data) until it writes."""

from __future__ import annotations

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from smartsupport_core import policy, refdata
from smartsupport_core.models import Department, SlaTarget
from smartsupport_core.policy import Grant
from tests.factories import make_employee


def _count(session: Session, needle: str) -> list[int]:
    seen = [0]

    def on_statement(conn, cursor, statement, parameters, context, executemany) -> None:
        if needle in statement:
            seen[0] += 1

    event.listen(session.get_bind(), "before_cursor_execute", on_statement)
    return seen


def test_grants_are_read_once_until_the_session_writes(session: Session) -> None:
    head = make_employee(session, email="boss@example.com")
    session.commit()
    reads = _count(session, "head_email")
    assert policy.grants_of(session, head).held == {}
    assert policy.grants_of(session, head).held == {}
    assert reads[0] == 1

    session.execute(update(Department).where(Department.name == "Finance").values(head_email="Boss@example.com"))
    session.flush()
    session.get(Department, 1).description = "touched"  # a flush after an ORM change forgets too
    session.flush()
    assert policy.grants_of(session, head).held == {Grant.DEPARTMENT_HEAD: frozenset({"Finance"})}
    session.rollback()  # the write is undone: so is what was read after it
    assert policy.grants_of(session, head).held == {}


def test_reference_data_fingerprint_is_taken_once_until_a_commit(session: Session) -> None:
    first, _ = refdata.current(session)
    reads = _count(session, "md5(concat_ws")
    again, _ = refdata.current(session)
    assert again is first
    assert reads[0] == 0
    session.execute(update(SlaTarget).where(SlaTarget.priority == "High").values(response_minutes=7))
    session.commit()
    changed, _ = refdata.current(session)
    assert changed.targets["High"].response_minutes == 7
    assert reads[0] >= 1
