"""Staff powers on a ticket come from `policy.acts_as_staff`, never from the role alone (issue 13.1).

An IT coordinator files an "Others" request that routes to Operations: on it they are its
requester and nothing more. Every role is walked against every per-ticket action of the core,
against a table written here independently of the code (S = acts as staff, R = requester):

* the employee who filed their ticket (R), the Operations coordinator (S), the IT coordinator
  who filed the Operations ticket (R), a Finance coordinator it is assigned to (S), an admin (S).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from smartsupport_core import assistant, canned, policy, queue, ratings, tickets
from smartsupport_core.assistant.providers import RetrievalOnlyProvider
from smartsupport_core.errors import DomainError, NotFound, PermissionDenied
from smartsupport_core.models import Employee, Ticket, TicketComment
from smartsupport_core.queue_edits import Outcome, RowEdit, apply_grid_edits
from smartsupport_core.ticket_actions import ticket_actions
from smartsupport_core.vocab import Role, TicketStatus
from tests.factories import make_employee
from tests.portal_helpers import open_page
from tests.ticket_helpers import PNG, T0, Clock, clock_fixture, ticket_in  # noqa: F401

S = TicketStatus
ACTORS = ("employee", "ops_coord", "it_filer", "assigned_coord", "admin")
INTERNAL = "Operations internal: the supplier invoice is disputed."

# Columns: employee, ops_coord, it_filer, assigned_coord, admin ("x" = allowed, "-" = refused)
EXPECTED = """
read internal notes               - x - x x
post an internal note             - x - x x
edit an internal note             - x - x x
assign                            - x - x x
set priority                      - x - x x
start work                        - x - x x
resolve                           - x - x x
approve                           - - - - x
reject                            - - - - x
insert a canned response          - x - x x
draft a reply                     - x - x x
see it in the queue               - x - x x
reply publicly                    x x x x x
upload a file                     x x x x x
withdraw                          x - x - -
close resolved                    x x x x x
reopen resolved                   x x x x x
rate                              x - x - -
"""


def _parse() -> dict[tuple[str, str], bool]:
    table = {}
    for line in EXPECTED.strip().splitlines():
        *words, a, b, c, d, e = line.split()
        for actor, mark in zip(ACTORS, (a, b, c, d, e), strict=True):
            table[(" ".join(words), actor)] = mark == "x"
    return table


MATRIX = _parse()
ACTIONS = sorted({action for action, _ in MATRIX})


@pytest.fixture
def world(session: Session, clock: Clock) -> dict:
    """People, and three Operations tickets (Open, New, Resolved) per requester."""
    p = {
        "employee": make_employee(session, department="Sales", first_name="Erin"),
        "ops_coord": make_employee(session, role=Role.COORDINATOR, department="Operations", first_name="Olga"),
        "it_filer": make_employee(session, role=Role.COORDINATOR, department="IT Department", first_name="Ivan"),
        "assigned_coord": make_employee(session, role=Role.COORDINATOR, department="Finance", first_name="Fay"),
        "admin": make_employee(session, role=Role.ADMIN, department="IT Department", first_name="Ada"),
    }
    made: dict = {"people": p}
    for requester in ("employee", "it_filer"):
        for status in (S.OPEN, S.NEW, S.RESOLVED):
            t = ticket_in(
                session,
                p[requester],
                status,
                at=clock.now,
                department="Operations",
                category="Others",
                priority="Medium",
                assigned_to_id=p["assigned_coord"].id,
            )
            made[(requester, status)] = t
        open_ticket = made[(requester, S.OPEN)]
        session.add(
            TicketComment(
                ticket_id=open_ticket.id, user_id=p["ops_coord"].id, comment=INTERNAL, is_internal=True,
                created_at=clock.now, updated_at=clock.now,
            )
        )  # fmt: skip
    canned.create_canned(session, p["admin"], "Thanks", "Thanks, {requester_first_name}.", shared=True)
    session.flush()
    return made


def _requester_of(actor: str) -> str:
    return "employee" if actor == "employee" else "it_filer"


def _probe(action: str):
    """One core call per action; it raises PermissionDenied/NotFound when refused."""

    def internal_notes(s: Session, a: Employee, t: dict) -> None:
        if INTERNAL not in [c.comment for c in tickets.list_comments(s, a, t[S.OPEN].id)]:
            raise PermissionDenied("no internal notes")

    def edit_internal(s: Session, a: Employee, t: dict) -> None:
        note = s.scalars(select(TicketComment).where(TicketComment.comment == INTERNAL)).first()
        assert note is not None
        try:
            tickets.edit_comment(s, a, note.id, "changed")
        except PermissionDenied as exc:  # staff who may read it but did not write it
            assert "author" in str(exc)

    def in_queue(s: Session, a: Employee, t: dict) -> None:
        rows = queue.query_queue(s, a, queue.QueueFilters()).rows
        refreshed = queue.rows_by_id(s, a, [t[S.OPEN].id])
        in_grid, in_refresh = t[S.OPEN].id in [r.id for r in rows], t[S.OPEN].id in refreshed
        assert in_grid == in_refresh, (in_grid, in_refresh)  # the grid's refresh reads the same scope
        if not in_grid:
            raise PermissionDenied("not in the queue")

    def draft(s: Session, a: Employee, t: dict) -> None:
        try:
            assistant.suggest_reply(s, a, t[S.OPEN].id, RetrievalOnlyProvider())
        except (PermissionDenied, NotFound):
            raise
        except DomainError as exc:  # "needs a language model": the policy let the call through
            assert "language model" in str(exc)

    def canned_reply(s: Session, a: Employee, t: dict) -> None:
        (shared,) = [c for c in canned.list_canned(s, a) if c.shared]
        canned.render_canned(s, a, shared.id, t[S.OPEN].id)

    probes = {
        "read internal notes": internal_notes,
        "post an internal note": lambda s, a, t: tickets.add_comment(s, a, t[S.OPEN].id, "Note", internal=True),
        "edit an internal note": edit_internal,
        "assign": lambda s, a, t: tickets.assign_ticket(s, a, t[S.OPEN].id, None),
        "set priority": lambda s, a, t: tickets.set_priority(s, a, t[S.OPEN].id, "High"),
        "start work": lambda s, a, t: tickets.change_status(s, a, t[S.OPEN].id, "In Progress"),
        "resolve": lambda s, a, t: tickets.change_status(s, a, t[S.OPEN].id, "Resolved"),
        "approve": lambda s, a, t: tickets.approve_ticket(s, a, t[S.NEW].id),
        "reject": lambda s, a, t: tickets.reject_ticket(s, a, t[S.NEW].id, "Not for us"),
        "insert a canned response": canned_reply,
        "draft a reply": draft,
        "see it in the queue": in_queue,
        "reply publicly": lambda s, a, t: tickets.add_comment(s, a, t[S.OPEN].id, "Any news?"),
        "upload a file": lambda s, a, t: tickets.add_attachments(s, a, t[S.OPEN].id, [("shot.png", PNG)]),
        "withdraw": lambda s, a, t: tickets.withdraw_ticket(s, a, t[S.OPEN].id),
        "close resolved": lambda s, a, t: tickets.close_ticket(s, a, t[S.RESOLVED].id),
        "reopen resolved": lambda s, a, t: tickets.reopen_ticket(s, a, t[S.RESOLVED].id),
        "rate": lambda s, a, t: ratings.rate_ticket(s, a, t[S.RESOLVED].id, 4),
    }
    return probes[action]


@pytest.mark.usefixtures("private_data_dir")
@pytest.mark.parametrize("actor_key", ACTORS)
def test_every_role_against_every_ticket_action(session: Session, world: dict, actor_key: str) -> None:
    actor = world["people"][actor_key]
    mine = {status: world[(_requester_of(actor_key), status)] for status in (S.OPEN, S.NEW, S.RESOLVED)}
    wrong = []
    for action in ACTIONS:
        expected = MATRIX[(action, actor_key)]
        savepoint = session.begin_nested()
        try:
            _probe(action)(session, actor, mine)
            allowed = True
        except (PermissionDenied, NotFound):
            allowed = False
        finally:
            savepoint.rollback()  # every probe starts from the same tickets
        if allowed is not expected:
            wrong.append(f"{action}: {'allowed' if allowed else 'refused'}")
    assert wrong == [], f"{actor_key}: {wrong}"


@pytest.mark.parametrize("actor_key", ACTORS)
def test_ticket_actions_match_the_table(session: Session, world: dict, actor_key: str) -> None:
    """What the ticket page is told it may offer is exactly what the services accept."""
    actor = world["people"][actor_key]
    mine = {status: world[(_requester_of(actor_key), status)] for status in (S.OPEN, S.NEW, S.RESOLVED)}
    cell = {action: MATRIX[(action, actor_key)] for action in ACTIONS}
    on_open = ticket_actions(session, actor, mine[S.OPEN])
    assert on_open.as_staff is cell["assign"]
    assert on_open.is_requester is (actor_key in ("employee", "it_filer"))
    assert on_open.may_view_internal is cell["read internal notes"]
    assert on_open.may_comment_internal is cell["post an internal note"]
    assert on_open.may_assign is cell["assign"]
    assert on_open.may_set_priority is cell["set priority"]
    assert on_open.may_use_staff_tools is cell["insert a canned response"]
    assert on_open.may_comment is cell["reply publicly"]
    assert on_open.may_upload is cell["upload a file"]
    assert (S.IN_PROGRESS in on_open.staff_moves) is cell["start work"]
    assert (S.RESOLVED in on_open.staff_moves) is cell["resolve"]
    assert on_open.requester_moves == ((S.WITHDRAWN,) if cell["withdraw"] else ())
    assert set(on_open.moves) == set(tickets.allowed_moves(session, actor, mine[S.OPEN]))
    on_new = ticket_actions(session, actor, mine[S.NEW])
    assert (on_new.may_approve, on_new.may_reject) == (cell["approve"], cell["reject"])
    assert on_new.staff_moves == ()
    on_resolved = ticket_actions(session, actor, mine[S.RESOLVED])
    assert on_resolved.may_rate is cell["rate"]
    assert (S.CLOSED in on_resolved.moves) is cell["close resolved"]


def test_requester_coordinator_cannot_move_their_request_as_staff(session: Session, world: dict) -> None:
    """The refusal says why, and nothing changes (status, version, comments)."""
    it_filer = world["people"]["it_filer"]
    ticket: Ticket = world[("it_filer", S.OPEN)]
    with pytest.raises(PermissionDenied, match="requester"):
        tickets.set_priority(session, it_filer, ticket.id, "Critical", expected_version=1)
    with pytest.raises(PermissionDenied):
        tickets.change_status(session, it_filer, ticket.id, "Resolved", expected_version=1)
    session.refresh(ticket)
    assert (ticket.status, ticket.priority, ticket.version) == ("Open", "Medium", 1)


def test_queue_grid_edit_by_the_requester_coordinator_is_refused(session: Session, clean_db: Engine, world) -> None:
    it_filer, ops = world["people"]["it_filer"], world["people"]["ops_coord"]
    ticket: Ticket = world[("it_filer", S.OPEN)]
    session.commit()
    edit = RowEdit(ticket.id, 1, priority="Critical", label=ticket.ticket_number)
    (refused,) = apply_grid_edits(lambda: Session(clean_db), it_filer, [edit])
    assert refused.outcome in (Outcome.REFUSED, Outcome.NOT_FOUND), refused
    with Session(clean_db) as s:
        assert s.get(Ticket, ticket.id).priority == "Medium"
    (saved,) = apply_grid_edits(lambda: Session(clean_db), ops, [edit])
    assert saved.outcome is Outcome.SAVED, saved


def test_staff_scope_sql_matches_acts_as_staff(session: Session, world: dict) -> None:
    every = session.scalars(select(Ticket)).all()
    for key, actor in world["people"].items():
        in_sql = set(session.scalars(select(Ticket.id).where(policy.staff_scope(actor))))
        assert in_sql == {t.id for t in every if policy.acts_as_staff(actor, t)}, key


def _page_keys(at) -> set[str]:
    groups = (at.toggle, at.selectbox, at.text_area, at.button, at.button_group)
    return {w.key for group in groups for w in group if w.key}


def test_ticket_page_for_the_cross_department_requester_coordinator(session: Session, world: dict) -> None:
    """AppTest: no internal-note mode, staff status moves, assignment or priority widgets, no
    internal notes; the requester's own Withdraw and the public reply box are there."""
    it_filer = world["people"]["it_filer"]
    ticket: Ticket = world[("it_filer", S.OPEN)]
    session.commit()
    at = open_page(it_filer, "ticket.py", id=str(ticket.id))
    shown = "\n".join(str(e.value) for e in (*at.text, *at.markdown, *at.caption))
    assert INTERNAL not in shown
    assert "Internal note" not in shown
    keys = _page_keys(at)
    staff_widgets = {
        f"compose_mode_{ticket.id}",  # public reply / internal note switch
        f"send_internal_{ticket.id}",
        "move_In Progress",
        "move_On Hold",
        "move_Resolved",
        f"assign_{ticket.id}",
        f"priority_{ticket.id}",
        f"canned_pick_{ticket.id}",
        f"suggest_{ticket.id}",
    }
    assert keys & staff_widgets == set()
    assert {f"send_public_{ticket.id}", "move_Withdrawn"} <= keys
    # the Operations coordinator, on the same ticket, gets the staff widgets and the note
    ops = world["people"]["ops_coord"]
    at = open_page(ops, "ticket.py", id=str(ticket.id))
    keys = _page_keys(at)
    assert {f"compose_mode_{ticket.id}", "move_In Progress", f"assign_{ticket.id}", f"priority_{ticket.id}"} <= keys
    assert "move_Withdrawn" not in keys
    assert INTERNAL in "\n".join(str(e.value) for e in at.text)


def test_reopen_window_follows_the_clock(session: Session, world: dict, clock: Clock) -> None:
    """The requester moves of `ticket_actions` read the same clock as the service."""
    it_filer = world["people"]["it_filer"]
    ticket: Ticket = world[("it_filer", S.RESOLVED)]
    assert S.OPEN in ticket_actions(session, it_filer, ticket).requester_moves
    clock.advance(days=8)
    assert S.OPEN not in ticket_actions(session, it_filer, ticket).requester_moves
    assert ticket_actions(session, it_filer, ticket, at=T0 + dt.timedelta(days=1)).requester_moves
