"""Where the bytes of attachments and profile images live: PostgreSQL (default) or a directory.

Both stores name a file by its path relative to the data dir (`attachments/<uuid>.<ext>`,
`avatars/<id>-<hex>.<ext>`: the value the row keeps), and both follow the transaction of the
row naming it: a file written for a transaction that does not commit is gone afterwards, a
file the transaction stops naming goes only once it commits. The checks (size, type by
content, tokens, policy) are done by the callers before a store is asked, so they are the
same whichever store is configured (`SMARTSUPPORT_FILE_STORE`).

* `PostgresStore` (default): one row of `core_filecontent` per file, written with the
  caller's session, so row and bytes commit or roll back together, every portal replica
  serves every file and a database backup holds everything. Reads go in `CHUNK`-sized
  `substring` slices: no single result carries a whole file, and with the column stored
  EXTERNAL (migration 0006) PostgreSQL fetches only the TOAST chunks of each slice. Large
  objects would stream too, but they live outside the row: a deleted row leaves its object
  behind unless a trigger or `vacuumlo` removes it, and they need their own permissions and
  dump options. A 10 MB limit fits a bytea column well.
* `FilesystemStore` (`SMARTSUPPORT_FILE_STORE=filesystem`): files under the data dir, for a
  single machine or shared storage mounted on every replica. Bytes go to a temporary file,
  are synced, and are renamed into place only after the row is flushed;
  `file_cleanup` removes them if the transaction ends without a commit.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from . import file_cleanup
from .models import FileContent
from .settings import get_settings

#: Bytes per database read of a stored file.
CHUNK = 1024 * 1024


class FileStore(Protocol):
    name: str

    def put(self, session: Session, path: str, content: bytes) -> None:
        """Store `content` under `path` as part of `session`'s transaction."""

    def chunks(self, session: Session, path: str) -> Iterator[bytes]:
        """The file's bytes in pieces; FileNotFoundError when it is not stored."""

    def discard(self, session: Session, path: str) -> None:
        """The transaction stops naming `path`: remove it when (and only if) it commits."""

    def exists(self, session: Session, path: str) -> bool: ...


def read(store: FileStore, session: Session, path: str) -> bytes:
    """A whole stored file; FileNotFoundError when it is missing."""
    return b"".join(store.chunks(session, path))


class PostgresStore:
    name = "postgres"

    def put(self, session: Session, path: str, content: bytes) -> None:
        session.add(FileContent(path=path, size=len(content), content=content))
        session.flush()

    def chunks(self, session: Session, path: str) -> Iterator[bytes]:
        size = session.scalar(select(FileContent.size).where(FileContent.path == path))
        if size is None:
            raise FileNotFoundError(path)
        for offset in range(0, size, CHUNK):  # substring counts from 1
            yield session.scalar(
                select(func.substring(FileContent.content, offset + 1, CHUNK)).where(FileContent.path == path)
            )

    def discard(self, session: Session, path: str) -> None:
        session.execute(delete(FileContent).where(FileContent.path == path))

    def exists(self, session: Session, path: str) -> bool:
        return session.scalar(select(func.count()).where(FileContent.path == path)) == 1


class FilesystemStore:
    name = "filesystem"

    def __init__(self, root: Path) -> None:
        self.root = root

    def location(self, path: str) -> Path:
        """The file's place under the root; a path that leaves the root is refused."""
        base = self.root.resolve()
        target = (base / path).resolve()
        if base not in target.parents:
            raise FileNotFoundError(path)
        return target

    def put(self, session: Session, path: str, content: bytes) -> None:
        final = self.location(path)
        final.parent.mkdir(parents=True, exist_ok=True)
        temp = final.parent / f".tmp-{uuid.uuid4().hex}"
        try:
            with open(temp, "xb") as fh:
                fh.write(content)
                fh.flush()
                os.fsync(fh.fileno())
            file_cleanup.remove_unless_committed(session, final)
            os.replace(temp, final)
        except BaseException:
            temp.unlink(missing_ok=True)
            final.unlink(missing_ok=True)
            raise

    def chunks(self, session: Session, path: str) -> Iterator[bytes]:
        with open(self.location(path), "rb") as fh:
            while piece := fh.read(CHUNK):
                yield piece

    def discard(self, session: Session, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):  # a name outside the root was never ours to remove
            file_cleanup.remove_once_committed(session, self.location(path))

    def exists(self, session: Session, path: str) -> bool:
        try:
            return self.location(path).is_file()
        except FileNotFoundError:
            return False


def store(name: str | None = None) -> FileStore:
    """The configured store (`SMARTSUPPORT_FILE_STORE`), or the one called `name`."""
    settings = get_settings()
    name = name or settings.file_store
    return FilesystemStore(settings.data_dir) if name == FilesystemStore.name else PostgresStore()


#: Folder (filesystem store) and path prefix (both stores) of attachments and profile images.
ATTACHMENTS = "attachments"
AVATARS = "avatars"


def attachment_path(stored: str) -> str:
    """The store path of an attachment row's `file` (a generated `<uuid>.<ext>`)."""
    return f"{ATTACHMENTS}/{stored}"


def referenced_paths(session: Session) -> list[str]:
    """Every stored file a row names: attachments, then profile images."""
    from .models import Employee, TicketAttachment

    files = session.scalars(select(TicketAttachment.file).order_by(TicketAttachment.id))
    images = session.scalars(select(Employee.image).where(Employee.image.is_not(None)).order_by(Employee.id))
    return [attachment_path(f) for f in files] + list(images)


def move_files(session_scope, source: FileStore, target: FileStore) -> tuple[int, list[str]]:
    """Copy every referenced file from `source` to `target`, one transaction per file, and
    remove it from `source` once the copy is committed; (files moved, paths missing).

    Safe to run again after an interruption: a file already in `target` is only removed from
    `source`. The portal reads from the configured store, so switch `SMARTSUPPORT_FILE_STORE`
    once this is done (a file uploaded meanwhile is moved by a second run)."""
    with session_scope() as session:
        paths = referenced_paths(session)
    moved, missing = 0, []
    for path in paths:
        with session_scope() as session:
            if not target.exists(session, path):
                if not source.exists(session, path):
                    missing.append(path)
                    continue
                target.put(session, path, read(source, session, path))
                moved += 1
        with session_scope() as session:  # only after the copy has committed
            source.discard(session, path)
    return moved, missing
