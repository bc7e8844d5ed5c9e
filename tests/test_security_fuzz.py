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
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import DBAPIError, InvalidRequestError
from sqlalchemy.orm import Session

from smartsupport_core import admin_config
from smartsupport_core.errors import DomainError
from smartsupport_core.vocab import Priority, Role, TicketStatus
from tests.factories import make_employee, row_counts

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


def _files(directory: Path | None) -> list[str]:
    return sorted(str(p) for p in directory.rglob("*") if p.is_file()) if directory is not None else []


def only_domain_errors(session: Session, call: Callable[[], Any], files: Path | None = None) -> bool:
    """Run `call`; True if it refused with a DomainError (then assert nothing was written).

    Any other exception propagates and fails the property. The transaction is rolled back
    either way, so examples do not see each other's successes.
    """
    before = row_counts(session)
    files_before = _files(files)
    try:
        call()
    except DomainError:
        try:
            session.flush()
            after = row_counts(session)
        except (DBAPIError, InvalidRequestError):
            # refused inside a flush or after a database error: that transaction can no
            # longer commit anything, so what counts is what a fresh one sees
            session.rollback()
            after = row_counts(session)
        assert after == before, "a refused call wrote rows"
        assert _files(files) == files_before, "a refused call left files behind"
        return True
    finally:
        session.rollback()
    assert _files(files) == files_before, "a rolled-back call left files behind"
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
    from smartsupport_core.errors import ValidationError
    from smartsupport_core.text_input import MSG_CONTROL

    today = dt.date.today()
    with pytest.raises(ValidationError) as info:
        reporting.dashboard(
            session, actors["admin"], reporting.ReportFilters(start=today, end=today, category="IT\x00")
        )
    assert list(info.value.errors.values()) == [MSG_CONTROL]
    assert "name" in info.value.errors


# --------------------------------------------------------------------------- tickets (writes)

BASE_SUBMISSIONS = [
    {
        "category": "IT Support",
        "sub_category": "Hardware Troubleshooting",
        "subject": "Laptop will not start",
        "description": "The laptop shows a black screen after boot every morning.",
        "device_type": "Laptop",
    },
    {
        "category": "Asset Check Out",
        "sub_category": "Laptop",
        "subject": "Borrow a laptop for the audit",
        "description": "I need a second laptop for the three-day external audit.",
        "asset_name": "ThinkPad T14",
        "serial_number": "SN-0001",
        "location": "Main Office 1st Floor",
        "expected_return_date": (dt.date.today() + dt.timedelta(days=7)).isoformat(),
    },
    {
        "category": "New Budget Proposal",
        "subject": "Budget for the sales kick-off",
        "description": "Venue, catering and printed material for the kick-off event.",
        "performance_start_date": dt.date.today().isoformat(),
        "performance_end_date": (dt.date.today() + dt.timedelta(days=30)).isoformat(),
        "cost_items": [{"description": "Venue", "quantity": 1, "unit_cost": 15000}],
        "approved_by": "Maria Santos",
    },
    {"category": "Others", "subject": "Question", "description": "Where do I find the holiday calendar?"},
]
SUBMIT_KEYS = sorted(
    {k for b in BASE_SUBMISSIONS for k in b}
    | {"priority", "issue_type", "other_issue", "software_affected", "preferred_schedule", "purpose"}
)
cost_items = st.lists(
    st.fixed_dictionaries({"description": json_value, "quantity": json_value, "unit_cost": json_value}), max_size=3
)
submissions = st.builds(
    lambda base, changes: {**base, **changes},
    st.sampled_from(BASE_SUBMISSIONS),
    st.dictionaries(st.sampled_from(SUBMIT_KEYS) | any_text, json_value | cost_items | dates, max_size=4),
)
MAGIC = [
    b"",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    b"\xff\xd8\xff\xe0",
    b"%PDF-1.4\n",
    b"GIF89a",
    b"PK\x03\x04",
    b"<svg",
]
uploads = st.lists(
    st.tuples(any_text, st.builds(lambda m, rest: m + rest, st.sampled_from(MAGIC), st.binary(max_size=200))),
    max_size=6,
)


@FUZZ
@given(data=submissions, files=uploads, who=st.sampled_from(["employee", "coordinator", "admin"]))
def test_submit_ticket_refuses_only_with_domain_errors(session, actors, private_data_dir, who, data, files):
    from smartsupport_core import tickets

    only_domain_errors(
        session, lambda: tickets.submit_ticket(session, actors[who], data, files), files=private_data_dir
    )


