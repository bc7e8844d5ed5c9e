"""The rating section of the ticket detail page (the resolved e-mail links to ?id=N&rate=1)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from smartsupport_core.models import Employee, TicketRating
from smartsupport_core.vocab import Role, TicketStatus
from tests.factories import make_employee, make_ticket
from tests.portal_helpers import open_page


def _open(user: Employee, ticket_id: int, **query: str) -> AppTest:
    return open_page(user, "ticket.py", id=str(ticket_id), **query)


@pytest.fixture
def setup(session: Session):
    requester = make_employee(session)
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    resolved = make_ticket(session, requester, status=TicketStatus.RESOLVED.value)
    working = make_ticket(session, requester, status=TicketStatus.IN_PROGRESS.value)
    session.commit()
    return requester, admin, resolved, working


def test_requester_rates_from_the_email_link(session: Session, setup) -> None:
    requester, admin, resolved, _ = setup
    closed = [e for e in _open(requester, resolved.id).expander if "Rate" in e.label]
    assert [e.proto.expanded for e in closed] == [False]  # opened from the page: folded
    at = _open(requester, resolved.id, rate="1")
    assert [e.label for e in at.expander if "Rate" in e.label] == ["Rate the help you got"]
    assert [e.proto.expanded for e in at.expander if "Rate" in e.label] == [True]  # the link opens it
    at.button(key="rating_save").click().run()
    assert any("choose from 1 to 5" in e.value for e in at.error)
    at.feedback(key=f"rating_stars_{resolved.id}").set_value(3)
    at.text_area(key=f"rating_comment_{resolved.id}").set_value("Fixed in an hour")
    at.button(key="rating_save").click().run()
    assert not at.exception, at.exception
    session.expire_all()
    row = session.scalars(select(TicketRating)).one()
    assert (row.ticket_id, row.employee_id, row.rating, row.comment) == (
        resolved.id,
        requester.id,
        4,
        "Fixed in an hour",
    )
    assert any("Your rating: 4/5" in e.label for e in at.expander)
    staff = _open(admin, resolved.id)
    assert any("Requester's rating: 4/5" in c.value for c in staff.caption)
    assert "Fixed in an hour" in [t.value for t in staff.text]


def test_no_rating_form_before_resolution(setup) -> None:
    requester, _, _, working = setup
    at = _open(requester, working.id, rate="1")
    assert not [e for e in at.expander if "Rate" in e.label]
