"""The journey of one request through the whole product, in a real browser.

An employee registers; the admin approves the account; the employee signs in (and is
remembered by a cookie signed with the configured secret); the employee submits an Asset
Check Out request with a PNG attachment (routed to the Asset Department). Each step is a function;
`test_journey` runs them in order against one portal, saving a screenshot per step under
test-artifacts/e2e/test_journey/.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from tests.e2e.harness import (
    choose,
    click_button,
    exceptions_shown,
    expect_text,
    fill,
    goto,
    key_locator,
    nav,
    sign_in,
    wait_idle,
    wait_until,
)

pytestmark = pytest.mark.browser


@dataclass
class Journey:
    portal: object
    db: object
    sink: object
    shots: object
    new_page: object
    admin: dict
    secret: str
    pages: dict = field(default_factory=dict)
    employee: dict = field(
        default_factory=lambda: {
            "first_name": "Emma",
            "last_name": "Reyes",
            "email": "emma.reyes@e2e.example.com",
            "company_id": "MA9002",
            "department": "Sales",
            "password": "Tr1cky#Pass2026",
        }
    )

    def page(self, who: str):
        if who not in self.pages:
            self.pages[who] = self.new_page()
        return self.pages[who]

    def shot(self, who: str, step: str) -> None:
        page = self.page(who)
        assert exceptions_shown(page) == [], f"{step}: a stack trace is shown to {who}"
        self.shots(page, f"{who}-{step}")


def step_employee_registers(j: Journey) -> None:
    page = j.page("employee")
    goto(page, j.portal, "register")
    e = j.employee
    for name in ("first_name", "last_name", "email", "company_id", "password"):
        fill(page, f"reg_{name}", e[name])
    fill(page, "reg_password_confirm", e["password"])
    choose(page, "reg_department", e["department"])
    click_button(page, "Register")
    expect_text(page, "pending approval")
    j.shot("employee", "registered")


def step_admin_approves(j: Journey) -> None:
    page = j.page("admin")
    sign_in(page, j.portal, j.admin["email"], j.admin["password"])
    goto(page, j.portal, "accounts")
    expect_text(page, j.employee["email"])
    with j.db() as s:
        from smartsupport_core.models import Employee

        emp_id = s.query(Employee.id).filter(Employee.email == j.employee["email"]).scalar()
    j.employee["id"] = emp_id
    click_button(page, "Approve", key=f"approve_{emp_id}")
    expect_text(page, f"{j.employee['first_name']} {j.employee['last_name']}: approved.")
    j.shot("admin", "approved")


def step_employee_signs_in_and_is_remembered(j: Journey) -> None:
    page = j.page("employee")
    sign_in(page, j.portal, j.employee["email"], j.employee["password"], remember=True)
    expect_text(page, f"Signed in as {j.employee['first_name']} {j.employee['last_name']}")
    j.shot("employee", "signed-in")

    # the remembered-session cookie is signed with the configured secret, never a default
    from smartsupport_core import login

    cookies = wait_until(
        lambda: [c for c in page.context.cookies() if c["name"] == "smartsupport_session"], 20, "the session cookie"
    )
    token = cookies[0]["value"]
    assert login.token_claims(token, j.secret) is not None
    for default in ("some_key", "", "secret", "changeme"):
        assert login.token_claims(token, default) is None
    # a fresh tab of the same browser (no Streamlit session yet) is signed in by the cookie
    again = page.context.new_page()
    goto(again, j.portal, "home")
    expect_text(again, f"Signed in as {j.employee['first_name']}")
    again.close()


ATTACHMENT = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64  # content-sniffed as PNG


def _category_id(j: Journey, name: str) -> int:
    from smartsupport_core.models import TicketCategory

    with j.db() as s:
        return s.query(TicketCategory.id).filter(TicketCategory.name == name).scalar()


def step_employee_submits_asset_request_with_attachment(j: Journey) -> None:
    import datetime as dt

    page = j.page("employee")
    nav(page, "submit")
    choose(page, "submit_0_category", "Asset Check Out")
    cid = _category_id(j, "Asset Check Out")
    choose(page, f"submit_0_{cid}_sub", "Laptop")
    fill(page, "submit_0_subject", "Borrow a laptop for the Cebu roadshow")
    fill(page, "submit_0_description", "I need a second laptop for the three-day roadshow in Cebu next month.")
    fill(page, f"submit_0_{cid}_asset_name", "ThinkPad T14")
    fill(page, f"submit_0_{cid}_serial_number", "PF-3K9Q2")
    choose(page, f"submit_0_{cid}_location", "Main Office 2nd Floor")
    date_box = key_locator(page, f"submit_0_{cid}_expected_return_date").locator("input").first
    date_box.fill((dt.date.today() + dt.timedelta(days=21)).isoformat())
    date_box.press("Enter")
    wait_idle(page)
    key_locator(page, "submit_0_files").locator("input[type=file]").set_input_files(
        files=[{"name": "laptop-photo.png", "mimeType": "image/png", "buffer": ATTACHMENT}]
    )
    wait_idle(page)
    click_button(page, "Submit ticket")
    text = expect_text(page, "was submitted")
    j.shot("employee", "submitted")
    from smartsupport_core.models import Ticket, TicketAttachment

    with j.db() as s:
        ticket = s.query(Ticket).filter(Ticket.employee_id == j.employee["id"]).one()
        j.ticket = {"id": ticket.id, "number": ticket.ticket_number}
        files = s.query(TicketAttachment.file_name).filter(TicketAttachment.ticket_id == ticket.id).all()
    assert ticket.ticket_number in text
    assert files == [("laptop-photo.png",)]
    assert ticket.category == "Asset Check Out" and ticket.department == "Asset Department"


STEPS = [
    step_employee_registers,
    step_admin_approves,
    step_employee_signs_in_and_is_remembered,
    step_employee_submits_asset_request_with_attachment,
]


def test_journey(portal, portal_db, smtp_sink, shots, new_page, admin_account, portal_secret):
    journey = Journey(portal, portal_db, smtp_sink, shots, new_page, admin_account, portal_secret)
    for step in STEPS:
        step(journey)
