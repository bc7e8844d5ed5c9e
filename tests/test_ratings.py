"""Satisfaction ratings: requester only, Resolved/Closed only, 1-5, once (updates allowed), audited."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartsupport_core import ratings
from smartsupport_core.errors import NotFound, PermissionDenied, ValidationError
from smartsupport_core.models import AuditLog, TicketRating
from smartsupport_core.vocab import Role, TicketStatus
from tests.factories import make_employee, make_ticket


@pytest.fixture
def people(session: Session):
    requester = make_employee(session)
    other = make_employee(session)
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    ticket = make_ticket(session, requester, status=TicketStatus.RESOLVED.value)
    session.commit()
    return requester, other, admin, ticket


def _count(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def test_requester_rates_then_updates(session: Session, people) -> None:
    requester, _, admin, ticket = people
    row = ratings.rate_ticket(session, requester, ticket.id, 4, "  Quick and friendly  ")
    session.commit()
    assert (row.rating, row.comment, row.employee_id) == (4, "Quick and friendly", requester.id)
    again = ratings.rate_ticket(session, requester, ticket.id, 2, "It broke again")
    session.commit()
    assert again.id == row.id and _count(session, TicketRating) == 1
    assert ratings.get_rating(session, admin, ticket.id).rating == 2
    audits = session.scalars(
        select(AuditLog).where(AuditLog.table_name == "core_ticketrating").order_by(AuditLog.id)
    ).all()
    assert [a.action_type for a in audits] == ["CREATE", "UPDATE"]
    assert audits[1].old_values == {"rating": 4, "comment": "Quick and friendly"}
    assert audits[1].new_values == {"rating": 2, "comment": "It broke again"}


def test_closed_ticket_can_be_rated(session: Session, people) -> None:
    requester, _, _, ticket = people
    ticket.status = TicketStatus.CLOSED.value
    session.commit()
    assert ratings.rate_ticket(session, requester, ticket.id, 5).rating == 5


@pytest.mark.parametrize("bad", [0, 6, -1, 3.5, "5", None, True])
def test_rating_must_be_1_to_5(session: Session, people, bad) -> None:
    requester, _, _, ticket = people
    with pytest.raises(ValidationError) as err:
        ratings.rate_ticket(session, requester, ticket.id, bad)
    assert set(err.value.errors) == {"rating"}
    assert _count(session, TicketRating) == 0


@pytest.mark.parametrize(
    "status",
    [
        TicketStatus.NEW,
        TicketStatus.OPEN,
        TicketStatus.IN_PROGRESS,
        TicketStatus.ON_HOLD,
        TicketStatus.REJECTED,
        TicketStatus.WITHDRAWN,
    ],
)
def test_only_resolved_or_closed(session: Session, people, status: TicketStatus) -> None:
    requester, _, _, ticket = people
    ticket.status = status.value
    session.commit()
    with pytest.raises(ValidationError) as err:
        ratings.rate_ticket(session, requester, ticket.id, 5, "x" * 2001)
    assert set(err.value.errors) == {"ticket", "comment"}
    assert _count(session, TicketRating) == 0


def test_only_the_requester(session: Session, people) -> None:
    _, other, admin, ticket = people
    with pytest.raises(NotFound):  # another employee cannot even see it
        ratings.rate_ticket(session, other, ticket.id, 5)
    with pytest.raises(PermissionDenied):  # an admin sees it but did not ask for help
        ratings.rate_ticket(session, admin, ticket.id, 5)
    assert _count(session, TicketRating) == 0
    assert not ratings.can_rate(admin, ticket) and not ratings.can_rate(other, ticket)
