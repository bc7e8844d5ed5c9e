"""Property-based tests: random input at every validation entry point of the core.

The property, for each entry point: whatever a caller passes (values a form, a URL or a JSON
body can carry: text of any Unicode incl. NUL and control characters, very long strings,
numbers, booleans, None, lists), the function either succeeds or raises one of the
domain's own errors (`DomainError` subclasses, which the portal shows as a message) — never
a stack trace — and when it refuses, nothing was written: every table's row count is the
same inside the still-open transaction, before any rollback.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartsupport_core.errors import DomainError
from smartsupport_core.models import Base
from smartsupport_core.vocab import Priority, Role, TicketStatus
from tests.factories import make_employee

FUZZ = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text as forms deliver it: any Unicode (incl. NUL, controls, RTL marks, emoji), sometimes long.
any_text = (
    st.text(max_size=60)
    | st.text(min_size=250, max_size=2500)
    | st.sampled_from(
        ["", " ", "\x00", "NULL", "' OR 1=1 --", "<script>alert(1)</script>", "=1+1", "🙂" * 80, "a" * 10_001]
    )
)
json_scalar = st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63) | any_text
json_value = json_scalar | st.floats(allow_nan=True, allow_infinity=True) | st.lists(json_scalar, max_size=3)


def row_counts(session: Session) -> dict[str, int]:
    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def only_domain_errors(session: Session, call: Callable[[], Any]) -> bool:
    """Run `call`; True if it refused with a DomainError (then assert nothing was written).

    Any other exception propagates and fails the property. The transaction is rolled back
    either way, so examples do not see each other's successes.
    """
    before = row_counts(session)
    try:
        call()
    except DomainError:
        session.flush()
        assert row_counts(session) == before, "a refused call wrote rows"
        return True
    finally:
        session.rollback()
    return False


@pytest.fixture
def actors(session: Session) -> dict[str, Any]:
    people = {
        "admin": make_employee(session, role=Role.ADMIN, department="IT Department"),
        "coordinator": make_employee(session, role=Role.COORDINATOR, department="IT Department"),
        "employee": make_employee(session, role=Role.EMPLOYEE, department="Sales"),
    }
    session.commit()
    return people


# --------------------------------------------------------------------------- queue (reads)

statuses = st.lists(st.sampled_from([s.value for s in TicketStatus]) | any_text, max_size=3).map(tuple)
priorities = st.lists(st.sampled_from([p.value for p in Priority]) | any_text, max_size=3).map(tuple)
dates = st.none() | st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))


@FUZZ
@given(
    statuses=statuses,
    department=st.none() | any_text,
    category=st.none() | any_text,
    priorities=priorities,
    assignee=st.sampled_from(["me", "unassigned", "anyone"]) | st.integers() | any_text | st.booleans(),
    text=any_text,
    sla_state=st.none() | st.sampled_from(["on_track", "at_risk", "breached"]) | any_text,
    created_from=dates,
    created_to=dates,
    sort=st.sampled_from(["age", "number", "priority", "status"]) | any_text,
    descending=st.booleans(),
    page=st.integers(min_value=-(2**40), max_value=2**40),
    page_size=st.integers(min_value=-(2**40), max_value=2**40),
    who=st.sampled_from(["admin", "coordinator", "employee"]),
)
def test_queue_query_refuses_only_with_domain_errors(session, actors, who, page, page_size, **fields):
    from smartsupport_core import queue

    filters = queue.QueueFilters(**fields)
    only_domain_errors(
        session, lambda: queue.query_queue(session, actors[who], filters, page=page, page_size=page_size)
    )


# --------------------------------------------------------------------------- reporting (reads)


@FUZZ
@given(
    start=st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    end=st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    department=st.none() | any_text,
    category=st.none() | any_text,
    priority=st.none() | st.sampled_from([p.value for p in Priority]) | any_text,
    coordinator_id=st.none() | st.integers(min_value=-(2**63), max_value=2**63),
    who=st.sampled_from(["admin", "coordinator", "employee"]),
)
def test_dashboard_refuses_only_with_domain_errors(session, actors, who, start, end, **dims):
    from smartsupport_core import reporting

    filters = reporting.ReportFilters(start=start, end=end, **dims)
    only_domain_errors(session, lambda: reporting.dashboard(session, actors[who], filters))


def test_nul_character_is_refused_as_bad_input_naming_the_field(session, actors):
    """PostgreSQL cannot hold U+0000; the engine guard turns it into a field message."""
    from smartsupport_core import reporting
    from smartsupport_core.db import NUL_MESSAGE
    from smartsupport_core.errors import ValidationError

    today = dt.date.today()
    with pytest.raises(ValidationError) as info:
        reporting.dashboard(
            session, actors["admin"], reporting.ReportFilters(start=today, end=today, category="IT\x00")
        )
    assert list(info.value.errors.values()) == [NUL_MESSAGE]
    assert "name" in info.value.errors
