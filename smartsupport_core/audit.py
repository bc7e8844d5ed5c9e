"""Audit trail: one `core_auditlog` row per change, in the same transaction as the change.

The acting request's IP address and user agent are set by the portal at the start of each
script run (`set_request_info`); the core itself never imports Streamlit.
"""

from __future__ import annotations

import contextvars
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from .models import AuditLog, Employee

MASK = "********"
_SENSITIVE = ("password", "secret", "token", "api_key")


@dataclass(frozen=True)
class RequestInfo:
    ip_address: str | None = None
    user_agent: str | None = None


_request: contextvars.ContextVar[RequestInfo] = contextvars.ContextVar("request_info", default=RequestInfo())  # noqa: B039 (frozen)


def set_request_info(ip_address: str | None, user_agent: str | None) -> None:
    """Only strings are kept: under AppTest `st.context` answers with mock objects."""
    ip = ip_address[:45] if isinstance(ip_address, str) and ip_address else None
    agent = user_agent[:512] if isinstance(user_agent, str) and user_agent else None
    _request.set(RequestInfo(ip, agent))


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return value


def mask(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """JSON-ready copy with every password/secret/token field replaced by a mask."""
    if values is None:
        return None
    return {
        k: (MASK if any(s in k.lower() for s in _SENSITIVE) and v is not None else _jsonable(v))
        for k, v in values.items()
    }


def record(
    session: Session,
    actor: Employee | None,
    table_name: str,
    record_id: int | None,
    action: str,
    old_values: Mapping[str, Any] | None = None,
    new_values: Mapping[str, Any] | None = None,
) -> AuditLog:
    """Add an audit row to the session (committed with the change it describes)."""
    row = AuditLog(**row_values(actor, table_name, record_id, action, old_values, new_values))
    session.add(row)
    return row


def row_values(
    actor: Employee | None,
    table_name: str,
    record_id: int | None,
    action: str,
    old_values: Mapping[str, Any] | None = None,
    new_values: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The column values of an audit row (for callers that insert it themselves)."""
    info = _request.get()
    return {
        "table_name": table_name,
        "record_id": record_id,
        "action_type": str(action),
        "old_values": mask(old_values),
        "new_values": mask(new_values),
        "user_id": actor.id if actor is not None else None,
        "ip_address": info.ip_address,
        "user_agent": info.user_agent,
    }


def changes(obj: object, fields: list[str], new: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(old, new) dicts of only the fields whose value actually changes."""
    old_vals: dict[str, Any] = {}
    new_vals: dict[str, Any] = {}
    for f in fields:
        if f in new and getattr(obj, f) != new[f]:
            old_vals[f] = getattr(obj, f)
            new_vals[f] = new[f]
    return old_vals, new_vals
