"""Ticket management (spec processes 3.1-3.6): submit, route, approve, assign, work, close.

Every function follows the service convention: `(session, actor, ...)`, policy first, all
validation before any write, then the change, its history row, its audit row and its
notifications in the caller's transaction (flushed, never committed here).

Concurrency: updates lock the ticket row (`SELECT ... FOR UPDATE`) and compare the
caller's `expected_version` with `Ticket.version`; a stale caller gets a `Conflict` naming
who changed the ticket last. Every successful update increments the version.

Timing rules (documented in the README): `response_time` is set once, at the first *public*
response by staff (a public comment by a staff member who is not the requester, or a status
change out of Open); `resolution_time` once, the first time the ticket reaches Resolved;
`time_closed` whenever it is Closed. Reopening keeps the first values, increments
`reopen_count` and is recorded in the status history. The SLA numbers come from `sla_clock`'s hooks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, make_transient_to_detached

from . import attachments as files
from . import (
    audit,
    notifications,
    refdata,
    sla_clock,
    text_input,
    ticket_insert,
    ticket_states,
    upload_check,
    workflow,
)
from .email_templates import TEMPLATES, ticket_link
from .errors import Conflict, NotFound, PermissionDenied, ValidationError
from .models import (
    TICKET_TSVECTOR,
    AuditLog,
    Employee,
    Ticket,
    TicketAttachment,
    TicketCategory,
    TicketComment,
    TicketStatusHistory,
)
from .numbering import ensure_sequence, sequence_name, ticket_year
from .policy import (
    Action,
    acts_as_staff,
    allowed_on_ticket,
    is_active_account,
    require,
    require_on_ticket,
    ticket_visibility,
)
from .settings import get_settings
from .ticket_forms import validate_submission
from .vocab import OPEN_STATUSES, AccountStatus, AuditAction, Priority, Role, TicketStatus

S = TicketStatus
COMMENT_EDIT_WINDOW = dt.timedelta(minutes=15)
COMMENT_MAX = text_input.COMMENT_MAX
REASON_MAX = text_input.NOTE_MAX
#: Statuses that count towards a coordinator's load when auto-assigning.
LOAD_STATUSES = (S.OPEN.value, S.IN_PROGRESS.value, S.ON_HOLD.value)
TICKET_AUDIT_FIELDS = ["status", "priority", "assigned_to_id", "rejection_reason", "version"]
_TICKET_COLUMNS = list(Ticket.__table__.columns)
_NEXT_TICKET_ID = ", nextval(pg_get_serial_sequence('core_ticket', 'id'))"


def _now() -> dt.datetime:
    """The current instant (UTC); tests replace it to walk through time."""
    return dt.datetime.now(dt.UTC)


# --- helpers ------------------------------------------------------------------------------


def _data(ticket: Ticket, first_name: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "ticket_number": ticket.ticket_number,
        "subject": ticket.subject,
        "first_name": first_name,
        "link": ticket_link(ticket.id),
        "priority": ticket.priority,
        "status": ticket.status,
        **extra,
    }


def _employee(session: Session, employee_id: int | None) -> Employee | None:
    return session.get(Employee, employee_id) if employee_id is not None else None


def _notify(
    session: Session, template: str, to: Employee | None, ticket: Ticket, actor: Employee | None, **extra: Any
) -> None:
    if to is None or not is_active_account(to):
        return
    notifications.queue(
        session, template, to=to, data=_data(ticket, to.first_name, **extra), ticket_id=ticket.id, actor=actor
    )


def _fmt_time(when: dt.datetime | None) -> str:
    if when is None:
        return "an unknown time"
    return when.astimezone(ZoneInfo(get_settings().timezone)).strftime("%Y-%m-%d %H:%M %Z")


def last_change(session: Session, ticket: Ticket) -> tuple[str, dt.datetime | None]:
    """Who changed the ticket last and when (from the audit trail, else the history)."""
    row = session.execute(
        select(AuditLog.user_id, AuditLog.timestamp)
        .where(AuditLog.table_name == "core_ticket", AuditLog.record_id == ticket.id)
        .order_by(AuditLog.id.desc())
        .limit(1)
    ).first()
    if row is None:
        row = session.execute(
            select(TicketStatusHistory.changed_by_id, TicketStatusHistory.changed_at)
            .where(TicketStatusHistory.ticket_id == ticket.id)
            .order_by(TicketStatusHistory.id.desc())
            .limit(1)
        ).first()
    if row is None:
        return "someone", ticket.update_date
    who = _employee(session, row[0])
    return (who.full_name if who else "the system"), row[1]


def _lock(
    session: Session,
    actor: Employee | None,
    ticket_id: int,
    expected_version: int | None,
    action: Action | None = None,
) -> Ticket:
    """The visible ticket, row-locked and refreshed; Conflict when the caller's copy is stale.

    `action`: what the caller is about to do, checked on this very ticket
    (`policy.require_on_ticket`: staff actions need the actor to act as staff on it)."""
    stmt = (
        select(Ticket)
        .where(Ticket.id == ticket_id, ticket_visibility(actor))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    ticket = session.scalars(stmt).one_or_none()
    if ticket is None:
        raise NotFound(f"Ticket {ticket_id} was not found.")
    if action is not None:
        require_on_ticket(actor, action, ticket)
    if expected_version is not None and ticket.version != expected_version:
        who, when = last_change(session, ticket)
        raise Conflict(f"Ticket {ticket.ticket_number} was changed by {who} at {_fmt_time(when)}; reload and try again")
    return ticket


def _bump(ticket: Ticket) -> None:
    ticket.version = (ticket.version or 1) + 1


def _history_values(
    ticket: Ticket, actor: Employee | None, frm: str | None, to: str, at: dt.datetime, note: str | None = None
) -> dict[str, Any]:
    return {
        "ticket_id": ticket.id,
        "from_status": frm,
        "to_status": to,
        "changed_by_id": actor.id if actor is not None else None,
        "changed_at": at,
        "note": note,
    }


def _history(
    session: Session,
    ticket: Ticket,
    actor: Employee | None,
    frm: str | None,
    to: str,
    at: dt.datetime,
    note: str | None = None,
) -> None:
    session.add(TicketStatusHistory(**_history_values(ticket, actor, frm, to, at, note)))


def last_resolved_at(session: Session, ticket: Ticket) -> dt.datetime | None:
    """When the ticket last became Resolved (the reopen window and auto-close run from it)."""
    at = session.scalar(
        select(func.max(TicketStatusHistory.changed_at)).where(
            TicketStatusHistory.ticket_id == ticket.id, TicketStatusHistory.to_status == S.RESOLVED.value
        )
    )
    return at or ticket.resolved_at


def _is_staff_responder(actor: Employee | None, ticket: Ticket) -> bool:
    return actor is not None and acts_as_staff(actor, ticket) and actor.id != ticket.employee_id


# --- submit -------------------------------------------------------------------------------


def submit_ticket(
    session: Session,
    actor: Employee,
    data: Mapping[str, Any],
    attachments: Sequence[tuple[str, bytes]] = (),
) -> Ticket:
    """Create a New ticket routed to its category's department (3.1-3.3).

    Two statements (issue 9): the reference data's fingerprint with the new ticket's id, then
    `ticket_insert.insert_ticket`, which takes the number (per-year sequence, `numbering`) and
    writes the ticket, its history, audit and outbox rows at once. The returned Ticket is in
    the session as if it had been flushed."""
    require(actor, Action.CREATE_TICKET)
    session.flush()  # anything pending goes first, as an ORM flush would have done
    at = _now()
    year = ticket_year(at)
    ref, (ticket_id, has_sequence) = refdata.current(
        session, f"{_NEXT_TICKET_ID}, to_regclass('{sequence_name(year)}') IS NOT NULL"
    )
    errors: dict[str, str] = {}
    clean = None
    try:
        clean = validate_submission(session, data, ref=ref)
    except ValidationError as exc:
        errors.update(exc.errors)
    try:
        upload_check.check_uploads(list(attachments))
        files.check_capacity(0, 0, [len(content) for _name, content in attachments])
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors or clean is None:
        raise ValidationError(errors)

    if not has_sequence:
        ensure_sequence(session, year)  # the first ticket of the year
    token = ticket_insert.placeholder()
    ticket = Ticket(
        id=ticket_id,
        ticket_number=token,
        **clean.columns,
        dynamic_data=clean.dynamic_data or None,
        status=S.NEW.value,
        employee_id=actor.id,
        submit_date=at,
        update_date=at,
        version=1,
        reopen_count=0,
        sla_hold_minutes=0.0,
    )
    target = ref.targets.get(ticket.priority or Priority.MEDIUM.value)
    sla_clock.start_clocks(session, ticket, at, (ref.calendar, target))
    row = {c.key: getattr(ticket, c.key) for c in _TICKET_COLUMNS if c.key in ticket.__dict__}
    new_values = {
        "ticket_number": token,
        "subject": ticket.subject,
        "category": ticket.category,
        "sub_category": ticket.sub_category,
        "priority": ticket.priority,
        "department": ticket.department,
        "status": ticket.status,
    }
    messages = []
    if is_active_account(actor) and not notifications.is_muted(actor, "ticket_submitted"):
        values = notifications.message_values("ticket_submitted", _data(ticket, actor.first_name), ticket.id, actor)
        messages.append(ticket_insert.Message(values, actor.email))
    admin_data = _data(ticket, None, requester=actor.full_name, category=ticket.category, department=ticket.department)
    messages.append(
        ticket_insert.Message(
            notifications.message_values("ticket_awaiting_approval", admin_data, ticket.id, actor),
            None,
            TEMPLATES["ticket_awaiting_approval"].essential,
        )
    )
    ticket.ticket_number = ticket_insert.insert_ticket(
        session,
        year=year,
        token=token,
        ticket=row,
        history=_history_values(ticket, actor, None, S.NEW.value, at),
        audit_row=audit.row_values(actor, "core_ticket", ticket.id, AuditAction.CREATE, None, new_values),
        messages=messages,
    )
    for column in _TICKET_COLUMNS:  # columns left out are NULL (none of them has a default)
        if column.key not in ticket.__dict__ and column.computed is None:
            setattr(ticket, column.key, None)
    make_transient_to_detached(ticket)
    session.add(ticket)
    for name, content in attachments:
        files.save_attachment(session, actor, ticket, name, content)
    session.flush()
    return ticket


# --- status workflow ----------------------------------------------------------------------


def allowed_moves(session: Session, actor: Employee, ticket: Ticket, *, at: dt.datetime | None = None) -> list[S]:
    """The statuses `actor` may move this ticket to now (what the detail page offers)."""
    staff, requester = split_moves(session, actor, ticket, at=at)
    return [to for to in workflow.targets(ticket.status) if to in staff or to in requester]


def split_moves(
    session: Session, actor: Employee, ticket: Ticket, *, at: dt.datetime | None = None
) -> tuple[list[S], list[S]]:
    """(moves `actor` may make as staff on this ticket, moves they may make only as its
    requester), each in table order; staff power comes from `policy.acts_as_staff`."""
    if not allowed_on_ticket(actor, Action.CHANGE_STATUS, ticket):
        return [], []
    since = None
    if ticket.status == S.RESOLVED.value:
        resolved = last_resolved_at(session, ticket)
        since = ((at or _now()) - resolved) if resolved else None
    staff_role = actor.role if acts_as_staff(actor, ticket) else None
    is_requester = actor.id == ticket.employee_id
    targets = workflow.targets(ticket.status)
    staff = [to for to in targets if workflow.may_move(staff_role, False, ticket.status, to)]
    requester = [
        to
        for to in targets
        if to not in staff and workflow.may_move(None, is_requester, ticket.status, to, since_resolved=since)
    ]
    return staff, requester


def _status_notifications(
    session: Session, actor: Employee | None, ticket: Ticket, frm: str, to: S, note: str | None
) -> None:
    requester = _employee(session, ticket.employee_id)
    assignee = _employee(session, ticket.assigned_to_id)
    by_requester = actor is not None and actor.id == ticket.employee_id
    if to is S.OPEN and frm == S.NEW.value:
        _notify(session, "ticket_opened", requester, ticket, actor)
    elif to is S.REJECTED:
        _notify(session, "ticket_rejected", requester, ticket, actor, reason=note)
    elif to is S.RESOLVED:
        _notify(session, "ticket_resolved", requester, ticket, actor, reopen_days=workflow.REOPEN_DAYS)
    elif to is S.CLOSED and not by_requester:
        _notify(session, "ticket_closed", requester, ticket, actor)
        if assignee is not None and (actor is None or assignee.id != actor.id):
            _notify(session, "ticket_status_changed", assignee, ticket, actor)
    elif by_requester:
        if assignee is not None:
            _notify(session, "ticket_status_changed", assignee, ticket, actor)
    else:
        _notify(session, "ticket_status_changed", requester, ticket, actor)


def _auto_assign(session: Session, actor: Employee | None, ticket: Ticket, at: dt.datetime) -> None:
    """Least-loaded active coordinator of the ticket's department (ties: lowest id)."""
    load = (
        select(func.count(Ticket.id))
        .where(Ticket.assigned_to_id == Employee.id, Ticket.status.in_(LOAD_STATUSES))
        .correlate(Employee)
        .scalar_subquery()
    )
    candidate = session.scalars(
        select(Employee)
        .where(
            Employee.role == Role.COORDINATOR.value,
            Employee.department == ticket.department,
            Employee.status == AccountStatus.APPROVED.value,
            Employee.is_active.is_(True),
        )
        .order_by(load, Employee.id)
        .limit(1)
    ).first()
    if candidate is None:
        return
    ticket.assigned_to_id = candidate.id
    audit.record(
        session,
        actor,
        "core_ticket",
        ticket.id,
        AuditAction.UPDATE,
        {"assigned_to_id": None},
        {"assigned_to_id": candidate.id, "auto_assigned": True},
    )
    _notify(session, "ticket_assigned", candidate, ticket, actor)


