"""The pickers' choice lists are cached per process under a fingerprint of their rows: a
new session pays one small statement, and any change to those rows is seen at once."""

from __future__ import annotations

from sqlalchemy import Engine, event, select, update
from sqlalchemy.orm import Session

from smartsupport_core import refdata, tickets, triage
from smartsupport_core.models import Department, Employee, Ticket
from smartsupport_core.queue import assignable_staff, filter_choices
from smartsupport_core.vocab import AccountStatus, Role
from tests.factories import make_employee, make_ticket


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


def test_assignable_staff_of_a_ticket_is_the_assignment_rule_over_the_cached_list(
    session: Session, engine: Engine
) -> None:
    """The ticket page and the queue's panel take a ticket's assignees from the cached staff
    list: exactly the active, approved admins and the ticket's department's coordinators (the
    people `assign_ticket` accepts), and the cache follows a change at once."""
    admin = make_employee(session, role=Role.ADMIN, department="Finance", first_name="Ada", middle_name="B")
    it_coord = make_employee(session, role=Role.COORDINATOR, department="IT Department", first_name="Cora")
    twin = make_employee(
        session, role=Role.COORDINATOR, department="IT Department", first_name="Cora", last_name=it_coord.last_name
    )
    make_employee(session, role=Role.COORDINATOR, department="Finance", first_name="Fin")  # another department
    make_employee(session, role=Role.COORDINATOR, department="IT Department", is_active=False)
    make_employee(session, role=Role.ADMIN, status=AccountStatus.PENDING)
    make_employee(session, role=Role.EMPLOYEE, department="IT Department")
    ticket = make_ticket(session, make_employee(session), department="IT Department")
    session.commit()

    def by_the_rule() -> set[int]:  # the rule as SQL, independently of the cache
        return set(
            session.scalars(
                select(Employee.id).where(
                    Employee.status == AccountStatus.APPROVED.value,
                    Employee.is_active.is_(True),
                    (Employee.role == Role.ADMIN.value)
                    | ((Employee.role == Role.COORDINATOR.value) & (Employee.department == ticket.department)),
                )
            )
        )

    staff = tickets.assignable_staff(session, ticket)
    assert {p.id for p in staff} == by_the_rule() >= {admin.id, it_coord.id, twin.id}
    names = dict(triage.people_names(staff))
    assert names[admin.id] == admin.full_name == "Ada B " + admin.last_name  # as Employee.full_name
    assert names[it_coord.id] == f"{it_coord.full_name} <{it_coord.email}>"  # two of the same name
    for person in staff:  # every one of them is accepted by the service's own check
        assert tickets.may_be_assigned(person.role, person.department, ticket.department)

    # a coordinator moved to another department is no longer offered (the fingerprint changed)
    session.execute(update(Employee).where(Employee.id == twin.id).values(department="Finance"))
    session.commit()
    assert {p.id for p in tickets.assignable_staff(session, ticket)} == by_the_rule()
    assert twin.id not in by_the_rule()
    # an e-mail change is seen too (it is part of the label when two names are the same)
    session.execute(update(Employee).where(Employee.id == admin.id).values(email="ada.new@example.com"))
    session.commit()
    assert {p.email for p in tickets.assignable_staff(session, ticket) if p.id == admin.id} == {"ada.new@example.com"}

    statements: list[str] = []

    def on_statement(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    with Session(engine) as fresh:
        same = fresh.get(Ticket, ticket.id)
        refdata.choices(fresh)  # the run has asked already (the queue's pickers)
        event.listen(engine, "before_cursor_execute", on_statement)
        try:
            assert {p.id for p in tickets.assignable_staff(fresh, same)} == by_the_rule()
        finally:
            event.remove(engine, "before_cursor_execute", on_statement)
    assert len(statements) == 1, statements  # by_the_rule's: none of its own once the session has the list
