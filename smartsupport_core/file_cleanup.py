"""Files that follow the transaction naming them: no orphan after a rollback, no file removed
while a committed row may still name it.

`remove_unless_committed`: a file just written for a row of this transaction (an attachment, a
new avatar) is removed when the transaction ends without a commit. `remove_once_committed`: a
file the transaction stops naming (the previous avatar) is removed only after the commit, never
before, so a rollback leaves the old row and its file as they were.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

_UNLESS_COMMITTED = "smartsupport_remove_unless_committed"
_ONCE_COMMITTED = "smartsupport_remove_once_committed"

log = logging.getLogger(__name__)


def _unlink(paths: list[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:  # the data is committed either way; a leftover file is only space
            log.warning("could not remove %s", path, exc_info=True)
    paths.clear()


def _lists(session: Session) -> tuple[list[Path], list[Path]]:
    """This session's two lists of files, with the listeners that act on them (once)."""
    if _UNLESS_COMMITTED not in session.info:
        session.info[_UNLESS_COMMITTED] = []
        session.info[_ONCE_COMMITTED] = []

        @event.listens_for(session, "after_commit")
        def _committed(sess: Session) -> None:
            sess.info[_UNLESS_COMMITTED].clear()  # their rows are committed: keep them
            _unlink(sess.info[_ONCE_COMMITTED])

        @event.listens_for(session, "after_transaction_end")
        def _ended(sess: Session, transaction: SessionTransaction) -> None:
            if transaction.parent is not None:  # a savepoint: the outer transaction decides
                return
            _unlink(sess.info[_UNLESS_COMMITTED])  # not committed (after a commit it is empty)
            sess.info[_ONCE_COMMITTED].clear()  # not committed: the old row still names them

    return session.info[_UNLESS_COMMITTED], session.info[_ONCE_COMMITTED]


def remove_unless_committed(session: Session, path: Path) -> None:
    """Remove `path` when this session's transaction ends without a commit."""
    _lists(session)[0].append(path)


def remove_once_committed(session: Session, path: Path) -> None:
    """Remove `path` after this session's transaction commits (kept on a rollback)."""
    _lists(session)[1].append(path)