def _apply_status(
    session: Session, actor: Employee | None, ticket: Ticket, to: S, note: str | None, at: dt.datetime
) -> None:
    """The move itself: timing hooks, fields, history, audit, notifications."""
    frm = ticket.status or S.NEW.value
    rule = workflow.move(frm, to)
    assert rule is not None
    if frm == S.ON_HOLD.value:
        sla_clock.hold_ended(session, ticket, at)
    if to is S.ON_HOLD:
        sla_clock.hold_started(ticket, at)
    if frm == S.OPEN.value and to is not S.WITHDRAWN and _is_staff_responder(actor, ticket):
        sla_clock.record_first_response(session, ticket, at)
    if to is S.RESOLVED:
        sla_clock.record_resolution(session, ticket, at)
    if rule.reopen:
        sla_clock.reopened(session, ticket, at)
        ticket.time_closed = None
    if to is S.CLOSED:
        ticket.time_closed = at
    if to is S.REJECTED:
        ticket.rejection_reason = note
    ticket.status = to.value
    _bump(ticket)
    _history(session, ticket, actor, frm, to.value, at, note)
    new_values: dict[str, Any] = {"status": to.value, "version": ticket.version}
    if note:
        new_values["note"] = note
    if rule.reopen:
        new_values["reopen_count"] = ticket.reopen_count
    audit.record(session, actor, "core_ticket", ticket.id, AuditAction.UPDATE, {"status": frm}, new_values)
    if to is S.OPEN and frm == S.NEW.value:
        category = session.scalars(select(TicketCategory).where(TicketCategory.name == ticket.category)).first()
        if category is not None and category.auto_assign and ticket.assigned_to_id is None:
            _auto_assign(session, actor, ticket, at)
    _status_notifications(session, actor, ticket, frm, to, note)
    session.flush()


