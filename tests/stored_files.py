"""What a file store holds, as a test sees it: the same questions for both stores
(`SMARTSUPPORT_FILE_STORE=postgres|filesystem`), so one test checks both."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from smartsupport_core import file_store
from smartsupport_core.models import FileContent


class StoredFiles:
    def __init__(self, name: str, data_dir: Path, engine: Engine) -> None:
        self.name = name
        self.data_dir = data_dir
        self.engine = engine

    def paths(self, session: Session | None = None) -> list[str]:
        """Every stored file (temporary files too), relative to the data dir. The database
        store answers as `session` sees it (its uncommitted writes), else as committed."""
        if self.name == "filesystem":
            folders = [self.data_dir / file_store.ATTACHMENTS, self.data_dir / file_store.AVATARS]
            return sorted(str(p.relative_to(self.data_dir)) for f in folders if f.is_dir() for p in f.iterdir())
        if session is not None:
            return sorted(session.scalars(select(FileContent.path)))
        with Session(self.engine) as fresh:
            return sorted(fresh.scalars(select(FileContent.path)))

    def read(self, path: str, session: Session | None = None) -> bytes:
        if self.name == "filesystem":
            return (self.data_dir / path).read_bytes()
        with Session(self.engine) as fresh:
            return file_store.read(file_store.store(self.name), session or fresh, path)
