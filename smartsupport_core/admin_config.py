"""Admin configuration: departments, categories, SLA targets, business calendar, holidays.

Every function checks `Action.MANAGE_CONFIG`, validates all of its input first (one
`ValidationError` naming every bad field; nothing written), changes the rows and writes one
audit row with the old and new values, in the caller's transaction.

Renames are safe: tickets, employees and categories reference departments and categories
by name with ON UPDATE CASCADE, so a rename follows everywhere (on a big database that is
one UPDATE per referencing row, inside this transaction). Deactivating instead of deleting
keeps history intact; a department cannot be deactivated while an active category still
routes tickets to it. SLA target changes apply to tickets submitted afterwards and to
tickets whose priority changes; stored due dates are not rewritten.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit, policy
from .errors import NotFound, ValidationError
from .models import BusinessCalendar, Department, Employee, Holiday, SlaTarget, TicketCategory
from .policy import Action
from .text_input import clean_text
from .vocab import AuditAction, Priority, SlaClock

NAME_MAX = 100
DESCRIPTION_MAX = 255
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_TARGET_MINUTES = 366 * 24 * 60

FIELD_TYPES = ("text", "textarea", "select", "date", "number", "cost_items")
FIELD_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
#: Names the submit form already uses for every ticket; a category field may not reuse them.
RESERVED_FIELD_NAMES = frozenset(
    {
        "id",
        "subject",
        "description",
        "priority",
        "category",
        "sub_category",
        "department",
        "status",
        "ticket_number",
        "employee_id",
        "assigned_to_id",
        "attachments",
        "version",
    }
)
FIELD_KEYS = ("name", "label", "type", "required", "options", "max_length", "not_past", "after", "required_if")
#: The configuration rows that `_create` / `_update` handle, and their names in messages.
_Row = TypeVar("_Row", Department, TicketCategory)
_LABELS: dict[type, str] = {Department: "Department", TicketCategory: "Category"}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _require(actor: Employee) -> None:
    policy.require(actor, Action.MANAGE_CONFIG)


def _text(value: Any, field: str = "value") -> str:
    """A console field's text through the one text rule (`text_input`: control characters,
    containers refused naming `field`); scalars a grid cell holds (numbers) read as text."""
    if value is not None and not isinstance(value, (str, dict, list, tuple, set, bytes)):
        value = str(value)
    return clean_text(value, field)


def _values(obj: Any, fields: Sequence[str]) -> dict[str, Any]:
    return {f: getattr(obj, f) for f in fields}


# --- departments ---------------------------------------------------------------------------

DEPARTMENT_FIELDS = ("name", "description", "head_email", "is_active")


def list_departments(session: Session, actor: Employee, *, active_only: bool = False) -> list[Department]:
    _require(actor)
    stmt = select(Department).order_by(Department.name)
    if active_only:
        stmt = stmt.where(Department.is_active.is_(True))
    return list(session.scalars(stmt))


def _clean_name_and_description(
    session: Session,
    model: type[_Row],
    fields: Sequence[str],
    data: Mapping[str, Any],
    current: _Row | None,
    errors: dict[str, str],
) -> dict[str, Any]:
    """The checks departments and categories share: no unknown field, a unique name (needed
    when creating), a short description. Messages go into `errors`; returns the clean values."""
    noun = _LABELS[model].lower()
    clean: dict[str, Any] = {}
    unknown = set(data) - set(fields)
    if unknown:
        errors["__all__"] = f"unknown {noun} fields: {', '.join(sorted(unknown))}"
    if "name" in data or current is None:
        name = _text(data.get("name"), "name")
        if not name:
            errors["name"] = f"a {noun} needs a name"
        elif len(name) > NAME_MAX:
            errors["name"] = f"at most {NAME_MAX} characters"
        else:
            clash = session.scalars(select(model).where(func.lower(model.name) == name.lower())).first()
            if clash is not None and clash is not current:
                errors["name"] = f"a {noun} named '{clash.name}' already exists"
        clean["name"] = name
    if "description" in data:
        desc = _text(data["description"], "description")
        if len(desc) > DESCRIPTION_MAX:
            errors["description"] = f"at most {DESCRIPTION_MAX} characters"
        clean["description"] = desc or None
    return clean


def _clean_department(session: Session, data: Mapping[str, Any], current: Department | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean = _clean_name_and_description(session, Department, DEPARTMENT_FIELDS, data, current, errors)
    if "head_email" in data:
        email = _text(data["head_email"], "head_email").lower()
        if email and (len(email) > 254 or not EMAIL_RE.match(email)):
            errors["head_email"] = "must be an e-mail address like head@example.com"
        clean["head_email"] = email or None
    if "is_active" in data:
        active = data["is_active"]
        if not isinstance(active, bool):
            errors["is_active"] = "must be true or false"
        elif not active and current is not None and current.is_active:
            routed = session.scalars(
                select(TicketCategory.name).where(
                    TicketCategory.assigned_department == current.name, TicketCategory.is_active.is_(True)
                )
            ).all()
            if routed:
                errors["is_active"] = (
                    f"active categories still route tickets here ({', '.join(routed)}); move or deactivate them first"
                )
        clean["is_active"] = active
    if errors:
        raise ValidationError(errors)
    return clean


#: A validator of a configuration row: (session, input, the row or None when new) -> clean values.
_Cleaner = Callable[[Session, Mapping[str, Any], Any], dict[str, Any]]


def _create(session: Session, actor: Employee, model: type[_Row], data: Mapping[str, Any], clean: _Cleaner) -> _Row:
    """Insert a configuration row from the values `clean` accepts and audit its creation."""
    _require(actor)
    values = clean(session, data, None)
    row = model(**values)
    session.add(row)
    session.flush()
    audit.record(session, actor, model.__tablename__, row.id, AuditAction.CREATE, None, values)
    return row


def _update(
    session: Session,
    actor: Employee,
    model: type[_Row],
    row_id: int,
    data: Mapping[str, Any],
    clean: _Cleaner,
) -> _Row:
    """Apply the cleaned changes to one configuration row; audit only what really changed."""
    _require(actor)
    row = session.get(model, row_id)
    if row is None:
        raise NotFound(f"{_LABELS[model]} {row_id} was not found.")
    values = clean(session, data, row)
    old, new = audit.changes(row, list(values), values)
    if new:
        for key, value in new.items():
            setattr(row, key, value)
        session.flush()
        audit.record(session, actor, model.__tablename__, row.id, AuditAction.UPDATE, old, new)
    return row


def create_department(session: Session, actor: Employee, data: Mapping[str, Any]) -> Department:
    return _create(session, actor, Department, data, _clean_department)


def update_department(session: Session, actor: Employee, department_id: int, data: Mapping[str, Any]) -> Department:
    """Rename, re-describe, set the head e-mail, (de)activate."""
    return _update(session, actor, Department, department_id, data, _clean_department)


# --- categories ----------------------------------------------------------------------------

CATEGORY_FIELDS = (
    "name",
    "description",
    "default_priority",
    "assigned_department",
    "sub_categories",
    "auto_assign",
    "required_fields",
    "is_active",
)


def list_categories(session: Session, actor: Employee) -> list[TicketCategory]:
    _require(actor)
    return list(session.scalars(select(TicketCategory).order_by(TicketCategory.name)))


def validate_required_fields(fields: Any) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Clean a `required_fields` list (format: top of `seed.py`) and collect its errors.

    Error keys are `required_fields[N].key`, N counting from 1 as the editor shows rows.
    """
    errors: dict[str, str] = {}
    if not isinstance(fields, list):
        return [], {"required_fields": "must be a list of field definitions"}
    clean: list[dict[str, Any]] = []
    names = [str(f.get("name", "")).strip() for f in fields if isinstance(f, Mapping)]
    date_names = {str(f.get("name", "")).strip() for f in fields if isinstance(f, Mapping) and f.get("type") == "date"}
    seen: set[str] = set()
    for i, raw in enumerate(fields, start=1):
        where = f"required_fields[{i}]"
        if not isinstance(raw, Mapping):
            errors[where] = "must be a field definition"
            continue
        extra = set(raw) - set(FIELD_KEYS)
        if extra:
            errors[f"{where}"] = f"unknown keys {', '.join(sorted(extra))}"
        name = _text(raw.get("name"), f"{where}.name")
        label = _text(raw.get("label"), f"{where}.label")
        ftype = _text(raw.get("type"), f"{where}.type")
        item: dict[str, Any] = {"name": name, "label": label, "type": ftype, "required": bool(raw.get("required"))}
        if not FIELD_NAME_RE.match(name):
            errors[f"{where}.name"] = "use lower-case letters, digits and _ (start with a letter, at most 50)"
        elif name in RESERVED_FIELD_NAMES:
            errors[f"{where}.name"] = f"'{name}' is a field every ticket already has"
        elif name in seen:
            errors[f"{where}.name"] = f"'{name}' is used by another field of this category"
        seen.add(name)
        if not label:
            errors[f"{where}.label"] = "a field needs a label"
        elif len(label) > NAME_MAX:
            errors[f"{where}.label"] = f"at most {NAME_MAX} characters"
        if ftype not in FIELD_TYPES:
            errors[f"{where}.type"] = f"must be one of {', '.join(FIELD_TYPES)}"
        options = raw.get("options")
        if ftype == "select":
            opts = [_text(o) for o in (options or [])] if isinstance(options, list) else []
            if not opts or any(not o for o in opts):
                errors[f"{where}.options"] = "a select field needs a list of non-empty options"
            elif len(set(opts)) != len(opts):
                errors[f"{where}.options"] = "options must be different from each other"
            item["options"] = opts
        elif options:
            errors[f"{where}.options"] = "only select fields have options"
        max_length = raw.get("max_length")
        if max_length not in (None, ""):
            if ftype not in ("text", "textarea"):
                errors[f"{where}.max_length"] = "only text fields have a maximum length"
            elif isinstance(max_length, bool) or not isinstance(max_length, int) or not 1 <= max_length <= 10000:
                errors[f"{where}.max_length"] = "must be a whole number from 1 to 10000"
            else:
                item["max_length"] = max_length
        if raw.get("not_past"):
            if ftype != "date":
                errors[f"{where}.not_past"] = "only date fields can refuse past dates"
            item["not_past"] = True
        after = _text(raw.get("after"))
        if after:
            if ftype != "date":
                errors[f"{where}.after"] = "only date fields can be ordered after another date"
            elif after == name or after not in date_names:
                errors[f"{where}.after"] = "must name another date field of this category"
            item["after"] = after
        required_if = raw.get("required_if")
        if required_if:
            ok = (
                isinstance(required_if, Mapping)
                and len(required_if) == 1
                and all(k in names and k != name and _text(v) for k, v in required_if.items())
            )
            if not ok:
                errors[f"{where}.required_if"] = "must be one other field of this category and a value"
            else:
                item["required_if"] = {k: _text(v) for k, v in required_if.items()}
        clean.append(item)
    return clean, errors


