"""Full-text search: the GIN expression, ranking, and visibility."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, literal_column, select, text
from sqlalchemy.orm import Session

from smartsupport_core import tickets
from smartsupport_core.models import TICKET_TSVECTOR, Ticket
from smartsupport_core.vocab import TicketStatus
from tests.ticket_helpers import Clock, People, clock_fixture, people_fixture, ticket_in  # noqa: F401


def test_search_respects_visibility(session: Session, people: People, clock: Clock) -> None:
    mine = ticket_in(session, people.requester, TicketStatus.OPEN, subject="Printer jams on every page",
                     description="The printer on floor two jams constantly.")  # fmt: skip
    theirs = ticket_in(session, people.other, TicketStatus.OPEN, subject="Printer offline",
                       description="Cannot reach the printer from my laptop.")  # fmt: skip
    finance = ticket_in(session, people.other, TicketStatus.OPEN, subject="Printer budget",
                        description="Budget for a new printer in finance.", department="Finance",
                        category="New Budget Proposal")  # fmt: skip
    ticket_in(session, people.other, TicketStatus.OPEN, subject="VPN drops", description="VPN disconnects hourly.")
    assert [t.id for t in tickets.search_tickets(session, people.requester, "printer")] == [mine.id]
    assert {t.id for t in tickets.search_tickets(session, people.other, "printers")} == {theirs.id, finance.id}
    assert {t.id for t in tickets.search_tickets(session, people.coord, "printer")} == {mine.id, theirs.id}
    assert {t.id for t in tickets.search_tickets(session, people.other_coord, "printer")} == {finance.id}
    assert {t.id for t in tickets.search_tickets(session, people.admin, "printer")} == {mine.id, theirs.id, finance.id}
    assert tickets.search_tickets(session, people.admin, "printer -budget -jams") == [theirs]
    assert tickets.search_tickets(session, people.admin, "   ") == []
    assert tickets.search_tickets(session, people.admin, '"unbalanced') == []  # websearch never raises


def test_own_only_search_returns_only_the_actors_requests(session: Session, people: People, clock: Clock) -> None:
    """My tickets searches the actor's own requests even when they may see many more (staff)."""
    own = ticket_in(session, people.coord, TicketStatus.OPEN, subject="Printer toner", description="Toner empty.")
    ticket_in(session, people.requester, TicketStatus.OPEN, subject="Printer jams", description="Jams daily.")
    assert len(tickets.search_tickets(session, people.coord, "printer")) == 2
    assert tickets.search_tickets(session, people.coord, "printer", own_only=True) == [own]
    assert tickets.search_tickets(session, people.admin, "printer", own_only=True) == []


def test_search_ranks_and_uses_the_index(session: Session, people: People, clock: Clock) -> None:
    weak = ticket_in(session, people.requester, TicketStatus.OPEN, subject="Monitor flickers",
                     description="Sometimes the keyboard light blinks too.")  # fmt: skip
    strong = ticket_in(session, people.requester, TicketStatus.OPEN, subject="Keyboard keyboard broken",
                       description="Keyboard keys stick; the keyboard is old.")  # fmt: skip
    hits = tickets.search_ranked(session, people.requester, "keyboard")
    assert [h.ticket.id for h in hits] == [strong.id, weak.id] and hits[0].rank > hits[1].rank
    session.execute(text("SET LOCAL enable_seqscan = off"))
    query = func.websearch_to_tsquery(literal_column("'english'"), literal_column("'keyboard'"))
    stmt = select(Ticket.id).where(TICKET_TSVECTOR.op("@@")(query))
    compiled = stmt.compile(session.get_bind(), compile_kwargs={"literal_binds": True})
    plan = "\n".join(r[0] for r in session.execute(text(f"EXPLAIN {compiled}")))
    assert "idx_ticket_search" in plan


def test_common_words_rank_among_the_newest_matches(
    session: Session, people: People, clock: Clock, monkeypatch
) -> None:
    """Ranking is bounded to the newest SEARCH_CANDIDATES matches (fast for common words)."""
    old_strong = ticket_in(session, people.requester, TicketStatus.OPEN, subject="Scanner scanner scanner",
                           description="Scanner scanner is broken, the scanner again.")  # fmt: skip
    newer = [
        ticket_in(session, people.requester, TicketStatus.OPEN, subject=f"Scanner issue {i}",
                  description="One mention of the device here.")
        for i in range(3)
    ]
    for i, t in enumerate(newer):
        t.submit_date = old_strong.submit_date + dt.timedelta(minutes=i + 1)
    session.flush()
    monkeypatch.setattr(tickets, "SEARCH_CANDIDATES", 3)
    assert {t.id for t in tickets.search_tickets(session, people.requester, "scanner")} == {t.id for t in newer}
    monkeypatch.setattr(tickets, "SEARCH_CANDIDATES", 1000)
    assert tickets.search_tickets(session, people.requester, "scanner")[0].id == old_strong.id