def change_status(
    session: Session,
    actor: Employee,
    ticket_id: int,
    to_status: str,
    *,
    note: str | None = None,
    expected_version: int | None = None,
) -> Ticket:
    """Move a ticket along the workflow table (see `workflow.TRANSITIONS`)."""
    return _change(session, actor, ticket_id, to_status, note=note, expected_version=expected_version)


def _change(
    session: Session,
    actor: Employee,
    ticket_id: int,
    to_status: str,
    *,
    note: str | None = None,
    expected_version: int | None = None,
    from_status: S | None = None,
    action: Action = Action.CHANGE_STATUS,
) -> Ticket:
    require(actor, Action.CHANGE_STATUS)
    try:
        to = S(to_status)
    except ValueError:
        raise ValidationError({"status": f"Status must be one of: {', '.join(s.value for s in S)}"}) from None
    note = text_input.optional_text(note, "note", max_length=REASON_MAX)
    ticket = _lock(session, actor, ticket_id, expected_version, action)
    if from_status is not None and ticket.status != from_status.value:
        raise ValidationError({"status": f"Ticket {ticket.ticket_number} is {ticket.status}, not {from_status.value}"})
    rule = workflow.move(ticket.status, to)
    if rule is None:
        raise ValidationError({"status": f"A ticket cannot move from {ticket.status} to {to.value}"})
    at = _now()
    if to not in allowed_moves(session, actor, ticket, at=at):
        if rule.requester_within is not None and actor.id == ticket.employee_id:
            raise PermissionDenied(
                f"Ticket {ticket.ticket_number} can only be reopened within {workflow.REOPEN_DAYS} days of resolution."
            )
        raise PermissionDenied(f"You may not move ticket {ticket.ticket_number} from {ticket.status} to {to.value}.")
    if rule.note_required and not note:
        field = "reason" if to is S.REJECTED else "note"
        raise ValidationError(
            {
                field: "A reason is required to reject a ticket"
                if to is S.REJECTED
                else "A note is required for this change"
            }
        )
    _apply_status(session, actor, ticket, to, note, at)
    return ticket


