"""Accounts (spec processes 1.0 and 2.0): registration, admin decisions, own profile.

Every function follows the service convention: check the policy, validate every field
(one `ValidationError` naming all bad fields, before anything is written), change,
`audit.record` (passwords masked), `notifications.queue` - all in the caller's
transaction; the caller commits. Signing in and out lives in `login` and is re-exported
here (`authenticate`, `logout`, tokens) so callers have one module for accounts.

The admin decisions are a data table (`DECISIONS`): which statuses each decision applies
to, the status it leads to, whether it ends the account's sessions and which e-mail the
employee gets. The last active System Admin can never be suspended, demoted or
deactivated (checked under a lock on the admin rows, so two admins demoting each other at
once cannot both succeed).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import audit, file_store, notifications
from .errors import Conflict, NotFound, PermissionDenied, ValidationError
from .login import (
    authenticate,
    bump_session_version,
    find_by_email,
    issue_token,
    logout,
    normalise_email,
    resolve_token,
    sso_sign_in,
)
from .models import Department, Employee
from .passwords import hash_password, verify_password
from .policy import Action, require
from .settings import get_settings
from .text_input import clean_text
from .vocab import AccountStatus, AuditAction, Role

__all__ = [
    "DECISIONS",
    "approve_account",
    "authenticate",
    "change_department",
    "change_password",
    "change_role",
    "create_admin",
    "deactivate_account",
    "issue_token",
    "list_accounts",
    "logout",
    "reactivate_account",
    "register",
    "reject_account",
    "resolve_token",
    "sso_sign_in",
    "suspend_account",
    "update_profile",
]

TABLE = Employee.__tablename__
#: The registration fields an account is made from (role, status and password are set apart).
ACCOUNT_FIELDS = ("first_name", "middle_name", "last_name", "suffix", "email", "company_id", "department")

# --- Validation rules and their messages (data-architecture.md, "Data Validation Rules") ----

EMAIL_MESSAGE = "Please enter a valid email address"
EMAIL_TAKEN_MESSAGE = "Please enter a valid email address: an account with this email address already exists"
COMPANY_ID_MESSAGE = "Company ID must follow format MA#### (e.g., MA0001)"
COMPANY_ID_TAKEN_MESSAGE = "Company ID is already registered to another account"
PASSWORD_LENGTH_MESSAGE = "Password must be at least 8 characters long"
PASSWORD_MAX_LENGTH = 128
PASSWORD_TOO_LONG_MESSAGE = f"Password must be at most {PASSWORD_MAX_LENGTH} characters long"
PASSWORD_LOCAL_PART_MESSAGE = "Password must not contain the name part of your email address"
PASSWORD_MISMATCH_MESSAGE = "Passwords do not match"
DEPARTMENT_MESSAGE = "Department must be one of the active departments"
CURRENT_PASSWORD_MESSAGE = "Current password is incorrect"
REASON_MESSAGE = "A reason is required"
ROLE_MESSAGE = "Role must be Employee, Ticket Coordinator or System Admin"

#: (field, label, required, max length) of the name fields (core_employee column sizes).
NAME_FIELDS: tuple[tuple[str, str, bool, int], ...] = (
    ("first_name", "First name", True, 100),
    ("middle_name", "Middle name", False, 100),
    ("last_name", "Last name", True, 100),
    ("suffix", "Suffix", False, 20),
)

#: Password complexity: each class a password needs, and how the message names it.
PASSWORD_CLASSES: tuple[tuple[str, str], ...] = (
    (r"[A-Z]", "an uppercase letter"),
    (r"[a-z]", "a lowercase letter"),
    (r"[0-9]", "a digit"),
    (r"[^A-Za-z0-9]", "a symbol"),
)

_EMAIL_RE = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_COMPANY_ID_RE = re.compile(r"^MA[0-9]{4}$")
REASON_MAX = 2000


def valid_email(email: str) -> bool:
    return len(email) <= 254 and len(email.split("@")[0]) <= 64 and bool(_EMAIL_RE.match(email))


def password_problems(password: str, email: str | None) -> str | None:
    """The first rule `password` breaks (message), or None."""
    if len(password) < 8:
        return PASSWORD_LENGTH_MESSAGE
    if len(password) > PASSWORD_MAX_LENGTH:
        return PASSWORD_TOO_LONG_MESSAGE
    missing = [label for pattern, label in PASSWORD_CLASSES if not re.search(pattern, password)]
    if missing:
        listed = ", ".join(missing[:-1]) + (" and " if len(missing) > 1 else "") + missing[-1]
        return f"Password must contain {listed}"
    local = (email or "").split("@")[0].strip().lower()
    if len(local) >= 3 and local in password.lower():
        return PASSWORD_LOCAL_PART_MESSAGE
    return None


def _text(data: Mapping[str, Any], key: str) -> str:
    """A form field's text, checked by the one text rule (`text_input`: type, control
    characters); refused with the field's name, never stored as some object's str()."""
    return clean_text(data.get(key), key)


def _validate_names(data: Mapping[str, Any], errors: dict[str, str]) -> dict[str, str | None]:
    clean: dict[str, str | None] = {}
    for field, label, required, limit in NAME_FIELDS:
        value = _text(data, field)
        if required and not value:
            errors[field] = f"{label} is required"
        elif len(value) > limit:
            errors[field] = f"{label} must be at most {limit} characters"
        clean[field] = value or None
    return clean


def active_departments(session: Session) -> list[str]:
    return list(
        session.scalars(select(Department.name).where(Department.is_active.is_(True)).order_by(Department.name))
    )


def _validate_department(session: Session, department: str, errors: dict[str, str]) -> None:
    if department not in active_departments(session):
        errors["department"] = DEPARTMENT_MESSAGE


def _email_taken(session: Session, email: str, *, except_id: int | None = None) -> bool:
    stmt = select(Employee.id).where(func.lower(Employee.email) == email)
    if except_id is not None:
        stmt = stmt.where(Employee.id != except_id)
    return session.scalar(stmt) is not None


def _company_id_taken(session: Session, company_id: str) -> bool:
    return session.scalar(select(Employee.id).where(func.upper(Employee.company_id) == company_id)) is not None


def validate_registration(session: Session, data: Mapping[str, Any]) -> dict[str, Any]:
    """Every registration rule at once; returns the cleaned values or raises ValidationError."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = _validate_names(data, errors)
    email = normalise_email(_text(data, "email"))
    if not valid_email(email):
        errors["email"] = EMAIL_MESSAGE
    elif _email_taken(session, email):
        errors["email"] = EMAIL_TAKEN_MESSAGE
    company_id = _text(data, "company_id").upper()
    if not _COMPANY_ID_RE.match(company_id):
        errors["company_id"] = COMPANY_ID_MESSAGE
    elif _company_id_taken(session, company_id):
        errors["company_id"] = COMPANY_ID_TAKEN_MESSAGE
    department = _text(data, "department")
    _validate_department(session, department, errors)
    password = data.get("password") or ""
    problem = password_problems(password, email)
    if problem:
        errors["password"] = problem
    if password != (data.get("password_confirm") or ""):
        errors["password_confirm"] = PASSWORD_MISMATCH_MESSAGE
    if errors:
        raise ValidationError(errors)
    clean.update(email=email, company_id=company_id, department=department, password=password)
    return clean


