"""Clicking a bar of the SLA dashboard lists the tickets behind it (issue 7, "clicking a bar
or cell drills down to the tickets behind it").

Plotly draws bars as SVG under a transparent drag layer, so the click is a real mouse click
at the bar's centre, as a person makes it; the page must then show the drill-down for that
bar, with the same count `reporting.drilldown` gives on the same data and filters.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.e2e.harness import (
    exceptions_shown,
    expect_text,
    goto,
    key_locator,
    main_text,
    sign_in,
    wait_idle,
    wait_until,
)
from tests.factories import make_employee, make_ticket

pytestmark = pytest.mark.browser

DRILL_CAPTION = re.compile(r"priority = (\w+): (\d+) ticket\(s\)")


def _arrange(portal_db) -> None:
    """Tickets of two priorities, so the priority breakdown has two bars at least."""
    with portal_db() as s, s.begin():
        requester = make_employee(s, department="Finance")
        for priority, n in (("Critical", 3), ("Low", 2)):
            for i in range(n):
                make_ticket(s, requester, priority=priority, subject=f"Drill {priority} {i}")


def _bars(page):
    """The bars of the breakdown chart (the only visible bar chart on the Breakdown tab)."""
    chart = page.locator(".st-key-chart_breakdown")
    return chart.locator(".barlayer .point path")


def test_clicking_a_bar_lists_its_tickets(portal, portal_db, admin_account, new_page, shots):
    from smartsupport_core import reporting
    from smartsupport_core.models import Employee

    _arrange(portal_db)
    page = new_page()
    sign_in(page, portal, admin_account["email"], admin_account["password"])
    goto(page, portal, "dashboard")
    expect_text(page, "SLA dashboard")
    page.get_by_role("tab", name="Breakdown").click()
    wait_idle(page)
    key_locator(page, "dash_dim").get_by_text("Priority", exact=True).click()
    wait_idle(page)
    key_locator(page, "dash_metric").get_by_text("Created", exact=True).click()
    wait_idle(page)
    wait_until(lambda: _bars(page).count() >= 2, 60, "two bars in the priority breakdown")
    page.locator(".st-key-chart_breakdown").scroll_into_view_if_needed()
    page.wait_for_timeout(500)  # let Plotly settle after the scroll
    shots(page, "breakdown-by-priority")

    box = _bars(page).first.bounding_box()
    assert box is not None and box["height"] > 0
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_idle(page)
    wait_until(lambda: DRILL_CAPTION.search(main_text(page)), 60, "the drill-down caption after the click")
    shots(page, "drilled-down")
    label, shown_total = DRILL_CAPTION.search(main_text(page)).groups()

    with portal_db() as s:
        admin = s.query(Employee).filter(Employee.email == admin_account["email"]).one()
        today = dt.datetime.now(reporting.report_tz()).date()
        filters = reporting.ReportFilters(start=today - dt.timedelta(days=29), end=today)
        expected = reporting.drilldown(s, admin, filters, "priority", label)
    assert expected.total > 0
    assert int(shown_total) == expected.total
    assert exceptions_shown(page) == []

    # the list is a table of those tickets; "Clear" closes it
    assert page.locator("[data-testid='stMain'] [data-testid='stDataFrame']").count() > 0
    page.get_by_role("button", name="Clear", exact=True).click()
    wait_idle(page)
    wait_until(lambda: not DRILL_CAPTION.search(main_text(page)), 60, "the drill-down to close")
