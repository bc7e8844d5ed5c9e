"""The workspace per role in Chromium at 1,440 px (issue 14): Home's tiles show the core's
counts and open their lists; the admin approves a New ticket from the default queue view in
two clicks (row, Approve); a coordinator triages five tickets (status, assignee, priority)
in the side panel without a horizontal scroll bar, never being offered a refused choice; the
employee opens a ticket from a tile's list in one click, in the same tab. Screenshots of
Home, the queue and the ticket page per role go to docs/screenshots/ (the README shows them).
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path

import pytest

from tests.e2e.harness import (
    add_person,
    choose,
    click_button,
    exceptions_shown,
    expect_text,
    goto,
    key_locator,
    sign_in,
    wait_idle,
    wait_until,
)

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
WIDTH, HEIGHT = 1440, 900
PASSWORD = "Work#Space2026"
person = functools.partial(add_person, password=PASSWORD)
ROW_HEIGHT = 35  # Streamlit's dataframe: header and rows are 35 px high


def screenshot(page, name: str) -> None:
    assert exceptions_shown(page) == [], f"{name}: a stack trace is shown"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


def tile_counts(page) -> dict[str, str]:
    """Home's tiles as the browser shows them: label -> count."""
    out = {}
    for tile in page.locator("[data-testid='stMain'] [class*='st-key-tile_']").all():
        label = tile.locator("[data-testid='stMetricLabel']").inner_text().strip()
        out[label] = tile.locator("[data-testid='stMetricValue']").inner_text().strip()
    return out


def core_tiles(portal_db, user_id: int) -> dict[str, str]:
    from smartsupport_core import inbox
    from smartsupport_core.models import Employee

    with portal_db() as s:
        return {t.label: t.shown for t in inbox.tiles(s, s.get(Employee, user_id))}


def view_rows(portal_db, user_id: int, key: str | None = None) -> list[int]:
    """Ticket ids of the first page of a queue view in the grid's order (the core's query)."""
    from smartsupport_core import queue, saved_views
    from smartsupport_core.models import Employee

    with portal_db() as s:
        user = s.get(Employee, user_id)
        view = saved_views.builtin_view(user, key) if key else saved_views.builtin_views(user)[0]
        return [r.id for r in queue.query_queue(s, user, view.filters, page_size=50).rows]