def _snapshot(emp: Employee) -> dict[str, Any]:
    """The audited view of an account (the password column is masked by `audit`)."""
    return {name: getattr(emp, name) for name in (*ACCOUNT_FIELDS, "role", "status", "is_active", "password")}


def _insert(session: Session, emp: Employee) -> None:
    """Flush a new account; a concurrent duplicate becomes the same field message."""
    try:
        with session.begin_nested():
            session.add(emp)
            session.flush()
    except IntegrityError as exc:
        text = str(exc.orig)
        if "company_id" in text:
            raise ValidationError({"company_id": COMPANY_ID_TAKEN_MESSAGE}) from None
        if "email" in text:
            raise ValidationError({"email": EMAIL_TAKEN_MESSAGE}) from None
        raise


def _new_account(session: Session, clean: Mapping[str, Any], role: Role, status: AccountStatus) -> Employee:
    """Insert an account from validated registration data with the given role and status."""
    emp = Employee(
        **{name: clean[name] for name in ACCOUNT_FIELDS},
        role=role.value,
        status=status.value,
        password=hash_password(clean["password"]),
        is_active=True,
        session_version=1,
    )
    _insert(session, emp)
    return emp


def register(session: Session, data: Mapping[str, Any]) -> Employee:
    """Self-registration: a new `Pending` Employee; every active admin is notified.

    `data` keys: first_name, middle_name, last_name, suffix, email, company_id, department,
    password, password_confirm. Role and status are never taken from input.
    """
    clean = validate_registration(session, data)
    emp = _new_account(session, clean, Role.EMPLOYEE, AccountStatus.PENDING)
    audit.record(session, emp, TABLE, emp.id, AuditAction.CREATE, None, _snapshot(emp))
    notifications.queue_many(
        session,
        "account_registered",
        notifications.active_admins(session),
        data={
            "name": emp.full_name,
            "email": emp.email,
            "company_id": emp.company_id,
            "department": emp.department,
            "link": f"{get_settings().base_url}/accounts",
        },
        actor=emp,
    )
    return emp


