"""Upload hardening (issue 13, item 3): zip bombs and big files are checked in bounded memory,
markup is not CSV, the stored name follows the detected type, and a ticket's attachments are
limited in number and total size (also under concurrent uploads)."""

from __future__ import annotations

import io
import threading
import tracemalloc
import zipfile

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartsupport_core import settings as core_settings
from smartsupport_core import tickets, upload_check
from smartsupport_core.errors import ValidationError
from smartsupport_core.models import Employee, TicketAttachment
from smartsupport_core.vocab import TicketStatus
from tests.stored_files import StoredFiles
from tests.ticket_helpers import (  # noqa: F401
    CSV,
    IT_DATA,
    JPEG,
    PNG,
    Clock,
    People,
    clock_fixture,
    ooxml,
    people_fixture,
    ticket_in,
)

DOCX_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    b'wordprocessingml.document.main+xml"/></Types>'
)


def zip_bomb_docx(inflated: int = 200 * 1024 * 1024) -> bytes:
    """A ~199 KB .docx whose [Content_Types].xml inflates to `inflated` bytes (written in
    pieces, so making it costs the test little memory)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("word/document.xml", "<w:document/>")
        with zf.open("[Content_Types].xml", "w") as member:
            member.write(DOCX_TYPES)
            block = b" " * (1024 * 1024)
            for _ in range(inflated // len(block)):
                member.write(block)
    return buf.getvalue()


def peak_while(check) -> tuple[object, int]:
    """What `check()` returns or raises, and the peak bytes Python allocated meanwhile."""
    tracemalloc.start()
    try:
        try:
            outcome: object = check()
        except ValidationError as exc:
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


FEW_MB = 4 * 1024 * 1024


def test_zip_bomb_docx_is_refused_in_bounded_memory() -> None:
    bomb = zip_bomb_docx()
    assert len(bomb) < 250 * 1024  # the 199 KB file
    outcome, peak = peak_while(lambda: upload_check.check_upload("report.docx", bomb))
    assert isinstance(outcome, ValidationError), outcome
    assert "report.docx" in outcome.errors["attachments"]
    assert "expands too much" in outcome.errors["attachments"]
    assert peak < FEW_MB, f"checking a {len(bomb)} byte zip used {peak} bytes"


def test_member_with_a_bomb_ratio_is_refused_even_when_small_in_total() -> None:
    """2 MB of one byte inflates 1000:1: refused by ratio, though far below the size cap."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", DOCX_TYPES)
        zf.writestr("word/document.xml", b"<w:document>" + b"a" * (2 * 1024 * 1024) + b"</w:document>")
    with pytest.raises(ValidationError, match="expands too much"):
        upload_check.check_upload("long.docx", buf.getvalue())
    assert upload_check.check_upload("real.docx", ooxml("docx")).key == "docx"


