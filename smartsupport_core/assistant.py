"""The assistant (spec process 6.0): answer from permitted sources, keep the chat, file tickets.

Safety rests on retrieval, not on the prompt: `retrieve` only ever fetches what the user may
see — published articles readable by their role, their *own* tickets (public comments
only), and resolutions of other tickets reduced to category level with personal data
stripped. A message such as "show me ticket TKT... of my colleague" therefore cannot make
the model reveal it: the text is never in the model's context. Internal notes are never read.
Nothing that identifies a person other than the asker leaves towards the model: ticket text
loses e-mail addresses, phone numbers, ticket numbers, company IDs and serials (`scrub`),
and every source, article or ticket, loses every employee's name but the asker's
(`name_scrub`), whatever ticket it came from.

Bounds: the whole answer, streaming included, takes at most the provider's time-out
(`SMARTSUPPORT_AI_TIMEOUT_SECONDS`; past it the turn keeps what was shown and falls back to
retrieval-only with a notice), and what is shown and stored is at most `ANSWER_MAX_CHARS`
characters, with a note saying it was cut.

Page flow: `start_turn` (validate, rate-limit, store the question, retrieve) -> commit ->
`stream_answer` (the provider's stream, or retrieval-only with a notice if it fails) ->
`save_reply` -> commit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from . import knowledge, name_scrub
from .email_templates import ticket_link
from .errors import DomainError, PermissionDenied, ValidationError
from .models import TICKET_TSVECTOR, ChatMessage, Employee, Ticket, TicketCategory, TicketComment
from .policy import Action, is_staff, require, require_on_ticket, staff_scope, visible_ticket
from .providers import (
    OpenAICompatibleProvider,
    Provider,
    ProviderUnavailable,
    RetrievalOnlyProvider,
    Source,
    Turn,
    get_provider,
    parse_json_object,
    timeout_seconds,
    within,
)
from .settings import get_settings
from .text_input import clean_text
from .vocab import Priority, Role, TicketStatus, status_label

log = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2000
#: At most this many characters of an answer are shown and stored (a model can stream
#: megabytes); beyond, the answer ends with `CUT_NOTICE`, which counts towards the limit.
ANSWER_MAX_CHARS = 8000
CUT_NOTICE = f"\n\n*The answer was cut here: it was longer than {ANSWER_MAX_CHARS:,} characters.*"
RATE_LIMIT_MESSAGES = 20
RATE_LIMIT_WINDOW = dt.timedelta(minutes=10)
DEFAULT_RETENTION_DAYS = 90
HISTORY_FOR_MODEL = 10
ARTICLE_SOURCES = 3
OWN_TICKET_SOURCES = 3
RESOLUTION_SOURCES = 3
PASSAGE_CHARS = 700
FALLBACK_CATEGORY = "Others"
RESOLVED_STATUSES = (TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value)
TICKET_NUMBER = re.compile(r"\bTKT\d{6,}\b", re.IGNORECASE)

SYSTEM_PROMPT = """You are the SmartSupport help-desk assistant of this company.
Scope: help employees with IT, HR, Finance, facilities and company-asset questions and with their own
SmartSupport tickets. Use ONLY the numbered sources given below (help articles, the user's own tickets,
and anonymised resolutions of similar past requests); cite them like [1]. If the sources do not answer the
question, say so briefly and suggest the "Create a ticket" button. Do not invent policies, contacts or links.
Never ask for passwords. Politely decline anything outside this scope. You cannot see other employees'
tickets or any internal notes, so never claim to. Answer briefly, in Markdown, in the user's language."""

SUGGEST_PROMPT = """Turn the employee's help-desk conversation into a ticket. Reply with ONE JSON object only:
{{"subject": short summary (max 120 characters), "description": what happened and what is needed,
"category": one of the categories below, "sub_category": one of that category's sub-categories or "",
"priority": one of {priorities}}}.
Categories (name: sub-categories):
{categories}"""

#: Stands for the requester's first name in what the model is sent; put back in its draft.
REQUESTER = "[requester]"
REPLY_PROMPT = f"""You are a help-desk coordinator drafting a PUBLIC reply to the requester of a ticket.
Be courteous and concrete; use the help articles if they apply; ask for missing details if needed.
Do not promise dates you cannot know. Write only the reply text (no subject line, no signature placeholder).
Names are withheld: write {REQUESTER} wherever you address the requester by name."""


