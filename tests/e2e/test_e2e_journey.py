"""The journey of one request through the whole product, in a real browser.

An employee registers; the admin approves the account; the employee signs in (and is
remembered by a cookie signed with the configured secret); the employee submits an Asset
Check Out request with a PNG attachment (routed to the Asset Department); the admin opens
it; the Asset Department's coordinator finds it in the queue, assigns it to themself, adds
an internal note and a public reply; the employee sees the reply but never the note; the
worker mails the notifications to a real SMTP sink; the coordinator resolves; the employee
rates it; the dashboard's KPIs count it. Each step is a function;
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
    goto(again, j.portal, "")  # the default page is served at the root URL
    expect_text(again, f"Signed in as {j.employee['first_name']}")
    again.close()


# Content-sniffed as PNG but not decodable: the ticket page must still render (it once
# crashed in st.image, hiding every action in the sidebar) and just not preview it.
ATTACHMENT = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64


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


def step_admin_opens_it(j: Journey) -> None:
    page = j.page("admin")
    goto(page, j.portal, f"ticket?id={j.ticket['id']}")
    expect_text(page, j.ticket["number"])
    assert "laptop-photo.png" in page.locator("[data-testid='stMain']").text_content()  # the details tab
    click_button(page, "Approve", key="approve")
    expect_text(page, "Ticket approved and opened.")
    j.shot("admin", "opened")


def step_coordinator_assigns_notes_and_replies(j: Journey) -> None:
    from smartsupport_core.models import Employee, Ticket
    from smartsupport_core.passwords import hash_password

    # The coordinator account is arranged directly in the database (the journey is about the
    # ticket flow; registering + approving + promoting through the Accounts page is covered by
    # the account tests): an approved Ticket Coordinator of the Asset Department.
    coordinator = {"email": "carlo.asset@e2e.example.com", "password": "Asset#Coord2026"}
    with j.db() as s:
        emp = Employee(
            first_name="Carlo",
            last_name="Santos",
            email=coordinator["email"],
            company_id="MA9004",
            department="Asset Department",
            role="Ticket Coordinator",
            status="Approved",
            password=hash_password(coordinator["password"]),
        )
        s.add(emp)
        s.commit()
        coordinator["id"] = emp.id
    j.coordinator = coordinator
    page = j.page("coordinator")
    sign_in(page, j.portal, coordinator["email"], coordinator["password"])
    goto(page, j.portal, "queue")
    j.shot("coordinator", "queue")
    tid = j.ticket["id"]
    goto(page, j.portal, f"ticket?id={tid}")
    expect_text(page, j.ticket["number"])
    choose(page, f"assign_{tid}", "Carlo Santos")
    click_button(page, "Save", key=f"assign_save_{tid}")
    with j.db() as s:
        assert s.get(Ticket, tid).assigned_to_id == coordinator["id"]

    # The toggle dance: a note typed as internal, then a switch to public, then a post: the
    # note is never published (each kind has its own box).
    key_locator(page, f"compose_mode_{tid}").get_by_text("Internal note", exact=True).click()
    wait_idle(page)
    fill(page, f"note_{tid}", "Internal: unit PF-3K9Q2 has a weak battery, give the spare charger too.")
    key_locator(page, f"compose_mode_{tid}").get_by_text("Public reply", exact=True).click()
    wait_idle(page)
    assert key_locator(page, f"reply_{tid}").locator("textarea").input_value() == ""
    key_locator(page, f"compose_mode_{tid}").get_by_text("Internal note", exact=True).click()
    wait_idle(page)
    assert "weak battery" in key_locator(page, f"note_{tid}").locator("textarea").input_value()  # its own draft
    click_button(page, "Post internal note", key=f"send_internal_{tid}")
    expect_text(page, "Internal note added.")
    assert key_locator(page, f"note_{tid}_1").locator("textarea").input_value() == ""  # an empty box
    key_locator(page, f"compose_mode_{tid}").get_by_text("Public reply", exact=True).click()
    wait_idle(page)
    fill(page, f"reply_{tid}", "Your laptop is ready for pick-up at the Asset desk, 2nd floor.")
    click_button(page, "Send reply", key=f"send_public_{tid}")
    expect_text(page, "Reply sent.")
    assert key_locator(page, f"reply_{tid}_1").locator("textarea").input_value() == ""  # posted: an empty box
    j.shot("coordinator", "replied")


def step_employee_sees_reply_not_note(j: Journey) -> None:
    page = j.page("employee")
    goto(page, j.portal, f"ticket?id={j.ticket['id']}")
    expect_text(page, "ready for pick-up")
    j.shot("employee", "sees-reply")
    everything = page.locator("body").text_content()  # hidden tabs included
    assert "weak battery" not in everything


def step_emails_arrive(j: Journey) -> None:
    done = j.portal.cli("worker", "--once", timeout=180)
    assert done.returncode == 0, done.stderr
    to_employee = wait_until(lambda: j.sink.to(j.employee["email"]), 30, "e-mails to the employee")
    subjects = " | ".join(m.subject for m in to_employee)
    assert j.ticket["number"] in subjects
    bodies = "\n".join(m.text() for m in to_employee)
    assert "ready for pick-up" in bodies  # the public reply is mailed
    assert "weak battery" not in bodies  # the internal note never is
    assert j.sink.to(j.admin["email"]), "the admin got no e-mail (registration / new ticket)"


def step_coordinator_resolves(j: Journey) -> None:
    page = j.page("coordinator")
    tid = j.ticket["id"]
    goto(page, j.portal, f"ticket?id={tid}")
    click_button(page, "Resolve…", key="move_Resolved")
    fill(page, f"resolution_{tid}", "Handed over the laptop and the spare charger.")
    click_button(page, "Resolve", key="resolve_confirm")
    expect_text(page, "Ticket resolved.")
    j.shot("coordinator", "resolved")


def step_employee_rates(j: Journey) -> None:
    page = j.page("employee")
    tid = j.ticket["id"]
    goto(page, j.portal, f"ticket?id={tid}&rate=1")
    stars = key_locator(page, f"rating_stars_{tid}")
    # the e-mail's link (?rate=1) opens the rating section: no click on its header needed
    wait_until(stars.is_visible, 30, "the rating section opened by ?rate=1")
    stars.locator("button, [role=radio], span[role=button]").nth(4).click()
    wait_idle(page)
    fill(page, f"rating_comment_{tid}", "Quick and friendly, thank you!")
    click_button(page, "Save rating", key="rating_save")
    expect_text(page, "Thank you for your rating.")
    j.shot("employee", "rated")
    from smartsupport_core.models import TicketRating

    with j.db() as s:
        assert s.query(TicketRating.rating).filter(TicketRating.ticket_id == tid).scalar() == 5


def step_dashboard_counts_it(j: Journey) -> None:
    import datetime as dt

    from smartsupport_core import reporting
    from smartsupport_core.models import Employee

    page = j.page("admin")
    goto(page, j.portal, "dashboard")
    expect_text(page, "SLA")
    j.shot("admin", "dashboard")
    assert exceptions_shown(page) == []
    with j.db() as s:
        admin = s.query(Employee).filter(Employee.email == j.admin["email"]).one()
        today = dt.datetime.now(reporting.report_tz()).date()  # the page's default range: the last 30 days
        kpis = {
            k.key: k
            for k in reporting.kpis(s, admin, reporting.ReportFilters(start=today - dt.timedelta(days=29), end=today))
        }
    assert kpis["created"].value >= 1 and kpis["resolved"].value >= 1
    # ... and the page's tiles show those counts (not only the core computing them)
    for label, key in (("Created", "created"), ("Resolved", "resolved")):
        tile = page.locator("[data-testid='stMetric']").filter(
            has=page.locator("[data-testid='stMetricLabel']").get_by_text(label, exact=True)
        )
        shown = tile.locator("[data-testid='stMetricValue']").first.inner_text()
        assert int(shown.replace(",", "")) == kpis[key].value, (label, shown)


STEPS = [
    step_employee_registers,
    step_admin_approves,
    step_employee_signs_in_and_is_remembered,
    step_employee_submits_asset_request_with_attachment,
    step_admin_opens_it,
    step_coordinator_assigns_notes_and_replies,
    step_employee_sees_reply_not_note,
    step_emails_arrive,
    step_coordinator_resolves,
    step_employee_rates,
    step_dashboard_counts_it,
]


def test_journey(portal, portal_db, smtp_sink, shots, new_page, admin_account, portal_secret):
    journey = Journey(portal, portal_db, smtp_sink, shots, new_page, admin_account, portal_secret)
    for step in STEPS:
        step(journey)
