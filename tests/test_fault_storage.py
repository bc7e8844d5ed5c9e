"""A storage error while an attachment is stored leaves neither a row nor a file.

Filesystem store: the disk fails at each point of `FilesystemStore.put` in turn (creating the
file, writing it, syncing it, renaming it into place) during a real submission with two files;
after the caller's rollback there is no ticket, no attachment row and no file at all.
PostgreSQL store: the server refuses the second file's content (a trigger raising, as a full
disk or a lost connection would); again nothing of the submission remains.
"""

from __future__ import annotations

import builtins
import errno
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from smartsupport_core import file_store, tickets
from smartsupport_core import settings as core_settings
from smartsupport_core.models import FileContent, Ticket, TicketAttachment
from tests.factories import make_employee
from tests.ticket_helpers import IT_DATA, PDF, PNG


def _disk_full(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _break_open(monkeypatch):
    real_open = builtins.open

    def failing_open(file, mode="r", *args, **kwargs):
        if "x" in mode or "w" in mode:
            raise OSError(errno.EROFS, "Read-only file system")
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", failing_open)


def _break_write_after_some(monkeypatch):
    """The second file's write fails (the first file was already written and placed)."""
    real_fsync = os.fsync
    calls = {"n": 0}

    def fsync(fd):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.EIO, "Input/output error")
        return real_fsync(fd)

    monkeypatch.setattr(file_store.os, "fsync", fsync)


FAILURES = {
    "create": _break_open,
    "sync": lambda mp: mp.setattr(file_store.os, "fsync", _disk_full),
    "second file": _break_write_after_some,
    "rename": lambda mp: mp.setattr(file_store.os, "replace", _disk_full),
}


@pytest.mark.parametrize("where", list(FAILURES))
def test_disk_error_leaves_no_row_and_no_file(
    session: Session, private_data_dir: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    monkeypatch.setenv("SMARTSUPPORT_FILE_STORE", "filesystem")
    core_settings.configure(None)
    requester = make_employee(session, department="Sales")
    session.commit()
    FAILURES[where](monkeypatch)
    with pytest.raises(OSError):
        tickets.submit_ticket(session, requester, IT_DATA, [("screen.png", PNG), ("invoice.pdf", PDF)])
    session.rollback()  # what every caller does with an exception
    monkeypatch.undo()
    core_settings.configure(None)
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0
    assert session.scalar(select(func.count()).select_from(TicketAttachment)) == 0
    left = [p for p in private_data_dir.rglob("*") if p.is_file() and p.name != "secret_key"]
    assert left == [], f"files left behind after a {where} failure: {left}"


def test_database_error_on_the_second_file_leaves_nothing(session: Session, private_data_dir: Path) -> None:
    requester = make_employee(session, department="Sales")
    session.commit()
    session.execute(text(
        "CREATE FUNCTION test_refuse_second_file() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF (SELECT count(*) FROM core_filecontent) >= 1 THEN "
        "RAISE EXCEPTION 'could not extend file' USING ERRCODE = '53100'; END IF; RETURN NEW; END $$; "
        "CREATE TRIGGER test_refuse_second_file BEFORE INSERT ON core_filecontent "
        "FOR EACH ROW EXECUTE FUNCTION test_refuse_second_file()"
    ))
    session.commit()
    try:
        assert core_settings.get_settings().file_store == "postgres"
        with pytest.raises(DBAPIError, match="could not extend file"):
            tickets.submit_ticket(session, requester, IT_DATA, [("screen.png", PNG), ("invoice.pdf", PDF)])
        session.rollback()
        for table in (Ticket, TicketAttachment, FileContent):
            assert session.scalar(select(func.count()).select_from(table)) == 0, table.__tablename__
    finally:
        session.rollback()
        session.execute(text("DROP FUNCTION test_refuse_second_file() CASCADE"))
        session.commit()
