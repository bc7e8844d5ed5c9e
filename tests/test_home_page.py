"""The home page: visitors get sign-in links; a signed-in user sees their open tickets and
exactly the pages their role may open."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from smartsupport_core import settings as core_settings
from smartsupport_core.vocab import Role, TicketStatus
from tests.factories import make_employee, make_ticket
from tests.portal_helpers import open_page, signed_in


@pytest.fixture(autouse=True)
def fresh(db_url: str) -> None:
    core_settings.configure(None)


def _links(at: AppTest) -> list[str]:
    return [el.proto.label for el in at.get("page_link")]


def test_visitor_sees_sign_in_and_register(clean_db) -> None:
    at = signed_in(None)
    assert not at.exception
    assert _links(at) == ["Sign in", "Register for an account"]


def test_employee_sees_own_open_counts_and_own_pages(session: Session) -> None:
    me = make_employee(session)
    other = make_employee(session)
    make_ticket(session, me, status=TicketStatus.NEW.value)
    make_ticket(session, me, status=TicketStatus.IN_PROGRESS.value)
    make_ticket(session, me, status=TicketStatus.CLOSED.value)
    make_ticket(session, other, status=TicketStatus.NEW.value)
    session.commit()
    at = signed_in(me)
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"My open requests": "2", "Waiting for my reply": "0", "Resolved: awaiting my confirmation": "0"}
    tile_links = [el.proto for el in at.get("page_link") if el.proto.label == "Open the list"]
    assert len(tile_links) == 3
    links = _links(at)
    assert "Submit a ticket" in links and "My tickets" in links
    assert "Queue" not in links and "Accounts" not in links


def test_staff_tiles_count_what_their_queue_view_lists(session: Session) -> None:
    """Each tile's count is the queue's own count of the view it opens (one definition), and
    the demo-accounts table is not shown to anyone signed in."""
    from smartsupport_core import inbox, queue, saved_views

    coord = make_employee(session, role=Role.COORDINATOR, department="IT Department")
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    requester = make_employee(session)
    pending = make_employee(session, status="Pending")
    make_ticket(session, requester, status=TicketStatus.NEW.value)
    make_ticket(session, requester, status=TicketStatus.OPEN.value, assigned_to_id=coord.id)
    make_ticket(session, requester, status=TicketStatus.OPEN.value)  # unassigned in IT
    make_ticket(session, requester, status=TicketStatus.RESOLVED.value, assigned_to_id=coord.id)
    session.commit()
    for user, expected in (
        (admin, {"Tickets awaiting approval": "1", "Accounts awaiting approval": "1", "Breached": "0",
                 "Unassigned": "1"}),
        (coord, {"Assigned to me": "1", "Unassigned in my department": "1",
                 "Breached or due within 4 business hours": "0",
                 "Updated by the requester since I last looked": "0"}),
    ):
        at = signed_in(user)
        assert not at.exception, at.exception
        assert {m.label: m.value for m in at.metric} == expected
        assert not any("Demo accounts" in h.value for h in at.subheader)
        for key, label in inbox.STAFF_TILES[user.role]:
            view = saved_views.builtin_view(user, key)
            if view is not None:  # a queue view (not the accounts tile)
                assert expected[label] == str(queue.count_view(session, user, view.filters)[0])
    assert pending.status == "Pending"


def test_admin_sees_admin_pages(session: Session) -> None:
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    session.commit()
    at = signed_in(admin)
    assert not at.exception, at.exception
    assert {"Queue", "Accounts", "Admin console", "Audit log", "SLA dashboard"} <= set(_links(at))


def test_demo_accounts_only_on_the_sign_in_page_of_a_demo_database(session: Session, monkeypatch) -> None:
    from smartsupport_core.demo import DEMO_ACCOUNTS

    monkeypatch.setenv("SMARTSUPPORT_DEMO_MODE", "1")
    at = open_page(None, "sign_in.py")
    assert not any("Demo accounts" in h.value for h in at.subheader)  # not a demo database
    for a in DEMO_ACCOUNTS:
        make_employee(session, email=a.email, role=a.role, department=a.department)
    session.commit()
    at = open_page(None, "sign_in.py")
    assert any("Demo accounts" in h.value for h in at.subheader)
    assert not any("Demo accounts" in h.value for h in signed_in(None).subheader)  # not on Home
