"""The conversation: validation, rate limit, stored chat with retention, the answer stream
with its time-out and length cap, and the retrieval-only fallback."""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterator, Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..models import ChatMessage, Employee
from ..policy import Action, require
from ..settings import get_settings
from ..text_input import clean_text
from .definitions import (
    ANSWER_MAX_CHARS,
    CUT_NOTICE,
    HISTORY_FOR_MODEL,
    MAX_MESSAGE_CHARS,
    RATE_LIMIT_MESSAGES,
    RATE_LIMIT_WINDOW,
    SYSTEM_PROMPT,
    retention_days,
)
from .privacy import names_of
from .providers import (
    Provider,
    ProviderUnavailable,
    RetrievalOnlyProvider,
    Source,
    Turn,
    get_provider,
    timeout_seconds,
    within,
)
from .retrieval import retrieve

log = logging.getLogger(__name__)


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
    index, keep = names_of(session, actor)  # stored messages leave the database too: no names
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


def failure_notice(exc: BaseException) -> str:
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
        yield ("\n\n" if produced else "") + f"*{failure_notice(exc)}*\n\n"
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
