"""One definition of "open" and "breached" for the dashboard, the queue and Home (issue 15
item 5): the dashboard's numpy mirror (`reporting.rules.open_and_breached` over packed rows), its
SQL (`reporting.open_at` / `breached_at`, which the drill-down runs) and, at "now", the
shared `ticket_states.is_open` / `breached` select the same tickets - checked by hypothesis
on generated tickets (any status, any mix of due, response, resolution, close and hold
times), at now and at earlier instants."""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartsupport_core import reporting, ticket_states
from smartsupport_core.models import Ticket
from smartsupport_core.reporting import packed_rows
from smartsupport_core.vocab import TicketStatus
from tests.factories import make_employee, make_ticket

NOW = dt.datetime(2026, 3, 18, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def _past(max_hours: int = 200) -> st.SearchStrategy[dt.datetime | None]:
    return st.none() | st.integers(1, max_hours).map(lambda h: NOW - h * HOUR)


def _any_time() -> st.SearchStrategy[dt.datetime | None]:
    return st.none() | st.integers(-200, 200).map(lambda h: NOW + h * HOUR)


TICKET = st.fixed_dictionaries(
    {
        "status": st.sampled_from([s.value for s in TicketStatus]),
        "submit_date": st.integers(1, 300).map(lambda h: NOW - h * HOUR),
        "first_response_at": _past(),  # given before now, if at all
        "sla_response_due_at": _any_time(),
        "sla_resolution_due_at": _any_time(),
        "resolved_at": _past(),
        "time_closed": _past(),
        "on_hold_since": _past(),
    }
)


def _count(session: Session, *conds) -> int:
    return session.scalar(select(func.count()).select_from(Ticket).where(*conds)) or 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tickets=st.lists(TICKET, min_size=1, max_size=12), back_hours=st.sampled_from([0, 0, 5, 30, 120]))
def test_dashboard_open_and_breached_are_the_shared_states(session: Session, tickets: list[dict], back_hours: int):
    savepoint = session.begin_nested()
    try:
        requester = make_employee(session, department="Sales")
        for values in tickets:
            make_ticket(session, requester, **values)
        when = NOW - back_hours * HOUR
        rows = packed_rows.load(session, dt.date(1, 1, 1), dt.datetime(1, 1, 1, tzinfo=dt.UTC))
        assert len(rows) == len(tickets)
        mirror = reporting.rules.open_and_breached(rows, np.ones(len(rows), dtype=bool), when)
        sql = (_count(session, reporting.open_at(when)), _count(session, reporting.breached_at(when)))
        assert mirror == sql
        if back_hours == 0:  # now: the queue's and Home's definitions
            shared = (_count(session, ticket_states.is_open()), _count(session, ticket_states.breached(NOW)))
            assert sql == shared
    finally:
        savepoint.rollback()
