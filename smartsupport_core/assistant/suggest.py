"""Turning a conversation into a ticket draft (employees) and drafting a public reply
(coordinators, only on tickets they work)."""

from __future__ import annotations

import dataclasses
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .. import knowledge
from ..errors import DomainError, PermissionDenied, ValidationError
from ..models import TICKET_TSVECTOR, Employee, Ticket, TicketCategory
from ..policy import Action, is_staff, require, require_on_ticket, visible_ticket
from ..vocab import Priority, TicketStatus
from . import name_scrub
from .chat import (
    ask,
    clear_history,
    failure_notice,
    history,
    purge_expired,
    save_reply,
    start_turn,
    stream_answer,
)
from .definitions import (
    FALLBACK_CATEGORY,
    HISTORY_FOR_MODEL,
    MAX_MESSAGE_CHARS,
    RATE_LIMIT_MESSAGES,
    REPLY_PROMPT,
    REQUESTER,
    SUGGEST_PROMPT,
    SYSTEM_PROMPT,
)
from .privacy import asker_names, scrub
from .providers import (
    OpenAICompatibleProvider,
    Provider,
    RetrievalOnlyProvider,
    Source,
    Turn,
    get_provider,
    parse_json_object,
)
from .retrieval import article_link, best_passage, public_comments, retrieve

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------
# Ticket suggestion
# ---------------------------------------------------------------------------------------

#: Words that raise the suggested priority above the category default (retrieval-only path).
PRIORITY_HINTS: dict[str, tuple[str, ...]] = {
    Priority.CRITICAL.value: (
        "virus",
        "ransomware",
        "stolen",
        "hacked",
        "data breach",
        "lost my laptop",
        "lost laptop",
    ),
    Priority.HIGH.value: ("urgent", "asap", "cannot work", "can't work", "blocked", "not working at all"),
}
SUBJECT_MAX = 200
DESCRIPTION_MAX = 5000


@dataclasses.dataclass(frozen=True)
class Request:
    """What a ticket is made from: the last question and what the assistant found for it."""

    question: str
    answer: str  # the assistant's reply to it ("" when there is none)
    found: tuple[tuple[str, str | None], ...]  # (title, link) of the sources the reply used


def current_request(
    session: Session, actor: Employee, conversation: Sequence[dict[str, Any]] | None = None
) -> Request:
    """The conversation's last question and the assistant's reply to it, from `conversation`
    (dicts with role, content and optionally sources) or else the stored chat.

    Why only the last exchange: the stored chat spans every session of the retention period,
    so "the last ten questions" pasted yesterday's unrelated questions (and other people's
    names they mentioned) into today's ticket."""
    if conversation is None:
        conversation = [
            {"role": m.role, "content": m.content, "sources": m.sources}
            for m in history(session, actor, limit=HISTORY_FOR_MODEL)
        ]
    messages = [(str(m.get("role")), str(m.get("content") or "").strip(), m.get("sources")) for m in conversation]
    last = next((i for i in range(len(messages) - 1, -1, -1) if messages[i][0] == "user" and messages[i][1]), None)
    if last is None:
        raise ValidationError(
            {"conversation": "Ask the assistant something first: there is nothing to turn into a ticket yet."}
        )
    reply = next((m for m in messages[last + 1 :] if m[0] == "assistant"), None)
    found = tuple(
        (str(src.get("title") or ""), src.get("link"))
        for src in ((reply[2] or []) if reply else [])
        if isinstance(src, dict) and src.get("title")
    )
    return Request(messages[last][1], reply[1] if reply else "", found)


def request_description(request: Request, summary: str | None = None) -> str:
    """The ticket description pre-filled from a request: the model's `summary` of it or the
    question itself, then the sources the assistant found (so staff need not search again)."""
    text = summary or request.question
    if not request.found:
        return text
    lines = [f"- {title}" + (f" ({link})" if link else "") for title, link in request.found]
    return text + "\n\nThe assistant found (did not solve it):\n" + "\n".join(lines)


def _active_categories(session: Session) -> list[TicketCategory]:
    return list(
        session.scalars(
            select(TicketCategory).where(TicketCategory.is_active.is_not(False)).order_by(TicketCategory.name)
        )
    )


