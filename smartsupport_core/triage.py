"""Triage choices: what the queue's side panel may offer for the selected tickets.

A grid column's options are the same for every row (Streamlit's column config is per
column), so the grid offered every status and every coordinator, and the server then refused
half of them ("cannot move from Resolved to New", "… is a coordinator of Human Resources").
The queue is read-only instead; selecting rows opens a panel whose choices come from here:
per ticket, what `ticket_actions` says this actor may do on it now (the staff moves of the
workflow table, whether they may assign it or change its priority, the admin's approve /
reject; a coordinator acts as staff only on their department's or assigned tickets), and the
people it may be assigned to (`tickets.assignable_staff`: the ticket's department's
coordinators and the admins, from the cached staff list). For
several tickets, only what every one of them allows (`common`). The services check again on
save (`queue_edits.apply_grid_edits`); these lists only keep refused choices off the screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import policy, refdata, tickets
from .models import Employee, Ticket
from .policy import Action
from .ticket_actions import ticket_actions
from .vocab import Priority, TicketStatus

S = TicketStatus
PRIORITIES: tuple[str, ...] = tuple(p.value for p in (Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW))


@dataclass(frozen=True)
class Choices:
    """What may be done to one ticket now (`assignees` are (id or None, name) pairs)."""

    ticket_id: int
    number: str
    version: int
    status: str
    priority: str
    assignee_id: int | None
    statuses: tuple[str, ...]  # status moves for the "Status" picker (decisions excluded)
    assignees: tuple[tuple[int | None, str], ...]  # empty: may not assign
    priorities: tuple[str, ...]  # empty: may not change the priority
    may_approve: bool
    may_reject: bool

    @property
    def any(self) -> bool:
        return bool(self.statuses or self.assignees or self.priorities or self.may_approve or self.may_reject)


def people_names(staff: Sequence[Employee | refdata.Staff]) -> list[tuple[int, str]]:
    """(id, name) per person; a name two people share gets their e-mail address too."""
    seen: dict[str, int] = {}
    for e in staff:
        seen[e.full_name] = seen.get(e.full_name, 0) + 1
    return [(e.id, e.full_name if seen[e.full_name] == 1 else f"{e.full_name} <{e.email}>") for e in staff]


def _choices(session: Session, actor: Employee, ticket: Ticket, staff_cache: dict[str, list]) -> Choices:
    can = ticket_actions(session, actor, ticket)
    assignees: tuple[tuple[int | None, str], ...] = ()
    if can.may_assign:
        if ticket.department not in staff_cache:
            staff_cache[ticket.department] = people_names(tickets.assignable_staff(session, ticket))
        assignees = ((None, "Unassigned"), *staff_cache[ticket.department])
    return Choices(
        ticket_id=ticket.id,
        number=ticket.ticket_number,
        version=ticket.version,
        status=ticket.status or S.NEW.value,
        priority=ticket.priority or Priority.MEDIUM.value,
        assignee_id=ticket.assigned_to_id,
        statuses=tuple(m.value for m in can.staff_moves),
        assignees=assignees,
        priorities=PRIORITIES if can.may_set_priority else (),
        may_approve=can.may_approve,
        may_reject=can.may_reject,
    )


def choices(session: Session, actor: Employee, ticket_ids: Iterable[int]) -> dict[int, Choices]:
    """Per visible ticket id: what `actor` may do to it now (tickets they cannot see are left out)."""
    policy.require(actor, Action.USE_QUEUE)
    ids = list(dict.fromkeys(int(i) for i in ticket_ids))
    if not ids:
        return {}
    rows = session.scalars(select(Ticket).where(Ticket.id.in_(ids), policy.ticket_visibility(actor))).all()
    cache: dict[str, list] = {}
    by_id = {t.id: _choices(session, actor, t, cache) for t in rows}
    return {i: by_id[i] for i in ids if i in by_id}


@dataclass(frozen=True)
class Common:
    """What every one of several tickets allows (the bulk panel's choices)."""

    statuses: tuple[str, ...]
    assignees: tuple[tuple[int | None, str], ...]
    priorities: tuple[str, ...]
    may_approve: bool
    may_reject: bool


def common(items: Sequence[Choices]) -> Common:
    if not items:
        return Common((), (), (), False, False)

    def shared(lists: Iterable[tuple]) -> tuple:
        lists = list(lists)
        rest = [set(x) for x in lists[1:]]
        return tuple(x for x in lists[0] if all(x in r for r in rest))

    return Common(
        statuses=shared(c.statuses for c in items),
        assignees=shared(c.assignees for c in items),
        priorities=shared(c.priorities for c in items),
        may_approve=all(c.may_approve for c in items),
        may_reject=all(c.may_reject for c in items),
    )


__all__ = ["Choices", "Common", "choices", "common", "people_names"]
