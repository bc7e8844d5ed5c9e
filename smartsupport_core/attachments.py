"""File management (spec process 4.0): checked uploads, safe storage, signed downloads.

* Size is checked before anything is written; the type is decided by the content (magic
  bytes, container structure), never by the file name or the browser's MIME type.
* Bytes go to the configured file store (`file_store`: PostgreSQL by default, or a
  directory) under a generated name; the user's name is kept only in the row (`file_name`)
  for the download.
* File and row succeed or fail together: the row is flushed, then the store writes the bytes
  in the same transaction (PostgreSQL) or to a temporary file renamed into place and removed
  again on any exception or a rollback (directory).
* Downloads go through the policy and an expiring HMAC token over the attachment id, the
  user and a per-attachment nonce (`secure_token`): rotating the nonce revokes all links.
* Only raster images that pass the content check are previewed inline; SVG, HTML and all
  other types are downloads only (stored XSS through uploads).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import hashlib
import hmac
import io
import re
import secrets
import time
import unicodedata
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit, file_store
from .errors import NotFound, PermissionDenied, ValidationError
from .models import Employee, Ticket, TicketAttachment
from .policy import Action, require, visible_ticket
from .settings import get_settings
from .vocab import AuditAction

MAX_PER_SUBMIT = 5
MSG_SIZE = "File size cannot exceed 10MB"
MSG_TYPE = "File type not allowed"
TOKEN_TTL = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class FileKind:
    key: str  # the name used in settings.allowed_attachment_types
    mime: str
    extension: str


KINDS: dict[str, FileKind] = {
    k.key: k
    for k in (
        FileKind("png", "image/png", "png"),
        FileKind("jpeg", "image/jpeg", "jpg"),
        FileKind("gif", "image/gif", "gif"),
        FileKind("webp", "image/webp", "webp"),
        FileKind("pdf", "application/pdf", "pdf"),
        FileKind("doc", "application/msword", "doc"),
        FileKind("xls", "application/vnd.ms-excel", "xls"),
        FileKind("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
        FileKind("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
        FileKind("csv", "text/csv", "csv"),
    )
}
#: Inline preview only for these, and only when the content check agrees.
PREVIEWABLE = frozenset({"png", "jpeg", "gif", "webp"})
_MIME_TO_KIND = {k.mime: k.key for k in KINDS.values()}

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _utf16(name: str) -> bytes:
    return name.encode("utf-16-le")


def _sniff_ole2(content: bytes) -> str | None:
    """DOC or XLS: an OLE2 compound file whose directory names the Word or Excel stream."""
    if _utf16("WordDocument") in content:
        return "doc"
    if _utf16("Workbook") in content or _utf16("Book") in content:
        return "xls"
    return None


def _sniff_zip(content: bytes) -> str | None:
    """DOCX or XLSX: a zip with [Content_Types].xml and the word/ or xl/ main part."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            names = set(zf.namelist())
            if "[Content_Types].xml" not in names:
                return None
            types = zf.read("[Content_Types].xml")[:200_000]
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError):
        return None
    if "word/document.xml" in names and b"wordprocessingml.document.main" in types:
        return "docx"
    if "xl/workbook.xml" in names and b"spreadsheetml.sheet.main" in types:
        return "xlsx"
    return None


def _sniff_csv(content: bytes) -> str | None:
    """CSV: decodes as text (UTF-8, else cp1252), no NUL bytes, parses as delimited rows."""
    if b"\x00" in content:
        return None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        return None
    sample = text[:65536]
    if any(unicodedata.category(ch) == "Cc" and ch not in "\r\n\t" for ch in sample):
        return None
    if re.search(r"<\s*(html|script|svg|!doctype|body|iframe)\b", sample, re.IGNORECASE):
        return None  # markup is not a spreadsheet, whatever it is called
    try:
        rows = list(csv.reader(io.StringIO(sample)))
    except csv.Error:
        return None
    return "csv" if rows else None