def resolve_ticket(
    session: Session, actor: Employee, ticket_id: int, resolution: str, *, expected_version: int | None = None
) -> Ticket:
    """Resolve with a resolution: the public reply that tells the requester what was done,
    posted in the same transaction as the move (a ticket is never resolved in silence)."""
    if not text_input.clean_text(resolution, "resolution", max_length=COMMENT_MAX):
        raise ValidationError({"resolution": "Describe the resolution: the requester reads it"})
    ticket = change_status(session, actor, ticket_id, S.RESOLVED.value, expected_version=expected_version)
    add_comment(session, actor, ticket_id, resolution)
    return ticket


def approve_ticket(session: Session, actor: Employee, ticket_id: int, *, expected_version: int | None = None) -> Ticket:
    """Admin opens a New ticket (3.4); auto-assigns when the category says so."""
    require(actor, Action.APPROVE_TICKET)
    return _change(
        session,
        actor,
        ticket_id,
        S.OPEN.value,
        expected_version=expected_version,
        from_status=S.NEW,
        action=Action.APPROVE_TICKET,
    )


def reject_ticket(
    session: Session, actor: Employee, ticket_id: int, reason: str, *, expected_version: int | None = None
) -> Ticket:
    """Admin rejects a New ticket with a mandatory reason; the requester is told why."""
    require(actor, Action.APPROVE_TICKET)
    if not text_input.clean_text(reason, "reason", max_length=REASON_MAX):
        raise ValidationError({"reason": "A reason is required to reject a ticket"})
    return _change(
        session,
        actor,
        ticket_id,
        S.REJECTED.value,
        note=reason,
        expected_version=expected_version,
        from_status=S.NEW,
        action=Action.APPROVE_TICKET,
    )


