"""The Queue page through AppTest: role default views, filters, paging, saved views, the side
panel's choices and saves, and result rendering from prepared session state. (AppTest cannot
click a grid row; the panel is opened with the shareable `?ticket=` link here, and by row
selection in the browser tests.)"""

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
    [grid] = at.dataframe
    return grid.value


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
    # A coordinator's queue opens on their working set, most urgent first.
    assert at.selectbox(key="q_view").value == "Mine and unassigned in my department"
    grid = _grid(at)
    assert list(grid.columns) == ["Ticket", "Status", "Priority", "Assignee", "SLA", "Subject"]
    assert _total(at) == "30"  # 3 mine + 27 unassigned in IT; closed and Finance ones left out
    assert hidden.ticket_number not in set(grid["Ticket"])
    # People by name; no ids, no version column in what the browser receives.
    assert set(grid["Assignee"]) == {"Cora Diaz", "Unassigned"}
    assert not any("#" in str(v) for v in grid.to_numpy().ravel())

    at.selectbox(key="q_view").set_value("Assigned to me, not closed").run()
    assert list(_grid(at)["Ticket"]) == [t.ticket_number for t in mine]  # newest first
    at.selectbox(key="qf_assignee").set_value("anyone").run()
    assert _total(at) == "30"
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
    assert set(page2["Ticket"]) <= {t.ticket_number for t in others}
    # Changing a filter goes back to page 1.
    at.text_input(key="qf_text").set_value("printer queue").run()
    assert len(_grid(at)) == 25

    at.selectbox(key="qf_sort").set_value("age").run()
    at.toggle(key="qf_desc").set_value(True).run()
    assert _grid(at)["Ticket"].iloc[0] == others[-1].ticket_number  # oldest first

    at.multiselect(key="q_columns").set_value(["requester", "age"]).run()
    assert list(_grid(at).columns) == ["Ticket", "Requester", "Age"]  # only what is shown is sent


def test_admin_default_view_is_needs_approval(session: Session) -> None:
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    requester = make_employee(session)
    waiting = make_ticket(session, requester, status="New", subject="Waiting")
    make_ticket(session, requester, status="Open", subject="Already open")
    session.commit()
    at = _open(admin)
    assert at.selectbox(key="q_view").value == "Needs approval"
    assert list(_grid(at)["Ticket"]) == [waiting.ticket_number]
    # A link to a built-in view opens it (Home's tiles use these).
    linked = open_page(admin, "queue.py", view="unassigned")
    assert linked.selectbox(key="q_view").value == "Unassigned"


def test_saved_views(session: Session) -> None:
    coord, _mine, _closed, _others, _hidden = _world(session)
    at = _open(coord)
    at.selectbox(key="qf_assignee").set_value("unassigned").run()
    at.multiselect(key="qf_states").set_value([]).run()
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
    assert any("Name:" in e.value and "already have a view" in e.value for e in at.error), [e.value for e in at.error]
    at.button(key="q_view_delete").click().run()
    assert session.scalars(select(SavedView).where(SavedView.owner_id == coord.id)).all() == []
    assert at.selectbox(key="q_view").value == "Mine and unassigned in my department"