def sniff(content: bytes) -> str | None:
    """The kind of file the bytes are (a key of KINDS), or None when unrecognised."""
    head = content[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head.startswith(b"RIFF") and content[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(_OLE2):
        return _sniff_ole2(content)
    if head.startswith(b"PK\x03\x04"):
        return _sniff_zip(content)
    return _sniff_csv(content) if content else None


def clean_name(name: str) -> str:
    """The user's file name for display/download only: no path, no control characters."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip().strip(".")
    return (base or "attachment")[:255]


def check_upload(name: str, content: bytes, *, field: str = "attachments") -> FileKind:
    """The file's kind if it may be stored; ValidationError naming the field otherwise."""
    settings = get_settings()
    label = clean_name(name)
    if len(content) > settings.max_attachment_bytes:
        raise ValidationError({field: f"{label}: {MSG_SIZE}"})
    if not content:
        raise ValidationError({field: f"{label}: the file is empty"})
    kind = sniff(content)
    if kind is None or kind not in settings.allowed_attachment_types:
        raise ValidationError({field: f"{label}: {MSG_TYPE}"})
    return KINDS[kind]


def check_uploads(files: Sequence[tuple[str, bytes]], *, field: str = "attachments") -> list[FileKind]:
    """Check a batch (at most MAX_PER_SUBMIT); every bad file is named in one error."""
    if len(files) > MAX_PER_SUBMIT:
        raise ValidationError({field: f"At most {MAX_PER_SUBMIT} attachments per submission"})
    kinds: list[FileKind] = []
    problems: list[str] = []
    for name, content in files:
        try:
            kinds.append(check_upload(name, content, field=field))
        except ValidationError as exc:
            problems.append(exc.errors[field])
    if problems:
        raise ValidationError({field: "; ".join(problems)})
    return kinds


# --- storage ---------------------------------------------------------------------------------


def save_attachment(session: Session, actor: Employee, ticket: Ticket, name: str, content: bytes) -> TicketAttachment:
    """Store one checked file and its row in the caller's transaction (see module doc)."""
    require(actor, Action.UPLOAD_ATTACHMENT)
    kind = check_upload(name, content)
    row = TicketAttachment(
        file_name=clean_name(name),
        file_type=kind.mime,
        file_size=len(content),
        file=f"{uuid.uuid4().hex}.{kind.extension}",
        ticket_id=ticket.id,
        uploaded_by_id=actor.id,
        secure_token=secrets.token_hex(32),
    )
    session.add(row)
    session.flush()
    file_store.store().put(session, file_store.attachment_path(row.file), content)
    audit.record(
        session,
        actor,
        "core_ticketattachment",
        row.id,
        AuditAction.CREATE,
        None,
        {"ticket_id": ticket.id, "file_name": row.file_name, "file_type": row.file_type, "file_size": row.file_size},
    )
    return row


def stored_content(session: Session, row: TicketAttachment) -> bytes | None:
    """The attachment's bytes from the configured store, read in chunks; None when missing."""
    try:
        return file_store.read(file_store.store(), session, file_store.attachment_path(row.file))
    except FileNotFoundError:
        return None


# --- reading and downloading ----------------------------------------------------------------


def list_attachments(session: Session, actor: Employee, ticket_id: int) -> list[TicketAttachment]:
    """Attachments of a ticket the actor can see (NotFound otherwise)."""
    visible_ticket(session, actor, ticket_id)
    return list(
        session.scalars(
            select(TicketAttachment).where(TicketAttachment.ticket_id == ticket_id).order_by(TicketAttachment.id)
        )
    )


def _visible_attachment(session: Session, actor: Employee, attachment_id: int) -> TicketAttachment:
    require(actor, Action.DOWNLOAD_ATTACHMENT)
    row = session.get(TicketAttachment, attachment_id)
    if row is None:
        raise NotFound(f"Attachment {attachment_id} was not found.")
    try:
        visible_ticket(session, actor, row.ticket_id)
    except NotFound:
        raise NotFound(f"Attachment {attachment_id} was not found.") from None
    return row


def _sign(attachment: TicketAttachment, user_id: int, expires: int) -> str:
    key = get_settings().secret_key.encode()
    msg = f"{attachment.id}:{user_id}:{expires}:{attachment.secure_token or ''}".encode()
    return base64.urlsafe_b64encode(hmac.new(key, msg, hashlib.sha256).digest()).decode().rstrip("=")


def download_token(
    session: Session, actor: Employee, attachment_id: int, *, ttl: dt.timedelta = TOKEN_TTL, now: float | None = None
) -> str:
    """A signed, expiring token for this user to fetch this attachment."""
    row = _visible_attachment(session, actor, attachment_id)
    expires = int((now if now is not None else time.time()) + ttl.total_seconds())
    return f"{row.id}.{expires}.{_sign(row, actor.id, expires)}"


@dataclass(frozen=True)
class Download:
    attachment: TicketAttachment
    content: bytes
    preview: bool  # safe to show inline as an image


def open_download(session: Session, actor: Employee, token: str, *, now: float | None = None) -> Download:
    """The file behind a token, after re-checking token, expiry and policy; audited."""
    try:
        att_id_s, expires_s, signature = token.split(".", 2)
        att_id, expires = int(att_id_s), int(expires_s)
    except (ValueError, AttributeError):
        raise PermissionDenied("The download link is invalid.") from None
    row = _visible_attachment(session, actor, att_id)
    if not hmac.compare_digest(signature, _sign(row, actor.id, expires)):
        raise PermissionDenied("The download link is invalid.")
    if (now if now is not None else time.time()) > expires:
        raise PermissionDenied("The download link has expired; open the ticket again.")
    content = stored_content(session, row)
    if content is None:
        raise NotFound(f"The file of attachment {row.id} is missing from storage.")
    audit.record(
        session, actor, "core_ticketattachment", row.id, AuditAction.DOWNLOAD, None, {"file_name": row.file_name}
    )
    return Download(row, content, can_preview(row, content))


def can_preview(row: TicketAttachment, content: bytes) -> bool:
    """Inline only for raster images whose bytes really are that image.

    The magic bytes are not enough: a truncated or corrupt file with a valid PNG header
    makes `st.image` raise, and the whole ticket page (actions included) fails to render
    for everyone who opens it. Such a file stays downloadable, just not previewed.
    """
    kind = _MIME_TO_KIND.get(row.file_type or "")
    return kind in PREVIEWABLE and sniff(content) == kind and _decodes(content)


def _decodes(content: bytes) -> bool:
    from PIL import Image  # a Streamlit dependency; imported here: only previews need it

    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()
    except Exception:  # any decoder failure means "do not preview"
        return False
    return True


def preview_content(session: Session, actor: Employee, attachment_id: int) -> bytes | None:
    """The bytes to show inline, only for a visible raster image that passes the content check."""
    row = _visible_attachment(session, actor, attachment_id)
    if _MIME_TO_KIND.get(row.file_type or "") not in PREVIEWABLE:
        return None
    content = stored_content(session, row)
    return content if content is not None and can_preview(row, content) else None


def revoke_links(session: Session, actor: Employee, attachment_id: int) -> None:
    """Invalidate every outstanding download token of an attachment (new nonce)."""
    row = _visible_attachment(session, actor, attachment_id)
    row.secure_token = secrets.token_hex(32)
    session.flush()
