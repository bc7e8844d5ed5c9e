"""The ticket status workflow as data: which move exists, and who may make it.

A move (from, to) is allowed for an actor when the actor acts as staff on the ticket
(`policy.acts_as_staff`, not merely their role) and their role is in `staff`, or when
`requester` is set and the actor is the ticket's own requester. The table is the single source: the service checks it,
the detail page offers exactly the moves it allows, and the tests are parametrized over it.

Why these moves:
* only an admin decides on a New ticket (open it, or reject it with a mandatory reason);
* staff work Open / In Progress / On Hold and resolve; staff may take a Resolved ticket
  back to In Progress (a reopen) and may close it;
* the requester may withdraw their own ticket until it is resolved, and may close their
  Resolved ticket or reopen it within `REOPEN_DAYS` (after that `auto_close` closes it);
* Closed, Rejected and Withdrawn are final.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .vocab import Role, TicketStatus

S = TicketStatus
REOPEN_DAYS = 7
#: A Resolved ticket closes itself this long after it was (last) resolved.
AUTO_CLOSE_AFTER = dt.timedelta(days=REOPEN_DAYS)

STAFF = frozenset({Role.COORDINATOR, Role.ADMIN})
ADMIN = frozenset({Role.ADMIN})
NOBODY: frozenset[Role] = frozenset()


@dataclass(frozen=True)
class Move:
    staff: frozenset[Role]  # roles that may make the move on a ticket they can see
    requester: bool = False  # the ticket's requester may make it on their own ticket
    note_required: bool = False  # e.g. the rejection reason
    requester_within: dt.timedelta | None = None  # requester only within this time since Resolved
    reopen: bool = False  # leaving Resolved: counts as a reopen (keeps first timing values)


TRANSITIONS: dict[tuple[TicketStatus, TicketStatus], Move] = {
    (S.NEW, S.OPEN): Move(ADMIN),
    (S.NEW, S.REJECTED): Move(ADMIN, note_required=True),
    (S.NEW, S.WITHDRAWN): Move(NOBODY, requester=True),
    (S.OPEN, S.IN_PROGRESS): Move(STAFF),
    (S.OPEN, S.ON_HOLD): Move(STAFF),
    (S.OPEN, S.RESOLVED): Move(STAFF),
    (S.OPEN, S.WITHDRAWN): Move(NOBODY, requester=True),
    (S.IN_PROGRESS, S.OPEN): Move(STAFF),
    (S.IN_PROGRESS, S.ON_HOLD): Move(STAFF),
    (S.IN_PROGRESS, S.RESOLVED): Move(STAFF),
    (S.IN_PROGRESS, S.WITHDRAWN): Move(NOBODY, requester=True),
    (S.ON_HOLD, S.OPEN): Move(STAFF),
    (S.ON_HOLD, S.IN_PROGRESS): Move(STAFF),
    (S.ON_HOLD, S.RESOLVED): Move(STAFF),
    (S.ON_HOLD, S.WITHDRAWN): Move(NOBODY, requester=True),
    (S.RESOLVED, S.CLOSED): Move(STAFF, requester=True),
    (S.RESOLVED, S.OPEN): Move(NOBODY, requester=True, requester_within=AUTO_CLOSE_AFTER, reopen=True),
    (S.RESOLVED, S.IN_PROGRESS): Move(STAFF, reopen=True),
}

#: What the requester's buttons say for their moves.
REQUESTER_LABELS: dict[TicketStatus, str] = {
    S.WITHDRAWN: "Withdraw",
    S.CLOSED: "Close (problem solved)",
    S.OPEN: "Reopen (not solved)",
}


def move(from_status: str | None, to_status: str) -> Move | None:
    """The table entry of a move, or None when the move does not exist."""
    if from_status is None:
        return None
    try:
        return TRANSITIONS.get((TicketStatus(from_status), TicketStatus(to_status)))
    except ValueError:
        return None


def may_move(
    staff_role: str | None,
    is_requester: bool,
    from_status: str | None,
    to_status: str,
    *,
    since_resolved: dt.timedelta | None = None,
) -> bool:
    """True when the actor may make the move: `staff_role` is their role when they act as
    staff on this ticket (`policy.acts_as_staff`) and None when they do not (a coordinator on
    their own request to another department), `is_requester` whether they filed it.

    `since_resolved` is how long ago the ticket was resolved (for the requester's reopen
    window); None means unknown, which refuses a windowed move.
    """
    rule = move(from_status, to_status)
    if rule is None:
        return False
    if staff_role is not None and Role(staff_role) in rule.staff:
        return True
    if rule.requester and is_requester:
        if rule.requester_within is None:
            return True
        return since_resolved is not None and since_resolved <= rule.requester_within
    return False


def targets(from_status: str | None) -> list[TicketStatus]:
    """Every status reachable from `from_status` by someone (table order)."""
    return [to for (frm, to) in TRANSITIONS if from_status is not None and frm.value == from_status]
