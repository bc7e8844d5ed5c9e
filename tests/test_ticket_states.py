"""Each ticket state (`ticket_states`) selects exactly the tickets it says, on crafted data.

One ticket per interesting case; every definition is asserted as the exact set it selects,
so a ticket wrongly in or out of any state fails the test.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from smartsupport_core import ticket_states as ts
from smartsupport_core import tickets
from smartsupport_core.models import Employee, Ticket, TicketComment
from smartsupport_core.vocab import Role
from tests.factories import make_employee, make_ticket

# A Friday, 15:00 UTC: the default business calendar (Mon-Fri 09:00-17:00 UTC) has 2 working
# hours left today, so "within 4 business hours" reaches Monday 11:00.
NOW = dt.datetime(2026, 11, 27, 15, 0, tzinfo=dt.UTC)
MONDAY_11 = dt.datetime(2026, 11, 30, 11, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


@pytest.fixture
def world(session: Session) -> dict:
    alice = make_employee(session, first_name="Alice")
    coord = make_employee(session, role=Role.COORDINATOR, department="IT Department", first_name="Cora")
    viewer = make_employee(session, role=Role.COORDINATOR, department="IT Department", first_name="Vic")

    def t(name: str, **kw) -> Ticket:
        kw.setdefault("status", "Open")
        kw.setdefault("submit_date", NOW - 30 * H)
        kw.setdefault("assigned_to_id", coord.id)
        kw.setdefault("sla_resolution_due_at", NOW + 100 * H)
        return make_ticket(session, alice, subject=name, **kw)

    def answered(name: str, **kw) -> Ticket:
        kw.setdefault("sla_response_met", True)
        return t(name, first_response_at=NOW - 20 * H, **kw)

    def reply(ticket: Ticket, by, at: dt.datetime, *, internal: bool = False) -> None:
        session.add(TicketComment(comment="x", is_internal=internal, ticket_id=ticket.id, user_id=by.id, created_at=at))

    w = {
        "new": t("new", status="New", assigned_to_id=None, sla_response_due_at=NOW + 100 * H),
        "new_late": t("new_late", status="New", assigned_to_id=None, sla_response_due_at=NOW - H),
        "no_response_late": t("no_response_late", sla_response_due_at=NOW - H),
        "answered_late": answered("answered_late", sla_response_met=False, sla_response_due_at=NOW - 25 * H),
        "resolution_late": answered("resolution_late", status="In Progress", sla_resolution_due_at=NOW - H),
        "held_in_time": answered(
            "held_in_time", status="On Hold", on_hold_since=NOW - 5 * H, sla_resolution_due_at=NOW - H
        ),
        "held_late": answered(
            "held_late", status="On Hold", on_hold_since=NOW - H, sla_resolution_due_at=NOW - 2 * H
        ),
        "held_replied": answered("held_replied", status="On Hold", on_hold_since=NOW - 5 * H),
        "due_monday_10": t("due_monday_10", sla_response_due_at=MONDAY_11 - H),
        "due_monday_12": t("due_monday_12", sla_response_due_at=MONDAY_11 + H),
        "resolution_due_soon": answered("resolution_due_soon", sla_resolution_due_at=NOW + H),
        "held_due_soon": answered("held_due_soon", status="On Hold", on_hold_since=NOW - H,
                                  sla_resolution_due_at=NOW + H),
        "unassigned": answered("unassigned", assigned_to_id=None),
        "resolved": answered("resolved", status="Resolved", sla_resolution_due_at=NOW - 50 * H),
        "closed_late": t("closed_late", status="Closed", sla_response_due_at=NOW - 50 * H),
        "withdrawn": t("withdrawn", status="Withdrawn", assigned_to_id=None),
        "rejected": t("rejected", status="Rejected", assigned_to_id=None),
        "replied_unseen": answered("replied_unseen"),
        "replied_seen": answered("replied_seen"),
        "replied_after_seen": answered("replied_after_seen"),
        "internal_only": answered("internal_only"),
        "closed_replied": answered("closed_replied", status="Closed"),
        "resolved_replied": answered("resolved_replied", status="Resolved"),
    }
    reply(w["held_replied"], alice, NOW - 2 * H)
    reply(w["held_in_time"], alice, NOW - 6 * H)  # before the hold: still waiting
    reply(w["replied_unseen"], alice, NOW - 3 * H)
    reply(w["replied_seen"], alice, NOW - 3 * H)
    reply(w["replied_after_seen"], alice, NOW - H)
    reply(w["internal_only"], coord, NOW - H, internal=True)
    reply(w["internal_only"], coord, NOW - 2 * H)  # staff replies are not requester updates
    reply(w["closed_replied"], alice, NOW - H)
    reply(w["resolved_replied"], alice, NOW - H)  # no work left: not an "update" to act on
    session.flush()
    ts.mark_seen(session, viewer.id, w["replied_seen"].id, NOW - 2 * H)
    ts.mark_seen(session, viewer.id, w["replied_after_seen"].id, NOW - 2 * H)
    ts.mark_seen(session, viewer.id, w["replied_after_seen"].id, NOW - 10 * H)  # never moves back
    session.flush()
    w["_viewer"] = viewer
    return w


def selected(session: Session, w: dict, state: str) -> set[str]:
    until = ts.due_soon_until(session, NOW)
    cond = ts.condition(state, now=NOW, until=until, viewer_id=w["_viewer"].id)
    return set(session.scalars(select(Ticket.subject).where(cond)))


def test_due_soon_counts_business_hours(session: Session) -> None:
    assert ts.due_soon_until(session, NOW) == MONDAY_11


def test_each_state_selects_exactly_its_tickets(session: Session, world: dict) -> None:
    all_open = {
        k for k in world if not k.startswith("_")
        and k not in {"resolved", "closed_late", "withdrawn", "rejected", "closed_replied", "resolved_replied"}
    }
    assert selected(session, world, "open") == all_open
    # A late first response that was given is history, not "breached now"; On Hold stops
    # the resolution clock at on_hold_since.
    assert selected(session, world, "breached") == {"new_late", "no_response_late", "resolution_late", "held_late"}
    # Monday 10:00 is within 4 business hours of Friday 15:00; Monday 12:00 is not; an On
    # Hold ticket's resolution clock does not run.
    assert selected(session, world, "due_soon") == {"due_monday_10", "resolution_due_soon"}
    assert selected(session, world, "urgent") == {
        "new_late", "no_response_late", "resolution_late", "held_late", "due_monday_10", "resolution_due_soon",
    }
    assert selected(session, world, "awaiting_approval") == {"new", "new_late"}
    assert selected(session, world, "unassigned") == {"unassigned"}
    assert selected(session, world, "waiting_for_requester") == {"held_in_time", "held_late", "held_due_soon"}
    assert selected(session, world, "awaiting_confirmation") == {"resolved", "resolved_replied"}
    assert selected(session, world, "updated_by_requester") == {
        "held_replied", "held_in_time", "replied_unseen", "replied_after_seen",
    }


def test_next_due_is_the_earliest_running_clock(session: Session, world: dict) -> None:
    due = {r[0]: r[1] for r in session.execute(select(Ticket.subject, ts.next_due()))}
    assert due["due_monday_10"] == MONDAY_11 - H  # response due before resolution
    assert due["resolution_due_soon"] == NOW + H  # answered: only the resolution clock
    assert due["held_due_soon"] is None  # On Hold, answered: nothing runs
    assert due["resolved"] is None and due["closed_late"] is None


def test_my_counts_in_one_statement_are_the_per_state_counts(session: Session, world: dict, engine: Engine) -> None:
    """My tickets and the employee's Home count the three states in one statement: the same
    numbers as one count per state, and as the rows each state lists."""
    me = session.get(Employee, world["new"].employee_id)  # Alice requested every ticket here
    statements: list[str] = []

    def on_statement(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", on_statement)
    try:
        counts = tickets.count_my_tickets_by_state(session, me)
    finally:
        event.remove(engine, "before_cursor_execute", on_statement)
    assert len(statements) == 1, statements
    assert counts == {str(x): tickets.count_my_tickets(session, me, x) for x in ts.MY_STATES}
    assert counts == {"open": 17, "waiting_for_requester": 3, "awaiting_confirmation": 2}
    assert counts == {str(x): len(tickets.list_my_tickets(session, me, state=x)) for x in ts.MY_STATES}
