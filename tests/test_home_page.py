"""The home page: visitors get sign-in links; a signed-in user sees their open tickets and
exactly the pages their role may open."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from smartsupport_core import settings as core_settings
from smartsupport_core.vocab import Role, TicketStatus
from tests.factories import make_employee, make_ticket
from tests.portal_helpers import signed_in


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
    assert metrics == {"My open tickets": "2", "In Progress": "1", "Pending": "1"}
    links = _links(at)
    assert "Submit a ticket" in links and "My tickets" in links
    assert "Queue" not in links and "Accounts" not in links


def test_admin_sees_admin_pages(session: Session) -> None:
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    session.commit()
    at = signed_in(admin)
    assert not at.exception, at.exception
    assert {"Queue", "Accounts", "Admin console", "Audit log", "SLA dashboard"} <= set(_links(at))
