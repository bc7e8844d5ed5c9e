"""`smartsupport backup FILE` / `smartsupport restore FILE`: the whole database in pg_dump's
custom format, plus a tar of the stored files when they live on disk.

With the default PostgreSQL file store the dump holds everything (rows and the bytes of every
attachment and profile image). With `SMARTSUPPORT_FILE_STORE=filesystem` the files are written
beside it as `FILE.files.tar` and restored from there.

Restoring goes into an empty database only (created if missing), in one transaction, so a
mistyped URL cannot overwrite a live installation and a failed restore leaves nothing half
done; `--force` first drops what the dump contains (`pg_restore --clean`).

The client programs are the oldest installed copy (PATH, Debian's /usr/lib/postgresql/N/bin,
the embedded server's own installation) whose major version is at least the server's:
pg_dump refuses a newer server.
"""

from __future__ import annotations

import glob
import os
import re
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


def _server_major(sa_url: str) -> int:
    engine = create_engine(sa_url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(text("SELECT current_setting('server_version_num')::int / 10000")))
    finally:
        engine.dispose()


def _client_major(path: str) -> int | None:
    done = subprocess.run([path, "--version"], capture_output=True, text=True)
    match = re.search(r"(\d+)(?:\.\d+)?", done.stdout or "")
    return int(match.group(1)) if done.returncode == 0 and match else None


def _candidates(name: str) -> list[str]:
    """Every installed copy of a client program: PATH, Debian's versioned directories and the
    embedded server's own installation (`pgserver`)."""
    found = [shutil.which(name), *sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))]
    try:
        from pgserver._commands import POSTGRES_BIN_PATH

        found.append(str(POSTGRES_BIN_PATH / name))
    except ImportError:  # pragma: no cover - pgserver is a dependency
        pass
    return [path for path in dict.fromkeys(found) if path and os.access(path, os.X_OK)]


def _program(name: str, sa_url: str) -> str:
    """The client program for the server at `sa_url`: pg_dump refuses a server newer than
    itself, so the oldest installed copy whose major version is at least the server's (the
    embedded server is PostgreSQL 16 while Debian 12's clients are 15, for instance)."""
    server = _server_major(sa_url)
    usable = sorted(
        (major, path) for path in _candidates(name) if (major := _client_major(path)) is not None and major >= server
    )
    if not usable:
        raise ValidationError(
            {"PATH": f"no {name} of PostgreSQL {server} or newer was found: install the PostgreSQL client programs"}
        )
    return usable[0][1]


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
    sa_url = database_url()
    url, env = _libpq(sa_url)
    dump = [_program("pg_dump", sa_url), "--format=custom", "--no-owner", "--file", str(file), "--dbname", url]
    _run(dump, env, "backup")
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
    cmd = [_program("pg_restore", sa_url), "--no-owner", "--exit-on-error", "--single-transaction", "--dbname", url]
    _run([*cmd, *(["--clean", "--if-exists"] if force else []), str(file)], env, "restore")
    if filesystem and archive.is_file():
        with tarfile.open(archive) as tar:
            tar.extractall(get_settings().data_dir, filter="data")
