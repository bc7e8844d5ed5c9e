"""Saved queue views and canned responses: ownership, validation, safe rendering, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartsupport_core import canned, saved_views
from smartsupport_core.errors import NotFound, PermissionDenied, ValidationError
from smartsupport_core.models import AuditLog, CannedResponse, SavedView
from smartsupport_core.queue import DEFAULT_FILTERS, DEFAULT_VIEW_NAME, QueueFilters
from smartsupport_core.vocab import Role
from tests.factories import make_employee, make_ticket


@pytest.fixture
def coord(session: Session):
    return make_employee(
        session, role=Role.COORDINATOR, department="IT Department", first_name="Cora", last_name="Diaz"
    )


def test_default_view_and_own_views(session: Session, coord) -> None:
    other = make_employee(session, role=Role.COORDINATOR, department="IT Department")
    views = saved_views.list_views(session, coord)
    builtin = [v.name for v in views]
    # A coordinator's queue opens on their working set; every view is built in so far.
    assert builtin[0] == "Mine and unassigned in my department" and all(v.builtin for v in views)
    assert views[0].filters.assignee == "mine_or_department" and views[0].filters.sort == "sla"
    assert builtin[-1] == DEFAULT_VIEW_NAME and views[-1].filters == DEFAULT_FILTERS
    assert "Closed" not in DEFAULT_FILTERS.statuses and "Resolved" in DEFAULT_FILTERS.statuses
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    assert saved_views.list_views(session, admin)[0].name == "Needs approval"

    crit = QueueFilters(statuses=("Open", "In Progress"), priorities=("Critical",), assignee="me")
    saved = saved_views.save_view(session, coord, "  My open critical ", crit)
    assert saved.name == "My open critical"
    saved_views.save_view(session, other, "My open critical", QueueFilters())
    mine = saved_views.list_views(session, coord)
    assert [v.name for v in mine] == [*builtin, "My open critical"]
    assert mine[-1].filters == crit

    with pytest.raises(ValidationError) as exc:
        saved_views.save_view(session, coord, "My open critical", QueueFilters())
    assert "already have a view" in exc.value.errors["name"]
    saved_views.save_view(session, coord, "My open critical", QueueFilters(sla_state="breached"), overwrite=True)
    assert saved_views.list_views(session, coord)[-1].filters.sla_state == "breached"

    with pytest.raises(NotFound):
        saved_views.delete_view(session, other, saved.id)
    saved_views.delete_view(session, coord, saved.id)
    assert [v.name for v in saved_views.list_views(session, coord)] == builtin
    actions = session.scalars(
        select(AuditLog.action_type)
        .where(AuditLog.table_name == "core_savedview", AuditLog.record_id == saved.id)
        .order_by(AuditLog.id)
    ).all()
    assert actions == ["CREATE", "UPDATE", "DELETE"]


def test_bad_views_change_nothing(session: Session, coord) -> None:
    with pytest.raises(ValidationError) as exc:
        saved_views.save_view(session, coord, "", QueueFilters(statuses=("Lost",)))
    assert set(exc.value.errors) == {"name", "filters.statuses"}
    with pytest.raises(ValidationError) as exc:
        saved_views.save_view(session, coord, DEFAULT_VIEW_NAME.upper(), QueueFilters())
    assert "built-in" in exc.value.errors["name"]
    with pytest.raises(ValidationError) as exc:
        saved_views.save_view(session, coord, "needs approval", QueueFilters())  # an admin's built-in name
    assert "built-in" in exc.value.errors["name"]
    assert session.scalar(select(func.count()).select_from(SavedView)) == 0
    with pytest.raises(PermissionDenied):
        saved_views.list_views(session, make_employee(session))


def test_canned_personal_shared_and_rendering(session: Session, coord) -> None:
    admin = make_employee(session, role=Role.ADMIN, department="IT Department", first_name="Ada", last_name="Admin")
    requester = make_employee(session, first_name="Alice", last_name="Zed")
    ticket = make_ticket(session, requester, subject="VPN {agent_name} drops")
    body = "Hi {requester_first_name}, about {ticket_number} ({subject}): fixed. {unknown} -- {agent_name}"
    with pytest.raises(ValidationError) as exc:
        canned.create_canned(session, coord, "Fixed", body)
    assert "unknown placeholder {unknown}" in exc.value.errors["body"]

    body = "Hi {requester_first_name}, about {ticket_number} ({subject}): fixed. {0.__class__} -- {agent_name}"
    with pytest.raises(PermissionDenied):
        canned.create_canned(session, coord, "Shared thanks", "Thanks!", shared=True)
    mine = canned.create_canned(session, coord, "Fixed", body)
    shared = canned.create_canned(session, admin, "Shared thanks", "Thanks, {requester_first_name}!", shared=True)
    other = canned.create_canned(session, make_employee(session, role=Role.COORDINATOR), "Theirs", "x")

    listed = canned.list_canned(session, coord)
    assert [(c.title, c.shared) for c in listed] == [("Shared thanks", True), ("Fixed", False)]
    text = canned.render_canned(session, coord, mine.id, ticket.id)
    # Values are inserted verbatim and never re-expanded; non-placeholder braces stay as written.
    assert text == (
        f"Hi Alice, about {ticket.ticket_number} (VPN {{agent_name}} drops): fixed. {{0.__class__}} -- Cora Diaz"
    )
    assert canned.render_canned(session, coord, shared.id, ticket.id) == "Thanks, Alice!"
    with pytest.raises(NotFound):
        canned.render_canned(session, coord, other.id, ticket.id)
    hidden = make_ticket(session, requester, department="Finance", category="Others")
    with pytest.raises(NotFound):
        canned.render_canned(session, coord, mine.id, hidden.id)

    with pytest.raises(PermissionDenied):
        canned.update_canned(session, coord, shared.id, "Mine now", "x")
    with pytest.raises(NotFound):
        canned.delete_canned(session, coord, other.id)
    canned.update_canned(session, admin, shared.id, "Shared thanks", "Thank you, {requester_first_name}.")
    canned.delete_canned(session, coord, mine.id)
    assert session.scalar(select(func.count()).select_from(CannedResponse)) == 2
    audit_rows = session.scalars(
        select(AuditLog.action_type).where(AuditLog.table_name == "core_cannedresponse").order_by(AuditLog.id)
    ).all()
    assert audit_rows == ["CREATE", "CREATE", "CREATE", "UPDATE", "DELETE"]


def test_canned_validation(session: Session, coord) -> None:
    with pytest.raises(ValidationError) as exc:
        canned.create_canned(session, coord, " ", "Hello {name}")
    assert set(exc.value.errors) == {"title", "body"}
    assert "{name}" in exc.value.errors["body"] and "{requester_first_name}" in exc.value.errors["body"]
    with pytest.raises(PermissionDenied):
        canned.list_canned(session, make_employee(session))