@FUZZ
@given(text=any_text, internal=st.booleans(), who=st.sampled_from(["employee", "coordinator", "admin"]))
def test_comments_refuse_only_with_domain_errors(session, actors, private_data_dir, who, text, internal):
    from smartsupport_core import tickets

    ticket = tickets.submit_ticket(session, actors["employee"], BASE_SUBMISSIONS[0])
    session.commit()
    only_domain_errors(session, lambda: tickets.add_comment(session, actors[who], ticket.id, text, internal=internal))
    comment = tickets.add_comment(session, actors["employee"], ticket.id, "First words.")
    session.commit()
    only_domain_errors(session, lambda: tickets.edit_comment(session, actors[who], comment.id, text))


@FUZZ
@given(
    ticket_id=st.integers(min_value=-(2**63), max_value=2**63),
    to_status=st.sampled_from([s.value for s in TicketStatus]) | any_text,
    note=st.none() | any_text,
    version=st.none() | st.integers(min_value=-(2**63), max_value=2**63),
    assignee=st.none() | st.integers(min_value=-(2**63), max_value=2**63),
    priority=st.sampled_from([p.value for p in Priority]) | any_text,
    query=any_text,
)
def test_workflow_calls_refuse_only_with_domain_errors(
    session, actors, private_data_dir, ticket_id, to_status, note, version, assignee, priority, query
):
    from smartsupport_core import tickets

    ticket = tickets.submit_ticket(session, actors["employee"], BASE_SUBMISSIONS[0])
    session.commit()
    admin = actors["admin"]
    for tid in (ticket.id, ticket_id):
        only_domain_errors(session, lambda t=tid: tickets.change_status(session, admin, t, to_status, note=note))
        only_domain_errors(session, lambda t=tid: tickets.reject_ticket(session, admin, t, note))
        only_domain_errors(session, lambda t=tid: tickets.approve_ticket(session, admin, t, expected_version=version))
        only_domain_errors(session, lambda t=tid: tickets.assign_ticket(session, admin, t, assignee))
        only_domain_errors(session, lambda t=tid: tickets.set_priority(session, admin, t, priority))
    only_domain_errors(session, lambda: tickets.search_tickets(session, actors["employee"], query))


# --------------------------------------------------------------------------- admin configuration


@FUZZ
@given(
    dept=st.dictionaries(st.sampled_from(list(admin_config.DEPARTMENT_FIELDS)) | any_text, json_value),
    cat=st.dictionaries(
        st.sampled_from(list(admin_config.CATEGORY_FIELDS)) | any_text,
        json_value
        | st.lists(
            st.dictionaries(
                st.sampled_from(["name", "label", "type", "required", "options", "max_length", "after"]) | any_text,
                json_value,
                max_size=5,
            ),
            max_size=3,
        ),
    ),
    priority=st.sampled_from([p.value for p in Priority]) | any_text,
    minutes=st.tuples(
        st.integers(min_value=-(2**40), max_value=2**40), st.integers(min_value=-(2**40), max_value=2**40)
    ),
    clocks=st.tuples(
        st.sampled_from(["business", "calendar"]) | any_text, st.sampled_from(["business", "calendar"]) | any_text
    ),
    holiday=st.tuples(dates, any_text),
    who=st.sampled_from(["admin", "coordinator", "employee"]),
)
def test_admin_config_refuses_only_with_domain_errors(
    session, actors, who, dept, cat, priority, minutes, clocks, holiday
):
    actor = actors[who]
    only_domain_errors(session, lambda: admin_config.create_department(session, actor, dept))
    only_domain_errors(session, lambda: admin_config.update_department(session, actor, 1, dept))
    only_domain_errors(session, lambda: admin_config.create_category(session, actor, cat))
    only_domain_errors(session, lambda: admin_config.update_category(session, actor, 1, cat))
    only_domain_errors(
        session,
        lambda: admin_config.update_sla_target(
            session,
            actor,
            priority,
            response_minutes=minutes[0],
            response_clock=clocks[0],
            resolution_minutes=minutes[1],
            resolution_clock=clocks[1],
        ),
    )
    only_domain_errors(session, lambda: admin_config.add_holiday(session, actor, holiday[0], holiday[1]))


@FUZZ
@given(
    title=any_text,
    body=any_text,
    shared=st.booleans(),
    view_name=any_text,
    who=st.sampled_from(["admin", "coordinator", "employee"]),
)
def test_canned_responses_and_saved_views_refuse_only_with_domain_errors(
    session, actors, who, title, body, shared, view_name
):
    from smartsupport_core import canned, queue, saved_views

    actor = actors[who]
    only_domain_errors(session, lambda: canned.create_canned(session, actor, title, body, shared=shared))
    only_domain_errors(session, lambda: saved_views.save_view(session, actor, view_name, queue.QueueFilters()))
