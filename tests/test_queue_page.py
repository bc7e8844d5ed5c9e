"""The Queue page through AppTest: default view, filters, paging, saved views, bulk actions
with per-row result messages, and result rendering from prepared session state.
(AppTest cannot type into st.data_editor; the grid's edit round trip is tested directly in
test_queue_edits.py and in the browser tests.)"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from smartsupport_core.models import SavedView, Ticket
from smartsupport_core.vocab import Role
from tests.factories import make_employee, make_ticket
from tests.portal_helpers import open_page, page_script, portal_app, signed_in

NOW = dt.datetime.now(dt.UTC)


def _open(user) -> AppTest:
    return open_page(user, "queue.py")


def _grid(at: AppTest):
    assert not at.exception, at.exception
    [editor] = at.data_editor
    return editor.value


def _total(at: AppTest) -> str:
    return next(m.value for m in at.markdown if "tickets ·" in m.value).split("**")[1]


def _world(session: Session):
    coord = make_employee(
        session, role=Role.COORDINATOR, department="IT Department", first_name="Cora", last_name="Diaz"
    )
    requester = make_employee(session, first_name="Alice")
    mine = [
        make_ticket(
            session,
            requester,
            status="Open",
            assigned_to_id=coord.id,
            subject=f"Mine {i}",
            submit_date=NOW - dt.timedelta(hours=i + 1),
        )
        for i in range(3)
    ]
    closed = make_ticket(session, requester, status="Closed", assigned_to_id=coord.id, subject="Old closed one")
    others = [
        make_ticket(
            session,
            requester,
            status="Open",
            subject=f"Printer queue {i}",
            submit_date=NOW - dt.timedelta(hours=10 + i),
        )
        for i in range(27)
    ]
    hidden = make_ticket(
        session, requester, status="Open", department="Finance", category="Others", subject="Finance only"
    )
    session.commit()
    return coord, mine, closed, others, hidden


def test_default_view_filters_and_paging(session: Session) -> None:
    coord, mine, _closed, others, hidden = _world(session)
    at = _open(coord)
    assert at.selectbox(key="q_view").value == "Assigned to me, not closed"
    grid = _grid(at)
    assert list(grid["number"]) == [t.ticket_number for t in mine]  # newest first, closed one left out
    assert set(grid.columns) >= {"number", "subject", "requester", "status", "priority", "assignee", "age", "sla"}

    at.selectbox(key="qf_assignee").set_value("anyone").run()
    assert _total(at) == "30"  # 3 mine + 27 others (not closed); the Finance ticket is not visible
    assert hidden.ticket_number not in set(_grid(at)["number"])
    at.multiselect(key="qf_statuses").set_value([]).run()
    at.text_input(key="qf_text").set_value("printer").run()
    assert _total(at) == "27"
    assert len(_grid(at)) == 27  # default page size 50

    at.selectbox(key="q_page_size").set_value(25).run()
    assert len(_grid(at)) == 25
    [pager] = at.get("pagination")
    assert pager.num_pages == 2
    pager.set_value(2).run()
    page2 = _grid(at)
    assert len(page2) == 2
    assert set(page2["number"]) <= {t.ticket_number for t in others}
    # Changing a filter goes back to page 1.
    at.text_input(key="qf_text").set_value("printer queue").run()
    assert len(_grid(at)) == 25

    at.selectbox(key="qf_sort").set_value("age").run()
    at.toggle(key="qf_desc").set_value(True).run()
    assert _grid(at)["number"].iloc[0] == others[-1].ticket_number  # oldest first


def test_saved_views(session: Session) -> None:
    coord, _mine, _closed, _others, _hidden = _world(session)
    at = _open(coord)
    at.selectbox(key="qf_assignee").set_value("unassigned").run()
    at.multiselect(key="qf_statuses").set_value(["Open"]).run()
    at.text_input(key="q_view_name").set_value("Unassigned open")
    at.button(key="q_view_save").click().run()
    assert not at.exception
    assert any("Saved view" in s.value for s in at.success)
    assert at.selectbox(key="q_view").value == "Unassigned open"
    view = session.scalars(select(SavedView).where(SavedView.owner_id == coord.id)).one()
    assert view.filters["assignee"] == "unassigned" and view.filters["statuses"] == ["Open"]

    at.selectbox(key="q_view").set_value("Assigned to me, not closed").run()
    assert at.selectbox(key="qf_assignee").value == "me"
    assert len(_grid(at)) == 3
    at.selectbox(key="q_view").set_value("Unassigned open").run()
    assert at.selectbox(key="qf_assignee").value == "unassigned"
    assert _total(at) == "27"

    # Same name again without "replace": refused with the field named, nothing changes.
    at.text_input(key="q_view_name").set_value("Unassigned open")
    at.button(key="q_view_save").click().run()
    assert any("name:" in e.value and "already have a view" in e.value for e in at.error)
    at.button(key="q_view_delete").click().run()
    assert session.scalars(select(SavedView).where(SavedView.owner_id == coord.id)).all() == []
    assert at.selectbox(key="q_view").value == "Assigned to me, not closed"


def test_bulk_actions_show_per_row_results(session: Session) -> None:
    coord, mine, closed, _others, _hidden = _world(session)
    at = _open(coord)
    at.selectbox(key="qf_assignee").set_value("anyone").run()
    at.multiselect(key="qf_statuses").set_value([]).run()
    at.text_input(key="qf_text").set_value("closed OR mine").run()
    numbers = list(_grid(at)["number"])
    assert closed.ticket_number in numbers and len(numbers) == 4
    at.multiselect(key="q_bulk").set_value([mine[0].ticket_number, closed.ticket_number]).run()
    at.selectbox(key="q_bulk_priority").set_value("Critical").run()
    at.button(key="q_bulk_set_priority").click().run()
    assert not at.exception, at.exception
    assert any("1 of 2 row(s) saved" in m.value for m in at.markdown)
    assert any(mine[0].ticket_number in s.value and "saved" in s.value for s in at.success)
    assert any(closed.ticket_number in e.value and "cannot change" in e.value for e in at.error)
    session.expire_all()
    assert session.get(Ticket, mine[0].id).priority == "Critical"
    assert session.get(Ticket, closed.id).priority == "Medium"
    # The grid was reloaded with the new version: a second bulk action is not a conflict.
    at.multiselect(key="q_bulk").set_value([mine[0].ticket_number]).run()
    at.selectbox(key="q_bulk_status").set_value("In Progress").run()
    at.button(key="q_bulk_set_status").click().run()
    assert any("1 of 1 row(s) saved" in m.value for m in at.markdown)
    session.expire_all()
    assert session.get(Ticket, mine[0].id).status == "In Progress"


def test_result_messages_render_from_session_state(session: Session) -> None:
    coord, *_ = _world(session)
    at = portal_app(coord)
    at.session_state["q_results"] = [
        ("saved", "TKT2026000001: saved (priority High)"),
        ("conflict", "TKT2026000002: not saved (conflict): Ticket TKT2026000002 was changed by **Bob** at 10:00"),
        ("refused", "TKT2026000003: not saved (refused): You may not move ticket TKT2026000003 from New to Open."),
    ]
    at.run()
    at.switch_page("../pages/queue.py").run()
    assert not at.exception, at.exception
    assert any("1 of 3 row(s) saved" in m.value for m in at.markdown)
    assert [s.value for s in at.success][-1].startswith("TKT2026000001")
    [warning] = [w for w in at.warning if "conflict" in w.value]
    assert "\\*\\*Bob\\*\\*" in warning.value  # user-written text is shown, not rendered
    assert any("from New to Open" in e.value for e in at.error)
    at.button(key="q_results_dismiss").click().run()
    assert not any("row(s) saved" in m.value for m in at.markdown)


def test_employee_cannot_reach_the_queue(session: Session) -> None:
    employee = make_employee(session)
    session.commit()
    at = signed_in(employee)
    # Not in an employee's navigation at all ...
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("../pages/queue.py")
    # ... and the page itself refuses when its script is run anyway.
    direct = page_script(employee, "queue.py")
    assert not direct.exception, direct.exception
    assert not direct.data_editor and "Ticket queue" not in [t.value for t in direct.title]
    assert [e.value for e in direct.error] == ["You are not allowed to work the ticket queue."]