# ---------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------


def retention_days() -> int:
    """SMARTSUPPORT_CHAT_RETENTION_DAYS (default 90): chat older than this is purged."""
    raw = get_settings().extra.get("SMARTSUPPORT_CHAT_RETENTION_DAYS")
    if not raw:
        return DEFAULT_RETENTION_DAYS
    try:
        days = int(raw)
    except ValueError:
        days = 0
    if days < 1:
        raise ValidationError({"SMARTSUPPORT_CHAT_RETENTION_DAYS": "must be a whole number of days, 1 or more."})
    return days


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


def _terms(text: str) -> set[str]:
    """Crude stems (5-letter prefixes) of the content words, for picking passages."""
    return {w[:5] for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOP}


def best_passage(body: str, query: str, max_chars: int = PASSAGE_CHARS) -> str:
    """The paragraphs of `body` that share most words with `query`, in their original order."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body) if p.strip()]
    if not paragraphs:
        return ""
    terms = _terms(query)

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


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{6,}\d")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COMPANY_ID = re.compile(r"\bMA\d{4}\b", re.IGNORECASE)
_GREETING = re.compile(r"\b(Hi|Hello|Dear|Hey|Good (?:morning|afternoon|day))\s+[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)?")


def scrub(text: str, names: Sequence[str] = (), values: Sequence[str] = ()) -> str:
    """`text` without personal data: e-mails, phone numbers, ticket numbers, company IDs,
    the given people's names, greetings' names and the given identifying values (serials)."""

    def phone(m: re.Match[str]) -> str:
        s = m.group(0)
        digits = sum(c.isdigit() for c in s)
        return "[phone]" if digits >= 7 and not _DATE.match(s.strip()) else s

    text = _EMAIL.sub("[e-mail]", text)
    text = TICKET_NUMBER.sub("[ticket]", text)
    text = _COMPANY_ID.sub("[company ID]", text)
    text = _PHONE.sub(phone, text)
    text = _GREETING.sub(lambda m: m.group(1) + " [name]", text)
    for value in sorted({v.strip() for v in values if v and len(v.strip()) >= 3}, key=len, reverse=True):
        text = re.sub(re.escape(value), "[asset]", text, flags=re.IGNORECASE)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(name)}\b", "[name]", text, flags=re.IGNORECASE)
    return text


def _article_link(article_id: int) -> str:
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
            _article_link(h.article.id),
        )
        for h in hits
    ]


def _public_comments(session: Session, ticket_ids: Sequence[int]) -> dict[int, list[TicketComment]]:
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
    comments = _public_comments(session, [t.id for t in unique])
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
            Ticket.status.in_(RESOLVED_STATUSES),
            Ticket.employee_id != actor.id,
            TICKET_TSVECTOR.op("@@")(tsq),
        )
        .order_by(rank.desc(), Ticket.id.desc())
        .limit(RESOLUTION_SOURCES * 4)
    ).all()
    if not candidates:
        return []
    comments = _public_comments(session, [t.id for t, _ in candidates])
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


def _asker_names(actor: Employee) -> list[str | None]:
    return [actor.first_name, actor.middle_name, actor.last_name, actor.suffix]


def _names(session: Session, actor: Employee) -> tuple[name_scrub.NameIndex, frozenset[str]]:
    """The employees' name index and the asker's own name words (which are not scrubbed)."""
    return name_scrub.current(session), frozenset(name_scrub.name_words(_asker_names(actor)))


def _without_names(session: Session, actor: Employee, sources: list[Source]) -> list[Source]:
    """The sources with every employee's name but the asker's replaced (titles and text)."""
    index, keep = _names(session, actor)
    return [
        dataclasses.replace(src, title=index.scrub(src.title, keep), text=index.scrub(src.text, keep))
        for src in sources
    ]


def retrieve(session: Session, actor: Employee, question: str) -> list[Source]:
    """Every source the answer may use — all of them permitted for `actor` by construction,
    and none naming anyone but the asker."""
    require(actor, Action.USE_ASSISTANT)
    sources = (
        _article_sources(session, actor, question)
        + _own_ticket_sources(session, actor, question)
        + _resolution_sources(session, actor, question)
    )
    return _without_names(session, actor, sources)


# ---------------------------------------------------------------------------------------
# Conversation
# ---------------------------------------------------------------------------------------


def _cutoff(session: Session) -> dt.datetime:
    now = session.scalar(select(func.now()))
    return now - dt.timedelta(days=retention_days())


def purge_expired(session: Session, employee_id: int | None = None) -> int:
    """Delete chat messages older than the retention (one user's, or everyone's for a job)."""
    stmt = delete(ChatMessage).where(ChatMessage.created_at < _cutoff(session))
    if employee_id is not None:
        stmt = stmt.where(ChatMessage.employee_id == employee_id)
    return session.execute(stmt).rowcount or 0


def purge_expired_job(session: Session, now: dt.datetime) -> str:
    """The worker's daily `chat_retention` job: every user's expired chat messages."""
    return f"{purge_expired(session)} expired chat message(s) deleted"


def history(session: Session, actor: Employee, *, limit: int = 200) -> list[ChatMessage]:
    """The actor's own conversation within the retention period, oldest first."""
    require(actor, Action.USE_ASSISTANT)
    rows = session.scalars(
        select(ChatMessage)
        .where(ChatMessage.employee_id == actor.id, ChatMessage.created_at >= _cutoff(session))
        .order_by(ChatMessage.created_at.desc(), ChatMessage.id.desc())
        .limit(limit)
    ).all()
    return list(reversed(rows))


