"""Validation of a ticket submission: the spec's rules plus the category's own fields.

The category's `required_fields` (format: top of `seed.py`) drive both the submit form and
this validator, so a rule can never be shown in one place and missed in the other. Every
error names its field; all of them are collected and raised together as one
`ValidationError` before anything is written. Fields that are spec columns of `core_ticket`
go to those columns, the others into `dynamic_data`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import refdata
from .errors import ValidationError
from .models import Ticket, TicketCategory
from .refdata import Category
from .settings import get_settings
from .text_input import DESCRIPTION_MAX, text_error
from .vocab import Priority

SUBJECT_MIN, SUBJECT_MAX = 5, 200
DESCRIPTION_MIN = 10
MSG_SUBJECT = "Subject must be between 5-200 characters"
MSG_DESCRIPTION = "Description must be at least 10 characters"
MSG_PRIORITY = "Priority must be Low, Medium, High, or Critical"

#: The spec's category-specific columns of core_ticket; any other field goes to dynamic_data.
CATEGORY_COLUMNS: frozenset[str] = frozenset(
    {
        "asset_name",
        "serial_number",
        "location",
        "expected_return_date",
        "issue_type",
        "other_issue",
        "performance_start_date",
        "performance_end_date",
        "approved_by",
        "cost_items",
        "requested_budget",
    }
)
MAX_BUDGET = Decimal("9999999999.99")  # NUMERIC(12, 2)
COST_ITEM_KEYS = ("description", "quantity", "unit_cost")
#: The cost-items grid's columns as the page labels them (errors name the cell: row + column).
COST_ITEM_LABELS = {"description": "Description", "quantity": "Quantity", "unit_cost": "Unit cost"}
COST_DESCRIPTION_MAX = 200
#: Bounds of one cost-item cell: a row's amount and the total must fit NUMERIC(12, 2), and
#: checking the cells before multiplying keeps Decimal arithmetic exact (1e15 x 1e15 used to
#: raise decimal.InvalidOperation while the requester typed).
COST_QUANTITY_MAX = Decimal("1000000")
COST_UNIT_MAX = MAX_BUDGET
#: A category's own text fields without a limit of their own take this one.
DYNAMIC_TEXT_MAX = DESCRIPTION_MAX


@dataclass
class CleanSubmission:
    """A validated submission, ready to become a Ticket."""

    category: Category
    columns: dict[str, Any]  # core_ticket column -> value (subject, priority, category fields, ...)
    dynamic_data: dict[str, Any] = field(default_factory=dict)


def active_categories(session: Session) -> list[TicketCategory]:
    """The categories an employee can file under (rows, never a hard-coded list)."""
    return list(
        session.scalars(
            select(TicketCategory).where(TicketCategory.is_active.is_not(False)).order_by(TicketCategory.id)
        )
    )


def _str(value: Any) -> str:
    """A text field's value, stripped ("" when missing or not text: `text_error` names that)."""
    return value.strip() if isinstance(value, str) else ""


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, (list, tuple, dict)):
        return len(value) == 0
    return False


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        return dt.date.fromisoformat(value.strip())
    raise ValueError(value)


def _decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise InvalidOperation
    if isinstance(value, float):
        if value != value:  # NaN (an empty data-editor cell)
            raise InvalidOperation
        return Decimal(str(value))
    result = Decimal(str(value).strip().replace(",", ""))
    if not result.is_finite():
        raise InvalidOperation
    return result


def today() -> dt.date:
    """Today in the organisation's time zone (what "not in the past" means to a user)."""
    return dt.datetime.now(ZoneInfo(get_settings().timezone)).date()


def _column_limit(name: str) -> int | None:
    column = Ticket.__table__.columns.get(name)
    length = getattr(column.type, "length", None) if column is not None else None
    return int(length) if length else None


def _cell(label: str, index: int, column: str, message: str) -> ValueError:
    return ValueError(f"{label}: row {index}, {COST_ITEM_LABELS[column]} {message}")


def _bounded(label: str, index: int, column: str, value: Any, maximum: Decimal) -> Decimal:
    """One number cell, between 0 and `maximum` (ValueError naming the row and column)."""
    try:
        number = _decimal(value)
    except (InvalidOperation, ValueError):
        raise _cell(label, index, column, "must be a number") from None
    if not Decimal(0) <= number <= maximum:
        raise _cell(label, index, column, f"must be between 0 and {maximum:,}")
    return number


