"""AppTest: registration (bad and good), sign-in for each account status, the remembered
cookie, sign-out, the admin approval flow and the profile page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

import portal.auth
from smartsupport_core import login
from smartsupport_core.models import EmailNotification, Employee
from smartsupport_core.passwords import hash_password, verify_password
from smartsupport_core.settings import get_settings
from smartsupport_core.vocab import Role
from tests.factories import make_employee
from tests.portal_helpers import portal_app

PW = "Harbor#Lights26"


def button(at: AppTest, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r} in {[b.label for b in at.button]}"
    return matches[0]


def texts(at: AppTest) -> str:
    """Every message shown, with the Markdown escaping of user-written text undone."""
    parts = [e.value for e in (*at.error, *at.info, *at.success, *at.warning)]
    return re.sub(r"\\(.)", r"\1", "\n".join(str(p) for p in parts))


def fresh(session: Session, emp: Employee) -> Employee:
    session.expire_all()
    return session.get(Employee, emp.id)


# --- Registration ------------------------------------------------------------------------------


def fill_registration(at: AppTest, **values: str) -> None:
    for key, value in values.items():
        if key == "department":
            at.selectbox(key="reg_department").select(value)
        else:
            at.text_input(key=f"reg_{key}").input(value)


def test_registration_bad_input_shows_each_message_and_writes_nothing(session: Session) -> None:
    at = portal_app()
    at.run()
    at.switch_page("../pages/register.py").run()
    assert not at.exception
    fill_registration(
        at,
        first_name="Lia",
        last_name="Tan",
        email="not-an-email",
        company_id="AB12",
        password="short",
        password_confirm="different",
    )
    button(at, "Register").click().run()
    assert not at.exception
    shown = [e.value for e in at.error]
    assert "Please enter a valid email address" in shown
    assert "Company ID must follow format MA#### (e.g., MA0001)" in shown
    assert "Password must be at least 8 characters long" in shown
    assert "Passwords do not match" in shown
    assert "Department must be one of the active departments" in shown
    assert session.scalars(select(Employee)).all() == []


def test_registration_good_creates_pending_and_notifies_admin(session: Session) -> None:
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    session.commit()
    at = portal_app()
    at.run()
    at.switch_page("../pages/register.py").run()
    fill_registration(
        at,
        first_name="Lia",
        last_name="Tan",
        email="lia.tan@example.com",
        company_id="MA0777",
        department="Legal",
        password=PW,
        password_confirm=PW,
    )
    button(at, "Register").click().run()
    assert not at.exception
    assert "pending approval" in texts(at)
    emp = session.scalars(select(Employee).where(Employee.email == "lia.tan@example.com")).one()
    assert (emp.status, emp.department, emp.role) == ("Pending", "Legal", "Employee")
    mail = session.scalars(select(EmailNotification)).one()
    assert mail.template_name == "account_registered" and mail.recipient_email == admin.email


# --- Sign-in -----------------------------------------------------------------------------------


def sign_in(email: str, password: str, remember: bool = False) -> AppTest:
    at = portal_app()
    at.run()
    at.switch_page("../pages/sign_in.py").run()
    at.text_input(key="sign_in_email").input(email)
    at.text_input(key="sign_in_password").input(password)
    if remember:
        at.checkbox(key="sign_in_remember").check()
    button(at, "Sign in").click().run()
    assert not at.exception
    return at


def test_sign_in_success_sets_session_and_cookie(session: Session) -> None:
    emp = make_employee(session, email="ok@example.com", password=hash_password(PW))
    session.commit()
    at = sign_in("ok@example.com", PW, remember=True)
    assert at.session_state["user_id"] == emp.id
    assert fresh(session, emp).last_login is not None
    token, _expires = at.session_state["_auth_cookie_to_set"]
    assert login.token_claims(token, get_settings().secret_key)["uid"] == emp.id
    assert login.token_claims(token, "some_key") is None  # never signed with the library default
    assert "Sign out" in [b.label for b in at.button]


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"status": "Pending"}, "Your account is pending approval by an administrator."),
        ({"status": "Rejected", "status_reason": "Unknown ID"}, "Your registration was rejected by an administrator."),
        ({"status": "Suspended", "status_reason": "Audit"}, "Your account is suspended."),
        ({"is_active": False}, "Your account has been deactivated."),
    ],
    ids=["Pending", "Rejected", "Suspended", "deactivated"],
)
def test_sign_in_each_status_message(session: Session, state: dict[str, object], message: str) -> None:
    make_employee(session, email="s@example.com", password=hash_password(PW), **state)
    session.commit()
    at = sign_in("s@example.com", PW)
    assert message in texts(at)
    assert "user_id" not in at.session_state


def test_sign_in_wrong_password_then_lockout(session: Session) -> None:
    emp = make_employee(session, email="lock@example.com", password=hash_password(PW))
    session.commit()
    for _ in range(4):
        at = sign_in("lock@example.com", "wrong")
        assert "Incorrect e-mail address or password." in texts(at)
    at = sign_in("lock@example.com", "wrong")
    assert "locked" in texts(at)
    at = sign_in("lock@example.com", PW)
    assert "locked" in texts(at) and "user_id" not in at.session_state
    assert fresh(session, emp).locked_until is not None


# --- Remembered cookie -------------------------------------------------------------------------


def test_remembered_cookie_restores_and_dies_at_sign_out(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    emp = make_employee(session, password=hash_password(PW))
    session.commit()
    v0 = emp.session_version
    token = login.issue_token(emp, get_settings().secret_key)
    monkeypatch.setattr(portal.auth, "read_cookie", lambda: token)
    at = portal_app()
    at.run()
    assert at.session_state["user_id"] == emp.id  # restored from the cookie alone
    button(at, "Sign out").click().run()
    assert not at.exception
    assert "user_id" not in at.session_state
    assert fresh(session, emp).session_version == v0 + 1
    # the same cookie in a new browser session is refused now
    again = portal_app()
    again.run()
    assert "user_id" not in again.session_state


def test_forged_cookie_refused(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    emp = make_employee(session)
    session.commit()
    monkeypatch.setattr(portal.auth, "read_cookie", lambda: login.issue_token(emp, "some_key"))
    at = portal_app()
    at.run()
    assert "user_id" not in at.session_state


# --- Admin approval flow -----------------------------------------------------------------------


def test_admin_approves_pending_account(session: Session) -> None:
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    make_employee(session, first_name="Old", status="Approved")
    pending = make_employee(session, first_name="Nina", email="nina@example.com", status="Pending")
    session.commit()
    at = portal_app(admin)
    at.run()
    at.switch_page("../pages/accounts_admin.py").run()
    assert not at.exception
    assert any("Waiting for approval (1)" in h.value for h in at.subheader)
    at.button(key=f"approve_{pending.id}").click().run()
    assert not at.exception
    assert "approved" in texts(at)
    assert fresh(session, pending).status == "Approved"
    mail = session.scalars(select(EmailNotification).where(EmailNotification.template_name == "account_approved")).one()
    assert mail.recipient_email == "nina@example.com"


def test_admin_rejects_without_reason_sees_message(session: Session) -> None:
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    pending = make_employee(session, status="Pending")
    session.commit()
    at = portal_app(admin)
    at.run()
    at.switch_page("../pages/accounts_admin.py").run()
    at.button(key=f"reject_{pending.id}").click().run()
    assert "Reason: A reason is required" in texts(at)  # the field by its label, in words
    assert fresh(session, pending).status == "Pending"
    at.text_input(key=f"reject_reason_{pending.id}").input("Not on the staff list")
    at.button(key=f"reject_{pending.id}").click().run()
    assert fresh(session, pending).status == "Rejected"


def test_admin_cannot_demote_last_admin_in_page(session: Session) -> None:
    admin = make_employee(session, role=Role.ADMIN, department="IT Department", first_name="Solo")
    session.commit()
    at = portal_app(admin)
    at.run()
    at.switch_page("../pages/accounts_admin.py").run()
    at.selectbox(key="accounts_chosen").select(admin.id).run()
    at.selectbox(key=f"m_role_{admin.id}").select("Employee").run()
    at.button(key="m_change_role").click().run()
    assert "last active System Admin" in texts(at)
    assert fresh(session, admin).role == "System Admin"


def test_accounts_page_not_offered_to_employees(session: Session) -> None:
    emp = make_employee(session, role=Role.COORDINATOR)
    session.commit()
    at = portal_app(emp)
    at.run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("../pages/accounts_admin.py")
    # and visitors get Sign in / Register but not the profile
    visitor = portal_app()
    visitor.run()
    visitor.switch_page("../pages/sign_in.py").run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        visitor.switch_page("../pages/profile.py")


# --- Profile ---------------------------------------------------------------------------------------


def test_profile_password_change_keeps_this_browser_and_ends_others(session: Session) -> None:
    emp = make_employee(session, email="me@example.com", password=hash_password(PW))
    session.commit()
    old_token = login.issue_token(emp, get_settings().secret_key)
    at = portal_app(emp)
    at.run()
    at.switch_page("../pages/profile.py").run()
    assert not at.exception
    inputs = {t.label: t for t in at.text_input}
    inputs["Current password"].input("Wrong#Pass1")
    inputs["New password"].input("Fresh#Start27")
    inputs["Confirm new password"].input("Fresh#Start27")
    button(at, "Change password").click().run()
    assert "Current password is incorrect" in texts(at)
    inputs = {t.label: t for t in at.text_input}
    inputs["Current password"].input(PW)
    inputs["New password"].input("Fresh#Start27")
    inputs["Confirm new password"].input("Fresh#Start27")
    button(at, "Change password").click().run()
    assert not at.exception
    now = fresh(session, emp)
    assert verify_password("Fresh#Start27", now.password)
    assert at.session_state["session_version"] == now.session_version  # still signed in here
    assert "Password changed" in texts(at)
    with Session(session.get_bind()) as other:
        assert login.resolve_token(other, old_token, get_settings().secret_key) is None


def test_profile_name_change(session: Session) -> None:
    emp = make_employee(session, first_name="Ron")
    session.commit()
    at = portal_app(emp)
    at.run()
    at.switch_page("../pages/profile.py").run()
    {t.label: t for t in at.text_input}["First name"].input("Ronaldo")
    button(at, "Save profile").click().run()
    assert not at.exception
    assert fresh(session, emp).first_name == "Ronaldo"
    assert "Profile saved." in texts(at)


# --- Single sign-on (st.login / st.user), identity provider stubbed -----------------------------


def test_sso_identity_signs_in_approved_employee(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    emp = make_employee(session, email="sso.user@example.com")
    session.commit()
    identity = {"email": "SSO.User@example.com", "first_name": "S", "last_name": "U"}
    monkeypatch.setattr(portal.auth, "_sso_identity", lambda: identity)
    at = portal_app()
    at.run()
    assert not at.exception
    assert at.session_state["user_id"] == emp.id
    assert fresh(session, emp).last_login is not None


def test_sso_unknown_identity_gets_prefilled_registration(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    identity = {"email": "new.hire@example.com", "first_name": "Nova", "last_name": "Hire"}
    monkeypatch.setattr(portal.auth, "_sso_identity", lambda: identity)
    at = portal_app()
    at.run()
    assert "user_id" not in at.session_state
    at.switch_page("../pages/register.py").run()
    assert not at.exception
    assert at.text_input(key="reg_email").value == "new.hire@example.com"
    assert at.text_input(key="reg_first_name").value == "Nova"
    assert at.text_input(key="reg_last_name").value == "Hire"


def test_sso_identity_of_suspended_account_is_told_why(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    make_employee(session, email="gone@example.com", status="Suspended", status_reason="Left")
    session.commit()
    monkeypatch.setattr(portal.auth, "_sso_identity", lambda: {"email": "gone@example.com"})
    at = portal_app()
    at.run()
    at.switch_page("../pages/sign_in.py").run()
    assert "user_id" not in at.session_state
    assert "Your account is suspended." in texts(at)


def test_manage_account_label_shows_new_status_right_after_approval(session: Session) -> None:
    """The browser keeps the label it was sent; the page must send the chosen account again
    (with its new status) or the label says "(Pending)" and, sent back, no longer matches."""
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    pending = make_employee(session, first_name="Nina", email="nina@example.com", status="Pending")
    session.commit()
    at = portal_app(admin)
    at.run()
    at.switch_page("../pages/accounts_admin.py").run()
    at.selectbox(key="accounts_chosen").select(pending.id).run()
    assert f"{pending.full_name} <nina@example.com> (Pending)" in at.selectbox(key="accounts_chosen").options
    at.button(key="m_approve").click().run()
    assert not at.exception
    assert fresh(session, pending).status == "Approved"
    chosen = at.selectbox(key="accounts_chosen")
    assert chosen.value == pending.id
    assert chosen.proto.set_value, "the browser is not told the chosen account's new label"
    assert chosen.proto.raw_value == f"{pending.full_name} <nina@example.com> (Approved)"
