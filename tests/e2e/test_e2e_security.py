"""Security through the browser: user-written text is shown as text, the sign-in lockout
holds, and no secret ends up in a log."""

from __future__ import annotations

import secrets

import pytest

from tests.e2e.conftest import DB_PASSWORD
from tests.e2e.harness import (
    choose,
    click_button,
    exceptions_shown,
    expect_text,
    fill,
    goto,
    main_text,
    sign_in,
)

pytestmark = pytest.mark.browser

PAYLOADS = {
    "first_name": "<img src=x onerror=alert(1)>",
    "last_name": "<script>alert(2)</script>",
    "middle_name": "[x](javascript:alert(3))",
    "suffix": "<b onclick=alert(4)>",
}


def assert_nothing_injected(page) -> None:
    """No element made from the payloads, no script run (dialogs are checked by `new_page`)."""
    main = page.locator("[data-testid='stMain'], [data-testid='stSidebar']")
    assert main.locator("img[src='x']").count() == 0
    assert main.locator("b[onclick]").count() == 0
    assert main.locator("a[href^='javascript']").count() == 0
    assert page.locator("script:text('alert(2)')").count() == 0
    assert exceptions_shown(page) == []


def _approved_employee(portal_db, email: str, company_id: str, password: str, **names: str) -> int:
    from smartsupport_core.models import Employee
    from smartsupport_core.passwords import hash_password

    with portal_db() as s:
        emp = Employee(
            first_name=names.get("first_name", "Lock"),
            last_name=names.get("last_name", "Tester"),
            email=email,
            company_id=company_id,
            department="Sales",
            role="Employee",
            status="Approved",
            password=hash_password(password),
        )
        s.add(emp)
        s.commit()
        return emp.id


def test_script_payloads_in_names_are_shown_as_text(portal, portal_db, admin_account, new_page, shots):
    visitor = new_page()
    goto(visitor, portal, "register")
    password = "Xss#Check2026"
    for field, value in PAYLOADS.items():
        fill(visitor, f"reg_{field}", value)
    fill(visitor, "reg_email", "xss.names@e2e.example.com")
    fill(visitor, "reg_company_id", "MA9101")
    fill(visitor, "reg_password", password)
    fill(visitor, "reg_password_confirm", password)
    choose(visitor, "reg_department", "Sales")
    click_button(visitor, "Register")
    expect_text(visitor, "pending approval")
    shots(visitor, "registered")
    assert PAYLOADS["first_name"] in main_text(visitor)
    assert_nothing_injected(visitor)

    admin = new_page()
    sign_in(admin, portal, admin_account["email"], admin_account["password"])
    goto(admin, portal, "accounts")
    text = main_text(admin)
    for value in PAYLOADS.values():
        assert value in text
    assert_nothing_injected(admin)
    from smartsupport_core.models import Employee

    with portal_db() as s:
        emp_id = s.query(Employee.id).filter(Employee.email == "xss.names@e2e.example.com").scalar()
    click_button(admin, "Approve", key=f"approve_{emp_id}")
    expect_text(admin, ": approved.")
    shots(admin, "approved")
    assert f"{PAYLOADS['first_name']} {PAYLOADS['middle_name']}" in main_text(admin)
    assert_nothing_injected(admin)

    sign_in(visitor, portal, "xss.names@e2e.example.com", password)
    expect_text(visitor, "Signed in as")
    shots(visitor, "signed-in")
    assert PAYLOADS["last_name"] in main_text(visitor)
    assert PAYLOADS["last_name"] in visitor.locator("[data-testid='stSidebar']").inner_text()
    assert_nothing_injected(visitor)


def test_sign_in_lockout_through_the_browser(portal, portal_db, new_page, shots):
    password = "Right#Pass2026"
    _approved_employee(portal_db, "lockout@e2e.example.com", "MA9102", password)
    page = new_page()
    for attempt in range(4):
        sign_in(page, portal, "lockout@e2e.example.com", f"Wrong#Pass{attempt}")
        expect_text(page, "Incorrect e-mail address or password.")
    sign_in(page, portal, "lockout@e2e.example.com", "Wrong#Pass5")  # the fifth failure locks
    expect_text(page, "Too many failed sign-in attempts")
    sign_in(page, portal, "lockout@e2e.example.com", password)
    expect_text(page, "Too many failed sign-in attempts")
    shots(page, "locked")
    assert "Signed in as" not in main_text(page)
    # another browser (a second replica would be the same): the lock is in the database
    other = new_page()
    sign_in(other, portal, "lockout@e2e.example.com", password)
    expect_text(other, "Too many failed sign-in attempts")


def test_no_secrets_in_logs(portal, portal_db, admin_account, portal_secret, new_page):
    """Sign in and fail to sign in (typed passwords), run the worker with SMTP credentials,
    then look for every secret in everything the portal and the worker printed."""
    typed = "Typed#Secret" + secrets.token_hex(4)
    _approved_employee(portal_db, "logs@e2e.example.com", "MA9103", typed)
    page = new_page()
    sign_in(page, portal, "logs@e2e.example.com", typed + "x")
    expect_text(page, "Incorrect e-mail address or password.")
    sign_in(page, portal, "logs@e2e.example.com", typed)
    expect_text(page, "Signed in as")

    smtp_password = "smtp-pw-" + secrets.token_hex(8)
    worker = portal.cli(
        "worker",
        "--once",
        env={"SMARTSUPPORT_SMTP_USERNAME": "mailer", "SMARTSUPPORT_SMTP_PASSWORD": smtp_password},
        timeout=120,
    )
    output = portal.log() + worker.stdout + worker.stderr
    for name, secret in {
        "secret key": portal_secret,
        "database password": DB_PASSWORD,
        "SMTP password": smtp_password,
        "admin password": admin_account["password"],
        "typed password": typed,
    }.items():
        assert secret not in output, f"the {name} appears in the logs"
    from smartsupport_core.models import EmailNotification

    with portal_db() as s:  # and not in what the outbox keeps about failures either
        errors = [e for (e,) in s.query(EmailNotification.error_message) if e]
    assert not [e for e in errors if smtp_password in e or DB_PASSWORD in e]
