"""File management (spec process 4.0): checked uploads, safe storage, signed downloads.

* Size is checked before anything is written; the type is decided by the content (magic
  bytes, container structure), never by the file name or the browser's MIME type
  (`upload_check`, in bounded memory, the same for every store), and the stored download
  name ends in the detected type's extension.
* A ticket holds at most `max_attachments_per_ticket` files and
  `max_ticket_attachment_bytes` in total, checked under the ticket's row lock.
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

import datetime as dt
import hashlib
import io
import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from itsdangerous import Signer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit, file_store
from .errors import NotFound, PermissionDenied, ValidationError
from .models import Employee, Ticket, TicketAttachment
from .policy import Action, require, visible_ticket
from .settings import get_settings
from .upload_check import MIME_TO_KIND, check_upload, download_name, sniff
from .vocab import AuditAction

TOKEN_TTL = dt.timedelta(minutes=10)
#: Inline preview only for these, and only when the content check agrees.
PREVIEWABLE = frozenset({"png", "jpeg", "gif", "webp"})


# --- storage ---------------------------------------------------------------------------------


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f} MB".replace(".0 MB", " MB")


def check_ticket_capacity(
    session: Session, ticket_id: int, sizes: Sequence[int], *, field: str = "attachments"
) -> None:
    """Refuse files of `sizes` bytes that would take the ticket past its limits.

    The ticket's row is locked first (FOR UPDATE, in the caller's transaction), so two
    uploads to one ticket at once are counted one after the other and cannot together
    exceed the limit."""
    session.execute(select(Ticket.id).where(Ticket.id == ticket_id).with_for_update())
    count, total = session.execute(
        select(func.count(), func.coalesce(func.sum(TicketAttachment.file_size), 0)).where(
            TicketAttachment.ticket_id == ticket_id
        )
    ).one()
    check_capacity(count, total, sizes, field=field)


def check_capacity(count: int, total: int, sizes: Sequence[int], *, field: str = "attachments") -> None:
    """Refuse files of `sizes` bytes on a ticket holding `count` files of `total` bytes
    (a new ticket: 0, 0; `submit_ticket` asks before it takes a ticket number)."""
    settings = get_settings()
    if count + len(sizes) > settings.max_attachments_per_ticket:
        raise ValidationError(
            {field: f"A ticket holds at most {settings.max_attachments_per_ticket} attachments; this one has {count}"}
        )
    if total + sum(sizes) > settings.max_ticket_attachment_bytes:
        raise ValidationError(
            {
                field: f"A ticket's attachments may total at most {_mb(settings.max_ticket_attachment_bytes)}; "
                f"this one has {_mb(total)} and the new files are {_mb(sum(sizes))}"
            }
        )


def save_attachment(session: Session, actor: Employee, ticket: Ticket, name: str, content: bytes) -> TicketAttachment:
    """Store one checked file and its row in the caller's transaction (see module doc)."""
    require(actor, Action.UPLOAD_ATTACHMENT)
    kind = check_upload(name, content)
    check_ticket_capacity(session, ticket.id, [len(content)])
    row = TicketAttachment(
        file_name=download_name(name, kind),
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


def _signed_fields(attachment: TicketAttachment, user_id: int, expires: int) -> bytes:
    """What a download signature covers: the file, the user it was issued to, the expiry and
    the attachment's secret token (server-side only; the link carries id, expiry, signature)."""
    return f"{attachment.id}:{user_id}:{expires}:{attachment.secure_token or ''}".encode()


def _signer() -> Signer:
    return Signer(get_settings().secret_key, salt="smartsupport.download", digest_method=hashlib.sha256)


def _sign(attachment: TicketAttachment, user_id: int, expires: int) -> str:
    return _signer().get_signature(_signed_fields(attachment, user_id, expires)).decode("ascii")


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
    if not _signer().verify_signature(_signed_fields(row, actor.id, expires), signature.encode("ascii", "replace")):
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
    kind = MIME_TO_KIND.get(row.file_type or "")
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
    if MIME_TO_KIND.get(row.file_type or "") not in PREVIEWABLE:
        return None
    content = stored_content(session, row)
    return content if content is not None and can_preview(row, content) else None


def revoke_links(session: Session, actor: Employee, attachment_id: int) -> None:
    """Invalidate every outstanding download token of an attachment (new nonce)."""
    row = _visible_attachment(session, actor, attachment_id)
    row.secure_token = secrets.token_hex(32)
    session.flush()
