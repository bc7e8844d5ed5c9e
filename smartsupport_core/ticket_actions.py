"""What one actor may do on one ticket right now: the ticket page draws its widgets from this.

Why a separate answer: the page used to work out its widgets from the actor's role, so a
coordinator who filed a request to another department got the staff widgets on it (and the
services, checking the role too, let them through). `ticket_actions` asks the same questions
the services ask — `policy.allowed_on_ticket` (role table + `policy.acts_as_staff`) and the
workflow table (`tickets.split_moves`) — so a widget is shown exactly when its service call
would be accepted (the service still checks again). Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from . import ratings, tickets
from .models import Employee, Ticket
from .policy import Action, acts_as_staff, allowed_on_ticket, can_see_ticket
from .vocab import FINAL_STATUSES, OPEN_STATUSES, TicketStatus

S = TicketStatus
#: The admin's decision on a New ticket: shown as its own buttons, not in "Change status".
APPROVAL_MOVES = frozenset({(S.NEW, S.OPEN), (S.NEW, S.REJECTED)})


@dataclass(frozen=True)
class TicketActions:
    """Everything the ticket page may offer `actor` on one ticket (all False/empty when the
    actor cannot see it). Status moves are `TicketStatus` members in workflow-table order."""

    as_staff: bool  # works the ticket as staff: internal notes, staff labels (policy.acts_as_staff)
    is_requester: bool  # filed the ticket
    staff_moves: tuple[TicketStatus, ...]  # "Change status" choices (approval moves excluded)
    requester_moves: tuple[TicketStatus, ...]  # withdraw / close / reopen buttons
    may_approve: bool  # open a New ticket
    may_reject: bool  # reject a New ticket (with a reason)
    may_comment: bool  # post a public reply
    may_comment_internal: bool  # post an internal note
    may_view_internal: bool  # read internal notes
    may_assign: bool
    may_set_priority: bool
    may_upload: bool
    may_rate: bool
    may_use_staff_tools: bool  # canned responses and the "Suggest reply" draft

    @property
    def moves(self) -> tuple[TicketStatus, ...]:
        """Every status the actor may move the ticket to now."""
        return self.staff_moves + self.requester_moves + tuple(
            to for to, ok in ((S.OPEN, self.may_approve), (S.REJECTED, self.may_reject)) if ok
        )

    @property
    def any(self) -> bool:
        """Whether the action panel has anything to offer."""
        return bool(
            self.staff_moves
            or self.requester_moves
            or self.may_approve
            or self.may_reject
            or self.may_assign
            or self.may_set_priority
        )


NOTHING = TicketActions(False, False, (), (), *([False] * 10))


def ticket_actions(
    session: Session, actor: Employee | None, ticket: Ticket, *, at: dt.datetime | None = None
) -> TicketActions:
    """What `actor` may do on `ticket` now (from the policy table, `acts_as_staff` and the
    workflow table); the services enforce the same rules on every call."""
    if actor is None or not can_see_ticket(actor, ticket):
        return NOTHING
    staff, requester = tickets.split_moves(session, actor, ticket, at=at)
    current = S(ticket.status) if ticket.status else S.NEW
    approvals = {to for to in staff if (current, to) in APPROVAL_MOVES}
    is_open = ticket.status in OPEN_STATUSES  # StrEnum members compare equal to their values
    return TicketActions(
        as_staff=acts_as_staff(actor, ticket),
        is_requester=actor.id == ticket.employee_id,
        staff_moves=tuple(to for to in staff if to not in approvals),
        requester_moves=tuple(requester),
        may_approve=S.OPEN in approvals and allowed_on_ticket(actor, Action.APPROVE_TICKET, ticket),
        may_reject=S.REJECTED in approvals and allowed_on_ticket(actor, Action.APPROVE_TICKET, ticket),
        may_comment=ticket.status not in FINAL_STATUSES and allowed_on_ticket(actor, Action.COMMENT_PUBLIC, ticket),
        may_comment_internal=allowed_on_ticket(actor, Action.COMMENT_INTERNAL, ticket),
        may_view_internal=allowed_on_ticket(actor, Action.VIEW_INTERNAL_COMMENTS, ticket),
        may_assign=is_open and allowed_on_ticket(actor, Action.ASSIGN_TICKET, ticket),
        may_set_priority=is_open and allowed_on_ticket(actor, Action.CHANGE_PRIORITY, ticket),
        may_upload=tickets.accepts_attachments(ticket) and allowed_on_ticket(actor, Action.UPLOAD_ATTACHMENT, ticket),
        may_rate=ratings.can_rate(actor, ticket),
        may_use_staff_tools=allowed_on_ticket(actor, Action.USE_QUEUE, ticket),
    )
