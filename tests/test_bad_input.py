"""Bad input gets a clear message naming the field and changes nothing (issue 13, item 5).

Every text-taking core function x (a NUL byte, an overlong value, a value that is not text):
a `ValidationError` whose errors name the field, and every table's row count unchanged. Then
the pages: the submit page, My tickets and sign-in show a message, never an exception.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from smartsupport_core import (
    accounts,
    admin_config,
    assistant,
    canned,
    knowledge,
    login,
    queue,
    saved_views,
    tickets,
)
from smartsupport_core.errors import ValidationError
from smartsupport_core.models import Employee, Ticket
from smartsupport_core.text_input import COMMENT_MAX, DESCRIPTION_MAX, MSG_CONTROL, MSG_NOT_TEXT
from smartsupport_core.ticket_forms import clean_cost_items
from smartsupport_core.vocab import Role, TicketStatus
from tests.factories import make_employee, row_counts
from tests.portal_helpers import signed_in
from tests.test_ticket_pages import count, widget
from tests.ticket_helpers import IT_DATA, ticket_in

NUL = "a\x00b"
BUDGET = {
    "category": "New Budget Proposal",
    "sub_category": "Project Budget",
    "subject": "Budget for the kick-off",
    "description": "Venue and catering for the kick-off event.",
    "performance_start_date": (dt.date.today() + dt.timedelta(days=1)).isoformat(),
    "performance_end_date": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
    "approved_by": "CFO",
    "cost_items": [{"description": "Venue", "quantity": 1, "unit_cost": 100}],
}
ARTICLE = {"title": "Printer set-up", "body": "Open Settings, then Printers.", "visibility": "Employee"}


@pytest.fixture
def world(session: Session) -> dict[str, Any]:
    admin = make_employee(session, role=Role.ADMIN, department="IT Department", email="ad@example.com")
    coord = make_employee(session, role=Role.COORDINATOR, department="IT Department")
    emp = make_employee(session, department="Sales", email="emp@example.com")
    t = ticket_in(session, emp, TicketStatus.OPEN)
    new = ticket_in(session, emp, TicketStatus.NEW)
    session.commit()
    comment = tickets.add_comment(session, emp, t.id, "First words.")
    session.commit()
    return {"admin": admin, "coord": coord, "emp": emp, "ticket": t, "new": new, "comment": comment}


# (name, field the error must name, call(session, world, value), overlong value or None)
Call = Callable[[Session, dict[str, Any], Any], Any]
CASES: list[tuple[str, str, Call, Any]] = [
    ("sign-in e-mail", "email", lambda s, w, v: login.authenticate(s, v, "Secret#2026"), "a" * 255),
    (
        "submit subject",
        "subject",
        lambda s, w, v: tickets.submit_ticket(s, w["emp"], {**IT_DATA, "subject": v}),
        "s" * 201,
    ),
    (
        "submit description",
        "description",
        lambda s, w, v: tickets.submit_ticket(s, w["emp"], {**IT_DATA, "description": v}),
        "d" * (DESCRIPTION_MAX + 1),
    ),
    (
        "dynamic text field",
        "software_affected",
        lambda s, w, v: tickets.submit_ticket(s, w["emp"], {**IT_DATA, "software_affected": v}),
        "x" * 20_001,
    ),
    (
        "cost item description",
        "cost_items",
        lambda s, w, v: tickets.submit_ticket(
            s, w["emp"], {**BUDGET, "cost_items": [{"description": v, "quantity": 1, "unit_cost": 1}]}
        ),
        "c" * 201,
    ),
    ("reply", "comment", lambda s, w, v: tickets.add_comment(s, w["emp"], w["ticket"].id, v), "r" * (COMMENT_MAX + 1)),
    (
        "internal note",
        "comment",
        lambda s, w, v: tickets.add_comment(s, w["coord"], w["ticket"].id, v, internal=True),
        "n" * (COMMENT_MAX + 1),
    ),
    ("comment edit", "comment", lambda s, w, v: tickets.edit_comment(s, w["emp"], w["comment"].id, v), None),
    (
        "status note",
        "note",
        lambda s, w, v: tickets.change_status(s, w["coord"], w["ticket"].id, "In Progress", note=v),
        "n" * 2001,
    ),
    (
        "resolution",
        "resolution",
        lambda s, w, v: tickets.resolve_ticket(s, w["coord"], w["ticket"].id, v),
        "r" * (COMMENT_MAX + 1),
    ),
    ("reject reason", "reason", lambda s, w, v: tickets.reject_ticket(s, w["admin"], w["new"].id, v), "n" * 2001),
    ("My tickets search", "query", lambda s, w, v: tickets.search_tickets(s, w["emp"], v, own_only=True), "q" * 201),
    (
        "queue search",
        "text",
        lambda s, w, v: queue.query_queue(s, w["coord"], queue.QueueFilters(text=v)),
        "q" * 201,
    ),
    (
        "queue category filter",
        "category",
        lambda s, w, v: queue.query_queue(s, w["coord"], queue.QueueFilters(category=v)),
        None,
    ),
    ("saved view name", "name", lambda s, w, v: saved_views.save_view(s, w["coord"], v, queue.QueueFilters()), None),
    ("canned title", "title", lambda s, w, v: canned.create_canned(s, w["coord"], v, "Hello"), None),
    ("canned text", "body", lambda s, w, v: canned.create_canned(s, w["coord"], "Greeting", v), None),
    (
        "registration first name",
        "first_name",
        lambda s, w, v: accounts.register(
            s,
            {
                "first_name": v,
                "last_name": "Doe",
                "email": "new.person@example.com",
                "company_id": "MA4321",
                "password": "Strong#Pass2026",
                "password_confirm": "Strong#Pass2026",
                "department": "Sales",
            },
        ),
        None,
    ),
    (
        "department name",
        "name",
        lambda s, w, v: admin_config.create_department(s, w["admin"], {"name": v}),
        None,
    ),
    ("holiday name", "name", lambda s, w, v: admin_config.add_holiday(s, w["admin"], dt.date(2031, 1, 2), v), None),
    ("article title", "title", lambda s, w, v: knowledge.create_article(s, w["coord"], {**ARTICLE, "title": v}), None),
    ("article body", "body", lambda s, w, v: knowledge.create_article(s, w["coord"], {**ARTICLE, "body": v}), None),
    (
        "article category",
        "category",
        lambda s, w, v: knowledge.create_article(s, w["coord"], {**ARTICLE, "category": v}),
        None,
    ),
    ("help centre search", "query", lambda s, w, v: knowledge.search_articles(s, w["emp"], v), "q" * 201),
    ("assistant question", "message", lambda s, w, v: assistant.start_turn(s, w["emp"], v), None),
]
WRONG_TYPES = [{"text": "x"}, ["x"]]


def refused(session: Session, call: Callable[[], Any]) -> ValidationError:
    """`call()` must raise ValidationError and leave every table as it was."""
    before = row_counts(session)
    with pytest.raises(ValidationError) as info:
        call()
    session.rollback()
    assert row_counts(session) == before, "a refused call wrote rows"
    return info.value


@pytest.mark.parametrize(("name", "field", "call", "overlong"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("kind", ["nul", "control", "overlong", "dict", "list"])
def test_bad_text_is_refused_naming_the_field(session, world, name, field, call, overlong, kind) -> None:
    values = {"nul": NUL, "control": "a\x1bb", "overlong": overlong, "dict": WRONG_TYPES[0], "list": WRONG_TYPES[1]}
    value = values[kind]
    if value is None:
        pytest.skip("no maximum of its own beyond the column's")
    error = refused(session, lambda: call(session, world, value))
    assert field in error.errors, error.errors
    message = error.errors[field]
    if kind in ("nul", "control"):
        assert MSG_CONTROL in message
    elif kind in ("dict", "list") and field != "cost_items":
        assert MSG_NOT_TEXT in message or "must be one of" in message
    elif kind == "overlong":
        assert "at most" in message or "between 5-200" in message  # the spec's words for the subject


def test_nul_in_a_dynamic_field_names_its_label(session, world) -> None:
    data = {**IT_DATA, "software_affected": NUL}
    error = refused(session, lambda: tickets.submit_ticket(session, world["emp"], data))
    assert set(error.errors) == {"software_affected"}
    assert error.errors["software_affected"].startswith("Software affected")


def test_refused_submission_takes_no_ticket_number(session, world) -> None:
    """Validation comes before numbering: after refusals, the next ticket gets the next number."""
    first = tickets.submit_ticket(session, world["emp"], IT_DATA)
    session.commit()
    for bad in ({"subject": NUL}, {"description": "d" * (DESCRIPTION_MAX + 1)}, {"subject": {"a": 1}}):
        refused(session, lambda bad=bad: tickets.submit_ticket(session, world["emp"], {**IT_DATA, **bad}))
    second = tickets.submit_ticket(session, world["emp"], IT_DATA)
    session.commit()
    assert int(second.ticket_number[-6:]) == int(first.ticket_number[-6:]) + 1


@pytest.mark.parametrize(
    ("row", "cell"),
    [
        ({"description": "Chairs", "quantity": 1e15, "unit_cost": 1e15}, "row 1, Quantity"),
        ({"description": "Chairs", "quantity": 2, "unit_cost": 1e15}, "row 1, Unit cost"),
        ({"description": "Chairs", "quantity": "1e400", "unit_cost": 3}, "row 1, Quantity"),
        ({"description": "Chairs", "quantity": 1000, "unit_cost": 9_999_999_999}, "row 1, the amount"),
        ({"description": "Chairs", "quantity": 1, "unit_cost": "abc"}, "row 1, Unit cost must be a number"),
    ],
)
def test_cost_item_numbers_are_bounded_and_name_the_cell(row, cell) -> None:
    with pytest.raises(ValueError) as info:
        clean_cost_items("Cost items", [row])
    assert type(info.value) is ValueError and cell in str(info.value)


# --------------------------------------------------------------------------- pages


@pytest.fixture
def requester(clean_db: Engine) -> Employee:
    with Session(clean_db, expire_on_commit=False) as s:
        emp = make_employee(s, department="Sales", email="rita@example.com")
        s.commit()
    return emp


def test_submit_page_shows_messages_not_exceptions(requester, clean_db) -> None:
    at = signed_in(requester)
    at.session_state["submit_cost_items"] = pd.DataFrame(
        [{"description": "Chairs", "quantity": 1e15, "unit_cost": 1e15}]
    )
    at.switch_page("../pages/submit_ticket.py").run()
    widget(at.selectbox, "Category").set_value("New Budget Proposal")
    at.run()  # the cost-items table is read while typing: 1e15 x 1e15 crashed here
    assert not at.exception, at.exception
    assert any("row 1, Quantity must be between 0 and 1,000,000" in c.value for c in at.caption)
    widget(at.text_input, "Subject *").set_value("Budget with a \x00 inside")
    widget(at.text_area, "Description *").set_value("A description that is long enough.")
    widget(at.button, "Submit ticket").click().run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert MSG_CONTROL in errors and any("row 1, Quantity" in e for e in errors), errors
    assert count(clean_db, Ticket) == 0
    assert widget(at.text_area, "Description *").max_chars == DESCRIPTION_MAX


def test_my_tickets_search_with_nul_shows_a_message(requester) -> None:
    at = signed_in(requester)
    at.switch_page("../pages/my_tickets.py").run()
    widget(at.text_input, "Search my tickets").set_value("printer\x00").run()
    assert not at.exception, at.exception
    assert any("Search" in e.value and MSG_CONTROL in e.value for e in at.error), [e.value for e in at.error]


def test_sign_in_with_nul_shows_a_message(clean_db) -> None:
    at = signed_in(None)
    at.switch_page("../pages/sign_in.py").run()
    widget(at.text_input, "E-mail address").set_value("someone\x00@example.com")
    widget(at.text_input, "Password").set_value("Secret#2026")
    widget(at.button, "Sign in").click().run()
    assert not at.exception, at.exception
    shown = [e.value.replace("\\", "") for e in at.error]  # the page escapes Markdown
    assert any("E-mail address" in e and MSG_CONTROL in e for e in shown), shown
