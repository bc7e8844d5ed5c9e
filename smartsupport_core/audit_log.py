"""Reading the audit trail (admins): filtered, newest first, paged in SQL.

Writing is `audit.record`; this module is only the viewer's query, so the rule "who may
read the audit log" lives in one place (`Action.VIEW_AUDIT_LOG`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import policy, settings
from .errors import ValidationError, page_errors
from .models import AuditLog, Base, Employee
from .policy import Action
from .vocab import AuditAction

MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class AuditFilters:
    table_name: str | None = None
    record_id: int | None = None
    user_id: int | None = None
    action: str | None = None
    date_from: dt.date | None = None  # calendar days in the configured time zone, inclusive
    date_to: dt.date | None = None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    timestamp: dt.datetime
    table_name: str
    record_id: int | None
    action: str
    user_id: int | None
    user: str | None
    ip_address: str | None
    old_values: dict[str, Any] | None
    new_values: dict[str, Any] | None

    def side_by_side(self) -> list[tuple[str, Any, Any]]:
        """(field, old, new) for every field named on either side, in a stable order."""
        old, new = self.old_values or {}, self.new_values or {}
        keys = list(old) + [k for k in new if k not in old]
        return [(k, old.get(k), new.get(k)) for k in keys]


def table_names() -> list[str]:
    """Tables the audit log can name (the schema's tables), for the filter."""
    return sorted(t.name for t in Base.metadata.sorted_tables)


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(settings.get_settings().timezone or "UTC"))


def query_audit_log(
    session: Session, actor: Employee, filters: AuditFilters, *, page: int = 1, page_size: int = 50
) -> tuple[list[AuditEntry], int]:
    """One page of matching audit rows (newest first) and the number of matches."""
    policy.require(actor, Action.VIEW_AUDIT_LOG)
    errors: dict[str, str] = {}
    if filters.action and filters.action not in {a.value for a in AuditAction}:
        errors["action"] = f"must be one of {', '.join(a.value for a in AuditAction)}"
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        errors["date_to"] = "must be on or after the 'from' date"
    if filters.record_id is not None and filters.record_id < 0:
        errors["record_id"] = "must be a positive number"
    errors.update(page_errors(page, page_size, MAX_PAGE_SIZE))
    if errors:
        raise ValidationError(errors)
    conds = []
    if filters.table_name:
        conds.append(AuditLog.table_name == filters.table_name)
    if filters.record_id is not None:
        conds.append(AuditLog.record_id == filters.record_id)
    if filters.user_id is not None:
        conds.append(AuditLog.user_id == filters.user_id)
    if filters.action:
        conds.append(AuditLog.action_type == filters.action)
    if filters.date_from:
        conds.append(AuditLog.timestamp >= _start(filters.date_from))
    if filters.date_to:
        conds.append(AuditLog.timestamp < _start(filters.date_to + dt.timedelta(days=1)))
    total = session.scalar(select(func.count()).select_from(AuditLog).where(*conds)) or 0
    stmt = (
        select(AuditLog, Employee.first_name, Employee.last_name)
        .outerjoin(Employee, Employee.id == AuditLog.user_id)
        .where(*conds)
        .order_by(AuditLog.timestamp.desc(), AuditLog.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    entries = [
        AuditEntry(
            id=row.id,
            timestamp=row.timestamp,
            table_name=row.table_name,
            record_id=row.record_id,
            action=row.action_type,
            user_id=row.user_id,
            user=f"{first} {last}" if first is not None else None,
            ip_address=row.ip_address,
            old_values=row.old_values,
            new_values=row.new_values,
        )
        for row, first, last in session.execute(stmt)
    ]
    return entries, total


def audit_users(session: Session, actor: Employee) -> list[tuple[int, str]]:
    """(id, name) of staff and everyone who appears as an actor, for the user filter."""
    policy.require(actor, Action.VIEW_AUDIT_LOG)
    rows = session.execute(
        select(Employee.id, Employee.first_name, Employee.last_name, Employee.email).order_by(
            Employee.last_name, Employee.first_name
        )
    )
    return [(r.id, f"{r.first_name} {r.last_name} <{r.email}>") for r in rows]