def _similar_categories(session: Session, text: str, categories: list[TicketCategory]) -> tuple[str | None, str | None]:
    """Category and sub-category voted by the most similar past tickets (only labels leave the query)."""
    names = {c.name for c in categories}
    tsq = knowledge.tsquery(text[:1000], "any")
    rank = func.ts_rank_cd(TICKET_TSVECTOR, tsq)
    rows = session.execute(
        select(Ticket.category, Ticket.sub_category, rank)
        .where(TICKET_TSVECTOR.op("@@")(tsq), Ticket.status.not_in([TicketStatus.REJECTED.value]))
        .order_by(rank.desc())
        .limit(20)
    ).all()
    votes: Counter[str] = Counter()
    subs: dict[str, Counter[str]] = defaultdict(Counter)
    for category, sub, r in rows:
        if category in names:
            votes[category] += float(r)
            if sub:
                subs[category][sub] += float(r)
    if not votes:
        return None, None
    best = votes.most_common(1)[0][0]
    sub = subs[best].most_common(1)[0][0] if subs[best] else None
    return best, sub


def _fallback_category(categories: list[TicketCategory]) -> str:
    names = [c.name for c in categories]
    if FALLBACK_CATEGORY in names:
        return FALLBACK_CATEGORY
    if not names:
        raise DomainError("No ticket category is active; ask an administrator to add one.")
    return names[0]


def _heuristic_subject(user_text: str) -> str:
    first = user_text.strip().splitlines()[0] if user_text.strip() else ""
    sentence = re.split(r"(?<=[.!?])\s", first, maxsplit=1)[0].strip()
    if len(sentence) > 120:
        sentence = sentence[:117].rsplit(" ", 1)[0] + "…"
    return sentence[:1].upper() + sentence[1:]


def _heuristic_priority(text: str, default: str) -> str:
    low = text.lower()
    for priority, words in PRIORITY_HINTS.items():
        if any(w in low for w in words):
            return priority
    return default


def _match(value: Any, options: Sequence[str]) -> str | None:
    if not isinstance(value, str):
        return None
    wanted = value.strip().lower()
    return next((o for o in options if o.lower() == wanted), None)


def suggest_ticket_detailed(
    session: Session,
    actor: Employee,
    conversation: Sequence[dict[str, str]] | None = None,
    provider: Provider | None = None,
) -> tuple[dict[str, Any], str]:
    """(suggestion, basis): basis says whether the language model or similar tickets chose the category."""
    require(actor, Action.USE_ASSISTANT)
    require(actor, Action.CREATE_TICKET)
    request = current_request(session, actor, conversation)
    user_text = request.question
    categories = _active_categories(session)
    by_name = {c.name: c for c in categories}
    provider = provider or get_provider()

    proposed: dict[str, Any] = {}
    basis = "similar tickets"
    if provider.generative:
        listing = "\n".join(f"- {c.name}: {', '.join(c.sub_categories) or '(none)'}" for c in categories)
        system = SUGGEST_PROMPT.format(categories=listing, priorities=", ".join(p.value for p in Priority))
        transcript = f"user: {request.question}"
        if request.answer:
            transcript += f"\nassistant: {request.answer[:MAX_MESSAGE_CHARS]}"
        transcript = name_scrub.scrub_names(session, transcript, keep=asker_names(actor))
        try:
            proposed = parse_json_object(provider.complete(system, transcript, json_object=True))
            basis = "language model"
        except Exception as exc:  # unusable answer: the retrieval-only suggestion below
            log.warning("ticket suggestion by %s failed: %s", provider.name, exc)
            proposed = {}

    category = _match(proposed.get("category"), list(by_name))
    similar_cat, similar_sub = (None, None)
    if category is None:
        similar_cat, similar_sub = _similar_categories(session, user_text, categories)
        category = similar_cat or _fallback_category(categories)
        if proposed:
            basis = "language model (category from similar tickets)"
    cat = by_name[category]
    sub_category = _match(proposed.get("sub_category"), cat.sub_categories)
    if sub_category is None and similar_cat == category:
        sub_category = similar_sub
    priority = _match(proposed.get("priority"), [p.value for p in Priority]) or _heuristic_priority(
        user_text, cat.default_priority or Priority.MEDIUM.value
    )
    subject = str(proposed.get("subject") or "").strip() or _heuristic_subject(user_text)
    description = request_description(request, str(proposed.get("description") or "").strip())
    suggestion = {
        "subject": subject[:SUBJECT_MAX],
        "description": description[:DESCRIPTION_MAX],
        "category": category,
        "sub_category": sub_category,
        "priority": priority,
    }
    return suggestion, basis


