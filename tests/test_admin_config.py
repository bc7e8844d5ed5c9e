"""Admin configuration: policy, validation naming each field (nothing changes), audit rows,
and the audit log viewer's query."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartsupport_core import admin_config as ac
from smartsupport_core.audit_log import AuditFilters, query_audit_log
from smartsupport_core.errors import PermissionDenied, ValidationError
from smartsupport_core.models import AuditLog, BusinessCalendar, Department, SlaTarget, TicketCategory
from smartsupport_core.seed import SEED_CATEGORIES
from smartsupport_core.vocab import Role
from tests.factories import make_employee, make_ticket


@pytest.fixture
def admin(session: Session):
    return make_employee(session, role=Role.ADMIN, department="IT Department", first_name="Ada", last_name="Admin")


def audit_rows(session: Session, table: str) -> list[AuditLog]:
    return list(session.scalars(select(AuditLog).where(AuditLog.table_name == table).order_by(AuditLog.id)))


def test_only_admins(session: Session) -> None:
    coord = make_employee(session, role=Role.COORDINATOR, department="IT Department")
    with pytest.raises(PermissionDenied):
        ac.create_department(session, coord, {"name": "Facilities"})
    with pytest.raises(PermissionDenied):
        ac.update_sla_target(
            session,
            coord,
            "Low",
            response_minutes=1,
            response_clock="business",
            resolution_minutes=2,
            resolution_clock="business",
        )
    with pytest.raises(PermissionDenied):
        query_audit_log(session, coord, AuditFilters())


def test_departments(session: Session, admin) -> None:
    dept = ac.create_department(session, admin, {"name": " Facilities ", "head_email": "Head@Example.com"})
    assert dept.name == "Facilities" and dept.head_email == "head@example.com"
    with pytest.raises(ValidationError) as exc:
        ac.create_department(session, admin, {"name": "facilities", "head_email": "nobody", "description": "x" * 300})
    assert set(exc.value.errors) == {"name", "head_email", "description"}

    requester = make_employee(session, department="Facilities")
    ac.update_department(session, admin, dept.id, {"name": "Facilities & Grounds"})
    session.expire_all()
    assert session.get(type(requester), requester.id).department == "Facilities & Grounds"  # ON UPDATE CASCADE

    it = session.scalars(select(Department).where(Department.name == "IT Department")).one()
    with pytest.raises(ValidationError) as exc:
        ac.update_department(session, admin, it.id, {"is_active": False})
    assert "IT Support" in exc.value.errors["is_active"]
    ac.update_department(session, admin, dept.id, {"is_active": False})
    rows = audit_rows(session, "core_department")
    assert [r.action_type for r in rows] == ["CREATE", "UPDATE", "UPDATE"]
    assert rows[1].old_values == {"name": "Facilities"} and rows[1].new_values == {"name": "Facilities & Grounds"}
    with pytest.raises(ValidationError) as exc:
        ac.create_category(session, admin, {"name": "Grounds", "assigned_department": "Facilities & Grounds"})
    assert "deactivated" in exc.value.errors["assigned_department"]


def test_categories_and_required_fields(session: Session, admin) -> None:
    fields = [
        {"name": "room", "label": "Room", "type": "select", "required": True, "options": ["A", "B"]},
        {"name": "from_day", "label": "From", "type": "date", "required": True, "not_past": True},
        {"name": "to_day", "label": "To", "type": "date", "required": True, "after": "from_day"},
        {
            "name": "notes",
            "label": "Notes",
            "type": "textarea",
            "required": False,
            "max_length": 500,
            "required_if": {"room": "B"},
        },
    ]
    cat = ac.create_category(
        session,
        admin,
        {
            "name": "Room Booking",
            "assigned_department": "Operations",
            "default_priority": "Low",
            "sub_categories": ["Meeting", "Event", " "],
            "auto_assign": True,
            "required_fields": fields,
        },
    )
    assert cat.sub_categories == ["Meeting", "Event"] and cat.required_fields == fields

    bad = [
        {"name": "Room", "label": "", "type": "select", "required": True},
        {"name": "subject", "label": "Subject", "type": "text", "options": ["x"]},
        {"name": "when", "label": "When", "type": "text", "after": "nowhere", "max_length": 0},
        {"name": "when", "label": "Again", "type": "colour"},
    ]
    with pytest.raises(ValidationError) as exc:
        ac.update_category(
            session,
            admin,
            cat.id,
            {
                "name": "IT Support",
                "default_priority": "Urgent",
                "assigned_department": "Nowhere",
                "required_fields": bad,
            },
        )
    assert set(exc.value.errors) == {
        "name",
        "default_priority",
        "assigned_department",
        "required_fields[1].name",
        "required_fields[1].label",
        "required_fields[1].options",
        "required_fields[2].name",
        "required_fields[2].options",
        "required_fields[3].after",
        "required_fields[3].max_length",
        "required_fields[4].name",
        "required_fields[4].type",
    }
    session.refresh(cat)
    assert cat.name == "Room Booking" and cat.required_fields == fields  # nothing changed

    # Renaming a category follows into its tickets (ON UPDATE CASCADE).
    ticket = make_ticket(session, make_employee(session), category="Room Booking", department="Operations")
    ac.update_category(session, admin, cat.id, {"name": "Room Bookings"})
    session.refresh(ticket)
    assert ticket.category == "Room Bookings"
    assert [r.action_type for r in audit_rows(session, "core_ticketcategory")] == ["CREATE", "UPDATE"]


def test_every_seed_category_validates_and_table_round_trip() -> None:
    for cat in SEED_CATEGORIES:
        clean, errors = ac.validate_required_fields(cat["required_fields"])
        assert errors == {}, cat["name"]
        assert ac.validate_required_fields(ac.fields_from_table(ac.table_from_fields(clean))) == (clean, {})


def test_sla_targets_calendar_holidays(session: Session, admin) -> None:
    ac.update_sla_target(
        session,
        admin,
        "Critical",
        response_minutes=30,
        response_clock="calendar",
        resolution_minutes=240,
        resolution_clock="business",
    )
    target = session.scalars(select(SlaTarget).where(SlaTarget.priority == "Critical")).one()
    assert (target.response_minutes, target.response_clock) == (30, "calendar")
    with pytest.raises(ValidationError) as exc:
        ac.update_sla_target(
            session,
            admin,
            "Critical",
            response_minutes=0,
            response_clock="lunar",
            resolution_minutes=1.5,
            resolution_clock="business",
        )
    assert set(exc.value.errors) == {"response_minutes", "response_clock", "resolution_minutes"}
    with pytest.raises(ValidationError) as exc:
        ac.update_sla_target(
            session,
            admin,
            "High",
            response_minutes=600,
            response_clock="business",
            resolution_minutes=60,
            resolution_clock="business",
        )
    assert "shorter" in exc.value.errors["resolution_minutes"]
    assert [t.priority for t in ac.list_sla_targets(session, admin)] == ["Critical", "High", "Medium", "Low"]

    ac.update_calendar(
        session,
        admin,
        timezone="Asia/Manila",
        working_days=[0, 1, 2, 3, 4, 5],
        day_start=dt.time(8),
        day_end=dt.time(18),
    )
    cal = session.scalars(select(BusinessCalendar)).one()
    assert cal.timezone == "Asia/Manila" and cal.working_days == [0, 1, 2, 3, 4, 5]
    with pytest.raises(ValidationError) as exc:
        ac.update_calendar(
            session, admin, timezone="Mars/Olympus", working_days=[7], day_start=dt.time(18), day_end=dt.time(8)
        )
    assert set(exc.value.errors) == {"timezone", "working_days", "day_end"}

    h = ac.add_holiday(session, admin, dt.date(2026, 12, 25), "Christmas Day")
    with pytest.raises(ValidationError) as exc:
        ac.add_holiday(session, admin, dt.date(2026, 12, 25), "")
    assert set(exc.value.errors) == {"day", "name"}
    ac.delete_holiday(session, admin, h.id)
    assert ac.list_holidays(session, admin) == []
    assert [r.action_type for r in audit_rows(session, "core_holiday")] == ["CREATE", "DELETE"]
    assert audit_rows(session, "core_slatarget")[0].old_values == {"response_minutes": 60, "response_clock": "business"}


def test_audit_log_viewer(session: Session, admin) -> None:
    other = make_employee(session, role=Role.ADMIN, department="Finance")
    d1 = ac.create_department(session, admin, {"name": "Facilities"})
    ac.update_department(session, other, d1.id, {"head_email": "boss@example.com"})
    ac.add_holiday(session, admin, dt.date(2026, 12, 30), "Rizal Day")
    entries, total = query_audit_log(session, admin, AuditFilters(table_name="core_department"))
    assert total == 2 and [e.action for e in entries] == ["UPDATE", "CREATE"]  # newest first
    assert entries[0].user.endswith(other.last_name)
    assert entries[0].side_by_side() == [("head_email", None, "boss@example.com")]
    assert query_audit_log(session, admin, AuditFilters(user_id=other.id))[1] == 1
    assert query_audit_log(session, admin, AuditFilters(record_id=d1.id, table_name="core_department"))[1] == 2
    assert query_audit_log(session, admin, AuditFilters(action="CREATE"))[1] == 2
    today = dt.datetime.now(dt.UTC).date()
    assert query_audit_log(session, admin, AuditFilters(date_from=today + dt.timedelta(days=2)))[1] == 0
    page2, total = query_audit_log(session, admin, AuditFilters(), page=2, page_size=2)
    assert total == 3 and len(page2) == 1
    with pytest.raises(ValidationError) as exc:
        query_audit_log(
            session, admin, AuditFilters(action="EXPLODE", date_from=today, date_to=today - dt.timedelta(1))
        )
    assert set(exc.value.errors) == {"action", "date_to"}
    assert session.scalar(select(func.count()).select_from(TicketCategory)) == len(SEED_CATEGORIES)
