"""Submission validation: the spec's table and each category's own fields."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from smartsupport_core import tickets
from smartsupport_core.errors import PermissionDenied, ValidationError
from smartsupport_core.models import AuditLog, EmailNotification, Ticket, TicketCategory
from smartsupport_core.ticket_forms import active_categories, validate_submission
from tests.factories import make_employee
from tests.ticket_helpers import IT_DATA, Clock, People, clock_fixture, people_fixture  # noqa: F401

TODAY = dt.date(2026, 3, 2)
BASE = {"subject": "Need something done", "description": "Please handle this request soon."}


def _errors(session: Session, data: dict) -> dict[str, str]:
    with pytest.raises(ValidationError) as err:
        validate_submission(session, data, today_=TODAY)
    return err.value.errors


def test_spec_table_messages(session: Session) -> None:
    errors = _errors(session, {"category": "Others", "subject": "Hi", "description": "short", "priority": "Urgent"})
    assert errors == {
        "subject": "Subject must be between 5-200 characters",
        "description": "Description must be at least 10 characters",
        "priority": "Priority must be Low, Medium, High, or Critical",
    }
    assert _errors(session, {**BASE, "category": "Others", "subject": "x" * 201}) == {
        "subject": "Subject must be between 5-200 characters"
    }
    ok = validate_submission(session, {**BASE, "category": "Others", "subject": "x" * 200}, today_=TODAY)
    assert ok.columns["priority"] == "Medium"  # the category's default


def test_categories_come_from_rows(session: Session) -> None:
    assert "category" in _errors(session, {**BASE, "category": "HR Request"})
    session.add(
        TicketCategory(
            name="HR Request",
            assigned_department="Human Resources",
            default_priority="High",
            required_fields=[{"name": "leave_days", "label": "Leave days", "type": "number", "required": True}],
            sub_categories=[],
        )
    )
    session.flush()
    assert "HR Request" in [c.name for c in active_categories(session)]
    assert _errors(session, {**BASE, "category": "HR Request"}) == {"leave_days": "Leave days is required"}
    clean = validate_submission(session, {**BASE, "category": "HR Request", "leave_days": "3"}, today_=TODAY)
    assert clean.columns["department"] == "Human Resources" and clean.columns["priority"] == "High"
    assert clean.dynamic_data == {"leave_days": "3"}
    session.execute(update(TicketCategory).where(TicketCategory.name == "HR Request").values(is_active=False))
    assert "category" in _errors(session, {**BASE, "category": "HR Request", "leave_days": "3"})


def test_it_support(session: Session) -> None:
    errors = _errors(session, {**BASE, "category": "IT Support", "sub_category": "Gardening", "device_type": "Phone"})
    assert set(errors) == {"sub_category", "device_type"}
    assert errors["device_type"].startswith("Device type must be one of")
    assert _errors(session, {**BASE, "category": "IT Support", "device_type": "Laptop"}) == {
        "sub_category": "Sub-category is required"
    }
    errors = _errors(session, {**IT_DATA, "preferred_schedule": TODAY - dt.timedelta(days=1)})
    assert errors == {"preferred_schedule": "Preferred schedule cannot be in the past"}
    clean = validate_submission(
        session, {**IT_DATA, "software_affected": "Outlook", "preferred_schedule": TODAY.isoformat()}, today_=TODAY
    )
    assert clean.dynamic_data == {
        "device_type": "Laptop",
        "software_affected": "Outlook",
        "preferred_schedule": TODAY.isoformat(),
    }
    assert clean.columns["department"] == "IT Department"


def test_asset_check_out(session: Session) -> None:
    data = {**BASE, "category": "Asset Check Out", "sub_category": "Laptop"}
    errors = _errors(session, data)
    assert set(errors) == {"asset_name", "serial_number", "location", "expected_return_date"}
    errors = _errors(
        session,
        {
            **data,
            "asset_name": "A" * 101,
            "serial_number": "SN-1",
            "location": "Mars",
            "expected_return_date": TODAY - dt.timedelta(days=1),
        },
    )
    assert errors == {
        "asset_name": "Asset name must be at most 100 characters",
        "location": errors["location"],
        "expected_return_date": "Expected return date cannot be in the past",
    }
    assert errors["location"].startswith("Location must be one of: Main Office 1st Floor")
    clean = validate_submission(
        session,
        {
            **data,
            "asset_name": "Dell XPS",
            "serial_number": "SN-1",
            "location": "Warehouse",
            "expected_return_date": TODAY,
            "purpose": "Client demo",
        },
        today_=TODAY,
    )
    assert clean.columns["expected_return_date"] == TODAY and clean.columns["location"] == "Warehouse"
    assert clean.dynamic_data == {"purpose": "Client demo"} and clean.columns["department"] == "Asset Department"


def test_asset_check_in_other_needs_text(session: Session) -> None:
    data = {
        **BASE,
        "category": "Asset Check In",
        "sub_category": "Printer",
        "asset_name": "HP",
        "serial_number": "S1",
        "location": "Warehouse",
        "issue_type": "Other",
    }
    assert _errors(session, data) == {"other_issue": "Describe the issue is required"}
    clean = validate_submission(session, {**data, "other_issue": "Smells of smoke"}, today_=TODAY)
    assert clean.columns["issue_type"] == "Other" and clean.columns["other_issue"] == "Smells of smoke"
    clean = validate_submission(session, {**data, "issue_type": "Physical Damage"}, today_=TODAY)
    assert "other_issue" not in clean.columns


def test_budget_proposal(session: Session) -> None:
    data = {
        **BASE,
        "category": "New Budget Proposal",
        "sub_category": "Project Budget",
        "performance_start_date": "2026-04-01",
        "performance_end_date": "2026-03-01",
        "approved_by": "CFO",
        "cost_items": [{"description": "Laptops", "quantity": 2, "unit_cost": -5}],
    }
    errors = _errors(session, data)
    assert errors == {
        "performance_end_date": "Performance period end must be on or after Performance period start",
        "cost_items": "Cost items: row 1, Unit cost must be between 0 and 9,999,999,999.99",
    }
    assert _errors(session, {**data, "performance_end_date": "2026-06-30", "cost_items": []}) == {
        "cost_items": "Cost items is required"
    }
    bad_qty = [{"description": "Chairs", "quantity": "-1", "unit_cost": 10}]
    assert _errors(session, {**data, "performance_end_date": "2026-06-30", "cost_items": bad_qty}) == {
        "cost_items": "Cost items: row 1, Quantity must be between 0 and 1,000,000"
    }
    items = [
        {"description": "Laptops", "quantity": 2, "unit_cost": 45000.5},
        {"description": None, "quantity": float("nan"), "unit_cost": None},  # an empty editor row
        {"description": "Mice", "quantity": "10", "unit_cost": "350"},
    ]
    clean = validate_submission(session, {**data, "performance_end_date": "2026-06-30", "cost_items": items},
                                today_=TODAY)  # fmt: skip
    assert clean.columns["requested_budget"] == Decimal("93501.00")
    assert [r["description"] for r in clean.columns["cost_items"]] == ["Laptops", "Mice"]
    assert clean.columns["performance_start_date"] == dt.date(2026, 4, 1)
    assert clean.columns["department"] == "Finance" and clean.dynamic_data == {}


def test_failed_submit_writes_nothing(session: Session, people: People, clock: Clock) -> None:
    with pytest.raises(ValidationError):
        tickets.submit_ticket(session, people.requester, {**IT_DATA, "description": "short"})
    for model in (Ticket, AuditLog, EmailNotification):
        assert session.scalar(select(func.count()).select_from(model)) == 0
    pending = make_employee(session, status="Pending")
    with pytest.raises(PermissionDenied):
        tickets.submit_ticket(session, pending, IT_DATA)


def test_budget_submit_stores_columns(session: Session, people: People, clock: Clock) -> None:
    data = {
        **BASE,
        "category": "New Budget Proposal",
        "sub_category": "Training and Events",
        "performance_start_date": dt.date(2026, 4, 1),
        "performance_end_date": dt.date(2026, 6, 30),
        "approved_by": "CFO",
        "cost_items": [{"description": "Venue", "quantity": 1, "unit_cost": 1000}],
    }
    t = tickets.submit_ticket(session, people.requester, data)
    session.commit()
    session.expire_all()
    t = session.get(Ticket, t.id)
    assert t.requested_budget == Decimal("1000.00") and t.cost_items[0]["description"] == "Venue"
    assert t.department == "Finance" and t.approved_by == "CFO"