def clean_cost_items(label: str, value: Any) -> tuple[list[dict[str, Any]], Decimal]:
    """Rows {description, quantity, unit_cost, amount} and their total; raises ValueError(msg)
    naming the cell (row number and column label) for any bad value, never anything else."""
    if hasattr(value, "to_dict") and callable(value.to_dict):  # a DataFrame from the data editor
        value = value.to_dict("records")
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{label} must be a list of rows (description, quantity, unit cost)")
    rows: list[dict[str, Any]] = []
    total = Decimal("0")
    for index, raw in enumerate(value, start=1):
        if not isinstance(raw, Mapping):
            raise ValueError(f"{label}: row {index} is not a row")
        if all(
            _blank(raw.get(k)) or (isinstance(raw.get(k), float) and raw.get(k) != raw.get(k)) for k in COST_ITEM_KEYS
        ):
            continue  # an empty editor row
        desc_value = raw.get("description")
        if isinstance(desc_value, float) and desc_value != desc_value:
            desc_value = None  # an empty data-editor cell
        problem = text_error(desc_value, max_length=COST_DESCRIPTION_MAX)
        if problem:
            raise _cell(label, index, "description", problem)
        desc = (desc_value or "").strip()
        if not desc:
            raise _cell(label, index, "description", "is required")
        qty = _bounded(label, index, "quantity", raw.get("quantity"), COST_QUANTITY_MAX)
        unit = _bounded(label, index, "unit_cost", raw.get("unit_cost"), COST_UNIT_MAX)
        try:
            amount = (qty * unit).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        except InvalidOperation:  # too many digits even within the bounds (a quantity of 1e-30)
            raise _cell(label, index, "quantity", "has too many digits") from None
        if amount > MAX_BUDGET:
            raise ValueError(f"{label}: row {index}, the amount (quantity x unit cost) cannot exceed {MAX_BUDGET:,}")
        total += amount
        rows.append({"description": desc, "quantity": str(qty), "unit_cost": str(unit), "amount": str(amount)})
    if total > MAX_BUDGET:
        raise ValueError(f"{label}: the total cannot exceed {MAX_BUDGET:,}")
    return rows, total


def text_limit(definition: Mapping[str, Any]) -> int:
    """The most characters a category's text field takes: its own `max_length`, else its
    column's length, else DYNAMIC_TEXT_MAX (the submit form's `max_chars` reads this too)."""
    return int(definition.get("max_length") or _column_limit(definition["name"]) or DYNAMIC_TEXT_MAX)


def _clean_field(definition: Mapping[str, Any], value: Any, today_: dt.date) -> Any:
    """The cleaned value of one category field; raises ValueError(message) when invalid."""
    label = definition.get("label") or definition["name"]
    kind = definition.get("type", "text")
    if kind in ("text", "textarea"):
        problem = text_error(value, max_length=text_limit(definition), label=label)
        if problem:
            raise ValueError(problem)
        return value.strip()
    if isinstance(value, str) and (problem := text_error(value, label=label)):
        raise ValueError(problem)  # a NUL in a date or choice is named as that field too
    if kind == "select":
        options = [str(o) for o in definition.get("options") or []]
        if str(value) not in options:
            raise ValueError(f"{label} must be one of: {', '.join(options)}")
        return str(value)
    if kind == "date":
        try:
            day = _parse_date(value)
        except (ValueError, TypeError):
            raise ValueError(f"{label} must be a date (YYYY-MM-DD)") from None
        if definition.get("not_past") and day < today_:
            raise ValueError(f"{label} cannot be in the past")
        return day
    if kind == "number":
        try:
            number = _decimal(value)
        except (InvalidOperation, ValueError):
            raise ValueError(f"{label} must be a number") from None
        if definition.get("min") is not None and number < Decimal(str(definition["min"])):
            raise ValueError(f"{label} must be at least {definition['min']}")
        if definition.get("max") is not None and number > Decimal(str(definition["max"])):
            raise ValueError(f"{label} must be at most {definition['max']}")
        return number
    if kind == "cost_items":
        rows, _total = clean_cost_items(label, value)
        return rows
    raise ValueError(f"{label} has an unknown field type {kind!r}")