def fields_from_table(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The admin console's editor rows (options as "a, b, c", required_if as "field=value")
    turned into definitions; blank rows are dropped. Validation is `validate_required_fields`.
    """
    out: list[dict[str, Any]] = []
    for row in rows:
        if not any(_text(v) for k, v in row.items() if k != "required"):
            continue
        item: dict[str, Any] = {
            "name": _text(row.get("name")),
            "label": _text(row.get("label")),
            "type": _text(row.get("type")),
            "required": bool(row.get("required")),
        }
        options = _text(row.get("options"))
        if options:
            item["options"] = [o.strip() for o in options.split(",")]
        max_length = row.get("max_length")
        if max_length not in (None, "") and not (isinstance(max_length, float) and max_length != max_length):
            item["max_length"] = int(max_length) if float(max_length).is_integer() else max_length
        if row.get("not_past"):
            item["not_past"] = True
        if _text(row.get("after")):
            item["after"] = _text(row.get("after"))
        cond = _text(row.get("required_if"))
        if cond:
            key, _, value = cond.partition("=")
            item["required_if"] = {key.strip(): value.strip()}
        out.append(item)
    return out


def table_from_fields(fields: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The inverse of `fields_from_table`, to fill the editor."""
    return [
        {
            "name": f.get("name", ""),
            "label": f.get("label", ""),
            "type": f.get("type", "text"),
            "required": bool(f.get("required")),
            "options": ", ".join(f.get("options") or []),
            "max_length": f.get("max_length"),
            "not_past": bool(f.get("not_past")),
            "after": f.get("after", ""),
            "required_if": ", ".join(f"{k}={v}" for k, v in (f.get("required_if") or {}).items()),
        }
        for f in fields
    ]


def _clean_category(session: Session, data: Mapping[str, Any], current: TicketCategory | None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean = _clean_name_and_description(session, TicketCategory, CATEGORY_FIELDS, data, current, errors)
    creating = current is None
    if "default_priority" in data or creating:
        prio = _text(data.get("default_priority"), "default_priority") or Priority.MEDIUM.value
        if prio not in {p.value for p in Priority}:
            errors["default_priority"] = "must be Low, Medium, High or Critical"
        clean["default_priority"] = prio
    if "assigned_department" in data or creating:
        dept_name = _text(data.get("assigned_department"), "assigned_department")
        dept = session.scalars(select(Department).where(Department.name == dept_name)).first()
        if dept is None:
            errors["assigned_department"] = "must be an existing department"
        elif not dept.is_active:
            errors["assigned_department"] = f"{dept.name} is deactivated"
        clean["assigned_department"] = dept_name
    if "sub_categories" in data:
        subs = data["sub_categories"]
        if not isinstance(subs, list):
            errors["sub_categories"] = "must be a list"
        else:
            subs = [_text(s, "sub_categories") for s in subs if _text(s, "sub_categories")]
            if any(len(s) > NAME_MAX for s in subs):
                errors["sub_categories"] = f"each at most {NAME_MAX} characters"
            elif len({s.lower() for s in subs}) != len(subs):
                errors["sub_categories"] = "sub-categories must be different from each other"
            clean["sub_categories"] = subs
    for flag in ("auto_assign", "is_active"):
        if flag in data:
            if not isinstance(data[flag], bool):
                errors[flag] = "must be true or false"
            clean[flag] = data[flag]
    if "required_fields" in data:
        fields, field_errors = validate_required_fields(data["required_fields"])
        errors.update(field_errors)
        clean["required_fields"] = fields
    if errors:
        raise ValidationError(errors)
    return clean


def create_category(session: Session, actor: Employee, data: Mapping[str, Any]) -> TicketCategory:
    return _create(session, actor, TicketCategory, data, _clean_category)


def update_category(session: Session, actor: Employee, category_id: int, data: Mapping[str, Any]) -> TicketCategory:
    return _update(session, actor, TicketCategory, category_id, data, _clean_category)


# --- SLA targets, business calendar, holidays ----------------------------------------------


def list_sla_targets(session: Session, actor: Employee) -> list[SlaTarget]:
    _require(actor)
    order = {p.value: i for i, p in enumerate([Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW])}
    return sorted(session.scalars(select(SlaTarget)), key=lambda t: order.get(t.priority, 9))


def _minutes(value: Any, field: str, errors: dict[str, str]) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        errors[field] = "must be a whole number of minutes"
        return 0
    if not 1 <= value <= MAX_TARGET_MINUTES:
        errors[field] = f"must be between 1 and {MAX_TARGET_MINUTES} minutes"
    return int(value)


def update_sla_target(
    session: Session,
    actor: Employee,
    priority: str,
    *,
    response_minutes: int,
    response_clock: str,
    resolution_minutes: int,
    resolution_clock: str,
) -> SlaTarget:
    """First-response and resolution targets of one priority, each business or calendar."""
    _require(actor)
    errors: dict[str, str] = {}
    clocks = {c.value for c in SlaClock}
    if priority not in {p.value for p in Priority}:
        errors["priority"] = "must be Low, Medium, High or Critical"
    resp = _minutes(response_minutes, "response_minutes", errors)
    resol = _minutes(resolution_minutes, "resolution_minutes", errors)
    if response_clock not in clocks:
        errors["response_clock"] = "must be business or calendar"
    if resolution_clock not in clocks:
        errors["resolution_clock"] = "must be business or calendar"
    if not errors and response_clock == resolution_clock and resol < resp:
        errors["resolution_minutes"] = "must not be shorter than the first-response target"
    if errors:
        raise ValidationError(errors)
    target = session.scalars(select(SlaTarget).where(SlaTarget.priority == priority)).one_or_none()
    new_values = {
        "response_minutes": resp,
        "response_clock": response_clock,
        "resolution_minutes": resol,
        "resolution_clock": resolution_clock,
    }
    if target is None:
        target = SlaTarget(priority=priority, **new_values)
        session.add(target)
        session.flush()
        audit.record(
            session, actor, "core_slatarget", target.id, AuditAction.CREATE, None, {"priority": priority, **new_values}
        )
        return target
    old, new = audit.changes(target, list(new_values), new_values)
    if new:
        for key, value in new.items():
            setattr(target, key, value)
        target.updated_at = dt.datetime.now(dt.UTC)
        session.flush()
        audit.record(session, actor, "core_slatarget", target.id, AuditAction.UPDATE, old, new)
    return target


def get_calendar(session: Session, actor: Employee) -> BusinessCalendar:
    _require(actor)
    cal = session.scalars(select(BusinessCalendar).order_by(BusinessCalendar.id)).first()
    if cal is None:
        raise NotFound("The business calendar is missing; run the migrations.")
    return cal


def update_calendar(
    session: Session,
    actor: Employee,
    *,
    timezone: str,
    working_days: Sequence[int],
    day_start: dt.time,
    day_end: dt.time,
) -> BusinessCalendar:
    """Working days (Monday=0), hours and time zone that business-time SLAs count in."""
    cal = get_calendar(session, actor)
    errors: dict[str, str] = {}
    timezone = _text(timezone, "timezone")
    try:
        if not timezone:
            raise ZoneInfoNotFoundError
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = "must be a time zone name such as Asia/Manila or UTC"
    days = list(working_days)
    if not days:
        errors["working_days"] = "choose at least one working day"
    elif any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days):
        errors["working_days"] = "days are numbers 0 (Monday) to 6 (Sunday)"
    if not isinstance(day_start, dt.time):
        errors["day_start"] = "must be a time of day"
    if not isinstance(day_end, dt.time):
        errors["day_end"] = "must be a time of day"
    elif isinstance(day_start, dt.time) and day_end <= day_start:
        errors["day_end"] = "the working day must end after it starts"
    if errors:
        raise ValidationError(errors)
    new_values = {
        "timezone": timezone,
        "working_days": sorted(set(days)),
        "day_start": day_start,
        "day_end": day_end,
    }
    old, new = audit.changes(cal, list(new_values), new_values)
    if new:
        for key, value in new.items():
            setattr(cal, key, value)
        session.flush()
        audit.record(session, actor, "core_businesscalendar", cal.id, AuditAction.UPDATE, old, new)
    return cal


def list_holidays(session: Session, actor: Employee) -> list[Holiday]:
    _require(actor)
    return list(session.scalars(select(Holiday).order_by(Holiday.day)))


def add_holiday(session: Session, actor: Employee, day: dt.date, name: str) -> Holiday:
    _require(actor)
    errors: dict[str, str] = {}
    name = _text(name, "name")
    if not isinstance(day, dt.date):
        errors["day"] = "must be a date"
    elif session.scalars(select(Holiday).where(Holiday.day == day)).first() is not None:
        errors["day"] = f"{day.isoformat()} is already a holiday"
    if not name:
        errors["name"] = "a holiday needs a name"
    elif len(name) > NAME_MAX:
        errors["name"] = f"at most {NAME_MAX} characters"
    if errors:
        raise ValidationError(errors)
    holiday = Holiday(day=day, name=name)
    session.add(holiday)
    session.flush()
    audit.record(session, actor, "core_holiday", holiday.id, AuditAction.CREATE, None, {"day": day, "name": name})
    return holiday


def delete_holiday(session: Session, actor: Employee, holiday_id: int) -> None:
    _require(actor)
    holiday = session.get(Holiday, holiday_id)
    if holiday is None:
        raise NotFound(f"Holiday {holiday_id} was not found.")
    audit.record(
        session, actor, "core_holiday", holiday.id, AuditAction.DELETE, _values(holiday, ("day", "name")), None
    )
    session.delete(holiday)
    session.flush()