def suggest_ticket(
    session: Session,
    actor: Employee,
    conversation: Sequence[dict[str, str]] | None = None,
    provider: Provider | None = None,
) -> dict[str, Any]:
    """{subject, description, category, sub_category, priority} for the submit form to pre-fill.

    The category is always a real, active `core_ticketcategory` row: the model's choice when it
    names one, else the category of the most similar past tickets, else 'Others'.
    """
    return suggest_ticket_detailed(session, actor, conversation, provider)[0]


# ---------------------------------------------------------------------------------------
# Coordinator aid
# ---------------------------------------------------------------------------------------


def suggest_reply(session: Session, actor: Employee, ticket_id: int, provider: Provider | None = None) -> str:
    """A draft public reply for staff to edit: from the ticket, its public thread and articles.

    Internal notes are left out on purpose: the draft is meant to be sent to the requester.
    Only staff working this ticket (`policy.acts_as_staff`) may ask: a coordinator's own
    request to another department is theirs to reply to as its requester, not to draft for.
    """
    if not is_staff(actor):
        raise PermissionDenied("Only ticket coordinators and administrators can draft replies.")
    ticket = visible_ticket(session, actor, ticket_id)
    require_on_ticket(actor, Action.USE_QUEUE, ticket)
    provider = provider or get_provider()
    if not provider.generative:
        raise DomainError(
            "Suggest reply needs a language model, and none is configured "
            "(set SMARTSUPPORT_AI_BASE_URL or SMARTSUPPORT_AI_API_KEY, and SMARTSUPPORT_AI_MODEL)."
        )
    requester = session.get(Employee, ticket.employee_id)
    thread = public_comments(session, [ticket.id]).get(ticket.id, [])
    lines = [
        f"Ticket {ticket.ticket_number} — {ticket.subject}",
        f"Category: {ticket.category}{' / ' + ticket.sub_category if ticket.sub_category else ''}; "
        f"priority {ticket.priority}; status {ticket.status}.",
        f"Description:\n{scrub(ticket.description[:2000])}",
        "Public thread (oldest first):",
    ]
    for c in thread[-10:]:
        who = "Requester" if c.user_id == ticket.employee_id else "Support"
        lines.append(f"- {who}: {scrub(c.comment[:800])}")
    if not thread:
        lines.append("- (no replies yet)")
    hits = knowledge.search_articles(session, actor, ticket.subject[: knowledge.QUERY_MAX], match="any", limit=3)
    if hits:
        lines.append("Help articles that may apply:")
        for h in hits:
            passage = best_passage(h.article.body, f"{ticket.subject} {ticket.description}", 500)
            lines.append(f"* {h.article.title} ({article_link(h.article.id)}):\n{passage}")
    # Nobody's name leaves (the requester's is put back into the draft here, not sent).
    sent = name_scrub.scrub_names(session, "\n".join(lines), keep=asker_names(actor))
    try:
        draft = provider.complete(REPLY_PROMPT, sent).strip()
        return draft.replace(REQUESTER, requester.first_name if requester else "")
    except Exception as exc:
        log.warning("suggest_reply by %s failed: %s", provider.name, exc)
        raise DomainError(failure_notice(exc).split(",")[0] + "; please write the reply yourself.") from None


__all__ = [
    "MAX_MESSAGE_CHARS",
    "RATE_LIMIT_MESSAGES",
    "SYSTEM_PROMPT",
    "OpenAICompatibleProvider",
    "Provider",
    "RetrievalOnlyProvider",
    "Source",
    "Turn",
    "ask",
    "clear_history",
    "get_provider",
    "history",
    "purge_expired",
    "retrieve",
    "save_reply",
    "scrub",
    "start_turn",
    "stream_answer",
    "suggest_reply",
    "suggest_ticket",
]
