"""Admin console and audit log pages through AppTest: changes go through the core, errors
name the field, the field editor's preview, the audit viewer's filters, and access."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from smartsupport_core import admin_config as ac
from smartsupport_core.models import AuditLog, Department, Holiday, SlaTarget, TicketCategory
from smartsupport_core.vocab import Role
from tests.factories import make_employee
from tests.portal_helpers import open_page, page_script, signed_in


def _form_button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def test_departments_add_rename_and_errors(session: Session) -> None:
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    session.commit()
    at = open_page(admin, "admin_console.py")
    at.text_input(key="ac_dept_new_name").set_value("Facilities")
    at.text_input(key="ac_dept_new_head").set_value("not-an-email")
    _form_button(at, "Add department").click().run()
    assert any("Department head's e-mail:" in e.value for e in at.error), [e.value for e in at.error]
    assert session.scalars(select(Department).where(Department.name == "Facilities")).first() is None

    at.text_input(key="ac_dept_new_head").set_value("head@example.com")
    _form_button(at, "Add department").click().run()
    assert not at.exception and any("Added department Facilities" in s.value for s in at.success)
    session.expire_all()
    dept = session.scalars(select(Department).where(Department.name == "Facilities")).one()
    assert dept.head_email == "head@example.com"
    assert session.scalars(select(AuditLog).where(AuditLog.table_name == "core_department")).first() is not None


def _console_tab(admin, tab: str):
    """The admin console with `tab` opened (only the open tab is drawn)."""
    at = open_page(admin, "admin_console.py")
    at.session_state["ac_tab"] = tab
    at.run()
    assert not at.exception, at.exception
    return at


def test_console_draws_and_reads_only_the_open_tab(session: Session) -> None:
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    session.commit()
    at = open_page(admin, "admin_console.py")  # Departments
    keys = {w.key for w in at.text_input} | {w.key for w in at.selectbox} | {w.key for w in at.number_input}
    assert "ac_dept_new_name" in keys
    assert "ac_cat_pick" not in keys and "ac_sla_High_rm" not in keys
    at = _console_tab(admin, "SLA and business hours")
    keys = {w.key for w in at.text_input} | {w.key for w in at.selectbox} | {w.key for w in at.number_input}
    assert "ac_sla_High_rm" in keys and "ac_dept_new_name" not in keys and "ac_cat_pick" not in keys


def test_category_field_editor_preview_and_save(session: Session) -> None:
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    session.commit()
    at = _console_tab(admin, "Categories")
    cat = session.scalars(select(TicketCategory).where(TicketCategory.name == "Asset Check In")).one()
    at.selectbox(key="ac_cat_pick").set_value(cat.id).run()
    assert not at.exception
    # The preview shows the category's fields as the submit form will (required marked *).
    labels = [w.label for w in at.text_input] + [w.label for w in at.selectbox] + [w.label for w in at.text_area]
    assert "Asset name *" in labels and "Location *" in labels and "Condition issue *" in labels
    assert any("Required when issue_type is Other" in c.value for c in at.caption)

    k = f"ac_cat_{cat.id}"
    at.text_area(key=f"{k}_subs").set_value("Laptop\nlaptop")
    at.button(key=f"{k}_save").click().run()
    assert any("Sub-categories:" in e.value for e in at.error), [e.value for e in at.error]
    at.text_area(key=f"{k}_subs").set_value("Laptop\nTablet")
    at.checkbox(key=f"{k}_auto").check()
    at.button(key=f"{k}_save").click().run()
    assert not at.exception and any("Saved category Asset Check In" in s.value for s in at.success)
    session.expire_all()
    cat = session.get(TicketCategory, cat.id)
    assert cat.sub_categories == ["Laptop", "Tablet"] and cat.auto_assign is True
    assert len(cat.required_fields) == 5  # the fields round-tripped through the editor unchanged


def test_sla_calendar_and_holidays(session: Session) -> None:
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    session.commit()
    at = _console_tab(admin, "SLA and business hours")
    at.number_input(key="ac_sla_High_rm").set_value(600)
    at.number_input(key="ac_sla_High_sm").set_value(120)
    _form_button(at, "Save SLA targets").click().run()
    assert any("High resolution target:" in e.value for e in at.error), [e.value for e in at.error]
    at.number_input(key="ac_sla_High_rm").set_value(120)
    at.number_input(key="ac_sla_Critical_rm").set_value(30)
    _form_button(at, "Save SLA targets").click().run()
    assert any("Saved the SLA targets" in s.value for s in at.success)
    session.expire_all()
    got = {t.priority: t.response_minutes for t in session.scalars(select(SlaTarget))}
    assert got["High"] == 120 and got["Critical"] == 30

    _form_button(at, "Add holiday").click().run()
    assert {e.value.split(":")[0] for e in at.error} >= {"Day", "Name"}
    at.date_input(key="ac_holiday_day").set_value(dt.date(2026, 12, 25))
    at.text_input(key="ac_holiday_name").set_value("Christmas Day")
    _form_button(at, "Add holiday").click().run()
    assert [h.name for h in session.scalars(select(Holiday))] == ["Christmas Day"]


def test_audit_log_viewer_filters_and_side_by_side(session: Session) -> None:
    admin = make_employee(session, role=Role.ADMIN, department="IT Department", first_name="Ada", last_name="Root")
    other = make_employee(session, role=Role.ADMIN, department="Finance", first_name="Olga", last_name="Other")
    dept = ac.create_department(session, admin, {"name": "Facilities"})
    ac.update_department(session, other, dept.id, {"head_email": "boss@example.com"})
    ac.add_holiday(session, admin, dt.date(2026, 12, 30), "Rizal Day")
    session.commit()
    at = open_page(admin, "audit_log.py")
    assert any("**3** matching" in m.value for m in at.markdown)
    at.selectbox(key="al_table").set_value("core_department").run()
    assert any("**2** matching" in m.value for m in at.markdown)
    at.selectbox(key="al_user").set_value(other.id).run()
    assert any("**1** matching" in m.value for m in at.markdown)
    frames = [d.value for d in at.dataframe]
    side = next(f for f in frames if "Field" in f.columns)
    assert side.to_dict("records") == [{"Field": "head_email", "Old": "", "New": "boss@example.com"}]
    at.text_input(key="al_record").set_value("abc").run()
    assert any("Record id" in e.value for e in at.error)


def test_pages_refused_to_coordinators(session: Session) -> None:
    coord = make_employee(session, role=Role.COORDINATOR, department="IT Department")
    session.commit()
    at = signed_in(coord)
    refusals = {
        "admin_console.py": "You are not allowed to manage categories, departments and SLA.",
        "audit_log.py": "You are not allowed to view the audit log.",
    }
    for page, title in (("admin_console.py", "Admin console"), ("audit_log.py", "Audit log")):
        # Not in a coordinator's navigation at all ...
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"../pages/{page}")
        # ... and the page itself refuses when its script is run anyway.
        direct = page_script(coord, page)
        assert not direct.exception, direct.exception
        assert title not in [t.value for t in direct.title]
        assert [e.value for e in direct.error] == [refusals[page]]