def applies(definition: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    """Whether a field is asked at all given the answers so far: a field with `required_if`
    only when its condition holds (e.g. "describe the issue" only when the issue is Other).
    The form page and the validation below use this one rule."""
    condition = definition.get("required_if") or {}
    return all(str(data.get(k) or "") == str(v) for k, v in condition.items())


def _required(definition: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    if definition.get("required"):
        return True
    return bool(definition.get("required_if")) and applies(definition, data)


def validate_submission(
    session: Session,
    data: Mapping[str, Any],
    *,
    today_: dt.date | None = None,
    ref: refdata.Reference | None = None,
) -> CleanSubmission:
    """Check a submission against the spec's table and its category's field definitions.

    `ref`: the reference data when the caller already has it (`refdata.current`)."""
    today_ = today_ or today()
    errors: dict[str, str] = {}
    columns: dict[str, Any] = {}

    for key in ("subject", "description", "category", "sub_category", "priority"):
        problem = text_error(data.get(key), max_length=DESCRIPTION_MAX if key == "description" else None)
        if problem:
            errors[key] = problem
    subject = _str(data.get("subject"))
    if "subject" not in errors and not SUBJECT_MIN <= len(subject) <= SUBJECT_MAX:
        errors["subject"] = MSG_SUBJECT
    columns["subject"] = subject

    description = _str(data.get("description"))
    if "description" not in errors and len(description) < DESCRIPTION_MIN:
        errors["description"] = MSG_DESCRIPTION
    columns["description"] = description

    category: Category | None = None
    name = _str(data.get("category"))
    if "category" in errors:
        pass
    elif not name:
        errors["category"] = "Category is required"
    else:
        ref = ref or refdata.current(session)[0]
        category = ref.category(name)
        if category is None:
            errors["category"] = f"Category must be one of: {', '.join(c.name for c in ref.categories)}"

    priority = data.get("priority")
    if _blank(priority):
        priority = (category.default_priority if category else None) or Priority.MEDIUM.value
    if str(priority) not in {p.value for p in Priority}:
        errors.setdefault("priority", MSG_PRIORITY)
    columns["priority"] = str(priority)

    dynamic: dict[str, Any] = {}
    if category is not None:
        subs = [str(s) for s in category.sub_categories or []]
        sub = _str(data.get("sub_category"))
        if "sub_category" in errors:
            pass
        elif subs:
            if not sub:
                errors["sub_category"] = "Sub-category is required"
            elif sub not in subs:
                errors["sub_category"] = f"Sub-category must be one of: {', '.join(subs)}"
        elif sub and len(sub) > 100:
            errors["sub_category"] = "Sub-category must be at most 100 characters"
        columns["sub_category"] = sub or None
        columns["category"] = category.name
        columns["department"] = category.assigned_department

        cleaned: dict[str, Any] = {}
        for definition in category.required_fields or []:
            fname = definition["name"]
            label = definition.get("label") or fname
            value = data.get(fname)
            if hasattr(value, "to_dict") and callable(value.to_dict):
                value = value.to_dict("records")
            if _blank(value):
                if _required(definition, data):
                    errors[fname] = f"{label} is required"
                continue
            try:
                cleaned[fname] = _clean_field(definition, value, today_)
            except ValueError as exc:
                errors[fname] = str(exc)
                continue
            if definition.get("type") == "cost_items" and not cleaned[fname] and _required(definition, data):
                errors[fname] = f"{label} needs at least one row"
        for definition in category.required_fields or []:
            other = definition.get("after")
            fname = definition["name"]
            start, end = cleaned.get(other) if other else None, cleaned.get(fname)
            if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
                other_label = next(
                    (d.get("label") or other for d in category.required_fields if d["name"] == other), other
                )
                errors[fname] = f"{definition.get('label') or fname} must be on or after {other_label}"
        for fname, value in cleaned.items():
            definition = next(d for d in category.required_fields if d["name"] == fname)
            if definition.get("type") == "cost_items":
                _rows, total = clean_cost_items(definition.get("label") or fname, value)
                if fname == "cost_items":
                    columns["cost_items"] = value
                    columns["requested_budget"] = total
                else:
                    dynamic[fname] = {"items": value, "total": str(total)}
            elif fname in CATEGORY_COLUMNS:
                columns[fname] = value
            else:
                dynamic[fname] = (
                    value.isoformat()
                    if isinstance(value, dt.date)
                    else (str(value) if isinstance(value, Decimal) else value)
                )

    if errors:
        raise ValidationError(errors)
    assert category is not None
    return CleanSubmission(category=category, columns=columns, dynamic_data=dynamic)