def withdraw_ticket(
    session: Session, actor: Employee, ticket_id: int, *, expected_version: int | None = None
) -> Ticket:
    return change_status(session, actor, ticket_id, S.WITHDRAWN.value, expected_version=expected_version)


def close_ticket(session: Session, actor: Employee, ticket_id: int, *, expected_version: int | None = None) -> Ticket:
    return change_status(session, actor, ticket_id, S.CLOSED.value, expected_version=expected_version)


def reopen_ticket(
    session: Session, actor: Employee, ticket_id: int, *, note: str | None = None, expected_version: int | None = None
) -> Ticket:
    """The requester reopens their Resolved ticket (within the window); staff take it back."""
    ticket = get_ticket(session, actor, ticket_id)
    to = S.OPEN if actor.id == ticket.employee_id and not acts_as_staff(actor, ticket) else S.IN_PROGRESS
    return change_status(session, actor, ticket_id, to.value, note=note, expected_version=expected_version)


# --- assignment and priority --------------------------------------------------------------


def may_be_assigned(role: str | None, department: str | None, ticket_department: str | None) -> bool:
    """The assignment rule for an active, approved account: any admin, or a coordinator of
    the ticket's own department (`assign_ticket` enforces it, `assignable_staff` lists by it)."""
    return role == Role.ADMIN.value or (role == Role.COORDINATOR.value and department == ticket_department)


def assignable_staff(session: Session, ticket: Ticket) -> list[refdata.Staff]:
    """Who a ticket may be assigned to: active, approved admins and its department's
    coordinators (`may_be_assigned`), from the cached staff list (`refdata.choices`: active,
    approved coordinators and admins, by last and first name; one fingerprint statement, none
    when the run has already asked for it)."""
    return [p for p in refdata.choices(session).staff if may_be_assigned(p.role, p.department, ticket.department)]


def assign_ticket(
    session: Session, actor: Employee, ticket_id: int, assignee_id: int | None, *, expected_version: int | None = None
) -> Ticket:
    """Assign (or unassign with None) a ticket; the assignee is notified."""
    require(actor, Action.ASSIGN_TICKET)
    assignee = None
    if assignee_id is not None:
        assignee = session.get(Employee, assignee_id)
        if assignee is None or not is_active_account(assignee):
            raise ValidationError({"assigned_to": "The assignee must be an active, approved account"})
        if assignee.role not in (Role.COORDINATOR.value, Role.ADMIN.value):
            raise ValidationError({"assigned_to": "Tickets can only be assigned to coordinators or admins"})
    ticket = _lock(session, actor, ticket_id, expected_version, Action.ASSIGN_TICKET)
    if ticket.status not in {s.value for s in OPEN_STATUSES}:
        raise ValidationError({"assigned_to": f"A {ticket.status} ticket cannot be reassigned"})
    if assignee is not None and not may_be_assigned(assignee.role, assignee.department, ticket.department):
        raise ValidationError(
            {"assigned_to": f"{assignee.full_name} is a coordinator of {assignee.department}, not {ticket.department}"}
        )
    if ticket.assigned_to_id == assignee_id:
        return ticket
    old = ticket.assigned_to_id
    ticket.assigned_to_id = assignee_id
    _bump(ticket)
    audit.record(
        session,
        actor,
        "core_ticket",
        ticket.id,
        AuditAction.UPDATE,
        {"assigned_to_id": old},
        {"assigned_to_id": assignee_id, "version": ticket.version},
    )
    if assignee is not None and assignee.id != actor.id:
        _notify(session, "ticket_assigned", assignee, ticket, actor)
    session.flush()
    return ticket


