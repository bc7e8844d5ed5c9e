"""Full-text search: the GIN expression, ranking, and visibility."""

from __future__ import annotations

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
