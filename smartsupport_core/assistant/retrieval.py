"""Retrieval decides what the model may read: published articles readable by the asker's
role, the asker's own tickets (public comments only), other tickets' resolutions reduced to
category level - each scrubbed (`privacy`) before it leaves."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import knowledge
from ..email_templates import ticket_link
from ..models import TICKET_TSVECTOR, Employee, Ticket, TicketComment
from ..policy import Action, require, staff_scope
from ..settings import get_settings
from ..vocab import Role, TicketStatus, status_label
from .definitions import (
    ARTICLE_SOURCES,
    OWN_TICKET_SOURCES,
    PASSAGE_CHARS,
    RESOLUTION_SOURCES,
    RESOLVED_VALUES,
    TICKET_NUMBER,
)
from .privacy import scrub, without_names
from .providers import (
    Source,
)

# ---------------------------------------------------------------------------------------
# Retrieval
# ---------------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
# fmt: off
_STOP = frozenset((
    "the", "and", "for", "with", "you", "your", "how", "can", "does", "what", "when", "where", "why", "who", "from",
    "that", "this", "have", "has", "are", "was", "were", "not", "but", "our", "out", "all", "any", "get", "got",
    "into", "about", "there", "their", "them", "they", "then", "than", "its", "it's", "need", "want", "please",
    "help", "ticket", "tickets",
))
# fmt: on


def query_terms(text: str) -> set[str]:
    """Crude stems (5-letter prefixes) of the content words, for picking passages."""
    return {w[:5] for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOP}


def best_passage(body: str, query: str, max_chars: int = PASSAGE_CHARS) -> str:
    """The paragraphs of `body` that share most words with `query`, in their original order."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    if not paragraphs:
        return ""
    terms = query_terms(query)

    def score(i: int) -> tuple[int, int]:
        words = {w[:5] for w in _WORD.findall(paragraphs[i].lower())}
        return (len(terms & words), -i)

    chosen: list[int] = []
    used = 0
    for i in sorted(range(len(paragraphs)), key=score, reverse=True):
        if used and used + len(paragraphs[i]) > max_chars:
            continue
        chosen.append(i)
        used += len(paragraphs[i])
        if used >= max_chars:
            break
    text = "\n\n".join(paragraphs[i] for i in sorted(chosen))
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"



def article_link(article_id: int) -> str:
    return f"{get_settings().base_url}/help_center?article={article_id}"


def _article_sources(session: Session, actor: Employee, question: str) -> list[Source]:
    hits = knowledge.search_articles(
        session, actor, question[: knowledge.QUERY_MAX], match="any", limit=ARTICLE_SOURCES
    )
    return [
        Source(
            "article",
            h.article.id,
            h.article.title,
            best_passage(h.article.body, question),
            article_link(h.article.id),
        )
        for h in hits
    ]


def public_comments(session: Session, ticket_ids: Sequence[int]) -> dict[int, list[TicketComment]]:
    """Public comments per ticket, oldest first. Only explicit `is_internal = false` counts as public."""
    out: dict[int, list[TicketComment]] = defaultdict(list)
    if not ticket_ids:
        return out
    rows = session.scalars(
        select(TicketComment)
        .where(TicketComment.ticket_id.in_(ticket_ids), TicketComment.is_internal.is_(False))
        .order_by(TicketComment.created_at, TicketComment.id)
    )
    for c in rows:
        out[c.ticket_id].append(c)
    return out


