"""A department head's journey through the SLA dashboard (issue 15 item 1), in Chromium.

An employee (no staff role) whose e-mail is the Legal department's head e-mail signs in, is
offered the SLA dashboard, sees only Legal in the department filter and only Legal's tickets
in the figures, clicks the Legal bar to list its tickets, exports them (the file has the
page's headers and no internal ids), and opens one ticket from the list in the same session:
the ticket page shows its summary, never its description or internal note.
"""

from __future__ import annotations

import csv
import io
import secrets

import pytest

from tests.e2e.harness import (
    exceptions_shown,
    expect_text,
    key_locator,
    main_text,
    nav,
    sign_in,
    wait_idle,
    wait_until,
)
from tests.factories import make_employee, make_ticket

pytestmark = pytest.mark.browser

SECRET_NOTE = "Internal: the contract is under review"
SECRET_DESCRIPTION = "Private details only the requester and staff read"


def _arrange(portal_db) -> dict[str, str]:
    from smartsupport_core.models import Department, TicketComment
    from smartsupport_core.passwords import hash_password
    from smartsupport_core.vocab import Role

    account = {"email": "legal.head@e2e.example.com", "password": "He4d#" + secrets.token_hex(6)}
    with portal_db() as s, s.begin():
        password = hash_password(account["password"])
        head = make_employee(s, role=Role.EMPLOYEE, department="Sales", email=account["email"], password=password)
        s.query(Department).filter(Department.name == "Legal").update({"head_email": account["email"].upper()})
        requester = make_employee(s, department="Legal")
        for i in range(3):
            t = make_ticket(
                s,
                requester,
                department="Legal",
                category="Others",
                subject=f"Contract {i}",
                description=SECRET_DESCRIPTION,
            )
            s.add(TicketComment(ticket_id=t.id, user_id=requester.id, comment=SECRET_NOTE, is_internal=True))
        other = make_employee(s, department="Customer Service")
        make_ticket(s, other, department="Customer Service", category="Others", subject="Not for the head")
        account["id"] = str(head.id)
    return account


def _bars(page):
    return page.locator(".st-key-chart_breakdown .barlayer .point path")


def test_department_head_journey(portal, portal_db, new_page, shots) -> None:
    from smartsupport_core import reporting
    from smartsupport_core.models import Employee

    account = _arrange(portal_db)
    page = new_page(accept_downloads=True)
    sign_in(page, portal, account["email"], account["password"])
    sidebar = page.locator("[data-testid='stSidebarNav']").inner_text()
    assert "SLA dashboard" in sidebar and "Queue" not in sidebar

    nav(page, "dashboard")
    expect_text(page, "You see the departments you head: Legal.")
    key_locator(page, "dash_department").get_by_role("combobox").first.click()
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    wait_idle(page)
    assert options == ["All", "Legal"]
    shots(page, "head-dashboard")

    page.get_by_role("tab", name="Breakdown").click()
    wait_idle(page)
    key_locator(page, "dash_metric").get_by_text("Created", exact=True).click()
    wait_idle(page)
    wait_until(lambda: _bars(page).count() >= 1, 60, "the Legal bar")
    assert _bars(page).count() == 1  # Legal only: Customer Service is not in the head's view
    page.locator(".st-key-chart_breakdown").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    box = _bars(page).first.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_idle(page)
    expect_text(page, "department = Legal:")
    with portal_db() as s:
        head = s.get(Employee, int(account["id"]))
        today = reporting.ReportFilters.last_days(30)
        expected = reporting.drilldown(s, head, today, "department", "Legal")
    assert f"department = Legal: {expected.total} ticket(s)" in main_text(page)
    assert expected.total >= 3
    shots(page, "head-drilled-down")

    with page.expect_download() as download:
        key_locator(page, "csv_drilldown").get_by_role("button").click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert len(rows) == expected.total
    assert list(rows[0]) == [
        "Ticket",
        "Subject",
        "Status",
        "Priority",
        "Department",
        "Category",
        "Assignee",
        "Submitted",
        "First response",
        "Resolved",
        "Response SLA",
        "Resolution SLA",
    ]
    assert {r["Department"] for r in rows} == {"Legal"}
    assert set(rows[0].values()).isdisjoint({str(i) for i in expected.tickets["id"]})

    # select the first row of the drill-down table: the ticket opens in this session
    grid = key_locator(page, "drill_table")
    grid.scroll_into_view_if_needed()
    gbox = grid.bounding_box()
    assert gbox is not None
    page.mouse.click(gbox["x"] + 12, gbox["y"] + 35 + 17)  # the first row's selection box
    wait_idle(page)
    first = expected.tickets.iloc[0]
    expect_text(page, "Summary for the head of Legal")
    assert first["ticket_number"] in main_text(page) or any(
        n in main_text(page) for n in expected.tickets["ticket_number"]
    )
    text = main_text(page)
    assert SECRET_NOTE not in text and SECRET_DESCRIPTION not in text
    assert "Sign out" in page.locator("[data-testid='stSidebar']").inner_text()  # the same session
    shots(page, "head-ticket-summary")
    assert exceptions_shown(page) == []
