"""The SLA dashboard page for a department head (issue 15 item 1), through AppTest on the
hand-built data of test_reporting: the navigation offers the page, the department filter
offers only their departments, the weekly summary e-mail's link opens the page on its week
and department, and the ticket page shows a head only the summary of their tickets."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
import streamlit as st
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from smartsupport_core import reporting
from smartsupport_core import settings as core_settings
from smartsupport_core.models import Department, EmailNotification, TicketComment
from smartsupport_core.reporting.weekly import send_weekly_summaries
from tests.factories import make_employee
from tests.portal_helpers import open_page, signed_in
from tests.test_reporting import World, world  # noqa: F401 (fixture)

MONDAY = dt.datetime(2026, 3, 16, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fresh(db_url: str) -> Iterator[None]:
    core_settings.configure(None)
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def _head_of(session: Session, email: str, *departments: str) -> None:
    session.execute(update(Department).where(Department.name.in_(departments)).values(head_email=email))
    session.commit()


def test_navigation_offers_the_dashboard_to_a_head_only(session: Session, world: World) -> None:  # noqa: F811
    requester = world.requester
    at = signed_in(requester)
    assert not at.exception
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("../pages/dashboard.py")
    _head_of(session, requester.email.upper(), "IT Department")
    at = open_page(requester, "dashboard.py")
    assert at.selectbox(key="dash_department").options == ["All", "IT Department"]
    assert any("departments you head: IT Department" in c.value for c in at.caption)


def test_weekly_email_link_opens_the_heads_week_and_department(session: Session, world: World) -> None:  # noqa: F811
    head = make_employee(session, department="Sales", email="it-head@x.test")
    session.commit()
    _head_of(session, "it-head@x.test", "IT Department", "Finance")
    send_weekly_summaries(session, MONDAY)
    session.commit()
    body = session.scalars(
        select(EmailNotification.body).where(
            EmailNotification.recipient_email == "it-head@x.test",
            EmailNotification.subject == "Weekly SLA summary for IT Department",
        )
    ).one()
    link = re.search(r"Dashboard: (\S+)", body).group(1)
    assert link.endswith("/dashboard?start=2026-03-09&end=2026-03-15&department=IT+Department")

    query = dict(part.split("=", 1) for part in link.split("?", 1)[1].split("&"))
    query = {k: v.replace("+", " ") for k, v in query.items()}
    at = open_page(head, "dashboard.py", **query)
    assert at.date_input(key="dash_range").value == (dt.date(2026, 3, 9), dt.date(2026, 3, 15))
    assert at.selectbox(key="dash_department").value == "IT Department"
    assert at.selectbox(key="dash_department").options == ["All", "Finance", "IT Department"]
    shown = {m.label: m.value for m in at.metric}
    week = reporting.ReportFilters(dt.date(2026, 3, 9), dt.date(2026, 3, 15), department="IT Department")
    expected = {k.key: k.value for k in reporting.kpis(session, head, week)}
    assert shown["Created"] == f"{expected['created']:,.0f}" == "3"  # the e-mail's "- Created: 3"


def test_a_bad_link_parameter_is_named_and_left_out(session: Session, world: World) -> None:  # noqa: F811
    _head_of(session, world.requester.email, "IT Department")
    at = open_page(world.requester, "dashboard.py", start="yesterday", department="Legal")
    warnings = " ".join(w.value for w in at.warning)
    assert "Date range (start): 'yesterday' is not a date" in warnings
    assert "Department: 'Legal' is not one you can choose" in warnings
    assert at.selectbox(key="dash_department").value == "All"
    assert not at.exception


def test_ticket_page_shows_a_head_the_summary_only(session: Session, world: World) -> None:  # noqa: F811
    head = make_employee(session, department="Sales", email="boss@x.test")
    session.commit()
    ticket = world.t[1]
    session.add(TicketComment(ticket_id=ticket.id, user_id=world.admin.id, comment="Secret note", is_internal=True))
    session.add(TicketComment(ticket_id=ticket.id, user_id=world.admin.id, comment="Public reply", is_internal=False))
    session.commit()

    at = open_page(head, "ticket.py", id=str(ticket.id))
    assert any("was not found" in e.value for e in at.error)  # not a head yet
    _head_of(session, "boss@x.test", "IT Department")
    at = open_page(head, "ticket.py", id=str(ticket.id))
    assert at.title[0].value == ticket.ticket_number
    assert not at.error
    text = " ".join(str(getattr(e, "value", "")) for e in at.main)
    assert "Secret note" not in text and "Public reply" not in text
    assert {m.label: m.value for m in at.metric}["Status"] == ticket.status