def create_admin(session: Session, data: Mapping[str, Any]) -> Employee:
    """The operator's `create-admin`: same validation as registration, then Approved admin."""
    clean = validate_registration(session, {**data, "password_confirm": data.get("password")})
    emp = _new_account(session, clean, Role.ADMIN, AccountStatus.APPROVED)
    audit.record(session, None, TABLE, emp.id, AuditAction.CREATE, None, _snapshot(emp))
    return emp


# --- Admin decisions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    label: str  # past participle, for messages
    from_statuses: frozenset[str]
    to_status: str | None  # None: status unchanged
    needs_reason: bool
    ends_sessions: bool
    removes_admin: bool  # would take away an admin's access (last-admin rule)
    template: str


P, A, R, S = (
    s.value for s in (AccountStatus.PENDING, AccountStatus.APPROVED, AccountStatus.REJECTED, AccountStatus.SUSPENDED)
)

#: The account decisions an admin can take; the single source for services and the page.
DECISIONS: dict[str, Decision] = {
    "approve": Decision("approved", frozenset({P, R}), A, False, False, False, "account_approved"),
    "reject": Decision("rejected", frozenset({P}), R, True, True, False, "account_rejected"),
    "suspend": Decision("suspended", frozenset({A}), S, True, True, True, "account_suspended"),
    "reactivate": Decision("reactivated", frozenset({S}), A, False, False, False, "account_reactivated"),
}


def _target(session: Session, employee_id: int) -> Employee:
    emp = session.get(Employee, employee_id, with_for_update=True)
    if emp is None:
        raise NotFound(f"Account {employee_id} was not found.")
    return emp


def _is_usable_admin(emp: Employee) -> bool:
    return emp.role == Role.ADMIN.value and emp.status == A and bool(emp.is_active)


def _guard_last_admin(session: Session, emp: Employee, what: str) -> None:
    """Refuse to take away the access of the last active, approved System Admin."""
    if not _is_usable_admin(emp):
        return
    others = session.scalars(
        select(Employee.id)
        .where(
            Employee.role == Role.ADMIN.value,
            Employee.status == A,
            Employee.is_active.is_(True),
            Employee.id != emp.id,
        )
        .with_for_update()
    ).all()
    if not others:
        raise Conflict(f"{emp.full_name} is the last active System Admin and cannot be {what}.")


def _reason(reason: str | None) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError({"reason": REASON_MESSAGE})
    if len(text) > REASON_MAX:
        raise ValidationError({"reason": f"Reason must be at most {REASON_MAX} characters"})
    return text


def _decide(session: Session, actor: Employee, employee_id: int, name: str, reason: str | None = None) -> Employee:
    require(actor, Action.MANAGE_ACCOUNTS)
    decision = DECISIONS[name]
    clean_reason = _reason(reason) if decision.needs_reason else None
    emp = _target(session, employee_id)
    if emp.status not in decision.from_statuses:
        allowed = " or ".join(sorted(decision.from_statuses))
        raise Conflict(f"Only {allowed} accounts can be {decision.label}; {emp.full_name}'s account is {emp.status}.")
    if decision.removes_admin and emp.id == actor.id:
        raise PermissionDenied(f"You cannot {name} your own account.")
    if decision.removes_admin:
        _guard_last_admin(session, emp, decision.label)
    old = {"status": emp.status, "status_reason": emp.status_reason, "session_version": emp.session_version}
    emp.status = decision.to_status or emp.status
    emp.status_reason = clean_reason
    if decision.ends_sessions:
        bump_session_version(emp)
    new = {"status": emp.status, "status_reason": emp.status_reason, "session_version": emp.session_version}
    audit.record(session, actor, TABLE, emp.id, AuditAction.UPDATE, old, new)
    notifications.queue(
        session,
        decision.template,
        to=emp,
        data={"first_name": emp.first_name, "reason": clean_reason or "", "link": get_settings().base_url},
        actor=actor,
    )
    session.flush()
    return emp


def approve_account(session: Session, actor: Employee, employee_id: int) -> Employee:
    """Pending (or previously rejected) -> Approved; the employee may sign in."""
    return _decide(session, actor, employee_id, "approve")


def reject_account(session: Session, actor: Employee, employee_id: int, reason: str) -> Employee:
    """Pending -> Rejected with the reason the employee is told."""
    return _decide(session, actor, employee_id, "reject", reason)