def test_panel_offers_only_what_the_core_allows(session: Session) -> None:
    coord, mine, _closed, _others, _hidden = _world(session)
    colleague = make_employee(session, role=Role.COORDINATOR, department="IT Department", first_name="Ivan",
                              last_name="Ito")
    make_employee(session, role=Role.COORDINATOR, department="Human Resources", first_name="Hana")
    resolved = make_ticket(
        session, _requester(session, mine[0]), status="Resolved", assigned_to_id=coord.id, subject="Done"
    )
    session.commit()
    # A shared link to a ticket opens it in the panel.
    at = open_page(coord, "queue.py", ticket=str(mine[0].id))
    status = at.selectbox(key=f"q_status_{mine[0].id}")
    assert status.options == ["Open (now)", "In Progress", "On Hold", "Resolved"]  # no New, no Rejected
    assignee = at.selectbox(key=f"q_assignee_{mine[0].id}")
    assert "Hana" not in " ".join(assignee.options)  # another department's coordinator: not offered
    assert "Ivan Ito" in assignee.options and "Unassigned" in assignee.options
    status.set_value("In Progress")
    assignee.set_value(colleague.id)
    at.selectbox(key=f"q_priority_{mine[0].id}").set_value("High")
    at.button(key=f"q_save_{mine[0].id}").click().run()
    assert not at.exception, at.exception
    assert any("assigned to Ivan Ito" in x.value for x in at.success), [x.value for x in at.success]
    session.expire_all()
    t = session.get(Ticket, mine[0].id)
    assert (t.status, t.assigned_to_id, t.priority) == ("In Progress", colleague.id, "High")

    done = open_page(coord, "queue.py", ticket=str(resolved.id))
    assert done.selectbox(key=f"q_status_{resolved.id}").options == ["Resolved (now)", "Closed", "In Progress"]
    assert done.selectbox(key=f"q_assignee_{resolved.id}").disabled  # a Resolved ticket is not reassigned


def _requester(session: Session, ticket: Ticket):
    from smartsupport_core.models import Employee

    return session.get(Employee, ticket.employee_id)


def test_admin_approves_from_the_panel(session: Session) -> None:
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    requester = make_employee(session)
    waiting = make_ticket(session, requester, status="New", subject="Waiting")
    session.commit()
    at = open_page(admin, "queue.py", ticket=str(waiting.id))
    at.button(key=f"q_approve_{waiting.id}").click().run()
    assert not at.exception, at.exception
    session.expire_all()
    assert session.get(Ticket, waiting.id).status == "Open"
    assert any("saved \\(status Open\\)" in x.value for x in at.success), [x.value for x in at.success]


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
    assert not direct.dataframe and "Ticket queue" not in [t.value for t in direct.title]
    assert [e.value for e in direct.error] == ["You are not allowed to work the ticket queue."]


def _tab(at: AppTest, label: str) -> AppTest:
    """Open one of the lazy tabs (what a click on the tab does: a rerun with its label)."""
    at.session_state["q_tab"] = label
    at.run()
    assert not at.exception, at.exception
    return at


def test_canned_responses_tab_is_drawn_only_when_open(session: Session) -> None:
    coord, mine, *_ = _world(session)
    at = _open(coord)
    at.multiselect(key="qf_statuses").set_value(["Open"]).run()
    # The queue tab: no canned-response widgets (nothing of that tab is read or drawn)
    assert "cr_new_title" not in {w.key for w in at.text_input}
    assert len(at.dataframe) == 1

    at = _tab(at, "Canned responses")
    assert "cr_new_title" in {w.key for w in at.text_input}
    assert not at.dataframe and "qf_text" not in {w.key for w in at.text_input}  # the queue is not drawn
    at.text_input(key="cr_new_title").set_value("Looking")
    at.text_area(key="cr_new_body").set_value("Hi, I am on {ticket_number}.")
    next(b for b in at.button if b.label == "Add").click().run()
    assert not at.exception, at.exception
    # the queue page shown before is what "Fill in for a ticket" offers
    assert at.selectbox(key="cr_pick").value.title == "Looking"
    number = at.selectbox(key="cr_ticket").value
    assert number in {t.ticket_number for t in mine} or number.startswith("TKT")
    assert any(f"I am on {number}." in a.value for a in at.text_area if a.key.startswith("cr_out_"))

    # back to the queue: the filters chosen before the switch are still there
    at = _tab(at, "Queue")
    assert at.multiselect(key="qf_statuses").value == ["Open"]
    assert len(at.dataframe) == 1 and "cr_new_title" not in {w.key for w in at.text_input}
