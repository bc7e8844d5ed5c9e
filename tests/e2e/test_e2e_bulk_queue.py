"""Bulk approve / reject in the queue's grid, in Chromium (issue 14).

An admin opens the "Needs approval" view, switches on "Select several", selects three New
tickets by clicking their rows in the grid (one of them below the grid's fold, so the grid
is scrolled), and approves them with one button; then rejects one more with a reason (the
UI refuses an empty one). The database (read through the core's models) and the screen
show that exactly those tickets changed and every other New ticket did not.

The same save checks the issue's "scroll position and selection survive a save": the page
is scrolled down and the grid scrolled inside before the save; after it neither the page's
scroll position nor the grid's has jumped back to the top, and the three rows are still the
selection.
"""

from __future__ import annotations

import datetime as dt
import functools

import pytest

from tests.e2e.harness import (
    add_person,
    exceptions_shown,
    expect_text,
    goto,
    key_locator,
    main_text,
    sign_in,
    wait_idle,
    wait_until,
)

pytestmark = pytest.mark.browser

PASSWORD = "Bulk#Queue2026"
person = functools.partial(add_person, password=PASSWORD)
ROW_HEIGHT = 35  # Streamlit's dataframe: header and rows are 35 px high
TOLERANCE = 40  # px a scroll position may move (a line of text appearing above, rounding)
REFLOW = 150  # px the ticket page may move when a reply is added (about one message's height)
GRID = ".st-key-q_grid_box [data-testid='stDataFrame']"

#: The page's scroll position: the first ancestor of the main block that scrolls (Streamlit's
#: main section), else the window. Returns [scrollTop, max scrollTop].
PAGE_SCROLL_JS = """() => {
    let el = document.querySelector('[data-testid="stMainBlockContainer"]');
    while (el && el !== document.documentElement) {
        const style = getComputedStyle(el);
        if (['auto', 'scroll'].includes(style.overflowY) && el.scrollHeight > el.clientHeight + 1) {
            return [el.scrollTop, el.scrollHeight - el.clientHeight];
        }
        el = el.parentElement;
    }
    const root = document.scrollingElement;
    return [window.scrollY, root.scrollHeight - root.clientHeight];
}"""

#: The grid's own scroller (Glide data grid's `.dvn-scroller`): [scrollTop, max scrollTop].
GRID_SCROLL_JS = """(sel) => {
    const s = document.querySelector(sel + ' .dvn-scroller');
    return s ? [s.scrollTop, s.scrollHeight - s.clientHeight] : null;
}"""


def page_scroll(page) -> int:
    return int(page.evaluate(PAGE_SCROLL_JS)[0])


def grid_scroll(page) -> int:
    got = page.evaluate(GRID_SCROLL_JS, GRID)
    assert got is not None, "the grid's scroller is not on the page"
    return int(got[0])


def wheel_page(page, dy: float) -> None:
    """Scroll the page with the mouse wheel over the main area's right margin (not the grid)."""
    before = page_scroll(page)
    page.mouse.move(page.viewport_size["width"] - 30, page.viewport_size["height"] / 2)
    page.mouse.wheel(0, dy)
    wait_until(lambda: page_scroll(page) != before or None, 10, "the page to scroll")
    page.wait_for_timeout(200)  # a smooth scroll may still be moving


def set_grid_scroll(page, top: int) -> int:
    """Scroll the grid inside to `top` (clamped) and wait until it is there; returns it."""
    top = min(top, page.evaluate(GRID_SCROLL_JS, GRID)[1])
    page.evaluate("([sel, top]) => { document.querySelector(sel + ' .dvn-scroller').scrollTop = top; }", [GRID, top])
    wait_until(lambda: abs(grid_scroll(page) - top) <= 1 or None, 10, f"the grid to scroll to {top}")
    page.wait_for_timeout(100)  # the canvas redraws on the next animation frame
    return grid_scroll(page)


def click_row(page, index: int) -> None:
    """Click the row marker of the grid's row `index` (0-based), scrolling the grid and the
    page as a person would until the row is on screen."""
    grid = page.locator(GRID).first
    box = grid.bounding_box()
    assert box is not None
    top = grid_scroll(page)
    shown = box["height"] - 2 * ROW_HEIGHT  # below the header, less a partly shown last row
    if not (top <= index * ROW_HEIGHT and (index + 1) * ROW_HEIGHT <= top + shown):
        top = set_grid_scroll(page, max(0, (index - 1) * ROW_HEIGHT))
    y = box["y"] + ROW_HEIGHT * (index + 1) - top + ROW_HEIGHT / 2
    height = page.viewport_size["height"]
    if not 0 < y < height - 10:  # the row is off screen: bring it to the middle
        wheel_page(page, y - height / 2)
        box = grid.bounding_box()
        assert box is not None
        y = box["y"] + ROW_HEIGHT * (index + 1) - top + ROW_HEIGHT / 2
    page.mouse.click(box["x"] + 14, y)
    wait_idle(page)


