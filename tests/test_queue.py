"""The queue query: filters, SLA states, visibility, ordering and paging, in SQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from smartsupport_core.errors import PermissionDenied, ValidationError
from smartsupport_core.queue import (
    DEFAULT_FILTERS,
    QueueFilters,
    count_new_since,
    query_queue,
)
from smartsupport_core.vocab import Role
from tests.factories import make_employee, make_ticket

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


@pytest.fixture
def people(session: Session) -> dict:
    return {
        "coord": make_employee(session, role=Role.COORDINATOR, department="IT Department", first_name="Cora"),
        "coord2": make_employee(session, role=Role.COORDINATOR, department="IT Department", first_name="Carl"),
        "fin": make_employee(session, role=Role.COORDINATOR, department="Finance", first_name="Fiona"),
        "admin": make_employee(session, role=Role.ADMIN, department="IT Department", first_name="Ada"),
        "alice": make_employee(session, first_name="Alice", last_name="Zed"),
        "bob": make_employee(session, first_name="Bob", last_name="Adams"),
    }


def numbers(page) -> list[str]:
    return [r.number for r in page.rows]


def t(session, requester, **kw):
    kw.setdefault("submit_date", NOW - 10 * H)
    return make_ticket(session, requester, **kw)


def answered(session, requester, status: str, responded_ago: dt.timedelta, **kw):
    """A Low ticket answered within its response target: only the resolution clock matters."""
    return t(
        session,
        requester,
        status=status,
        priority="Low",
        first_response_at=NOW - responded_ago,
        sla_response_met=True,
        **kw,
    )


def test_visibility_is_always_applied(session: Session, people: dict) -> None:
    p = people
    it = t(session, p["alice"], subject="IT one")
    fin = t(session, p["alice"], department="Finance", category="New Budget Proposal", subject="Budget")
    fin_mine = t(session, p["bob"], department="Finance", category="Others", assigned_to_id=p["coord"].id)
    anyone = QueueFilters()
    got = set(numbers(query_queue(session, p["coord"], anyone, now=NOW)))
    assert got == {it.ticket_number, fin_mine.ticket_number}
    # A filter cannot widen visibility.
    assert numbers(query_queue(session, p["coord"], QueueFilters(department="Finance"), now=NOW)) == [
        fin_mine.ticket_number
    ]
    assert len(query_queue(session, p["admin"], anyone, now=NOW).rows) == 3
    assert set(numbers(query_queue(session, p["fin"], anyone, now=NOW))) == {fin.ticket_number, fin_mine.ticket_number}
    with pytest.raises(PermissionDenied):
        query_queue(session, p["alice"], anyone, now=NOW)


def test_filters(session: Session, people: dict) -> None:
    p = people
    a = t(session, p["alice"], status="Open", priority="High", assigned_to_id=p["coord"].id, subject="Printer jam")
    b = t(
        session,
        p["bob"],
        status="In Progress",
        priority="Low",
        subject="VPN keeps dropping",
        description="The VPN client disconnects every few minutes",
    )
    c = t(session, p["alice"], status="Closed", priority="High", assigned_to_id=p["coord2"].id, subject="Old printer")
    d = t(
        session,
        p["bob"],
        status="New",
        priority="Critical",
        category="Others",
        department="IT Department",
        subject="Strange noise",
        submit_date=NOW - 40 * 24 * H,
    )
    admin = p["admin"]

    def q(**kw):
        return set(numbers(query_queue(session, admin, QueueFilters(**kw), now=NOW)))

    assert q(statuses=("Open", "In Progress")) == {a.ticket_number, b.ticket_number}
    assert q(priorities=("High",)) == {a.ticket_number, c.ticket_number}
    assert q(category="Others") == {d.ticket_number}
    assert q(assignee="unassigned") == {b.ticket_number, d.ticket_number}
    assert q(assignee=p["coord2"].id) == {c.ticket_number}
    assert set(numbers(query_queue(session, p["coord"], QueueFilters(assignee="me"), now=NOW))) == {a.ticket_number}
    # Full-text search (websearch syntax, stemming) and a ticket number.
    assert q(text="printers") == {a.ticket_number, c.ticket_number}
    assert q(text="printer -old") == {a.ticket_number}
    assert q(text="disconnects") == {b.ticket_number}
    assert q(text=d.ticket_number.lower()) == {d.ticket_number}
    # Created range, inclusive calendar days.
    day = (NOW - 40 * 24 * H).date()
    assert q(created_from=day, created_to=day) == {d.ticket_number}
    assert q(created_from=day + dt.timedelta(days=1)) == {a.ticket_number, b.ticket_number, c.ticket_number}
    # Combined filters are ANDed.
    assert q(priorities=("High",), statuses=("Closed",)) == {c.ticket_number}
    # The default view: assigned to me, not closed.
    mine = query_queue(session, p["coord2"], DEFAULT_FILTERS, now=NOW)
    assert mine.rows == [] and mine.total == 0


def test_sla_states(session: Session, people: dict) -> None:
    """The queue's SLA filter and column are `ticket_states`' breached / due soon (NOW is a
    Wednesday 12:00 UTC: 4 business hours reach 16:00 the same day)."""
    p = people
    alice = p["alice"]
    late_response = t(session, alice, status="Open", priority="High", sla_response_due_at=NOW - H)
    # A first response given late is history (the response KPI), not "breached now".
    answered_late = t(
        session,
        alice,
        status="Open",
        priority="High",
        first_response_at=NOW - 2 * H,
        sla_response_met=False,
        sla_response_due_at=NOW - 3 * H,
        sla_resolution_due_at=NOW + 48 * H,
    )
    late_resolution = answered(session, alice, "In Progress", 9 * H, sla_resolution_due_at=NOW - 1 * H)
    crit_risk = t(
        session, alice, status="Open", priority="Critical", sla_response_due_at=NOW + dt.timedelta(minutes=10)
    )
    crit_ok = t(session, alice, status="Open", priority="Critical", sla_response_due_at=NOW + 5 * H)
    low_risk = answered(session, alice, "In Progress", H, sla_resolution_due_at=NOW + 3 * H)
    # On hold: the resolution clock stopped before it ran out -> not breached, not at risk.
    held = answered(session, alice, "On Hold", 20 * H, on_hold_since=NOW - 5 * H, sla_resolution_due_at=NOW - H)
    held_late = answered(session, alice, "On Hold", 20 * H, on_hold_since=NOW - H, sla_resolution_due_at=NOW - 2 * H)
    no_clock = t(session, alice, status="New")
    closed_late = t(session, alice, status="Closed", sla_response_met=False, sla_response_due_at=NOW - 50 * H)

    def q(state):
        return set(numbers(query_queue(session, p["admin"], QueueFilters(sla_state=state), now=NOW)))

    assert q("breached") == {
        late_response.ticket_number,
        late_resolution.ticket_number,
        held_late.ticket_number,
    }
    assert q("at_risk") == {crit_risk.ticket_number, low_risk.ticket_number}
    assert q("on_track") == {
        crit_ok.ticket_number,
        held.ticket_number,
        no_clock.ticket_number,
        answered_late.ticket_number,
    }
    rows = {r.number: r for r in query_queue(session, p["admin"], QueueFilters(), now=NOW).rows}
    assert rows[closed_late.ticket_number].sla is None
    assert rows[late_response.ticket_number].sla == "breached"
    assert rows[crit_risk.ticket_number].sla == "at_risk"
    assert rows[crit_ok.ticket_number].next_due == NOW + 5 * H
    # Sorting by SLA: breached first, then at risk (soonest due first), then on track, then none.
    by_sla = query_queue(session, p["admin"], QueueFilters(sort="sla"), now=NOW).rows
    states = [r.sla for r in by_sla]
    assert states == sorted(states, key=lambda s: ["breached", "at_risk", "on_track", None].index(s))
    at_risk = [r.number for r in by_sla if r.sla == "at_risk"]
    assert at_risk == [crit_risk.ticket_number, low_risk.ticket_number]
    # The state filter is the same definition: "breached" there is "breached" here.
    assert set(numbers(query_queue(session, p["admin"], QueueFilters(states=("breached",)), now=NOW))) == q(
        "breached"
    )


def test_mine_or_department_view(session: Session, people: dict) -> None:
    """A coordinator's working set: assigned to them (anywhere), or approved, open and
    unassigned in their department (New tickets await approval, not a coordinator)."""
    p = people
    mine_fin = t(session, p["alice"], status="In Progress", department="Finance", assigned_to_id=p["coord"].id)
    free_it = t(session, p["alice"], status="Open")
    t(session, p["alice"], status="New")  # awaiting approval
    t(session, p["alice"], status="Open", assigned_to_id=p["coord2"].id)  # a colleague's
    t(session, p["alice"], status="Open", department="Finance")  # another department's
    t(session, p["alice"], status="Resolved")  # no work left
    got = query_queue(session, p["coord"], QueueFilters(assignee="mine_or_department", states=("open",)), now=NOW)
    assert set(numbers(got)) == {mine_fin.ticket_number, free_it.ticket_number}


def test_ordering_and_paging(session: Session, people: dict) -> None:
    p = people
    made = []
    for i, prio in enumerate(["Low", "Critical", "Medium", "High", "Low", "Critical", "Medium"]):
        made.append(
            t(
                session,
                p["alice"] if i % 2 else p["bob"],
                priority=prio,
                subject=f"Subject {i}",
                submit_date=NOW - (i + 1) * H,
            )
        )
    admin = p["admin"]

    def all_rows(**kw):
        return query_queue(session, admin, QueueFilters(**kw), now=NOW, page_size=50).rows

    # Age ascending = youngest first; descending = oldest first.
    assert [r.number for r in all_rows(sort="age")] == [m.ticket_number for m in made]
    assert [r.number for r in all_rows(sort="age", descending=True)] == [m.ticket_number for m in reversed(made)]
    prios = [r.priority for r in all_rows(sort="priority")]
    assert prios == ["Critical", "Critical", "High", "Medium", "Medium", "Low", "Low"]
    assert [r.priority for r in all_rows(sort="priority", descending=True)] == list(reversed(prios))
    reqs = [r.requester for r in all_rows(sort="requester")]
    assert reqs[0].endswith("Adams") and reqs[-1].endswith("Zed")
    ages = [r.age for r in all_rows(sort="age")]
    assert ages[0] == H
    # Paging: the database pages; the total is the whole match count.
    pages = [query_queue(session, admin, QueueFilters(sort="number"), page=n, page_size=3, now=NOW) for n in (1, 2, 3)]
    assert [pg.total for pg in pages] == [7, 7, 7] and pages[0].pages == 3
    assert [len(pg.rows) for pg in pages] == [3, 3, 1]
    flat = [r.number for pg in pages for r in pg.rows]
    assert flat == sorted(m.ticket_number for m in made)
    capped = query_queue(session, admin, QueueFilters(), page_size=2, now=NOW, count_cap=5)
    assert capped.total == 5 and capped.total_capped


def test_new_since_badge(session: Session, people: dict) -> None:
    p = people
    t(session, p["alice"], submit_date=NOW - 2 * H)
    t(session, p["alice"], submit_date=NOW - 10 * H)
    assert count_new_since(session, p["coord"], QueueFilters(), NOW - 3 * H) == 1
    assert count_new_since(session, p["fin"], QueueFilters(), NOW - 3 * H) == 0


def test_bad_filters_name_the_field(session: Session, people: dict) -> None:
    with pytest.raises(ValidationError) as exc:
        query_queue(
            session,
            people["admin"],
            QueueFilters(
                statuses=("Lost",),
                priorities=("Urgent",),
                assignee="someone",
                sla_state="late",
                created_from=dt.date(2026, 2, 1),
                created_to=dt.date(2026, 1, 1),
                sort="colour",
                states=("sleepy",),
            ),
        )
    assert set(exc.value.errors) == {
        "statuses", "priorities", "assignee", "sla_state", "created_to", "sort", "states"
    }
    with pytest.raises(ValidationError) as exc:
        query_queue(session, people["admin"], QueueFilters(), page=0, page_size=1000)
    assert set(exc.value.errors) == {"page", "page_size"}


def test_filters_round_trip() -> None:
    f = QueueFilters(
        statuses=("Open",),
        priorities=("High", "Critical"),
        assignee=7,
        text="vpn",
        sla_state="breached",
        states=("unassigned", "due_soon"),
        created_from=dt.date(2026, 1, 2),
        sort="sla",
        descending=True,
    )
    assert QueueFilters.from_dict(f.to_dict()) == f
    assert QueueFilters.from_dict({**DEFAULT_FILTERS.to_dict(), "obsolete": 1}) == DEFAULT_FILTERS


def test_export_of_the_view_neutralises_formulas(session: Session, people: dict) -> None:
    import io

    import openpyxl

    from portal.queue_grid import export_frame
    from smartsupport_core import exports
    from smartsupport_core.queue import export_rows

    p = people
    evil = t(session, p["alice"], subject='=HYPERLINK("http://evil.example","click")', status="Open")
    plain = t(session, p["bob"], subject="Plain subject", status="Open", submit_date=NOW - 20 * H)
    t(session, p["alice"], department="Finance", category="Others", subject="@SUM(A1:A9) hidden")
    rows = export_rows(session, p["coord"], QueueFilters(sort="age"), now=NOW)
    assert [r.number for r in rows] == [evil.ticket_number, plain.ticket_number]  # visibility and order kept
    frame = export_frame(rows)
    csv_text = exports.to_csv_bytes(frame).decode("utf-8-sig")
    assert "'=HYPERLINK" in csv_text and "hidden" not in csv_text
    book = openpyxl.load_workbook(io.BytesIO(exports.to_excel_bytes(frame, sheet_name="Queue")))
    sheet = book["Queue"]
    assert sheet.cell(row=2, column=2).value.startswith("'=HYPERLINK")
    assert sheet.cell(row=2, column=2).data_type == "s"