def click_row(page, index: int, grid=None) -> None:
    """Select a grid row by clicking its row marker (the left edge of the row)."""
    grid = grid or key_locator(page, "q_grid_box").locator("[data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 14, box["y"] + ROW_HEIGHT * (index + 1) + ROW_HEIGHT / 2)
    wait_idle(page)


def grid_fits(page) -> bool:
    """No horizontal scrolling: the grid's scroller is as wide as its content."""
    return page.evaluate(
        """() => {
            const box = document.querySelector('.st-key-q_grid_box [data-testid="stDataFrame"]');
            const scroller = box && (box.querySelector('.dvn-scroller') || box);
            return !!scroller && scroller.scrollWidth <= scroller.clientWidth;
        }"""
    )


def options_of(page, key: str) -> list[str]:
    key_locator(page, key).get_by_role("combobox").first.click()
    names = [o.inner_text().strip() for o in page.get_by_role("option").all()]
    page.keyboard.press("Escape")
    return names


def test_workspace_per_role(portal, portal_db, admin_account, new_page):
    from smartsupport_core.models import Employee, Ticket
    from tests.factories import make_ticket

    now = dt.datetime.now(dt.UTC)
    with portal_db() as s:
        admin_id = s.query(Employee.id).filter(Employee.email == admin_account["email"]).scalar()
        casey = person(s, "casey.ws@e2e.example.com", "Casey", "Coordinator-Longname", "Ticket Coordinator",
                       "IT Department", "MA9701")
        ivan = person(s, "ivan.ws@e2e.example.com", "Ivan", "Ito", "Ticket Coordinator", "IT Department", "MA9702")
        person(s, "hana.ws@e2e.example.com", "Hana", "Hr", "Ticket Coordinator", "Human Resources", "MA9703")
        eve_id = person(s, "eve.ws@e2e.example.com", "Eve", "Worker", "Employee", "Sales", "MA9704")
        eve = s.get(Employee, eve_id)
        new_t = make_ticket(s, eve, status="New", subject="New monitor for the reception desk",
                            submit_date=now - dt.timedelta(days=7), sla_response_due_at=now - dt.timedelta(days=6))
        triage = [
            make_ticket(s, eve, status="Open", subject=f"Workspace triage {i}: VPN drops every hour",
                        submit_date=now - dt.timedelta(hours=5 + i),
                        sla_response_due_at=now + dt.timedelta(hours=1 + i),
                        sla_resolution_due_at=now + dt.timedelta(days=3))
            for i in range(5)
        ]
        held = make_ticket(s, eve, status="On Hold", subject="Printer on floor 2 prints blank pages",
                           assigned_to_id=casey, on_hold_since=now - dt.timedelta(hours=2),
                           first_response_at=now - dt.timedelta(hours=3), sla_response_met=True)
        s.commit()
        ids = {"new": new_t.id, "triage": [t.id for t in triage], "held": held.id}

    # --- admin: Home's tiles, then the default view, then approve in two clicks ----------------
    admin = new_page(viewport={"width": WIDTH, "height": HEIGHT})
    sign_in(admin, portal, admin_account["email"], admin_account["password"])
    goto(admin, portal, "")
    assert tile_counts(admin) == core_tiles(portal_db, admin_id)
    screenshot(admin, "home-admin")
    key_locator(admin, "tile_needs-approval").get_by_role("link").first.click()
    wait_idle(admin)
    expect_text(admin, "Ticket queue")
    assert "view=needs-approval" in admin.url
    rows = view_rows(portal_db, admin_id, "needs-approval")
    assert ids["new"] in rows
    click_row(admin, rows.index(ids["new"]))  # click 1: the row
    expect_text(admin, "New monitor for the reception desk")
    screenshot(admin, "queue-admin")
    click_button(admin, "Approve ticket", key=f"q_approve_{ids['new']}")  # click 2: Approve
    expect_text(admin, "saved (status Open)")
    with portal_db() as s:
        assert s.get(Ticket, ids["new"]).status == "Open"
    goto(admin, portal, f"ticket?id={ids['held']}")
    screenshot(admin, "ticket-admin")

    # --- coordinator: Home, then triage five tickets in the side panel at 1,440 px ------------
    coord = new_page(viewport={"width": WIDTH, "height": HEIGHT})
    sign_in(coord, portal, "casey.ws@e2e.example.com", PASSWORD)
    goto(coord, portal, "")
    assert tile_counts(coord) == core_tiles(portal_db, casey)
    screenshot(coord, "home-coordinator")
    goto(coord, portal, "queue")
    expect_text(coord, "Ticket queue")
    assert grid_fits(coord), "the grid scrolls horizontally at 1,440 px"
    rows = view_rows(portal_db, casey)
    for n, tid in enumerate(ids["triage"]):
        click_row(coord, rows.index(tid))
        expect_text(coord, f"Workspace triage {n}")
        statuses = options_of(coord, f"q_status_{tid}")
        assert statuses == ["Open (now)", "In Progress", "On Hold", "Resolved"]  # never New, never Closed
        people = options_of(coord, f"q_assignee_{tid}")
        assert "Ivan Ito" in people and not any("Hana" in p for p in people)  # HR's coordinator: refused
        choose(coord, f"q_status_{tid}", "In Progress")
        choose(coord, f"q_assignee_{tid}", "Ivan Ito")
        choose(coord, f"q_priority_{tid}", "High")
        click_button(coord, "Save", key=f"q_save_{tid}")
        expect_text(coord, "assigned to Ivan Ito")
        assert grid_fits(coord), "the grid scrolls horizontally at 1,440 px"
    with portal_db() as s:
        got = [(t.status, t.assigned_to_id, t.priority) for t in s.query(Ticket).filter(Ticket.id.in_(ids["triage"]))]
    assert got == [("In Progress", ivan, "High")] * 5
    screenshot(coord, "queue-coordinator")
    # the Canned responses tab is drawn only when opened (a click is a rerun), and back again
    coord.get_by_role("tab", name="Canned responses").click()
    expect_text(coord, "New canned response")
    grids = coord.locator("[data-testid='stDataFrame']")
    wait_until(lambda: grids.count() == 0, 30, "the queue grid gone while the other tab is open")
    coord.get_by_role("tab", name="Queue").click()
    expect_text(coord, "showing 1 to")
    wait_until(lambda: grids.count() == 1, 30, "the queue grid back")
    goto(coord, portal, f"ticket?id={ids['held']}")
    expect_text(coord, "Printer on floor 2 prints blank pages")
    assert "Casey Coordinator-Longname" in coord.locator("[data-testid='stMain']").inner_text()  # not cut
    screenshot(coord, "ticket-coordinator")

    # --- employee: Home's tiles, one click opens the list, one click opens the ticket ----------
    emp = new_page(viewport={"width": WIDTH, "height": HEIGHT})
    sign_in(emp, portal, "eve.ws@e2e.example.com", PASSWORD)
    goto(emp, portal, "")
    counts = tile_counts(emp)
    assert counts == core_tiles(portal_db, eve_id) and counts["Waiting for my reply"] == "1"
    screenshot(emp, "home-employee")
    key_locator(emp, "tile_waiting_for_requester").get_by_role("link").first.click()
    wait_idle(emp)
    expect_text(emp, "Select a ticket to open it.")
    assert "show=waiting_for_requester" in emp.url
    screenshot(emp, "my-tickets-employee")
    click_row(emp, 0, key_locator(emp, "my_table"))
    expect_text(emp, "Printer on floor 2 prints blank pages")
    assert "Public reply" in emp.locator("[data-testid='stMain']").inner_text()  # the ticket page's composer
    assert len(emp.context.pages) == 1 and re.search(rf"id={ids['held']}\b", emp.url)  # same tab
    screenshot(emp, "ticket-employee")
