"""`smartsupport backup FILE` / `smartsupport restore FILE`: the whole database in pg_dump's
custom format, plus a tar of the stored files when they live on disk.

With the default PostgreSQL file store the dump holds everything (rows and the bytes of every
attachment and profile image). With `SMARTSUPPORT_FILE_STORE=filesystem` the files are written
beside it as `FILE.files.tar` and restored from there.

Restoring goes into an empty database only (created if missing), in one transaction, so a
mistyped URL cannot overwrite a live installation and a failed restore leaves nothing half
done; `--force` first drops what the dump contains (`pg_restore --clean`).

The client programs come from PATH for a configured server (they must be at least the
server's major version: pg_dump refuses a newer server), or from the embedded server's own
installation (`pgserver`) when no URL is set.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from . import file_store
from .db import database_url, ensure_database
from .errors import ValidationError
from .settings import get_settings


def _program(name: str) -> str:
    if not get_settings().database_url:
        from pgserver._commands import POSTGRES_BIN_PATH  # the embedded server's own version

        return str(POSTGRES_BIN_PATH / name)
    found = shutil.which(name)
    if found is None:
        raise ValidationError({"PATH": f"{name} was not found: install the PostgreSQL client programs"})
    return found


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password, and the environment carrying it (not on a command
    line, where `ps` would show it)."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise ValidationError({what: detail[-1] if detail else f"exit code {done.returncode}"})


def files_archive(file: Path) -> Path:
    return file.with_name(file.name + ".files.tar")


def _store_folders() -> list[Path]:
    data_dir = get_settings().data_dir
    return [data_dir / file_store.ATTACHMENTS, data_dir / file_store.AVATARS]


def backup(file: Path) -> list[Path]:
    """Write the dump (and the files' tar with the filesystem store); the paths written."""
    url, env = _libpq(database_url())
    _run([_program("pg_dump"), "--format=custom", "--no-owner", "--file", str(file), "--dbname", url], env, "backup")
    written = [file]
    if get_settings().file_store == "filesystem":
        archive = files_archive(file)
        with tarfile.open(archive, "w") as tar:
            for folder in _store_folders():
                if folder.is_dir():
                    tar.add(folder, arcname=folder.name)
        written.append(archive)
    return written


def database_is_empty(url: str) -> bool:
    """No table in the database's public schema (a new database)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return not conn.scalar(
                text("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            )
    finally:
        engine.dispose()


def restore(file: Path, *, force: bool = False) -> None:
    """Restore a `backup` into the configured database (see module doc for the rules)."""
    if not file.is_file():
        raise ValidationError({"FILE": f"{file} does not exist"})
    sa_url = database_url()
    ensure_database(sa_url)
    if not force and not database_is_empty(sa_url):
        raise ValidationError(
            {"SMARTSUPPORT_DATABASE_URL": "the database is not empty; restore into a new database, or use --force "
             "to replace what the backup contains"}
        )
    archive = files_archive(file)
    filesystem = get_settings().file_store == "filesystem"
    if filesystem and not force and any(f.is_dir() and any(f.iterdir()) for f in _store_folders()):
        raise ValidationError({"SMARTSUPPORT_DATA_DIR": "already holds attachments; use --force to overwrite"})
    url, env = _libpq(sa_url)
    cmd = [_program("pg_restore"), "--no-owner", "--exit-on-error", "--single-transaction", "--dbname", url]
    _run([*cmd, *(["--clean", "--if-exists"] if force else []), str(file)], env, "restore")
    if filesystem and archive.is_file():
        with tarfile.open(archive) as tar:
            tar.extractall(get_settings().data_dir, filter="data")