def suspend_account(session: Session, actor: Employee, employee_id: int, reason: str) -> Employee:
    """Approved -> Suspended; every session and remembered cookie of the account ends."""
    return _decide(session, actor, employee_id, "suspend", reason)


def reactivate_account(session: Session, actor: Employee, employee_id: int) -> Employee:
    """Suspended -> Approved."""
    return _decide(session, actor, employee_id, "reactivate")


def _notify_changed(session: Session, actor: Employee, emp: Employee, change: str) -> None:
    notifications.queue(
        session, "account_changed", to=emp, data={"first_name": emp.first_name, "change": change}, actor=actor
    )


def _change_field(session: Session, actor: Employee, emp: Employee, field: str, value: str) -> Employee:
    """Set one field of an account (role, department), audit it and tell the account holder."""
    old = getattr(emp, field)
    setattr(emp, field, value)
    audit.record(session, actor, TABLE, emp.id, AuditAction.UPDATE, {field: old}, {field: value})
    _notify_changed(session, actor, emp, f"your {field} is now {value} (was {old})")
    session.flush()
    return emp


def change_role(session: Session, actor: Employee, employee_id: int, role: str) -> Employee:
    """Give an account another role; demoting the last active admin is refused."""
    require(actor, Action.MANAGE_ACCOUNTS)
    if role not in {r.value for r in Role}:
        raise ValidationError({"role": ROLE_MESSAGE})
    emp = _target(session, employee_id)
    if emp.role == role:
        return emp
    if role != Role.ADMIN.value:
        _guard_last_admin(session, emp, "demoted")
    return _change_field(session, actor, emp, "role", role)


def change_department(session: Session, actor: Employee, employee_id: int, department: str) -> Employee:
    """Move an account to another active department (a coordinator's queue follows)."""
    require(actor, Action.MANAGE_ACCOUNTS)
    errors: dict[str, str] = {}
    _validate_department(session, department, errors)
    if errors:
        raise ValidationError(errors)
    emp = _target(session, employee_id)
    if emp.department == department:
        return emp
    return _change_field(session, actor, emp, "department", department)


def deactivate_account(session: Session, actor: Employee, employee_id: int) -> Employee:
    """The spec's soft delete (`is_active = false`): the account keeps its history, cannot sign in."""
    require(actor, Action.MANAGE_ACCOUNTS)
    emp = _target(session, employee_id)
    if not emp.is_active:
        raise Conflict(f"{emp.full_name}'s account is already deactivated.")
    if emp.id == actor.id:
        raise PermissionDenied("You cannot deactivate your own account.")
    _guard_last_admin(session, emp, "deactivated")
    old = {"is_active": True, "session_version": emp.session_version}
    emp.is_active = False
    bump_session_version(emp)
    audit.record(
        session,
        actor,
        TABLE,
        emp.id,
        AuditAction.DELETE,
        old,
        {"is_active": False, "session_version": emp.session_version},
    )
    _notify_changed(session, actor, emp, "your account has been deactivated")
    session.flush()
    return emp


def restore_account(session: Session, actor: Employee, employee_id: int) -> Employee:
    """Undo a deactivation (`is_active = true`); the account keeps its status."""
    require(actor, Action.MANAGE_ACCOUNTS)
    emp = _target(session, employee_id)
    if emp.is_active:
        raise Conflict(f"{emp.full_name}'s account is not deactivated.")
    emp.is_active = True
    audit.record(session, actor, TABLE, emp.id, AuditAction.UPDATE, {"is_active": False}, {"is_active": True})
    _notify_changed(session, actor, emp, "your account has been restored")
    session.flush()
    return emp


def list_accounts(session: Session, actor: Employee, *, search: str = "") -> list[Employee]:
    """Every account, the Pending queue first (oldest first), then the rest by name."""
    require(actor, Action.MANAGE_ACCOUNTS)
    stmt = select(Employee)
    term = search.strip()
    if term:
        like = f"%{term.lower()}%"
        stmt = stmt.where(
            func.lower(Employee.email).like(like)
            | func.lower(Employee.first_name + " " + Employee.last_name).like(like)
            | func.lower(Employee.company_id).like(like)
        )
    pending_first = (Employee.status != P) | (Employee.is_active.is_(False))
    stmt = stmt.order_by(pending_first, Employee.date_created, Employee.last_name, Employee.first_name, Employee.id)
    return list(session.scalars(stmt))