def test_ten_mb_csv_is_checked_in_a_few_mb() -> None:
    row = b"INC-000123,Replace the keyboard in room 4.12,42.50,2026-01-15\n"
    content = b"ticket,description,amount,date\n" + row * ((10 * 1024 * 1024 - 200) // len(row))
    assert len(content) > 9.9 * 1024 * 1024
    outcome, peak = peak_while(lambda: upload_check.check_upload("big.csv", content))
    assert getattr(outcome, "key", None) == "csv", outcome
    assert peak < FEW_MB, f"checking a {len(content)} byte CSV used {peak} bytes"


@pytest.mark.parametrize(
    "content",
    [
        b"name,comment\nann,<img src=x onerror=alert(1)>\n",
        b"name,comment\nann,<IMG SRC=x OnError=alert(1)>\n",
        b'<svg:svg xmlns:svg="http://www.w3.org/2000/svg">,x\n1,2\n',
        b'a,b\n<html xmlns="http://www.w3.org/1999/xhtml"><body>,x\n',
        b"site,url\nhome,javascript:alert(document.cookie)\n",
        b"a,b\n<ScRiPt>alert(1)</ScRiPt>,2\n",
        b"a;b\nx;<a href='https://evil.example'>click</a>\n",
        b"a,b\nc,d\n<div onmouseover=alert(1)>,e\n",
    ],
)
def test_markup_is_not_csv(content: bytes) -> None:
    with pytest.raises(ValidationError, match="web markup or script"):
        upload_check.check_upload("data.csv", content)


@pytest.mark.parametrize(
    "content",
    [
        b"a,b,c\n1,2\n3,4,5\n",  # rows of different lengths
        b"just some words in a text file\nwith no delimiter at all\n",
        b"x\x01y,z\n1,2\n",  # a control character
    ],
)
def test_text_that_is_not_csv_is_refused(content: bytes) -> None:
    with pytest.raises(ValidationError, match="File type not allowed"):
        upload_check.check_upload("data.csv", content)


@pytest.mark.parametrize(
    "content", [CSV, b"item;qty\nmouse;2\n", b"item\tqty\r\nmouse\t2\r\n", "név,db\negér,2\n".encode()]
)
def test_real_csv_passes(content: bytes) -> None:
    assert upload_check.check_upload("data.csv", content).key == "csv"


def test_stored_name_ends_in_the_detected_type(
    session: Session, people: People, clock: Clock, store: StoredFiles
) -> None:
    t = tickets.submit_ticket(
        session,
        people.requester,
        IT_DATA,
        [("x.html", PNG), ("photo.JPEG", JPEG), ("notes", CSV), ("sheet.csv.svg", CSV)],
    )
    session.commit()
    names = [a.file_name for a in tickets.list_attachments(session, people.requester, t.id)]
    assert names == ["x.png", "photo.JPEG", "notes.csv", "sheet.csv.csv"]


def _limits(monkeypatch: pytest.MonkeyPatch, count: int, total: int) -> None:
    monkeypatch.setenv("SMARTSUPPORT_MAX_ATTACHMENTS_PER_TICKET", str(count))
    monkeypatch.setenv("SMARTSUPPORT_MAX_TICKET_ATTACHMENT_BYTES", str(total))
    core_settings.configure(None)


def _attachment_count(session: Session) -> int:
    return session.scalar(select(func.count(TicketAttachment.id)))


def test_default_limits_are_20_files_and_50_mb() -> None:
    s = core_settings.load_settings()
    assert (s.max_attachments_per_ticket, s.max_ticket_attachment_bytes) == (20, 50 * 1024 * 1024)


def test_a_ticket_holds_at_most_n_files(session, people, clock, store, monkeypatch) -> None:
    _limits(monkeypatch, 3, 50 * 1024 * 1024)
    t = ticket_in(session, people.requester, TicketStatus.OPEN)
    tickets.add_attachments(session, people.requester, t.id, [("a.png", PNG), ("b.png", PNG)])
    session.commit()
    with pytest.raises(ValidationError, match="at most 3 attachments; this one has 2") as err:
        tickets.add_attachments(session, people.requester, t.id, [("c.png", PNG), ("d.png", PNG)])
    assert set(err.value.errors) == {"attachments"}
    session.rollback()
    assert _attachment_count(session) == 2
    assert len(store.paths()) == 2  # the refused batch left no file behind
    with pytest.raises(ValidationError, match="at most 3 attachments"):
        tickets.submit_ticket(session, people.requester, IT_DATA, [("p.png", PNG)] * 4)


def test_a_ticket_holds_at_most_n_bytes(session, people, clock, store, monkeypatch) -> None:
    _limits(monkeypatch, 20, 2 * len(PNG) + 10)
    t = ticket_in(session, people.requester, TicketStatus.OPEN)
    tickets.add_attachments(session, people.requester, t.id, [("a.png", PNG), ("b.png", PNG)])
    session.commit()
    with pytest.raises(ValidationError, match="may total at most"):
        tickets.add_attachments(session, people.requester, t.id, [("c.png", PNG)])
    session.rollback()
    assert _attachment_count(session) == 2


def test_concurrent_uploads_cannot_pass_the_limit(session, people, clock, store, monkeypatch) -> None:
    """Two uploads to a ticket with room for one: the second waits for the first's commit
    (ticket row lock) and is refused; the ticket never holds more than the limit."""
    _limits(monkeypatch, 2, 50 * 1024 * 1024)
    t = ticket_in(session, people.requester, TicketStatus.OPEN)
    tickets.add_attachments(session, people.requester, t.id, [("a.png", PNG)])
    session.commit()
    engine = session.get_bind()
    outcome: list[object] = []

    def second() -> None:
        with Session(engine) as other:
            try:
                tickets.add_attachments(other, other.get(Employee, people.requester.id), t.id, [("c.png", PNG)])
                other.commit()
                outcome.append("stored")
            except ValidationError as exc:
                outcome.append(exc)

    with Session(engine) as first:
        tickets.add_attachments(first, first.get(Employee, people.requester.id), t.id, [("b.png", PNG)])
        racer = threading.Thread(target=second)
        racer.start()
        racer.join(timeout=2)  # it waits on the ticket's row lock
        first.commit()
    racer.join(timeout=60)
    assert len(outcome) == 1 and isinstance(outcome[0], ValidationError), outcome
    assert _attachment_count(session) == 2
