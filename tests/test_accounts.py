"""Accounts core: registration rules and messages, admin decisions, own profile, audit."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from smartsupport_core import accounts
from smartsupport_core.audit import MASK
from smartsupport_core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from smartsupport_core.models import AuditLog, Department, EmailNotification, Employee
from smartsupport_core.passwords import verify_password
from smartsupport_core.vocab import AccountStatus, Role
from tests.factories import make_employee
from tests.stored_files import StoredFiles

GOOD = {
    "first_name": "Maria",
    "middle_name": "Luz",
    "last_name": "Santos",
    "suffix": "Jr.",
    "email": "Maria.Santos@Example.com",
    "company_id": "MA0420",
    "department": "Finance",
    "password": "Budget#2026x",
    "password_confirm": "Budget#2026x",
}


def form(**changes: object) -> dict[str, object]:
    return {**GOOD, **changes}


def errors_of(session: Session, data: dict[str, object]) -> dict[str, str]:
    before = session.scalar(select(Employee.id).order_by(Employee.id.desc()).limit(1))
    with pytest.raises(ValidationError) as exc:
        accounts.register(session, data)
    # nothing was written
    assert session.scalar(select(Employee.id).order_by(Employee.id.desc()).limit(1)) == before
    return exc.value.errors


def audit_rows(session: Session, record_id: int) -> list[AuditLog]:
    return list(
        session.scalars(
            select(AuditLog)
            .where(AuditLog.table_name == "core_employee", AuditLog.record_id == record_id)
            .order_by(AuditLog.id)
        )
    )


def outbox(session: Session, template: str) -> list[EmailNotification]:
    return list(session.scalars(select(EmailNotification).where(EmailNotification.template_name == template)))


# --- Registration ------------------------------------------------------------------------------


def test_register_creates_pending_account_notifies_admins_and_audits(session: Session) -> None:
    admin1 = make_employee(session, role=Role.ADMIN, department="IT Department")
    admin2 = make_employee(session, role=Role.ADMIN, department="IT Department")
    make_employee(session, role=Role.ADMIN, status=AccountStatus.SUSPENDED)  # not notified
    emp = accounts.register(session, GOOD)
    session.commit()
    assert emp.status == "Pending" and emp.role == "Employee" and emp.is_active
    assert emp.email == "maria.santos@example.com"
    assert emp.full_name == "Maria Luz Santos Jr."
    assert emp.password.startswith("scrypt$") and verify_password("Budget#2026x", emp.password)
    mails = outbox(session, "account_registered")
    assert sorted(m.recipient_email for m in mails) == sorted([admin1.email, admin2.email])
    assert "Maria Luz Santos Jr." in mails[0].subject
    (row,) = audit_rows(session, emp.id)
    assert row.action_type == "CREATE" and row.user_id == emp.id
    assert row.new_values["password"] == MASK
    assert row.new_values["status"] == "Pending"
    assert "Budget#2026x" not in str(row.new_values) and emp.password not in str(row.new_values)


def same_password(password: str) -> dict[str, str]:
    """A password typed the same in both boxes."""
    return {"password": password, "password_confirm": password}


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Please enter a valid email address"),
        ({"email": "a@b"}, "email", "Please enter a valid email address"),
        ({"email": ""}, "email", "Please enter a valid email address"),
        ({"company_id": "MA123"}, "company_id", "Company ID must follow format MA#### (e.g., MA0001)"),
        ({"company_id": "XY0001"}, "company_id", "Company ID must follow format MA#### (e.g., MA0001)"),
        ({"company_id": "MA00012"}, "company_id", "Company ID must follow format MA#### (e.g., MA0001)"),
        (same_password("Ab1#"), "password", "Password must be at least 8 characters long"),
        (same_password("budget#2026x"), "password", "Password must contain an uppercase letter"),
        (same_password("BUDGET#2026X"), "password", "Password must contain a lowercase letter"),
        (same_password("Budget#Budget"), "password", "Password must contain a digit"),
        (same_password("Budget20266x"), "password", "Password must contain a symbol"),
        (same_password("abcdefghij"), "password", "Password must contain an uppercase letter, a digit and a symbol"),
        (
            same_password("X#1maria.santosY"),
            "password",
            "Password must not contain the name part of your email address",
        ),
        ({"password_confirm": "Budget#2026y"}, "password_confirm", "Passwords do not match"),
        ({"department": "Astrology"}, "department", "Department must be one of the active departments"),
        ({"department": ""}, "department", "Department must be one of the active departments"),
        ({"first_name": "  "}, "first_name", "First name is required"),
        ({"last_name": ""}, "last_name", "Last name is required"),
        ({"first_name": "x" * 101}, "first_name", "First name must be at most 100 characters"),
        ({"middle_name": "x" * 101}, "middle_name", "Middle name must be at most 100 characters"),
        ({"last_name": "x" * 101}, "last_name", "Last name must be at most 100 characters"),
        ({"suffix": "x" * 21}, "suffix", "Suffix must be at most 20 characters"),
    ],
)
def test_each_registration_rule_has_its_message(
    session: Session, changes: dict[str, object], field: str, message: str
) -> None:
    errors = errors_of(session, form(**changes))
    assert errors == {field: message}


def test_password_max_length(session: Session) -> None:
    pw = "Aa1#" * 33
    assert errors_of(session, form(password=pw, password_confirm=pw)) == {
        "password": "Password must be at most 128 characters long"
    }


def test_all_bad_fields_reported_at_once(session: Session) -> None:
    errors = errors_of(session, form(email="x", company_id="1", password="short", department="Nope", first_name=""))
    assert set(errors) == {"email", "company_id", "password", "password_confirm", "department", "first_name"}


def test_inactive_department_refused(session: Session) -> None:
    dept = session.scalars(select(Department).where(Department.name == "Marketing")).one()
    dept.is_active = False
    session.flush()
    assert errors_of(session, form(department="Marketing")) == {
        "department": "Department must be one of the active departments"
    }


def test_email_and_company_id_unique(session: Session) -> None:
    make_employee(session, email="maria.santos@example.com", company_id="MA0420")
    errors = errors_of(session, form(email="MARIA.SANTOS@example.com", company_id="ma0420"))
    assert errors["email"].startswith("Please enter a valid email address")
    assert "already exists" in errors["email"]
    assert errors["company_id"] == "Company ID is already registered to another account"


def test_company_id_is_normalised_to_upper_case(session: Session) -> None:
    emp = accounts.register(session, form(company_id=" ma0421 "))
    assert emp.company_id == "MA0421"


def test_register_ignores_role_and_status_in_input(session: Session) -> None:
    emp = accounts.register(session, form(role="System Admin", status="Approved"))
    assert emp.role == "Employee" and emp.status == "Pending"


# --- Admin decisions -------------------------------------------------------------------------------


@pytest.fixture
def admin(session: Session) -> Employee:
    return make_employee(session, role=Role.ADMIN, department="IT Department")


def test_approve_notifies_and_audits(session: Session, admin: Employee) -> None:
    emp = accounts.register(session, GOOD)
    accounts.approve_account(session, admin, emp.id)
    session.commit()
    assert emp.status == "Approved"
    (mail,) = outbox(session, "account_approved")
    assert mail.recipient_email == emp.email and mail.triggered_by_id == admin.id
    row = audit_rows(session, emp.id)[-1]
    assert (row.action_type, row.user_id) == ("UPDATE", admin.id)
    assert row.old_values["status"] == "Pending" and row.new_values["status"] == "Approved"


def test_reject_needs_reason_then_notifies(session: Session, admin: Employee) -> None:
    emp = accounts.register(session, GOOD)
    with pytest.raises(ValidationError) as exc:
        accounts.reject_account(session, admin, emp.id, "   ")
    assert exc.value.errors == {"reason": "A reason is required"}
    assert emp.status == "Pending"
    accounts.reject_account(session, admin, emp.id, "Not an employee of the company")
    assert emp.status == "Rejected" and emp.status_reason == "Not an employee of the company"
    (mail,) = outbox(session, "account_rejected")
    assert "Not an employee of the company" in mail.body
    assert audit_rows(session, emp.id)[-1].new_values["status"] == "Rejected"


def test_suspend_reactivate_cycle(session: Session, admin: Employee) -> None:
    emp = make_employee(session)
    v0 = emp.session_version
    with pytest.raises(ValidationError):
        accounts.suspend_account(session, admin, emp.id, "")
    accounts.suspend_account(session, admin, emp.id, "Left the company")
    assert emp.status == "Suspended" and emp.session_version == v0 + 1
    assert "Left the company" in outbox(session, "account_suspended")[0].body
    accounts.reactivate_account(session, admin, emp.id)
    assert emp.status == "Approved" and emp.status_reason is None
    assert len(outbox(session, "account_reactivated")) == 1
    assert [r.new_values["status"] for r in audit_rows(session, emp.id)] == ["Suspended", "Approved"]


@pytest.mark.parametrize(
    ("start", "call"),
    [
        ("Approved", "approve"),
        ("Suspended", "approve"),
        ("Approved", "reject"),
        ("Pending", "suspend"),
        ("Rejected", "suspend"),
        ("Approved", "reactivate"),
        ("Pending", "reactivate"),
    ],
)
def test_decisions_only_from_their_statuses(session: Session, admin: Employee, start: str, call: str) -> None:
    emp = make_employee(session, status=start)
    fn = getattr(accounts, f"{call}_account")
    args = (session, admin, emp.id) + (("a reason",) if accounts.DECISIONS[call].needs_reason else ())
    with pytest.raises(Conflict):
        fn(*args)
    assert emp.status == start
    assert audit_rows(session, emp.id) == []


def test_change_role_and_department(session: Session, admin: Employee) -> None:
    emp = make_employee(session)
    accounts.change_role(session, admin, emp.id, "Ticket Coordinator")
    accounts.change_department(session, admin, emp.id, "Legal")
    assert (emp.role, emp.department) == ("Ticket Coordinator", "Legal")
    mails = outbox(session, "account_changed")
    assert len(mails) == 2 and "Ticket Coordinator" in mails[0].body and "Legal" in mails[1].body
    rows = audit_rows(session, emp.id)
    assert rows[0].old_values == {"role": "Employee"} and rows[0].new_values == {"role": "Ticket Coordinator"}
    assert rows[1].old_values == {"department": "Sales"} and rows[1].new_values == {"department": "Legal"}
    with pytest.raises(ValidationError) as exc:
        accounts.change_role(session, admin, emp.id, "Overlord")
    assert exc.value.errors == {"role": "Role must be Employee, Ticket Coordinator or System Admin"}
    with pytest.raises(ValidationError) as exc:
        accounts.change_department(session, admin, emp.id, "Nowhere")
    assert exc.value.errors == {"department": "Department must be one of the active departments"}
    assert (emp.role, emp.department) == ("Ticket Coordinator", "Legal")


def test_deactivate_is_soft_delete(session: Session, admin: Employee) -> None:
    emp = make_employee(session)
    v0 = emp.session_version
    accounts.deactivate_account(session, admin, emp.id)
    assert emp.is_active is False and emp.session_version == v0 + 1
    assert session.get(Employee, emp.id) is not None
    row = audit_rows(session, emp.id)[-1]
    assert row.action_type == "DELETE" and row.new_values["is_active"] is False
    assert "deactivated" in outbox(session, "account_changed")[0].body
    with pytest.raises(Conflict):
        accounts.deactivate_account(session, admin, emp.id)
    accounts.restore_account(session, admin, emp.id)
    assert emp.is_active is True


def test_unknown_account(session: Session, admin: Employee) -> None:
    with pytest.raises(NotFound):
        accounts.approve_account(session, admin, 999_999)


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.COORDINATOR])
def test_non_admins_cannot_manage_accounts(session: Session, role: Role) -> None:
    actor = make_employee(session, role=role)
    emp = make_employee(session, status="Pending")
    calls = [
        lambda: accounts.approve_account(session, actor, emp.id),
        lambda: accounts.reject_account(session, actor, emp.id, "no"),
        lambda: accounts.suspend_account(session, actor, emp.id, "no"),
        lambda: accounts.reactivate_account(session, actor, emp.id),
        lambda: accounts.change_role(session, actor, emp.id, "System Admin"),
        lambda: accounts.change_department(session, actor, emp.id, "Legal"),
        lambda: accounts.deactivate_account(session, actor, emp.id),
        lambda: accounts.list_accounts(session, actor),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert (emp.status, emp.role, emp.is_active) == ("Pending", "Employee", True)


def test_last_active_admin_is_protected(session: Session) -> None:
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    # a suspended and a deactivated admin do not count as "another admin"
    make_employee(session, role=Role.ADMIN, status=AccountStatus.SUSPENDED)
    make_employee(session, role=Role.ADMIN, is_active=False)
    with pytest.raises(Conflict, match="last active System Admin"):
        accounts.change_role(session, admin, admin.id, "Employee")
    with pytest.raises(PermissionDenied):  # never one's own account
        accounts.suspend_account(session, admin, admin.id, "oops")
    assert admin.role == "System Admin" and admin.status == "Approved"

    second = make_employee(session, role=Role.ADMIN, department="IT Department")
    # with a second admin, the first can step down ...
    accounts.change_role(session, second, admin.id, "Employee")
    assert admin.role == "Employee"
    # ... and now `second` is the last one: nobody can demote, suspend or deactivate it
    accounts.change_role(session, second, admin.id, "System Admin")
    accounts.suspend_account(session, second, admin.id, "audit finding")
    for call in (
        lambda: accounts.change_role(session, second, second.id, "Ticket Coordinator"),
        lambda: accounts.deactivate_account(session, second, second.id),
        lambda: accounts.suspend_account(session, second, second.id, "x"),
    ):
        with pytest.raises((Conflict, PermissionDenied)):
            call()
    assert (second.role, second.status, second.is_active) == ("System Admin", "Approved", True)


def test_last_admin_guard_blocks_other_admin_acting(session: Session) -> None:
    """Two admins: A suspends B fine; then B (suspended) is gone and A is last."""
    a = make_employee(session, role=Role.ADMIN, department="IT Department")
    b = make_employee(session, role=Role.ADMIN, department="IT Department")
    accounts.deactivate_account(session, a, b.id)
    with pytest.raises(Conflict, match="last active System Admin"):
        accounts.change_role(session, a, a.id, "Employee")


def test_list_accounts_pending_first(session: Session, admin: Employee) -> None:
    make_employee(session, first_name="Zed")
    p1 = make_employee(session, status="Pending")
    p2 = make_employee(session, status="Pending")
    listed = accounts.list_accounts(session, admin)
    assert [e.id for e in listed[:2]] == [p1.id, p2.id]
    assert [e.id for e in accounts.list_accounts(session, admin, search=p2.email.upper())] == [p2.id]


# --- Own account -------------------------------------------------------------------------------------


def test_change_password_rules_and_audit_masked(session: Session) -> None:
    emp = accounts.register(session, GOOD)
    emp.status = "Approved"
    v0 = emp.session_version
    with pytest.raises(ValidationError) as exc:
        accounts.change_password(session, emp, "wrong", "New#Pass2027", "New#Pass2027")
    assert exc.value.errors == {"current_password": "Current password is incorrect"}
    with pytest.raises(ValidationError) as exc:
        accounts.change_password(session, emp, "Budget#2026x", "short", "other")
    assert exc.value.errors == {
        "password": "Password must be at least 8 characters long",
        "password_confirm": "Passwords do not match",
    }
    assert verify_password("Budget#2026x", emp.password) and emp.session_version == v0
    accounts.change_password(session, emp, "Budget#2026x", "New#Pass2027", "New#Pass2027")
    assert verify_password("New#Pass2027", emp.password) and emp.session_version == v0 + 1
    row = audit_rows(session, emp.id)[-1]
    assert row.old_values["password"] == MASK and row.new_values["password"] == MASK
    assert "scrypt" not in str(row.old_values) + str(row.new_values)


def png_bytes(size: tuple[int, int] = (8, 8)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (30, 30, 200)).save(buf, format="JPEG")
    return buf.getvalue()


def test_update_profile_names_and_image(session: Session, store: StoredFiles) -> None:
    emp = make_employee(session, first_name="Ana", last_name="Cruz")
    accounts.update_profile(
        session, emp, {"first_name": "Anna", "last_name": "Cruz", "suffix": "III"}, image=png_bytes()
    )
    assert emp.full_name == "Anna Cruz III"
    assert emp.image.startswith("avatars/") and emp.image.endswith(".png")
    assert accounts.avatar_content(session, emp) == png_bytes()
    row = audit_rows(session, emp.id)[-1]
    assert row.old_values == {"first_name": "Ana", "suffix": None, "image": None}
    accounts.update_profile(session, emp, {"first_name": "Anna", "last_name": "Cruz"}, image=jpeg_bytes())
    assert emp.image.endswith(".jpg")
    accounts.update_profile(session, emp, {"first_name": "Anna", "last_name": "Cruz"}, remove_image=True)
    assert emp.image is None


NAMES = {"first_name": "Anna", "last_name": "Cruz"}


def test_new_avatar_removes_the_old_file_once_committed(session: Session, store: StoredFiles) -> None:
    emp = make_employee(session)
    accounts.update_profile(session, emp, NAMES, image=png_bytes())
    session.commit()
    old = emp.image
    accounts.update_profile(session, emp, NAMES, image=jpeg_bytes())
    new = emp.image
    assert old in store.paths(), "the old picture must stay until the change is committed"
    session.commit()
    assert store.paths() == [new] and store.read(new) == jpeg_bytes()
    accounts.update_profile(session, emp, NAMES, remove_image=True)
    assert store.paths() == [new]
    session.commit()
    assert store.paths() == []


def test_avatar_change_rolled_back_keeps_the_old_file_and_leaves_no_new_one(
    session: Session, store: StoredFiles
) -> None:
    emp = make_employee(session)
    accounts.update_profile(session, emp, NAMES, image=png_bytes())
    session.commit()
    old = emp.image
    accounts.update_profile(session, emp, NAMES, image=jpeg_bytes())
    assert emp.image != old and emp.image in store.paths(session)
    session.rollback()
    session.refresh(emp)
    assert emp.image == old and accounts.avatar_content(session, emp) == png_bytes()
    assert store.paths() == [old]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"GIF89a" + b"\0" * 100, "Profile image must be a PNG or JPEG image"),
        (b"\x89PNG\r\n\x1a\n" + b"not really a png", "Profile image must be a PNG or JPEG image"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "Profile image must be a PNG or JPEG image"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024), "Profile image cannot exceed 2 MB"),
    ],
)
def test_profile_image_checked_by_content(session: Session, content: bytes, message: str) -> None:
    emp = make_employee(session, first_name="Ana")
    with pytest.raises(ValidationError) as exc:
        accounts.update_profile(session, emp, {"first_name": "Changed", "last_name": emp.last_name}, image=content)
    assert exc.value.errors == {"image": message}
    assert emp.first_name == "Ana" and emp.image is None


def test_profile_name_rules(session: Session) -> None:
    emp = make_employee(session)
    with pytest.raises(ValidationError) as exc:
        accounts.update_profile(session, emp, {"first_name": "", "last_name": "x" * 101})
    assert exc.value.errors == {
        "first_name": "First name is required",
        "last_name": "Last name must be at most 100 characters",
    }


def test_unusable_accounts_cannot_edit_themselves(session: Session) -> None:
    emp = make_employee(session, status="Suspended")
    with pytest.raises(PermissionDenied):
        accounts.update_profile(session, emp, {"first_name": "X", "last_name": "Y"})
    with pytest.raises(PermissionDenied):
        accounts.change_password(session, emp, "a", "b", "b")


def test_create_admin_uses_registration_rules(session: Session) -> None:
    with pytest.raises(ValidationError) as exc:
        accounts.create_admin(session, form(company_id="A1", password="weak"))
    assert exc.value.errors == {
        "company_id": "Company ID must follow format MA#### (e.g., MA0001)",
        "password": "Password must be at least 8 characters long",
    }
    admin = accounts.create_admin(session, form(department="IT Department"))
    assert (admin.role, admin.status) == ("System Admin", "Approved")
    assert audit_rows(session, admin.id)[0].new_values["password"] == MASK
