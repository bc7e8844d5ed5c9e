"""Grid edits and bulk actions: each row on its own transaction through the ticket
services, with a result per row (saved, refused by the workflow, conflict, ...)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from smartsupport_core import tickets, triage
from smartsupport_core.errors import ValidationError
from smartsupport_core.models import AuditLog, Ticket
from smartsupport_core.queue_edits import Outcome, RowEdit, apply_grid_edits, bulk_edits
from smartsupport_core.vocab import Role
from tests.factories import make_employee, make_ticket


@pytest.fixture
def world(session: Session, clean_db: Engine):
    people = {
        "coord": make_employee(
            session, role=Role.COORDINATOR, department="IT Department", first_name="Cora", last_name="Diaz"
        ),
        "coord2": make_employee(
            session, role=Role.COORDINATOR, department="IT Department", first_name="Cole", last_name="Eng"
        ),
        "requester": make_employee(session, first_name="Alice"),
    }
    session.commit()
    return people


def factory(engine: Engine):
    return lambda: Session(engine, expire_on_commit=False)


def fresh(engine: Engine, ticket_id: int) -> Ticket:
    with Session(engine) as s:
        t = s.get(Ticket, ticket_id)
        s.expunge(t)
        return t


def test_edit_that_succeeds(session: Session, clean_db: Engine, world) -> None:
    t = make_ticket(session, world["requester"], status="Open")
    session.commit()
    edit = RowEdit(
        t.id, t.version, status="In Progress", priority="High", assignee_id=world["coord"].id, label=t.ticket_number
    )
    [result] = apply_grid_edits(factory(clean_db), world["coord"], [edit])
    assert result.outcome is Outcome.SAVED and result.ok
    assert result.message.startswith(f"{t.ticket_number}: saved")
    after = fresh(clean_db, t.id)
    assert (after.status, after.priority, after.assigned_to_id) == ("In Progress", "High", world["coord"].id)
    assert after.version == t.version + 3 == result.version
    with Session(clean_db) as s:
        audited = s.scalars(
            select(AuditLog.new_values).where(AuditLog.record_id == t.id, AuditLog.table_name == "core_ticket")
        ).all()
    assert {k for row in audited for k in row} >= {"status", "priority", "assigned_to_id"}


def test_edit_refused_by_workflow_is_not_half_applied(session: Session, clean_db: Engine, world) -> None:
    new = make_ticket(session, world["requester"], status="New")
    opened = make_ticket(session, world["requester"], status="Open")
    session.commit()
    results = apply_grid_edits(
        factory(clean_db),
        world["coord"],
        [
            # Only an admin opens a New ticket; the priority change in the same row must not stay.
            RowEdit(new.id, new.version, status="Open", priority="Critical", label=new.ticket_number),
            # Open -> Closed is not a move of the workflow table.
            RowEdit(opened.id, opened.version, status="Closed", assignee_id=world["coord"].id),
        ],
    )
    assert [r.outcome for r in results] == [Outcome.REFUSED, Outcome.REFUSED]
    assert "may not move" in results[0].message and new.ticket_number in results[0].message
    assert "cannot move from Open to Closed" in results[1].message and results[1].label == f"#{opened.id}"
    a, b = fresh(clean_db, new.id), fresh(clean_db, opened.id)
    assert (a.status, a.priority, a.version) == ("New", "Medium", new.version)
    assert (b.status, b.assigned_to_id, b.version) == ("Open", None, opened.version)


def test_edit_conflicting_with_a_concurrent_change(session: Session, clean_db: Engine, world) -> None:
    t = make_ticket(session, world["requester"], status="Open")
    other = make_ticket(session, world["requester"], status="Open")
    session.commit()
    seen = t.version
    with Session(clean_db) as s:  # Cole changes the ticket after Cora loaded her grid
        tickets.set_priority(s, world["coord2"], t.id, "Critical", expected_version=seen)
        s.commit()
    results = apply_grid_edits(
        factory(clean_db),
        world["coord"],
        [
            RowEdit(t.id, seen, priority="Low", label=t.ticket_number),
            RowEdit(other.id, other.version, priority="Low", label=other.ticket_number),
        ],
    )
    assert [r.outcome for r in results] == [Outcome.CONFLICT, Outcome.SAVED]
    assert "Cole Eng" in results[0].message and "reload" in results[0].message
    assert fresh(clean_db, t.id).priority == "Critical"  # Cole's change stands
    assert fresh(clean_db, other.id).priority == "Low"


def test_bulk_assign_with_mixed_results(session: Session, clean_db: Engine, world) -> None:
    ok1 = make_ticket(session, world["requester"], status="Open")
    closed = make_ticket(session, world["requester"], status="Closed")
    hidden = make_ticket(session, world["requester"], status="Open", department="Finance", category="Others")
    ok2 = make_ticket(session, world["requester"], status="On Hold", assigned_to_id=world["coord2"].id)
    stale = make_ticket(session, world["requester"], status="Open")
    session.commit()
    selected = [(t.id, t.version, t.ticket_number) for t in (ok1, closed, hidden, ok2, stale)]
    selected[-1] = (stale.id, stale.version - 1 if stale.version > 1 else stale.version + 5, stale.ticket_number)
    results = apply_grid_edits(factory(clean_db), world["coord"], bulk_edits(selected, assignee_id=world["coord"].id))
    assert [r.outcome for r in results] == [
        Outcome.SAVED,
        Outcome.INVALID,
        Outcome.NOT_FOUND,
        Outcome.SAVED,
        Outcome.CONFLICT,
    ]
    assert "Closed ticket cannot be reassigned" in results[1].message
    assert [r.ticket_id for r in results] == [s[0] for s in selected]
    assigned = {t.id: fresh(clean_db, t.id).assigned_to_id for t in (ok1, closed, hidden, ok2, stale)}
    assert assigned == {
        ok1.id: world["coord"].id,
        closed.id: None,
        hidden.id: None,
        ok2.id: world["coord"].id,
        stale.id: None,
    }


def test_reopen_and_assign_in_one_row_and_no_op(session: Session, clean_db: Engine, world) -> None:
    resolved = make_ticket(session, world["requester"], status="Resolved", resolved_at=dt.datetime.now(dt.UTC))
    same = make_ticket(session, world["requester"], status="Open", priority="High")
    session.commit()
    results = apply_grid_edits(
        factory(clean_db),
        world["coord"],
        [
            RowEdit(resolved.id, resolved.version, status="In Progress", assignee_id=world["coord"].id),
            RowEdit(same.id, same.version, priority="High"),
            RowEdit(same.id, same.version),
        ],
    )
    assert [r.outcome for r in results] == [Outcome.SAVED, Outcome.UNCHANGED, Outcome.UNCHANGED]
    after = fresh(clean_db, resolved.id)
    assert (after.status, after.assigned_to_id) == ("In Progress", world["coord"].id)


def test_triage_choices_offer_only_what_the_services_accept(session: Session, world) -> None:
    """Per ticket: the workflow's moves, its department's coordinators (and admins), and the
    priority only while open; several tickets: only what all of them allow. Every offered
    choice is then accepted by the services, every choice left out is refused."""
    hr = make_employee(session, role=Role.COORDINATOR, department="Human Resources", first_name="Hana")
    admin = make_employee(session, role=Role.ADMIN, department="IT Department", first_name="Ada", last_name="Min")
    open_t = make_ticket(session, world["requester"], status="Open")
    resolved = make_ticket(session, world["requester"], status="Resolved", assigned_to_id=world["coord"].id)
    new = make_ticket(session, world["requester"], status="New")
    got = triage.choices(session, world["coord"], [open_t.id, resolved.id, new.id])
    c = got[open_t.id]
    assert c.statuses == ("In Progress", "On Hold", "Resolved")
    names = dict(c.assignees)
    assert names[None] == "Unassigned" and names[world["coord2"].id] == "Cole Eng" and names[admin.id] == "Ada Min"
    assert hr.id not in names
    assert c.priorities and not c.may_approve
    r = got[resolved.id]
    assert r.statuses == ("Closed", "In Progress") and r.assignees == () and r.priorities == ()
    assert got[new.id].statuses == () and not got[new.id].may_approve  # only an admin decides
    both = triage.common([c, r])
    assert both.statuses == ("In Progress",) and both.assignees == () and both.priorities == ()
    # The admin decides on New tickets, alone or in bulk.
    decide = triage.choices(session, admin, [new.id])[new.id]
    assert decide.may_approve and decide.may_reject and "Rejected" not in decide.statuses
    # What was left out is what the services refuse.
    with pytest.raises(ValidationError):
        tickets.assign_ticket(session, world["coord"], open_t.id, hr.id)
    with pytest.raises(ValidationError):
        tickets.change_status(session, world["coord"], resolved.id, "New")


def test_saved_message_names_the_assignee(session: Session, world, clean_db: Engine) -> None:
    t = make_ticket(session, world["requester"], status="Open")
    session.commit()
    [result] = apply_grid_edits(
        lambda: Session(clean_db),
        world["coord"],
        [RowEdit(t.id, t.version, assignee_id=world["coord2"].id, label=t.ticket_number, assignee_name="Cole Eng")],
    )
    assert result.message == f"{t.ticket_number}: saved (assigned to Cole Eng)"
