"""Applying the queue grid's edits and bulk actions: one row, one transaction.

A coordinator edits many rows and presses Save. Each row is applied on its own, in its own
transaction, through the ticket services (`tickets.assign_ticket`, `set_priority`,
`change_status`), so every workflow rule, permission, audit row and notification is the
same as on the detail page. A row either applies completely or not at all: if its second
change is refused, its first is rolled back too. Other rows are unaffected, and the caller
gets one `RowResult` per row saying what happened and why (including a `Conflict` when
someone else changed the ticket after the grid was loaded: every row carries the version
its user saw).

Order inside a row: when the new status is a working status (e.g. taking a Resolved ticket
back to In Progress) the status moves first so the assignment and priority apply to a
working ticket; otherwise (e.g. resolve and reassign) assignment and priority go first,
while the ticket can still take them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from . import tickets
from .errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError
from .models import Employee
from .vocab import OPEN_STATUSES

log = logging.getLogger(__name__)


class _Keep:
    """Marker: leave the assignee as it is (None means "unassign")."""

    def __repr__(self) -> str:
        return "KEEP"


KEEP: Final = _Keep()


class Outcome(StrEnum):
    SAVED = "saved"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    REFUSED = "refused"  # the workflow or the policy said no
    INVALID = "invalid"  # a value breaks a rule
    NOT_FOUND = "not found"
    FAILED = "failed"  # the database gave up (lock timeout, lost connection)


@dataclass(frozen=True)
class RowEdit:
    ticket_id: int
    expected_version: int
    status: str | None = None
    priority: str | None = None
    assignee_id: int | _Keep | None = KEEP
    label: str | None = None  # ticket number as the grid showed it, for messages
    note: str | None = None  # the status change's note (a rejection's reason)
    assignee_name: str | None = None  # the new assignee's name, for messages

    @property
    def is_empty(self) -> bool:
        return self.status is None and self.priority is None and self.assignee_id is KEEP

    def describe(self) -> str:
        parts = []
        if self.assignee_id is not KEEP:
            parts.append(
                "unassigned" if self.assignee_id is None else f"assigned to {self.assignee_name or 'the chosen person'}"
            )
        if self.priority is not None:
            parts.append(f"priority {self.priority}")
        if self.status is not None:
            parts.append(f"status {self.status}")
        return ", ".join(parts) or "no change"


@dataclass(frozen=True)
class RowResult:
    ticket_id: int
    label: str
    outcome: Outcome
    message: str
    version: int | None = None  # the ticket's new version after a save

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.SAVED, Outcome.UNCHANGED)


_OUTCOMES: tuple[tuple[type[DomainError], Outcome], ...] = (
    (Conflict, Outcome.CONFLICT),
    (PermissionDenied, Outcome.REFUSED),
    (NotFound, Outcome.NOT_FOUND),
    (ValidationError, Outcome.INVALID),
    (DomainError, Outcome.INVALID),
)


def _outcome(exc: DomainError) -> Outcome:
    for kind, outcome in _OUTCOMES:
        if isinstance(exc, kind):
            # A move missing from the workflow table is a refusal by the workflow.
            if outcome is Outcome.INVALID and isinstance(exc, ValidationError) and "status" in exc.errors:
                return Outcome.REFUSED
            return outcome
    return Outcome.INVALID  # pragma: no cover - DomainError is the last entry


def apply_row(session: Session, actor: Employee, edit: RowEdit) -> int:
    """Apply one row's changes in the caller's transaction (the ticket page's "Save" uses it too);
    returns the ticket's new version."""
    version = edit.expected_version
    status_first = edit.status is not None and edit.status in {s.value for s in OPEN_STATUSES}

    def status() -> None:
        nonlocal version
        if edit.status is not None:
            version = tickets.change_status(
                session, actor, edit.ticket_id, edit.status, note=edit.note, expected_version=version
            ).version

    if status_first:
        status()
    if not isinstance(edit.assignee_id, _Keep):
        version = tickets.assign_ticket(
            session, actor, edit.ticket_id, edit.assignee_id, expected_version=version
        ).version
    if edit.priority is not None:
        version = tickets.set_priority(session, actor, edit.ticket_id, edit.priority, expected_version=version).version
    if not status_first:
        status()
    return version


def apply_grid_edits(
    session_factory: Callable[[], Session], actor: Employee, edits: Iterable[RowEdit]
) -> list[RowResult]:
    """Apply each row on its own transaction; one result per row, in the given order.

    `session_factory` makes a new Session (e.g. `portal.state.session` or a sessionmaker);
    this function commits each successful row itself, because "one row, one transaction"
    is its whole point.
    """
    results: list[RowResult] = []
    for edit in edits:
        label = edit.label or f"#{edit.ticket_id}"
        if edit.is_empty:
            results.append(RowResult(edit.ticket_id, label, Outcome.UNCHANGED, f"{label}: nothing to save"))
            continue
        with session_factory() as session:
            try:
                version = apply_row(session, actor, edit)
                session.commit()
            except DomainError as exc:
                session.rollback()
                outcome = _outcome(exc)
                results.append(RowResult(edit.ticket_id, label, outcome, f"{label}: not saved ({outcome}): {exc}"))
                continue
            except DBAPIError as exc:
                session.rollback()
                log.warning("grid row %s failed: %s", edit.ticket_id, exc)
                results.append(
                    RowResult(
                        edit.ticket_id, label, Outcome.FAILED, f"{label}: not saved: the database was busy; try again"
                    )
                )
                continue
        unchanged = version == edit.expected_version
        message = f"{label}: no change needed" if unchanged else f"{label}: saved ({edit.describe()})"
        results.append(
            RowResult(edit.ticket_id, label, Outcome.UNCHANGED if unchanged else Outcome.SAVED, message, version)
        )
    return results


def bulk_edits(
    selected: Iterable[tuple[int, int, str]],
    *,
    status: str | None = None,
    priority: str | None = None,
    assignee_id: int | _Keep | None = KEEP,
    note: str | None = None,
    assignee_name: str | None = None,
) -> list[RowEdit]:
    """The same change for every selected (ticket id, version seen, label) row."""
    return [
        RowEdit(
            ticket_id,
            version,
            status=status,
            priority=priority,
            assignee_id=assignee_id,
            label=label,
            note=note,
            assignee_name=assignee_name,
        )
        for ticket_id, version, label in selected
    ]
