"""A ticket's summary: what a report viewer may read of a ticket they do not work on.

A department head (`policy.Grant.DEPARTMENT_HEAD`) drills down from the SLA dashboard to the
tickets of their department; they may read each ticket's number, subject, category, status,
priority, assignee and times, and nothing else - not its description, comments, attachments,
history or internal notes, which stay behind `tickets.get_ticket` (role visibility). Anyone
reads the summary of a ticket they can see anyway (`Action.VIEW_TICKET_SUMMARY` is allowed to
every role on its visible tickets), so this is one reader for every path.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import false, func, select
from sqlalchemy.orm import Session, aliased

from . import policy
from .errors import NotFound
from .models import Employee, Ticket
from .policy import Action


@dataclass(frozen=True)
class TicketSummary:
    id: int
    ticket_number: str
    subject: str
    category: str | None
    status: str | None
    priority: str | None
    department: str | None
    assignee: str  # full name, or "Unassigned"
    submit_date: dt.datetime | None
    first_response_at: dt.datetime | None
    sla_response_due_at: dt.datetime | None
    sla_response_met: bool | None
    resolved_at: dt.datetime | None
    sla_resolution_due_at: dt.datetime | None
    sla_resolution_met: bool | None
    time_closed: dt.datetime | None
    #: True when the actor may open the whole ticket (`tickets.get_ticket`), not only this.
    full_access: bool


def get_summary(session: Session, actor: Employee, ticket_id: int) -> TicketSummary:
    """The summary if `actor` may read it; `NotFound` otherwise (never reveals existence)."""
    grants = policy.grants_of(session, actor)
    assignee = aliased(Employee)
    row = session.execute(
        select(
            Ticket.id,
            Ticket.ticket_number,
            Ticket.subject,
            Ticket.category,
            Ticket.status,
            Ticket.priority,
            Ticket.department,
            func.coalesce(assignee.first_name + " " + assignee.last_name, "Unassigned").label("assignee"),
            Ticket.submit_date,
            Ticket.first_response_at,
            Ticket.sla_response_due_at,
            Ticket.sla_response_met,
            Ticket.resolved_at,
            Ticket.sla_resolution_due_at,
            Ticket.sla_resolution_met,
            Ticket.time_closed,
            func.coalesce(policy.ticket_visibility(actor), false()).label("full_access"),  # NULL: a NULL column
        )
        .outerjoin(assignee, assignee.id == Ticket.assigned_to_id)
        .where(Ticket.id == ticket_id, policy.action_scope(actor, Action.VIEW_TICKET_SUMMARY, grants))
    ).one_or_none()
    if row is None:
        raise NotFound(f"Ticket {ticket_id} was not found.")
    return TicketSummary(**row._asdict())