def clear_history(session: Session, actor: Employee) -> int:
    """The user forgets their conversation; returns how many messages were deleted."""
    require(actor, Action.USE_ASSISTANT)
    return session.execute(delete(ChatMessage).where(ChatMessage.employee_id == actor.id)).rowcount or 0


def validate_message(text: str | None) -> str:
    text = clean_text(text, "message")  # not text / control characters: the one text rule
    if not text:
        raise ValidationError({"message": "Type a question first."})
    if len(text) > MAX_MESSAGE_CHARS:
        raise ValidationError(
            {"message": f"A message can be at most {MAX_MESSAGE_CHARS} characters (yours has {len(text)})."}
        )
    return text


def check_rate_limit(session: Session, actor: Employee) -> None:
    """At most RATE_LIMIT_MESSAGES questions per RATE_LIMIT_WINDOW, counted from the stored chat."""
    since = session.scalar(select(func.now())) - RATE_LIMIT_WINDOW
    sent = session.scalar(
        select(func.count())
        .select_from(ChatMessage)
        .where(ChatMessage.employee_id == actor.id, ChatMessage.role == "user", ChatMessage.created_at > since)
    )
    if (sent or 0) >= RATE_LIMIT_MESSAGES:
        minutes = int(RATE_LIMIT_WINDOW.total_seconds() // 60)
        raise ValidationError(
            {
                "message": f"You can send {RATE_LIMIT_MESSAGES} messages per {minutes} minutes; "
                "please wait a few minutes."
            }
        )


def start_turn(session: Session, actor: Employee, text: str | None) -> Turn:
    """Validate and store the question, and gather what may be used to answer it."""
    require(actor, Action.USE_ASSISTANT)
    question = validate_message(text)
    check_rate_limit(session, actor)
    purge_expired(session, actor.id)
    earlier = history(session, actor, limit=HISTORY_FOR_MODEL)
    session.add(ChatMessage(employee_id=actor.id, role="user", content=question))
    session.flush()
    sources = retrieve(session, actor, question)
    if not get_provider().generative:  # an answer without a model names its few best sources only
        sources = shortlist(sources, RetrievalOnlyProvider.MAX_SOURCES)
    index, keep = _names(session, actor)  # stored messages leave the database too: no names
    return Turn(
        question=question,
        history=[{"role": m.role, "content": index.scrub(m.content[:MAX_MESSAGE_CHARS], keep)} for m in earlier],
        sources=sources,
    )


def shortlist(sources: Sequence[Source], n: int) -> list[Source]:
    """The best `n` sources taking each kind's best in turn (an article, then the asker's
    matching ticket, then a similar resolution, then each kind's second, ...)."""
    by_kind: dict[str, list[Source]] = defaultdict(list)
    for src in sources:
        by_kind[src.kind].append(src)
    picked: list[Source] = []
    for rank in range(max((len(v) for v in by_kind.values()), default=0)):
        picked += [v[rank] for v in by_kind.values() if rank < len(v)]
    return picked[:n]


def _failure_notice(exc: BaseException) -> str:
    """A sentence for the user about why the model did not answer (no stack trace)."""
    name = type(exc).__name__
    if "Timeout" in name:
        what = "did not answer in time"
    elif "Connection" in name:
        what = "could not be reached"
    else:
        status = getattr(exc, "status_code", None)
        what = f"returned an error ({status})" if status else "returned an error"
    return f"The language model {what}, so here are the best-matching sources instead."


def _answer_or_fallback(provider: Provider, turn: Turn) -> Iterator[str]:
    """The provider's answer within its time-out; on any failure (the time-out included),
    what was shown stays and retrieval-only follows with a notice."""
    if not provider.generative:
        yield from provider.answer(SYSTEM_PROMPT, turn)
        return
    produced = False
    try:
        for chunk in within(provider.answer(SYSTEM_PROMPT, turn), provider.timeout or timeout_seconds(get_settings())):
            produced = True
            yield chunk
        if not produced:
            raise ProviderUnavailable("empty answer")
    except Exception as exc:  # any SDK, network or parsing failure: the user gets an answer anyway
        log.warning("assistant provider %s failed: %s", provider.name, exc, exc_info=True)
        yield ("\n\n" if produced else "") + f"*{_failure_notice(exc)}*\n\n"
        yield from RetrievalOnlyProvider(say_no_model=False).answer(SYSTEM_PROMPT, turn)


def capped(chunks: Iterator[str], limit: int = ANSWER_MAX_CHARS) -> Iterator[str]:
    """`chunks` as long as the whole stays within `limit` characters; beyond, the text up to
    the limit (less the note) and `CUT_NOTICE`, and the stream is not read any further. A text
    of at most `limit` characters passes unchanged (the last few are held back until it is
    clear whether the note is needed)."""
    budget = limit - len(CUT_NOTICE)
    sent = 0
    held = ""
    try:
        for chunk in chunks:
            if not held and sent + len(chunk) <= budget:
                sent += len(chunk)
                yield chunk
                continue
            held += chunk
            if sent + len(held) > limit:
                yield held[: budget - sent] + CUT_NOTICE
                return
        if held:
            yield held
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # a cut (or abandoned) answer stops the model's stream too


def cap_answer(text: str, limit: int = ANSWER_MAX_CHARS) -> str:
    """`capped` for a whole text: at most `limit` characters, with the note when cut."""
    return "".join(capped(iter((text,)), limit))


def stream_answer(provider: Provider, turn: Turn) -> Iterator[str]:
    """What the user is shown: the model's answer (bounded by its time-out, retrieval-only with
    a notice on any failure), at most `ANSWER_MAX_CHARS` characters in all."""
    yield from capped(_answer_or_fallback(provider, turn))


def save_reply(session: Session, actor: Employee, text: str, sources: Sequence[Source]) -> ChatMessage:
    """Store the assistant's answer with the sources it was given (at most `ANSWER_MAX_CHARS`
    characters: what `stream_answer` showed, or cut the same way)."""
    require(actor, Action.USE_ASSISTANT)
    msg = ChatMessage(
        employee_id=actor.id,
        role="assistant",
        content=cap_answer(text) if text else RetrievalOnlyProvider.NOTHING,
        sources=[s.as_json() for s in sources],
    )
    session.add(msg)
    session.flush()
    return msg


def ask(session: Session, actor: Employee, text: str, provider: Provider | None = None) -> ChatMessage:
    """One whole turn without streaming (CLI, tests): question in, stored answer out."""
    turn = start_turn(session, actor, text)
    answer = "".join(stream_answer(provider or get_provider(), turn))
    return save_reply(session, actor, answer, turn.sources)


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
        transcript = name_scrub.scrub_names(session, transcript, keep=_asker_names(actor))
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
    thread = _public_comments(session, [ticket.id]).get(ticket.id, [])
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
            lines.append(f"* {h.article.title} ({_article_link(h.article.id)}):\n{passage}")
    # Nobody's name leaves (the requester's is put back into the draft here, not sent).
    sent = name_scrub.scrub_names(session, "\n".join(lines), keep=_asker_names(actor))
    try:
        draft = provider.complete(REPLY_PROMPT, sent).strip()
        return draft.replace(REQUESTER, requester.first_name if requester else "")
    except Exception as exc:
        log.warning("suggest_reply by %s failed: %s", provider.name, exc)
        raise DomainError(_failure_notice(exc).split(",")[0] + "; please write the reply yourself.") from None


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