def needs_approval(portal_db, user_id: int) -> list[int]:
    """Ticket ids of the admin's "Needs approval" view, in the grid's order (the core's query)."""
    from smartsupport_core import queue, saved_views
    from smartsupport_core.models import Employee

    with portal_db() as s:
        user = s.get(Employee, user_id)
        view = saved_views.builtin_view(user, "needs-approval")
        return [r.id for r in queue.query_queue(s, user, view.filters, page_size=50).rows]


def statuses(portal_db, ids) -> dict[int, tuple[str, str | None]]:
    from smartsupport_core.models import Ticket

    with portal_db() as s:
        return {t.id: (t.status, t.rejection_reason) for t in s.query(Ticket).filter(Ticket.id.in_(list(ids)))}


def test_bulk_approve_and_reject_in_the_grid(portal, portal_db, admin_account, new_page):
    from smartsupport_core.models import Employee, Ticket
    from tests.factories import make_ticket

    now = dt.datetime.now(dt.UTC)
    with portal_db() as s:
        admin_id = s.query(Employee.id).filter(Employee.email == admin_account["email"]).scalar()
        req = s.get(Employee, person(s, "rita.bulk@e2e.example.com", "Rita", "Requester", "Employee",
                                     "Sales", "MA9801"))
        new = [
            make_ticket(s, req, status="New", subject=f"Bulk approval {i:02d}: a second screen for the desk",
                        submit_date=now - dt.timedelta(hours=20 - i), sla_response_due_at=now + dt.timedelta(hours=i))
            for i in range(14)
        ]
        s.commit()
        mine = {t.id for t in new}
        numbers = {t.id: t.ticket_number for t in new}
    every_new = {t for t in needs_approval(portal_db, admin_id)}  # other tests' New tickets too
    assert mine <= every_new
    before = statuses(portal_db, every_new)

    page = new_page(viewport={"width": 1440, "height": 700})
    sign_in(page, portal, admin_account["email"], admin_account["password"])
    goto(page, portal, "queue?view=needs-approval")
    expect_text(page, "Ticket queue")
    key_locator(page, "q_multi").locator("label").first.click()  # "Select several"
    wait_idle(page)

    rows = needs_approval(portal_db, admin_id)
    assert len(rows) > 10, "the grid must scroll inside for this test"
    # three of this test's tickets: two at the top, one below the grid's fold
    mine_in_order = [t for t in rows if t in mine]
    approve = [mine_in_order[0], mine_in_order[2], mine_in_order[-1]]
    for tid in approve:
        click_row(page, rows.index(tid))
    expect_text(page, "3 tickets selected")
    # nothing changed in the view: no "queue changed" notice (a row's age ticking is no change)
    assert "The queue changed" not in main_text(page)
    assert grid_scroll(page) > ROW_HEIGHT, "the last row clicked is below the fold: the grid is scrolled"

    # scroll the page down until the Approve button is near the top edge of the window
    button = key_locator(page, "q_approve_bulk").get_by_role("button", name="Approve 3 tickets", exact=True)
    box = button.bounding_box()
    assert box is not None
    if box["y"] > 80:
        wheel_page(page, box["y"] - 80)
    page_top, grid_top = page_scroll(page), grid_scroll(page)
    grid_y = page.locator(GRID).first.bounding_box()["y"]
    assert page_top > 50, f"the page did not scroll ({page_top} px)"

    button.click(no_wait_after=True)
    wait_idle(page)
    expect_text(page, "3 of 3 row(s) saved.")
    assert exceptions_shown(page) == []

    # the database: exactly the three approved, every other New ticket untouched
    after = statuses(portal_db, every_new)
    assert {t for t in after if after[t] != before[t]} == set(approve)
    assert all(after[t][0] == "Open" for t in approve)
    # the screen: a saved line per approved ticket, none for any other; the selection is kept
    text = main_text(page)
    for tid in approve:
        assert f"{numbers[tid]}: saved (status Open)" in text
    for tid in every_new - set(approve):
        assert f"{numbers.get(tid, '#?')}: saved" not in text
    assert "3 tickets selected" in text, "the selection did not survive the save"
    # the scroll positions: neither the page nor the grid jumped back to the top
    assert abs(page_scroll(page) - page_top) <= TOLERANCE, f"page scroll {page_top} -> {page_scroll(page)}"
    assert abs(grid_scroll(page) - grid_top) <= TOLERANCE, f"grid scroll {grid_top} -> {grid_scroll(page)}"
    # the approved tickets left the view: the notice saying so is under the grid, not above it
    assert "The queue changed" in main_text(page)
    moved = page.locator(GRID).first.bounding_box()["y"] - grid_y
    assert abs(moved) <= TOLERANCE, f"the grid moved {moved:.0f} px on screen"

    # --- reject one more with a reason: the empty reason is refused ------------------------
    goto(page, portal, "queue?view=needs-approval")
    rows = needs_approval(portal_db, admin_id)
    assert not set(approve) & set(rows), "approved tickets still wait for approval"
    reject = next(t for t in rows if t in mine)
    click_row(page, rows.index(reject))
    expect_text(page, numbers[reject])
    panel = key_locator(page, "q_panel")
    panel.get_by_role("button", name="Reject ticket…").first.click()
    popover = page.locator("[data-testid='stPopoverBody']")
    popover.get_by_role("button", name="Reject ticket", exact=True).click()
    wait_idle(page)
    wait_until(lambda: "a reason is required" in popover.inner_text() or None, 30, "the refusal of an empty reason")
    assert statuses(portal_db, [reject])[reject][0] == "New"
    reason = "A second screen is not covered by the desk budget this year."
    popover.locator("textarea").fill(reason)
    popover.locator("textarea").press("Tab")
    wait_idle(page)
    popover.get_by_role("button", name="Reject ticket", exact=True).click()
    wait_idle(page)
    expect_text(page, f"{numbers[reject]}: saved (status Rejected)")

    final = statuses(portal_db, every_new)
    changed = {t for t in final if final[t] != before[t]}
    assert changed == {*approve, reject}
    assert final[reject] == ("Rejected", reason)
    with portal_db() as s:
        others = Ticket.id.in_(list(mine - {*approve, reject}))
        assert s.query(Ticket).filter(others, Ticket.status != "New").count() == 0
    # the screen: the view no longer lists the four tickets, and still lists the others
    goto(page, portal, "queue?view=needs-approval")
    left = needs_approval(portal_db, admin_id)
    assert set(left) == every_new - {*approve, reject}
    expect_text(page, f"{len(left)} tickets")


