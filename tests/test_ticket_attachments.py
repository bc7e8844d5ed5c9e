"""Attachments: size and type by content, storage names, no orphans, signed downloads."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartsupport_core import attachments, file_store, tickets, upload_check
from smartsupport_core import settings as core_settings
from smartsupport_core.errors import NotFound, PermissionDenied, ValidationError
from smartsupport_core.models import AuditLog, Ticket, TicketAttachment
from smartsupport_core.vocab import TicketStatus
from tests.stored_files import StoredFiles
from tests.ticket_helpers import (  # noqa: F401
    CSV,
    DOC,
    GIF,
    IT_DATA,
    JPEG,
    PDF,
    PNG,
    XLS,
    Clock,
    People,
    clock_fixture,
    ooxml,
    people_fixture,
    ticket_in,
)


@pytest.mark.parametrize(
    "content,kind",
    [
        (PNG, "png"),
        (JPEG, "jpeg"),
        (GIF, "gif"),
        (PDF, "pdf"),
        (DOC, "doc"),
        (XLS, "xls"),
        (ooxml("docx"), "docx"),
        (ooxml("xlsx"), "xlsx"),
        (CSV, "csv"),
        (ooxml("zip"), None),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", None),
        (b"<html><script>alert(1)</script></html>", None),
        (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 40, None),
        (b"\x7fELF" + b"\x00" * 40, None),
        (b"", None),
    ],
)
def test_sniffing_by_content(content: bytes, kind: str | None) -> None:
    assert upload_check.sniff(content) == kind


def test_type_and_size_rules(store: StoredFiles) -> None:
    assert upload_check.check_upload("scan.pdf", PDF).mime == "application/pdf"
    with pytest.raises(ValidationError, match="File type not allowed"):
        upload_check.check_upload("photo.png", b"<html>not a png</html>")  # the name does not decide
    with pytest.raises(ValidationError, match="File type not allowed"):
        upload_check.check_upload("anim.gif", GIF)  # GIF is not in the default upload list
    big = PNG + b"\x00" * (10 * 1024 * 1024)
    with pytest.raises(ValidationError, match="cannot exceed 10MB") as err:
        upload_check.check_upload("big.png", big)
    assert set(err.value.errors) == {"attachments"}
    with pytest.raises(ValidationError, match="Attachments: At most 5"):
        upload_check.check_uploads([("a.png", PNG)] * 6)


def test_type_list_is_a_setting(store: StoredFiles, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTSUPPORT_ALLOWED_ATTACHMENT_TYPES", "png,gif")
    core_settings.configure(None)
    assert upload_check.check_upload("anim.gif", GIF).key == "gif"
    with pytest.raises(ValidationError):
        upload_check.check_upload("scan.pdf", PDF)


def test_submit_with_attachments_stores_generated_names(
    session: Session, people: People, clock: Clock, store: StoredFiles
) -> None:
    t = tickets.submit_ticket(
        session, people.requester, IT_DATA, [("../../etc/passwd screen.png", PNG), ("report.pdf", PDF)]
    )
    session.commit()
    rows = tickets.list_attachments(session, people.requester, t.id)
    assert [r.file_name for r in rows] == ["passwd screen.png", "report.pdf"]
    assert [r.file_type for r in rows] == ["image/png", "application/pdf"]
    stored = store.paths()
    assert sorted(file_store.attachment_path(r.file) for r in rows) == stored
    assert all("passwd" not in name and "report" not in name for name in stored)
    assert all(len(r.secure_token) == 64 for r in rows)
    assert store.read(file_store.attachment_path(rows[0].file)) == PNG


def test_bad_attachment_writes_nothing(session: Session, people: People, clock: Clock, store: StoredFiles) -> None:
    with pytest.raises(ValidationError) as err:
        tickets.submit_ticket(
            session, people.requester, {**IT_DATA, "subject": "x"}, [("ok.png", PNG), ("evil.png", b"<svg/>")]
        )
    assert set(err.value.errors) == {"subject", "attachments"}
    assert "evil.png" in err.value.errors["attachments"]
    assert session.scalar(select(func.count(Ticket.id))) == 0
    assert store.paths() == []


def _raise(exc: Exception) -> None:
    raise exc


def test_forced_failure_between_file_write_and_commit(
    session: Session, people: People, clock: Clock, store: StoredFiles, monkeypatch: pytest.MonkeyPatch
) -> None:
    t = ticket_in(session, people.requester, TicketStatus.OPEN)
    session.commit()
    if store.name == "filesystem":
        # 1) the rename fails after the row was flushed: the temp file goes, the row rolls back
        with monkeypatch.context() as broken, pytest.raises(OSError):
            broken.setattr(file_store.os, "replace", lambda src, dst: _raise(OSError("disk full")))
            tickets.add_attachments(session, people.requester, t.id, [("a.png", PNG)])
        session.rollback()
        assert store.paths() == []
        assert session.scalar(select(func.count(TicketAttachment.id))) == 0

    # 2) the file is in place, then the transaction fails before commit: rollback removes it
    tickets.add_attachments(session, people.requester, t.id, [("b.png", PNG)])
    assert len(store.paths(session)) == 1
    session.rollback()
    assert store.paths() == []
    assert session.scalar(select(func.count(TicketAttachment.id))) == 0

    # 3) the session is closed without committing (a page error): the file goes too
    with Session(session.get_bind()) as other:
        tickets.add_attachments(other, other.get(type(people.requester), people.requester.id), t.id, [("c.png", PNG)])
        assert len(store.paths(other)) == 1
    assert store.paths() == []

    # 4) the commit itself fails (a constraint checked at commit): nothing remains
    tickets.add_attachments(session, people.requester, t.id, [("d.png", PNG)])
    session.get(Ticket, t.id).priority = "Urgent"  # violates chk_priority at flush during commit
    with pytest.raises(Exception):  # noqa: B017 (IntegrityError wrapped by the flush)
        session.commit()
    session.rollback()
    assert store.paths() == []
    assert session.scalar(select(func.count(TicketAttachment.id))) == 0

    # 5) and a committed upload stays
    tickets.add_attachments(session, people.requester, t.id, [("e.png", PNG)])
    session.commit()
    assert len(store.paths()) == 1 and session.scalar(select(func.count(TicketAttachment.id))) == 1


def test_download_through_policy_and_signed_token(
    session: Session, people: People, clock: Clock, store: StoredFiles
) -> None:
    t = tickets.submit_ticket(session, people.requester, IT_DATA, [("shot.png", PNG), ("sheet.csv", CSV)])
    session.commit()
    png, csv_row = tickets.list_attachments(session, people.requester, t.id)
    token = attachments.download_token(session, people.requester, png.id, now=1000.0)
    got = attachments.open_download(session, people.requester, token, now=1000.0 + 60)
    assert got.content == PNG and got.preview is True and got.attachment.file_name == "shot.png"
    assert session.scalar(select(func.count(AuditLog.id)).where(AuditLog.action_type == "DOWNLOAD")) == 1
    csv_dl = attachments.open_download(
        session, people.requester, attachments.download_token(session, people.requester, csv_row.id)
    )
    assert csv_dl.preview is False  # never rendered inline
    # expired
    with pytest.raises(PermissionDenied, match="expired"):
        attachments.open_download(session, people.requester, token, now=1000.0 + 601)
    # another employee: neither a token nor the file, by id
    with pytest.raises(NotFound):
        attachments.download_token(session, people.other, png.id)
    with pytest.raises(NotFound):
        attachments.open_download(session, people.other, token, now=1000.0)
    with pytest.raises(NotFound):
        tickets.list_attachments(session, people.other, t.id)
    # tampered token, another user's token, revoked nonce
    aid, exp, sig = token.split(".")
    with pytest.raises(PermissionDenied):
        attachments.open_download(session, people.requester, f"{aid}.{int(exp) + 10_000}.{sig}", now=1000.0)
    admin_token = attachments.download_token(session, people.admin, png.id, now=1000.0)
    with pytest.raises(PermissionDenied):
        attachments.open_download(session, people.requester, admin_token, now=1000.0)
    attachments.revoke_links(session, people.requester, png.id)
    with pytest.raises(PermissionDenied, match="invalid"):
        attachments.open_download(session, people.requester, token, now=1000.0)
    with pytest.raises(PermissionDenied):
        attachments.open_download(session, people.requester, "garbage", now=1000.0)


def test_preview_needs_matching_content() -> None:
    row = TicketAttachment(file_type="image/png")
    assert attachments.can_preview(row, PNG)
    assert not attachments.can_preview(row, b"<svg onload=alert(1)>")
    assert not attachments.can_preview(TicketAttachment(file_type="image/svg+xml"), b"<svg/>")
    assert not attachments.can_preview(TicketAttachment(file_type="application/pdf"), PDF)
    # a valid PNG signature with a corrupt body: st.image would raise and break the page
    assert upload_check.sniff(PNG[:16] + b"\x00" * 64) == "png"
    assert not attachments.can_preview(row, PNG[:16] + b"\x00" * 64)


@pytest.mark.parametrize(
    ("status", "accepts"),
    [(s, s not in (TicketStatus.CLOSED, TicketStatus.REJECTED, TicketStatus.WITHDRAWN)) for s in TicketStatus],
)
def test_which_tickets_take_more_files(session, people, status, accepts, store) -> None:
    """One rule, in the core: the page shows the uploader exactly when `add_attachments` accepts."""
    t = ticket_in(session, people.requester, status)
    assert tickets.accepts_attachments(t) is accepts
    if accepts:
        assert len(tickets.add_attachments(session, people.requester, t.id, [("f.png", PNG)])) == 1
    else:
        with pytest.raises(ValidationError, match=status.value):
            tickets.add_attachments(session, people.requester, t.id, [("f.png", PNG)])
