"""Small helpers that make rows for tests directly (bypassing services on purpose)."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartsupport_core.models import Base, Employee, Ticket
from smartsupport_core.numbering import next_ticket_number
from smartsupport_core.vocab import AccountStatus, Role

_seq = itertools.count(1)


def make_employee(
    session: Session,
    *,
    role: Role | str = Role.EMPLOYEE,
    department: str = "Sales",
    status: AccountStatus | str = AccountStatus.APPROVED,
    **extra: Any,
) -> Employee:
    n = next(_seq)
    emp = Employee(
        first_name=extra.pop("first_name", f"First{n}"),
        last_name=extra.pop("last_name", f"Last{n}"),
        email=extra.pop("email", f"user{n}@example.com"),
        company_id=extra.pop("company_id", f"MA{(n % 10000):04d}"),
        department=department,
        role=str(role),
        status=str(status),
        password=extra.pop("password", "!unusable"),
        **extra,
    )
    session.add(emp)
    session.flush()
    return emp


def make_ticket(session: Session, requester: Employee, **extra: Any) -> Ticket:
    ticket = Ticket(
        ticket_number=extra.pop("ticket_number", None) or next_ticket_number(session),
        subject=extra.pop("subject", "Laptop will not start"),
        description=extra.pop("description", "The laptop shows a black screen after boot."),
        category=extra.pop("category", "IT Support"),
        department=extra.pop("department", "IT Department"),
        employee_id=requester.id,
        **extra,
    )
    session.add(ticket)
    session.flush()
    return ticket


def run_together(work: Callable[[], None], threads: int) -> None:
    """Run `work` in `threads` threads released at the same moment (a barrier), wait for all,
    and re-raise the first error: how the tests make writers race."""
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            work()
        except BaseException as exc:  # pragma: no cover - re-raised below
            errors.append(exc)

    started = [threading.Thread(target=run) for _ in range(threads)]
    for t in started:
        t.start()
    for t in started:
        t.join()
    if errors:
        raise errors[0]


def row_counts(session: Session) -> dict[str, int]:
    """Every table's row count, in one round trip: compare before and after a call that
    must write nothing."""
    tables = Base.metadata.sorted_tables
    row = session.execute(select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))).one()
    return dict(zip((t.name for t in tables), row, strict=True))