def _own_ticket_sources(session: Session, actor: Employee, question: str) -> list[Source]:
    """The actor's own tickets: those named by number, else the best matches, else the latest."""
    own = Ticket.employee_id == actor.id
    numbers = [n.upper() for n in TICKET_NUMBER.findall(question)]
    tickets: list[Ticket] = []
    if numbers:
        tickets += session.scalars(select(Ticket).where(own, Ticket.ticket_number.in_(numbers))).all()
    tsq = knowledge.tsquery(question[:500], "all")  # every word: a ticket that matches the question
    rank = func.ts_rank_cd(TICKET_TSVECTOR, tsq)
    tickets += session.scalars(
        select(Ticket)
        .where(own, TICKET_TSVECTOR.op("@@")(tsq))
        .order_by(rank.desc(), Ticket.id.desc())
        .limit(OWN_TICKET_SOURCES)
    ).all()
    if not tickets and re.search(r"\bmy (?:tickets?|requests?)\b", question, re.IGNORECASE):
        tickets += session.scalars(
            select(Ticket).where(own).order_by(Ticket.submit_date.desc(), Ticket.id.desc()).limit(OWN_TICKET_SOURCES)
        ).all()
    unique = list({t.id: t for t in tickets}.values())[: OWN_TICKET_SOURCES + len(numbers)]
    comments = public_comments(session, [t.id for t in unique])
    sources = []
    for t in unique:
        label = status_label(t.status or TicketStatus.NEW.value, for_requester=True)
        submitted = f"; submitted {t.submit_date:%Y-%m-%d}" if t.submit_date else ""
        where = t.category + (f" / {t.sub_category}" if t.sub_category else "")
        lines = [
            f"Status: {label}; category: {where}; priority: {t.priority}{submitted}.",
            "Description: " + scrub(t.description[:400]),
        ]
        thread = comments.get(t.id, [])
        if thread:
            last = thread[-1]
            who = "you" if last.user_id == actor.id else "the support team"
            lines.append(f"Latest public reply (by {who}): {scrub(last.comment[:400])}")
        sources.append(Source("ticket", t.id, f"{t.ticket_number}: {t.subject}", "\n".join(lines), ticket_link(t.id)))
    return sources


def _resolution_sources(session: Session, actor: Employee, question: str) -> list[Source]:
    """How similar requests were resolved: staff's last public reply on Resolved/Closed tickets.

    Tickets the actor works as staff (`policy.staff_scope`) come with their number and link.
    Others come at category level only — no number, subject, description or link. Either way
    personal data is scrubbed (names by `retrieve`).
    """
    tsq = knowledge.tsquery(question[:500], "any")
    rank = func.ts_rank_cd(TICKET_TSVECTOR, tsq)
    candidates = session.execute(
        select(Ticket, staff_scope(actor).label("visible"))
        .where(
            Ticket.status.in_(RESOLVED_VALUES),
            Ticket.employee_id != actor.id,
            TICKET_TSVECTOR.op("@@")(tsq),
        )
        .order_by(rank.desc(), Ticket.id.desc())
        .limit(RESOLUTION_SOURCES * 4)
    ).all()
    if not candidates:
        return []
    comments = public_comments(session, [t.id for t, _ in candidates])
    people_ids = {c.user_id for cs in comments.values() for c in cs} | {t.employee_id for t, _ in candidates}
    people = {e.id: e for e in session.scalars(select(Employee).where(Employee.id.in_(people_ids)))}
    staff_roles = {Role.COORDINATOR.value, Role.ADMIN.value}
    sources: list[Source] = []
    for ticket, visible in candidates:
        staff_replies = [
            c
            for c in comments.get(ticket.id, [])
            if c.user_id != ticket.employee_id and getattr(people.get(c.user_id), "role", None) in staff_roles
        ]
        if not staff_replies:
            continue
        reply = staff_replies[-1]
        where = ticket.category + (f" / {ticket.sub_category}" if ticket.sub_category else "")
        values = [ticket.serial_number or "", ticket.asset_name or ""]
        text = scrub(reply.comment, (), values)[:PASSAGE_CHARS]  # names: `retrieve` removes them all
        if visible:
            sources.append(
                Source(
                    "resolution", ticket.id, f"{ticket.ticket_number}: {ticket.subject}", text, ticket_link(ticket.id)
                )
            )
        else:
            sources.append(Source("resolution", None, f"A resolved {where} request", text, None))
        if len(sources) >= RESOLUTION_SOURCES:
            break
    return sources


def retrieve(session: Session, actor: Employee, question: str) -> list[Source]:
    """Every source the answer may use — all of them permitted for `actor` by construction,
    and none naming anyone but the asker."""
    require(actor, Action.USE_ASSISTANT)
    sources = (
        _article_sources(session, actor, question)
        + _own_ticket_sources(session, actor, question)
        + _resolution_sources(session, actor, question)
    )
    return without_names(session, actor, sources)
