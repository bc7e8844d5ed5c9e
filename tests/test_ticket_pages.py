"""AppTest of the ticket pages: submit (every category), my tickets, ticket detail."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from smartsupport_core import tickets
from smartsupport_core.models import Employee, Ticket, TicketAttachment, TicketComment
from smartsupport_core.vocab import Role, TicketStatus
from tests.factories import make_employee
from tests.portal_helpers import signed_in
from tests.ticket_helpers import IT_DATA, PDF, PNG, ticket_in


def app_as(user: Employee, page: str, **query: str) -> AppTest:
    at = signed_in(user, **query)
    at.switch_page(f"../pages/{page}")
    return at.run()


@pytest.fixture
def users(clean_db: Engine) -> dict[str, Employee]:
    with Session(clean_db, expire_on_commit=False) as s:
        people = {
            "admin": make_employee(s, role=Role.ADMIN, department="IT Department", first_name="Ada"),
            "coord": make_employee(s, role=Role.COORDINATOR, department="IT Department", first_name="Cora"),
            "requester": make_employee(s, department="Sales", first_name="Rita"),
            "other": make_employee(s, department="Sales", first_name="Otto"),
        }
        s.commit()
    return people


def widget(elements, label: str):
    found = [w for w in elements if w.label == label]
    assert found, f"no widget labelled {label!r}: {[w.label for w in elements]}"
    return found[0]


def click(at: AppTest, label: str) -> AppTest:
    return widget(at.button, label).click().run()


def texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for e in (*at.text, *at.markdown, *at.caption, *at.error, *at.success))


def count(engine: Engine, model) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_submit_renders_each_categorys_fields(users, clean_db) -> None:
    from smartsupport_core.models import TicketCategory

    with Session(clean_db) as s:
        categories = s.scalars(select(TicketCategory).order_by(TicketCategory.id)).all()
    at = app_as(users["requester"], "submit_ticket.py")
    assert widget(at.selectbox, "Category").options == [c.name for c in categories]
    for category in categories:
        widget(at.selectbox, "Category").set_value(category.name)
        at.run()
        assert not at.exception
        labels = {w.label for group in (at.selectbox, at.text_input, at.text_area, at.date_input) for w in group}
        for definition in category.required_fields:
            if definition.get("required_if") or definition["type"] == "cost_items":
                continue
            assert any(label.startswith(definition["label"]) for label in labels), (category.name, definition)
        if category.sub_categories:
            assert widget(at.selectbox, "Sub-category").options == category.sub_categories
        else:
            assert "Sub-category" not in labels
        assert widget(at.selectbox, "Priority").value == category.default_priority
        if any(d["type"] == "cost_items" for d in category.required_fields):
            assert len(at.data_editor) == 1


def test_submit_shows_errors_per_field_and_writes_nothing(users, clean_db) -> None:
    at = app_as(users["requester"], "submit_ticket.py")
    widget(at.text_input, "Subject *").set_value("Hi")
    at = click(at, "Submit ticket")
    errors = [e.value for e in at.error]
    assert "Subject must be between 5-200 characters" in errors
    assert "Description must be at least 10 characters" in errors
    assert "Sub-category is required" in errors
    assert "Device type is required" in errors
    assert count(clean_db, Ticket) == 0


def test_submit_success_with_attachment(users, clean_db) -> None:
    at = app_as(users["requester"], "submit_ticket.py")
    widget(at.selectbox, "Sub-category").set_value(IT_DATA["sub_category"])
    widget(at.text_input, "Subject *").set_value(IT_DATA["subject"])
    widget(at.text_area, "Description *").set_value(IT_DATA["description"])
    widget(at.selectbox, "Device type *").set_value("Laptop")
    at.file_uploader[0].set_value([("screen.png", PNG, "image/png"), ("log.pdf", PDF, "application/pdf")])
    at = click(at, "Submit ticket")
    assert not at.exception and not at.error
    with Session(clean_db) as s:
        ticket = s.scalars(select(Ticket)).one()
        assert ticket.category == "IT Support" and ticket.dynamic_data == {"device_type": "Laptop"}
        assert s.scalar(select(func.count(TicketAttachment.id))) == 2
    assert any(ticket.ticket_number in m.value for m in at.success)
    assert widget(at.text_input, "Subject *").value == ""  # a fresh form for the next ticket


def test_submit_asset_check_in_other_and_budget(users, clean_db) -> None:
    at = app_as(users["requester"], "submit_ticket.py")
    widget(at.selectbox, "Category").set_value("Asset Check In")
    at.run()
    assert not [w for w in at.text_area if w.label.startswith("Describe the issue")]
    widget(at.selectbox, "Condition issue *").set_value("Other")
    at.run()
    widget(at.selectbox, "Sub-category").set_value("Laptop")
    widget(at.text_input, "Subject *").set_value("Returning the laptop")
    widget(at.text_area, "Description *").set_value("Returning the laptop after the project.")
    widget(at.text_input, "Asset name *").set_value("Dell XPS")
    widget(at.text_input, "Serial number *").set_value("SN-1")
    widget(at.selectbox, "Location *").set_value("Warehouse")
    at = click(at, "Submit ticket")
    assert "Describe the issue is required" in [e.value for e in at.error]
    widget(at.text_area, "Describe the issue *").set_value("The hinge squeaks")
    at = click(at, "Submit ticket")
    assert not at.error, [e.value for e in at.error]
    with Session(clean_db) as s:
        t = s.scalars(select(Ticket)).one()
        assert (t.issue_type, t.other_issue, t.department) == ("Other", "The hinge squeaks", "Asset Department")

    # New Budget Proposal: the cost-items table (preset page state: AppTest cannot type in a data editor)
    at.session_state["submit_cost_items"] = pd.DataFrame(
        [
            {"description": "Venue", "quantity": 1, "unit_cost": 1500.0},
            {"description": "Catering", "quantity": 20, "unit_cost": -1.0},
        ]
    )
    widget(at.selectbox, "Category").set_value("New Budget Proposal")
    at.run()
    widget(at.selectbox, "Sub-category").set_value("Training and Events")
    widget(at.text_input, "Subject *").set_value("Q2 training budget")
    widget(at.text_area, "Description *").set_value("Budget for the Q2 onboarding training.")
    widget(at.date_input, "Performance period start *").set_value(dt.date(2026, 4, 1))
    widget(at.date_input, "Performance period end *").set_value(dt.date(2026, 3, 1))
    widget(at.text_input, "Approved by *").set_value("CFO")
    at = click(at, "Submit ticket")
    errors = [e.value for e in at.error]
    assert "Performance period end must be on or after Performance period start" in errors
    assert "Cost items: row 2, Unit cost must be between 0 and 9,999,999,999.99" in errors
    at.session_state["submit_cost_items"] = pd.DataFrame(
        [
            {"description": "Venue", "quantity": 1, "unit_cost": 1500.0},
            {"description": "Catering", "quantity": 20, "unit_cost": 12.5},
        ]
    )
    widget(at.date_input, "Performance period end *").set_value(dt.date(2026, 6, 30))
    at.run()
    assert any(m.value == "1,750.00" for m in at.metric)
    at = click(at, "Submit ticket")
    assert not at.error, [e.value for e in at.error]
    with Session(clean_db) as s:
        t = s.scalars(select(Ticket).where(Ticket.category == "New Budget Proposal")).one()
        assert str(t.requested_budget) == "1750.00" and t.performance_end_date == dt.date(2026, 6, 30)


def _seed_tickets(engine: Engine, users) -> tuple[int, int]:
    with Session(engine, expire_on_commit=False) as s:
        req = s.get(Employee, users["requester"].id)
        mine = tickets.submit_ticket(s, req, {**IT_DATA, "subject": "My printer is jammed"})
        theirs = ticket_in(s, s.get(Employee, users["other"].id), TicketStatus.OPEN, subject="Secret salary question")
        s.commit()
        return mine.id, theirs.id


def test_my_tickets(users, clean_db) -> None:
    mine, _theirs = _seed_tickets(clean_db, users)
    at = app_as(users["requester"], "my_tickets.py")
    assert not at.exception
    frame = at.dataframe[0].value
    assert list(frame["Subject"]) == ["My printer is jammed"]
    assert list(frame["Status"]) == ["Pending"]  # New is shown as Pending to the requester
    assert frame["Ticket"][0].startswith("TKT")  # the number as text; selecting the row opens it
    assert "Secret salary question" not in frame.to_string()
    widget(at.text_input, "Search my tickets").set_value("salary")
    at.run()
    assert not at.dataframe and "No tickets match." in [i.value for i in at.info]
    # Home's tiles link here with a state: the same definition narrows the list.
    at = app_as(users["requester"], "my_tickets.py", show="open")
    assert at.selectbox(key="my_show").value == "open" and len(at.dataframe[0].value) == 1
    with Session(clean_db) as s:
        assert s.get(Ticket, mine).status == "New"  # New is open: work remains
    at = app_as(users["requester"], "my_tickets.py", show="awaiting_confirmation")
    assert not at.dataframe and "No tickets match." in [i.value for i in at.info]


def test_detail_visibility_and_actions(users, clean_db) -> None:
    mine, _theirs = _seed_tickets(clean_db, users)
    with Session(clean_db) as s:
        tickets.add_comment(s, s.get(Employee, users["coord"].id), mine, "Check the warranty first", internal=True)
        tickets.add_attachments(s, s.get(Employee, users["requester"].id), mine, [("shot.png", PNG)])
        s.commit()

    # another employee: not found, nothing of the ticket shown
    at = app_as(users["other"], "ticket.py", id=str(mine))
    assert [e.value for e in at.error] == [f"Ticket {mine} was not found."]
    assert "printer" not in texts(at)

    # the requester: conversation without internal notes, attachment with preview, Pending
    at = app_as(users["requester"], "ticket.py", id=str(mine))
    assert not at.exception
    assert "Check the warranty" not in texts(at)
    assert [t.value for t in at.title] == ["My printer is jammed"]  # the header is the subject
    assert any("Pending" in m.value and "badge" in m.value for m in at.markdown)
    assert len(at.image) == 1 and at.download_button[0].label == "Download"
    widget(at.text_area, "Your reply").set_value("It is the tray on floor 2.")
    at = click(at, "Send reply")
    assert "Reply sent." in [m.value for m in at.success]
    assert widget(at.text_area, "Your reply").value == ""  # the box is empty: no second post

    # the admin opens it; the coordinator then sees the internal note and works it
    at = app_as(users["admin"], "ticket.py", id=str(mine))
    at = click(at, "Approve")
    assert "Ticket approved and opened." in [m.value for m in at.success]
    at = app_as(users["coord"], "ticket.py", id=str(mine))
    assert "Check the warranty first" in texts(at)
    assert [b.label for b in at.sidebar.button] == ["Sign out"]  # the actions are in the main area
    # meanwhile the admin raises the priority: the coordinator's view is stale now
    with Session(clean_db) as s:
        tickets.set_priority(s, s.get(Employee, users["admin"].id), mine, "High")
        s.commit()
    at = click(at, "Start work")
    assert any("was changed by Ada" in e.value and "reload and try again" in e.value for e in at.error)
    at = click(at, "Start work")  # reloaded: now it goes through
    assert "Ticket in progress." in [m.value for m in at.success]
    # assignee and priority in the action bar, offering the ticket's department's people only
    opts = at.selectbox(key=f"assign_{mine}").options
    assert opts[0] == "Unassigned" and sorted(o.split()[0] for o in opts[1:]) == ["Ada", "Cora"]
    # The toggle dance: a note typed as internal never becomes a public reply.
    at.button_group(key=f"compose_mode_{mine}").set_value("internal").run()
    at.text_area(key=f"note_{mine}").set_value("Salary band is 5 (internal)")
    at.button_group(key=f"compose_mode_{mine}").set_value("public").run()
    assert widget(at.text_area, "Your reply").value == ""
    widget(at.text_area, "Your reply").set_value("On it.")
    at = click(at, "Send reply")
    with Session(clean_db) as s:
        t = s.get(Ticket, mine)
        assert (t.status, t.priority) == ("In Progress", "High") and t.response_time is not None
        posted = s.scalars(select(TicketComment).where(TicketComment.ticket_id == mine)).all()
        assert len(posted) == 3 and not any("Salary band" in c.comment for c in posted)

    # resolving asks for a resolution, posted as a public reply
    at = click(at, "Resolve…")
    at.text_area(key=f"resolution_{mine}").set_value("Replaced the tray.")
    at.button(key="resolve_confirm").click().run()
    assert "Ticket resolved." in [m.value for m in at.success]
    with Session(clean_db) as s:
        assert s.get(Ticket, mine).status == "Resolved"
        last = s.scalars(select(TicketComment).where(TicketComment.ticket_id == mine).order_by(TicketComment.id)).all()
        assert last[-1].comment == "Replaced the tray." and not last[-1].is_internal


def test_withdraw_confirms_first(users, clean_db) -> None:
    mine, _theirs = _seed_tickets(clean_db, users)
    at = app_as(users["requester"], "ticket.py", id=str(mine))
    at = click(at, "Withdraw…")
    with Session(clean_db) as s:
        assert s.get(Ticket, mine).status == "New"  # nothing happens before the confirmation
    at.button(key="withdraw_confirm").click().run()
    assert "Ticket withdrawn." in [m.value for m in at.success]
    with Session(clean_db) as s:
        assert s.get(Ticket, mine).status == "Withdrawn"
