"""Messages name fields by the label a person sees ("Reason: A reason is required"), not by
the column ("reason: A reason is required"), wherever the core builds them; the message
itself stays as the core wrote it (the spec's validation messages verbatim)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from smartsupport_core import tickets
from smartsupport_core.errors import ValidationError, field_label
from smartsupport_core.vocab import Role
from tests.factories import make_employee, make_ticket


def test_labels_keep_the_message_as_written() -> None:
    exc = ValidationError(
        {
            "reason": "A reason is required to reject a ticket",
            "assigned_to": "Casey Coordinator is a coordinator of Human Resources, not IT Department",
            "filters.sla_state": "must be one of on_track, at_risk, breached",
            "__all__": "Nothing was saved.",
        }
    )
    assert exc.lines() == [
        "Reason: A reason is required to reject a ticket",
        "Assignee: Casey Coordinator is a coordinator of Human Resources, not IT Department",
        "SLA: must be one of on_track, at_risk, breached",
        "Nothing was saved.",
    ]
    assert str(exc) == "; ".join(exc.lines())
    assert field_label("company_id") == "Company ID" and field_label("day_start") == "Day start"


def test_a_service_refusal_reads_as_words(session: Session) -> None:
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    ticket = make_ticket(session, make_employee(session), status="New")
    with pytest.raises(ValidationError) as exc:
        tickets.reject_ticket(session, admin, ticket.id, "  ")
    assert str(exc.value) == "Reason: A reason is required to reject a ticket"
