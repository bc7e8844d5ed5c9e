"""The pickers' choice lists are cached per process under a fingerprint of their rows: a
new session pays one small statement, and any change to those rows is seen at once."""

from __future__ import annotations

from sqlalchemy import Engine, event, update
from sqlalchemy.orm import Session

from smartsupport_core import refdata
from smartsupport_core.models import Department, Employee
from smartsupport_core.queue import assignable_staff, filter_choices
from smartsupport_core.vocab import Role
from tests.factories import make_employee


def test_choices_follow_changes_and_cost_one_statement_when_cached(session: Session, engine: Engine) -> None:
    admin = make_employee(session, role=Role.ADMIN, first_name="Ada", last_name="Admin")
    session.commit()
    refdata.choices(session)  # warm the process cache

    statements: list[str] = []

    def on_statement(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        with Session(engine) as fresh:
            departments, categories = filter_choices(fresh, admin)
            staff = assignable_staff(fresh, admin)
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
    assert len(statements) == 1, statements  # the fingerprint only: the lists came from the cache

    assert (admin.id, "Ada Admin", admin.department) in staff
    assert "Finance" in departments and categories

    coordinator = make_employee(
        session, role=Role.COORDINATOR, department="Finance", first_name="Cy", last_name="Coord"
    )
    session.execute(update(Department).where(Department.name == "Finance").values(is_active=False))
    session.commit()
    departments, _ = filter_choices(session, admin)
    assert departments[-1] == "Finance"  # inactive ones last
    assert (coordinator.id, "Cy Coord", "Finance") in assignable_staff(session, admin)

    session.execute(update(Employee).where(Employee.id == coordinator.id).values(is_active=False))
    session.commit()
    assert coordinator.id not in {i for i, _, _ in assignable_staff(session, admin)}
