"""Answers a Session already has: a read kept in `session.info` until the session writes.

WHY: one portal script run shares one Session (`portal/state.py`), and the navigation, the
page and several services ask the database the same small question in that run (the
actor's department-head grants, the reference-data fingerprint). The first answer is kept
for the session; a flush, a statement that writes (an UPDATE/DELETE/INSERT through
`session.execute`) or a commit of the session (or a rollback after a write) forgets all
answers, so a change made through this session is seen by its next question, and one made
elsewhere by the next session (in the portal: the next click). Nothing here outlives the
Session, so no other session or process can see a stale answer.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.elements import TextClause

T = TypeVar("T")

_ANSWERS = "session_memo.answers"
_WROTE = "session_memo.wrote"  # the session flushed since its last commit/rollback


def remembered(session: Session, key: Hashable, read: Callable[[], T]) -> T:
    """`read()`'s answer for `key`, computed once per session until the session writes."""
    answers: dict[Hashable, object] = session.info.setdefault(_ANSWERS, {})
    if key not in answers:
        answers[key] = read()
    return answers[key]  # type: ignore[return-value]


@event.listens_for(Session, "after_flush")
def _forget_after_write(session: Session, _flush_context: object) -> None:
    session.info.pop(_ANSWERS, None)  # the write may have changed an answer
    session.info[_WROTE] = True


def _reads_only(state: ORMExecuteState) -> bool:
    if state.is_select:
        return True
    statement = state.statement
    if isinstance(statement, TextClause):  # session.execute(text("SELECT ...")) reads
        return statement.text.lstrip().upper().startswith(("SELECT", "WITH", "SHOW"))
    return False


@event.listens_for(Session, "do_orm_execute")
def _forget_before_statement_write(state: ORMExecuteState) -> None:
    """A Core UPDATE/DELETE/INSERT run through the session (`session.execute(update(...))`)
    writes without a flush: forget the answers as a flush would."""
    if not _reads_only(state):
        state.session.info.pop(_ANSWERS, None)
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    session.info.pop(_ANSWERS, None)
    session.info.pop(_WROTE, None)


@event.listens_for(Session, "after_rollback")
def _forget_after_rolled_back_write(session: Session) -> None:
    if session.info.pop(_WROTE, False):
        session.info.pop(_ANSWERS, None)  # answers may have seen the undone write