def test_ticket_page_keeps_its_place_after_a_reply(portal, portal_db, new_page):
    """Scrolled down to the composer of a long conversation, "Send reply" reloads the ticket
    (a full rerun): the page does not jump back to the top, the composer stays on screen and
    is empty, and the reply is in the database and the conversation."""
    from smartsupport_core import tickets
    from smartsupport_core.models import Employee, TicketComment
    from tests.factories import make_ticket

    now = dt.datetime.now(dt.UTC)
    with portal_db() as s:
        coord = s.get(Employee, person(s, "cora.scroll@e2e.example.com", "Cora", "Scroll", "Ticket Coordinator",
                                       "IT Department", "MA9811"))
        req = s.get(Employee, person(s, "reed.scroll@e2e.example.com", "Reed", "Scroll", "Employee",
                                     "Sales", "MA9812"))
        ticket = make_ticket(s, req, status="In Progress", subject="Docking station drops the second monitor",
                             assigned_to_id=coord.id, submit_date=now - dt.timedelta(days=2))
        s.commit()
        for i in range(8):  # a conversation long enough to scroll
            who = coord if i % 2 else req
            tickets.add_comment(s, who, ticket.id, f"Message {i}: tried another cable, same result.\n" * 3)
            s.commit()
        tid = ticket.id

    page = new_page(viewport={"width": 1440, "height": 700})
    sign_in(page, portal, "cora.scroll@e2e.example.com", PASSWORD)
    goto(page, portal, f"ticket?id={tid}")
    expect_text(page, "Docking station drops the second monitor")
    box = key_locator(page, f"reply_{tid}").locator("textarea").first
    send = key_locator(page, f"send_public_{tid}").get_by_role("button").first
    # scroll down as a person would, until the Send button is in the lower half of the window
    button = send.bounding_box()
    assert button is not None
    wheel_page(page, button["y"] - page.viewport_size["height"] * 0.6)
    top = page_scroll(page)
    assert top > 300, f"the page did not scroll ({top} px)"
    reply = "Please try the USB-C port on the left side and tell me if it holds."
    box.fill(reply)
    box.press("Tab")
    wait_idle(page)
    assert abs(page_scroll(page) - top) <= TOLERANCE
    send.click()
    expect_text(page, "Reply sent.")
    assert exceptions_shown(page) == []
    with portal_db() as s:
        assert s.query(TicketComment).filter_by(ticket_id=tid, comment=reply).count() == 1
    assert reply in main_text(page)
    after = page_scroll(page)
    # not back at the top: the place is kept within a reflow (the new reply, the "Reply sent."
    # line and the fresh box change the page's height by about a message), and the composer
    # is still on screen, empty
    assert abs(after - top) <= REFLOW, f"the page moved after the save: {top} -> {after} px"
    composer = key_locator(page, "composer_public").bounding_box()
    assert composer is not None and composer["y"] < page.viewport_size["height"], "the composer left the screen"
    assert key_locator(page, "composer_public").locator("textarea").first.input_value() == ""