def awaiting_approval(session: Session, actor: Employee) -> int:
    """How many active accounts wait for an admin's decision (the Pending list of the
    accounts page, which `list_accounts` puts first)."""
    require(actor, Action.MANAGE_ACCOUNTS)
    stmt = select(func.count()).select_from(Employee).where(Employee.status == P, Employee.is_active.is_(True))
    return session.scalar(stmt) or 0


# --- Own account ----------------------------------------------------------------------------


def _self(session: Session, actor: Employee) -> Employee:
    require(actor, Action.VIEW_OWN_TICKETS)  # any usable account
    emp = session.get(Employee, actor.id, with_for_update=True)
    if emp is None:
        raise NotFound("Your account was not found.")
    return emp


def change_password(session: Session, actor: Employee, current: str, new: str, confirm: str) -> Employee:
    """Change one's own password; every other session and remembered cookie ends.

    The caller re-signs the current browser in with the returned account's new
    `session_version`.
    """
    emp = _self(session, actor)
    errors: dict[str, str] = {}
    if not verify_password(current or "", emp.password):
        errors["current_password"] = CURRENT_PASSWORD_MESSAGE
    problem = password_problems(new or "", emp.email)
    if problem:
        errors["password"] = problem
    elif current and new == current:
        errors["password"] = "New password must be different from the current password"
    if (new or "") != (confirm or ""):
        errors["password_confirm"] = PASSWORD_MISMATCH_MESSAGE
    if errors:
        raise ValidationError(errors)
    old = {"password": emp.password, "session_version": emp.session_version}
    emp.password = hash_password(new)
    bump_session_version(emp)
    audit.record(
        session,
        emp,
        TABLE,
        emp.id,
        AuditAction.UPDATE,
        old,
        {"password": emp.password, "session_version": emp.session_version},
    )
    session.flush()
    return emp


IMAGE_MAX_BYTES = 2 * 1024 * 1024
IMAGE_KINDS: dict[str, bytes] = {"png": b"\x89PNG\r\n\x1a\n", "jpg": b"\xff\xd8\xff"}
IMAGE_TYPE_MESSAGE = "Profile image must be a PNG or JPEG image"
IMAGE_SIZE_MESSAGE = "Profile image cannot exceed 2 MB"


def image_kind(content: bytes) -> str | None:
    """'png' or 'jpg' judged by the file's content (magic bytes and a decode), else None."""
    kind = next((k for k, magic in IMAGE_KINDS.items() if content.startswith(magic)), None)
    if kind is None:
        return None
    try:
        import io

        from PIL import Image

        with Image.open(io.BytesIO(content)) as img:
            img.verify()
            if img.format not in {"PNG", "JPEG"}:
                return None
    except Exception:
        return None
    return kind


def avatar_content(session: Session, employee: Employee) -> bytes | None:
    """The bytes of an account's profile image from the file store, if it has one."""
    if not employee.image:
        return None
    try:
        return file_store.read(file_store.store(), session, employee.image)
    except FileNotFoundError:
        return None


def update_profile(
    session: Session,
    actor: Employee,
    data: Mapping[str, Any],
    *,
    image: bytes | None = None,
    remove_image: bool = False,
) -> Employee:
    """Edit one's own names and profile image (role, department, e-mail are admin matters)."""
    emp = _self(session, actor)
    errors: dict[str, str] = {}
    names = _validate_names(data, errors)
    kind = None
    if image is not None:
        if len(image) > IMAGE_MAX_BYTES:
            errors["image"] = IMAGE_SIZE_MESSAGE
        else:
            kind = image_kind(image)
            if kind is None:
                errors["image"] = IMAGE_TYPE_MESSAGE
    if errors:
        raise ValidationError(errors)
    new: dict[str, Any] = dict(names)
    store = file_store.store()
    if image is not None and kind is not None:
        path = f"{file_store.AVATARS}/{emp.id}-{secrets.token_hex(8)}.{kind}"
        store.put(session, path, image)  # in this transaction: no orphan after a rollback
        new["image"] = path
    elif remove_image:
        new["image"] = None
    old_vals, new_vals = audit.changes(emp, [*names, "image"], new)
    if not new_vals:
        return emp
    if "image" in new_vals and emp.image:  # the replaced picture goes once the change is committed
        store.discard(session, emp.image)
    for key, value in new_vals.items():
        setattr(emp, key, value)
    audit.record(session, emp, TABLE, emp.id, AuditAction.UPDATE, old_vals, new_vals)
    session.flush()
    return emp


def employee_by_email(session: Session, email: str) -> Employee | None:
    """Lookup for SSO matching and the CLI (case-insensitive)."""
    return find_by_email(session, email)