def set_priority(
    session: Session, actor: Employee, ticket_id: int, priority: str, *, expected_version: int | None = None
) -> Ticket:
    """Change the priority; the SLA due dates follow the new targets."""
    require(actor, Action.CHANGE_PRIORITY)
    if priority not in {p.value for p in Priority}:
        raise ValidationError({"priority": "Priority must be Low, Medium, High, or Critical"})
    ticket = _lock(session, actor, ticket_id, expected_version, Action.CHANGE_PRIORITY)
    if ticket.status not in {s.value for s in OPEN_STATUSES}:
        raise ValidationError({"priority": f"The priority of a {ticket.status} ticket cannot change"})
    if ticket.priority == priority:
        return ticket
    old = ticket.priority
    ticket.priority = priority
    sla_clock.on_priority_change(session, ticket, _now())
    _bump(ticket)
    audit.record(
        session,
        actor,
        "core_ticket",
        ticket.id,
        AuditAction.UPDATE,
        {"priority": old},
        {"priority": priority, "version": ticket.version},
    )
    session.flush()
    return ticket


# --- comments -----------------------------------------------------------------------------


def _clean_comment(text: str) -> str:
    text = text_input.clean_text(text, "comment", max_length=COMMENT_MAX)
    if not text:
        raise ValidationError({"comment": "The comment cannot be empty"})
    if len(text) > COMMENT_MAX:
        raise ValidationError({"comment": f"The comment must be at most {COMMENT_MAX} characters"})
    return text


def add_comment(
    session: Session, actor: Employee, ticket_id: int, text: str, *, internal: bool = False
) -> TicketComment:
    """A public reply or an internal note; a staff public reply is the first response."""
    action = Action.COMMENT_INTERNAL if internal else Action.COMMENT_PUBLIC
    require(actor, action)
    body = _clean_comment(text)
    ticket = _lock(session, actor, ticket_id, None, action)
    if not internal and ticket.status in {s.value for s in (S.CLOSED, S.REJECTED, S.WITHDRAWN)}:
        raise ValidationError(
            {"comment": f"Ticket {ticket.ticket_number} is {ticket.status}; it takes no more replies"}
        )
    at = _now()
    comment = TicketComment(
        comment=body, is_internal=internal, ticket_id=ticket.id, user_id=actor.id, created_at=at, updated_at=at
    )
    session.add(comment)
    if not internal and ticket.first_response_at is None and _is_staff_responder(actor, ticket):
        sla_clock.record_first_response(session, ticket, at)
        _bump(ticket)
    session.flush()
    audit.record(
        session,
        actor,
        "core_ticketcomment",
        comment.id,
        AuditAction.CREATE,
        None,
        {"ticket_id": ticket.id, "is_internal": internal},
    )
    if not internal:
        extra = {"author": actor.full_name, "comment": body}
        if actor.id == ticket.employee_id:
            assignee = _employee(session, ticket.assigned_to_id)
            if assignee is not None and assignee.id != actor.id:
                template = "ticket_requester_replied_on_hold" if ticket.status == S.ON_HOLD.value else "ticket_comment"
                _notify(session, template, assignee, ticket, actor, **extra)
        else:
            _notify(session, "ticket_comment", _employee(session, ticket.employee_id), ticket, actor, **extra)
    session.flush()
    return comment


def edit_comment(session: Session, actor: Employee, comment_id: int, text: str) -> TicketComment:
    """The author corrects their comment within 15 minutes; the edit is audited."""
    body = _clean_comment(text)
    comment = session.get(TicketComment, comment_id)
    if comment is None:
        raise NotFound(f"Comment {comment_id} was not found.")
    try:
        ticket = get_ticket(session, actor, comment.ticket_id)
    except NotFound:  # same answer as a missing comment: never reveal which ticket it is on
        raise NotFound(f"Comment {comment_id} was not found.") from None
    if comment.is_internal and not allowed_on_ticket(actor, Action.VIEW_INTERNAL_COMMENTS, ticket):
        raise NotFound(f"Comment {comment_id} was not found.")
    if comment.user_id != actor.id:
        raise PermissionDenied("Only the author may edit a comment.")
    created = comment.created_at or _now()
    if _now() - created > COMMENT_EDIT_WINDOW:
        raise PermissionDenied("A comment can only be edited within 15 minutes of posting.")
    old = comment.comment
    comment.comment = body
    comment.updated_at = _now()
    audit.record(
        session, actor, "core_ticketcomment", comment.id, AuditAction.UPDATE, {"comment": old}, {"comment": body}
    )
    session.flush()
    return comment


def can_edit_comment(actor: Employee, comment: TicketComment) -> bool:
    return (
        comment.user_id == actor.id
        and comment.created_at is not None
        and (_now() - comment.created_at <= COMMENT_EDIT_WINDOW)
    )


