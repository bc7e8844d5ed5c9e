"""Home's inbox: per role, the counts of what needs the signed-in person, each a link to the
list that shows exactly those tickets.

Every count is taken by the function that lists the rows: a staff tile is a built-in queue
view (`saved_views.builtin_views`) counted by `queue.count_view` with that view's filters;
an employee tile is a `ticket_states` state of their own tickets counted by
`tickets.count_my_tickets_by_state` (the three states in one statement, each with the condition
`count_my_tickets` uses), which My tickets lists with `list_my_tickets(state=...)`; the
accounts tile is `accounts.awaiting_approval`, the Pending list of the accounts page. So a
tile can never say 4 where the list it opens shows 6.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from . import accounts, policy, queue, saved_views, tickets
from .models import Employee
from .policy import Action
from .ticket_states import TicketState
from .vocab import Role


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    count: int
    more: bool  # more than `count` (a capped count)
    page: str  # the page file that lists the tickets (under pages/)
    params: dict[str, str] = field(default_factory=dict)  # its query parameters

    @property
    def shown(self) -> str:
        return f"{self.count}{'+' if self.more else ''}"


#: Per staff role: (tile key = built-in view key, label). Order is the order on Home.
STAFF_TILES: dict[str, tuple[tuple[str, str], ...]] = {
    Role.ADMIN.value: (
        ("needs-approval", "Tickets awaiting approval"),
        ("accounts", "Accounts awaiting approval"),
        ("breached", "Breached"),
        ("unassigned", "Unassigned"),
    ),
    Role.COORDINATOR.value: (
        ("assigned-to-me", "Assigned to me"),
        ("unassigned-in-department", "Unassigned in my department"),
        ("urgent", "Breached or due within 4 business hours"),
        ("updated-by-requester", "Updated by the requester since I last looked"),
    ),
}
#: An employee's tiles: (state of their own tickets, label).
MY_TILES: tuple[tuple[str, str], ...] = (
    (TicketState.OPEN.value, "My open requests"),
    (TicketState.WAITING_FOR_REQUESTER.value, "Waiting for my reply"),
    (TicketState.AWAITING_CONFIRMATION.value, "Resolved: awaiting my confirmation"),
)


def tiles(session: Session, actor: Employee, *, now: dt.datetime | None = None) -> list[Tile]:
    """The actor's tiles with their counts (an account that may not see tickets gets none)."""
    now = now or dt.datetime.now(dt.UTC)
    out: list[Tile] = []
    if actor.role in STAFF_TILES and policy.allowed(actor, Action.USE_QUEUE):
        for key, label in STAFF_TILES[actor.role]:
            if key == "accounts":
                n = accounts.awaiting_approval(session, actor)
                out.append(Tile(key, label, n, False, "accounts_admin.py"))
                continue
            view = saved_views.builtin_view(actor, key)
            assert view is not None, key
            n, more = queue.count_view(session, actor, view.filters, now=now)
            out.append(Tile(key, label, n, more, "queue.py", {"view": key}))
        return out
    if policy.allowed(actor, Action.VIEW_OWN_TICKETS):
        counts = tickets.count_my_tickets_by_state(session, actor)  # one statement for the tiles
        for state, label in MY_TILES:
            n = counts[str(state)]
            out.append(Tile(state, label, n, False, "my_tickets.py", {"show": state}))
    return out


__all__ = ["MY_TILES", "STAFF_TILES", "Tile", "tiles"]
