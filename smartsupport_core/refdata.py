"""Reference data and choice lists, cached per process and checked on every use.

Ticket categories, SLA targets, the business calendar and its holidays change rarely (only
admins edit them, `admin_config`) but are read by every submission and every SLA hook.
`current(session)` returns them as an immutable `Reference`, re-read only when they changed:
each call runs one small query that fingerprints those tables on the server (md5 of every
row's text), in the caller's transaction, and the cache is keyed by that fingerprint. So a
change by any writer (admin page, seed, migration, another replica, psql) is seen by the
next call, exactly as if the tables had been read, and never a stale SLA target; what stays
in the process is only a copy of what the database says right now.

The same pattern serves the pickers' choice lists (`choices`): department and category
names and the active staff (coordinators and admins, with their departments), fingerprinted
over those rows, so the queue's filter and assignee pickers cost one small statement, not
three, and follow any change at the next call.

The objects handed out are shared between callers (and threads): treat them as read-only.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Department, Employee, TicketCategory
from .session_memo import remembered
from .sla import Calendar, Target, load_calendar, targets
from .vocab import AccountStatus, Role

#: Tables whose rows make up a `Reference`; any change to one of them changes the fingerprint.
TABLES = ("core_ticketcategory", "core_slatarget", "core_businesscalendar", "core_holiday")
FINGERPRINT = (
    "md5(concat_ws('#', "
    + ", ".join(f"(SELECT string_agg(r::text, '|' ORDER BY r.id) FROM {t} r)" for t in TABLES)
    + "))"
)
_KEEP = 8  # fingerprints kept (one per database the process talks to, normally one)


@dataclass(frozen=True)
class Category:
    """What validation and routing need from an active `core_ticketcategory` row."""

    id: int
    name: str
    default_priority: str | None
    assigned_department: str
    required_fields: list[dict[str, Any]]
    sub_categories: list[Any]


@dataclass(frozen=True)
class Reference:
    categories: tuple[Category, ...]  # active ones, by id (the order the form shows them)
    calendar: Calendar
    targets: dict[str, Target]

    def category(self, name: str) -> Category | None:
        return next((c for c in self.categories if c.name == name), None)


_cache: dict[str, Reference] = {}
_lock = threading.Lock()


def _load(session: Session) -> Reference:
    rows = session.scalars(
        select(TicketCategory).where(TicketCategory.is_active.is_not(False)).order_by(TicketCategory.id)
    )
    categories = tuple(
        Category(
            c.id,
            c.name,
            c.default_priority,
            c.assigned_department,
            list(c.required_fields or []),
            list(c.sub_categories or []),
        )
        for c in rows
    )
    return Reference(categories, load_calendar(session), targets(session))


def current(session: Session, extra: str = "") -> tuple[Reference, tuple[Any, ...]]:
    """The reference data as the session's transaction sees it, and the values of the `extra`
    SQL select-list items (e.g. `", nextval(...)"`) taken in the same round trip.

    Without `extra` the answer is kept for the session until it writes (`session_memo`): a
    page run asks for it from several services (SLA states, due-soon limits)."""
    if not extra:
        return remembered(session, "refdata.current", lambda: _current(session, ""))
    return _current(session, extra)


def _current(session: Session, extra: str) -> tuple[Reference, tuple[Any, ...]]:
    row = session.connection().exec_driver_sql(f"SELECT {FINGERPRINT}{extra}").one()
    key = row[0]
    ref = _cache.get(key)
    if ref is None:
        ref = _load(session)
        if session.connection().exec_driver_sql(f"SELECT {FINGERPRINT}").scalar() != key:
            return ref, tuple(row[1:])  # changed while loading: use it, but do not keep it
        with _lock:
            if len(_cache) >= _KEEP:
                _cache.clear()
            _cache[key] = ref
    return ref, tuple(row[1:])


#: Staff who may be assigned tickets: their rows (and nothing else of core_employee) make up
#: the staff part of the choices' fingerprint.
STAFF_ROLES = (Role.COORDINATOR.value, Role.ADMIN.value)
CHOICES_FINGERPRINT = (
    "md5(concat_ws('#', "
    "(SELECT string_agg(concat_ws(',', r.name, r.is_active), '|' ORDER BY r.id) FROM core_department r), "
    "(SELECT string_agg(concat_ws(',', r.name, r.is_active), '|' ORDER BY r.id) FROM core_ticketcategory r), "
    "(SELECT string_agg(concat_ws(',', r.id, r.first_name, r.middle_name, r.last_name, r.suffix, r.email,"
    " r.department, r.role, r.is_active, r.status), '|' ORDER BY r.id) FROM core_employee r WHERE r.role IN ("
    + ", ".join(f"'{role}'" for role in STAFF_ROLES)
    + "))))"
)


@dataclass(frozen=True)
class Staff:
    id: int
    name: str  # first and last name
    department: str
    role: str  # coordinator or admin (who may be assigned what: `tickets.assignable_staff`)
    full_name: str  # as `Employee.full_name` (with a middle name and suffix)
    email: str  # tells apart two people of the same name (`triage.people_names`)


@dataclass(frozen=True)
class Choices:
    """What the pickers offer; names with the active ones first, then by name."""

    departments: tuple[str, ...]
    categories: tuple[str, ...]
    staff: tuple[Staff, ...]  # active, approved coordinators and admins, by last and first name


_choices: dict[str, Choices] = {}


def _load_choices(session: Session) -> Choices:
    departments = session.scalars(select(Department.name).order_by(Department.is_active.is_(False), Department.name))
    categories = session.scalars(
        select(TicketCategory.name).order_by(TicketCategory.is_active.is_(False), TicketCategory.name)
    )
    staff = session.scalars(
        select(Employee)
        .where(
            Employee.role.in_(STAFF_ROLES),
            Employee.is_active.is_(True),
            Employee.status == AccountStatus.APPROVED.value,
        )
        .order_by(Employee.last_name, Employee.first_name, Employee.id)
    )
    return Choices(
        tuple(departments),
        tuple(categories),
        tuple(
            Staff(e.id, f"{e.first_name} {e.last_name}", e.department, e.role, e.full_name, e.email) for e in staff
        ),
    )


def choices(session: Session) -> Choices:
    """The pickers' choice lists as the session's transaction sees them (one fingerprint
    statement when cached; kept for the session until it writes)."""

    def read() -> Choices:
        key = session.connection().exec_driver_sql(f"SELECT {CHOICES_FINGERPRINT}").scalar_one()
        found = _choices.get(key)
        if found is None:
            found = _load_choices(session)
            if session.connection().exec_driver_sql(f"SELECT {CHOICES_FINGERPRINT}").scalar_one() == key:
                with _lock:
                    if len(_choices) >= _KEEP:
                        _choices.clear()
                    _choices[key] = found
        return found

    return remembered(session, "refdata.choices", read)