# --- reading ------------------------------------------------------------------------------


def get_ticket(session: Session, actor: Employee, ticket_id: int) -> Ticket:
    """The ticket if the actor may see it (NotFound otherwise, never revealing it exists)."""
    ticket = session.scalars(
        select(Ticket).where(Ticket.id == ticket_id, ticket_visibility(actor)).execution_options(populate_existing=True)
    ).one_or_none()
    if ticket is None:
        raise NotFound(f"Ticket {ticket_id} was not found.")
    return ticket


def find_by_number(session: Session, actor: Employee, number: str) -> Ticket | None:
    """The ticket with this number, if the actor may see it (None otherwise: not "forbidden",
    so a number gives nothing away)."""
    require(actor, Action.VIEW_OWN_TICKETS)
    wanted = (number or "").strip().upper()
    if not wanted:
        return None
    return session.scalars(select(Ticket).where(Ticket.ticket_number == wanted, ticket_visibility(actor))).first()


def list_comments(session: Session, actor: Employee, ticket_id: int) -> list[TicketComment]:
    """The conversation; internal notes only for staff on this ticket (filtered in the query)."""
    ticket = get_ticket(session, actor, ticket_id)
    stmt = select(TicketComment).where(TicketComment.ticket_id == ticket_id)
    if not allowed_on_ticket(actor, Action.VIEW_INTERNAL_COMMENTS, ticket):
        stmt = stmt.where(TicketComment.is_internal.is_not(True))
    return list(session.scalars(stmt.order_by(TicketComment.created_at, TicketComment.id)))


def people_on_ticket(
    session: Session, ticket: Ticket, comments: Sequence[TicketComment], history: Sequence[TicketStatusHistory]
) -> dict[int, Employee]:
    """Everyone the ticket page names: requester, assignee, comment authors and whoever moved
    the status - from rows the caller has already read through the policy (`get_ticket`,
    `list_comments`, `list_history`), so this reveals no one new."""
    ids = {ticket.employee_id, ticket.assigned_to_id} | {c.user_id for c in comments}
    ids |= {h.changed_by_id for h in history}
    ids.discard(None)
    if not ids:
        return {}
    return {e.id: e for e in session.scalars(select(Employee).where(Employee.id.in_(ids)))}


def list_history(session: Session, actor: Employee, ticket_id: int) -> list[TicketStatusHistory]:
    get_ticket(session, actor, ticket_id)
    return list(
        session.scalars(
            select(TicketStatusHistory)
            .where(TicketStatusHistory.ticket_id == ticket_id)
            .order_by(TicketStatusHistory.changed_at, TicketStatusHistory.id)
        )
    )


def list_attachments(session: Session, actor: Employee, ticket_id: int) -> list[TicketAttachment]:
    return files.list_attachments(session, actor, ticket_id)


#: A ticket in one of these states takes no more files (a Resolved one still does: the
#: requester may add evidence within the reopen window).
NO_ATTACHMENTS = frozenset(s.value for s in (S.CLOSED, S.REJECTED, S.WITHDRAWN))


def accepts_attachments(ticket: Ticket) -> bool:
    """Whether files may still be added to `ticket` (the page offers the uploader only then)."""
    return ticket.status not in NO_ATTACHMENTS


def add_attachments(
    session: Session, actor: Employee, ticket_id: int, uploads: Sequence[tuple[str, bytes]]
) -> list[TicketAttachment]:
    """Attach files to an existing ticket (requester or staff who can see it)."""
    upload_check.check_uploads(list(uploads))
    ticket = _lock(session, actor, ticket_id, None, Action.UPLOAD_ATTACHMENT)
    if not accepts_attachments(ticket):
        raise ValidationError({"attachments": f"Ticket {ticket.ticket_number} is {ticket.status}"})
    files.check_ticket_capacity(session, ticket.id, [len(content) for _name, content in uploads])
    return [files.save_attachment(session, actor, ticket, name, content) for name, content in uploads]


def _own(actor: Employee, state: str | None) -> list[Any]:
    """The actor's own tickets, narrowed to a `ticket_states` state when given."""
    conds: list[Any] = [Ticket.employee_id == actor.id]
    if state is not None:
        if state not in {s.value for s in ticket_states.MY_STATES}:
            raise ValidationError({"state": "must be one of " + ", ".join(ticket_states.MY_STATES)})
        now = _now()
        conds.append(ticket_states.condition(state, now=now, until=now, viewer_id=actor.id))
    return conds


