"""The ticket detail page's "Insert canned response": the template, filled in for this
ticket, lands in the reply box; the reply is then sent like any other."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from smartsupport_core import canned
from smartsupport_core.models import TicketComment
from smartsupport_core.vocab import Role
from tests.factories import make_employee, make_ticket
from tests.portal_helpers import open_page


def _ticket_page(user, ticket_id: int) -> AppTest:
    return open_page(user, "ticket.py", id=str(ticket_id))


def test_insert_canned_response_into_reply(session: Session) -> None:
    coord = make_employee(
        session, role=Role.COORDINATOR, department="IT Department", first_name="Cora", last_name="Diaz"
    )
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    requester = make_employee(session, first_name="Rita")
    ticket = make_ticket(session, requester, status="Open", subject="VPN drops")
    canned.create_canned(session, coord, "Looking", "Hi {requester_first_name}, I am on {ticket_number}. {agent_name}")
    canned.create_canned(session, admin, "Thanks", "Thanks for reporting '{subject}'.", shared=True)
    session.commit()

    at = _ticket_page(coord, ticket.id)
    picker = at.selectbox(key=f"canned_pick_{ticket.id}")
    assert [o for o in picker.options] == ["Shared · Thanks", "Mine · Looking"]
    picker.select_index(1).run()
    at.button(key=f"canned_insert_{ticket.id}").click().run()
    reply = at.text_area(key=f"reply_{ticket.id}")
    assert reply.value == f"Hi Rita, I am on {ticket.ticket_number}. Cora Diaz"
    at.selectbox(key=f"canned_pick_{ticket.id}").select_index(0).run()
    at.button(key=f"canned_insert_{ticket.id}").click().run()
    assert at.text_area(key=f"reply_{ticket.id}").value.endswith("\n\nThanks for reporting 'VPN drops'.")
    at.button(key=f"send_public_{ticket.id}").click().run()
    assert not at.exception, at.exception
    comment = session.scalars(select(TicketComment).where(TicketComment.ticket_id == ticket.id)).one()
    assert comment.comment.startswith("Hi Rita") and not comment.is_internal


def test_requester_sees_no_picker(session: Session) -> None:
    requester = make_employee(session, first_name="Rita")
    ticket = make_ticket(session, requester, status="Open")
    session.commit()
    at = _ticket_page(requester, ticket.id)
    assert not [s for s in at.selectbox if s.key == f"canned_pick_{ticket.id}"]
    assert at.text_area(key=f"reply_{ticket.id}") is not None