def list_my_tickets(session: Session, actor: Employee, *, limit: int = 500, state: str | None = None) -> list[Ticket]:
    """The actor's own tickets, newest first; `state`: only those in that `ticket_states`
    state (My tickets' "Show" choice and Home's tiles use the same definition)."""
    require(actor, Action.VIEW_OWN_TICKETS)
    return list(
        session.scalars(
            select(Ticket)
            .where(*_own(actor, state))
            .order_by(Ticket.submit_date.desc(), Ticket.id.desc())
            .limit(limit)
        )
    )


def count_my_tickets(session: Session, actor: Employee, state: str | None = None) -> int:
    """How many of the actor's own tickets `list_my_tickets(state=...)` would list (uncapped)."""
    require(actor, Action.VIEW_OWN_TICKETS)
    return session.scalar(select(func.count()).select_from(Ticket).where(*_own(actor, state))) or 0


def count_my_tickets_by_state(session: Session, actor: Employee) -> dict[str, int]:
    """What `count_my_tickets` says for each of `ticket_states.MY_STATES`, in one statement
    (one `count(*) FILTER (WHERE <state>)` per state over the actor's own tickets): My tickets'
    caption and the employee's Home tiles."""
    require(actor, Action.VIEW_OWN_TICKETS)
    now = _now()
    states = ticket_states.MY_STATES
    row = session.execute(
        select(
            *(
                func.count().filter(ticket_states.condition(x, now=now, until=now, viewer_id=actor.id))
                for x in states
            )
        ).where(*_own(actor, None))
    ).one()
    return {str(x): int(n or 0) for x, n in zip(states, row, strict=True)}


@dataclass(frozen=True)
class SearchHit:
    ticket: Ticket
    rank: float


def search_tickets(
    session: Session, actor: Employee, query: str, *, limit: int = 50, own_only: bool = False
) -> list[Ticket]:
    """Full-text search over subject and description (the GIN index), ranked, visible only;
    `own_only`: only the actor's own requests (My tickets), whatever else they may see."""
    return [hit.ticket for hit in search_ranked(session, actor, query, limit=limit, own_only=own_only)]


#: Relevance is ranked among at most this many newest matches. `ts_rank` re-reads every
#: row it ranks, so ranking all 600,000 matches of a common word at a million tickets takes
#: seconds; the newest matches come cheaply from the submit-date index, and a rare word
#: (fewer matches than this) is still ranked over all of its matches.
SEARCH_CANDIDATES = 1000


def search_ranked(
    session: Session, actor: Employee, query: str, *, limit: int = 50, own_only: bool = False
) -> list[SearchHit]:
    require(actor, Action.VIEW_OWN_TICKETS)
    query = text_input.clean_text(query, "query", max_length=text_input.SEARCH_MAX)
    if not query:
        return []
    tsq = func.websearch_to_tsquery("english", query)
    candidates = (
        select(Ticket.id)
        .where(
            TICKET_TSVECTOR.op("@@")(tsq),
            Ticket.employee_id == actor.id if own_only else ticket_visibility(actor),
        )
        .order_by(Ticket.submit_date.desc(), Ticket.id.desc())
        .limit(SEARCH_CANDIDATES)
        .cte("candidates")
    )
    rank = func.ts_rank(TICKET_TSVECTOR, tsq)
    rows = session.execute(
        select(Ticket, rank.label("rank"))
        .join(candidates, candidates.c.id == Ticket.id)
        .order_by(rank.desc(), Ticket.submit_date.desc())
        .limit(max(1, min(int(limit), 500)))
    ).all()
    return [SearchHit(row[0], float(row[1])) for row in rows]


# --- maintenance --------------------------------------------------------------------------


def auto_close(session: Session, now: dt.datetime | None = None) -> list[str]:
    """Close Resolved tickets resolved more than 7 days ago; returns their numbers.

    Run by `smartsupport maintenance` and the worker. Each ticket gets a history row,
    `time_closed`, an audit row (by the system) and the requester's notification.
    """
    now = now or _now()
    last_resolved = (
        select(func.max(TicketStatusHistory.changed_at))
        .where(TicketStatusHistory.ticket_id == Ticket.id, TicketStatusHistory.to_status == S.RESOLVED.value)
        .correlate(Ticket)
        .scalar_subquery()
    )
    due = func.coalesce(last_resolved, Ticket.resolved_at, Ticket.update_date)
    tickets = session.scalars(
        select(Ticket)
        .where(Ticket.status == S.RESOLVED.value, due <= now - workflow.AUTO_CLOSE_AFTER)
        .order_by(Ticket.id)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    closed: list[str] = []
    for ticket in tickets:
        _apply_status(
            session, None, ticket, S.CLOSED, f"Closed automatically {workflow.REOPEN_DAYS} days after resolution", now
        )
        closed.append(ticket.ticket_number)
    return closed
