"""Test database set-up: a real PostgreSQL, migrated once per test process.

With `SMARTSUPPORT_DATABASE_URL` set (CI: the local server) each pytest process creates a
throwaway database on that server and drops it at the end; without it, ONE embedded
`pgserver` serves the whole test run: the controlling process (the xdist controller, or the
only process) starts it in `pytest_configure`, before any worker exists, and passes its URL
to the workers in `SMARTSUPPORT_TEST_SERVER_URL`; each worker makes its own database on it,
and the controller stops the server at the end. (Until issue 13 every xdist worker started
its own pgserver at the same moment, and as root the two raced on creating the `pgserver`
OS user: see `smartsupport_core.db.pgserver_start_lock`.) Every test starts from a clean
state: all tables emptied and the seed configuration restored (`clean_db`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from smartsupport_core import db as core_db
from smartsupport_core import migrate, numbering
from smartsupport_core import settings as core_settings
from smartsupport_core.models import Base

SERVER_URL = os.environ.get("SMARTSUPPORT_DATABASE_URL")
#: The run's shared embedded server (set by the controlling process for its workers).
SHARED_SERVER_ENV = "SMARTSUPPORT_TEST_SERVER_URL"
_shared_root: dict[str, Path] = {}


def pytest_configure(config: pytest.Config) -> None:
    """Start the run's one embedded server before any xdist worker starts (workers inherit it)."""
    if SERVER_URL or os.environ.get("PYTEST_XDIST_WORKER") or os.environ.get(SHARED_SERVER_ENV):
        return
    given = os.environ.get("SMARTSUPPORT_TEST_PG_DIR")
    root = Path(given) if given else world_traversable_tmpdir("ss-test-pg-")
    if not given:
        _shared_root["made"] = root
    server = core_db.embedded_server(root)
    os.environ[SHARED_SERVER_ENV] = core_db.to_sqlalchemy_url(server.get_uri("postgres"))


def pytest_unconfigure(config: pytest.Config) -> None:
    """The controlling process stops the shared server (workers have dropped their databases)."""
    root = _shared_root.pop("made", None)
    if root is None:
        return
    os.environ.pop(SHARED_SERVER_ENV, None)
    core_db.reset_engines()
    with contextlib.suppress(Exception):
        core_db.embedded_server(root).cleanup()
    shutil.rmtree(root, ignore_errors=True)


def _server_base_url() -> str:
    return core_db.to_sqlalchemy_url(SERVER_URL or os.environ[SHARED_SERVER_ENV])


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("smartsupport-data")


def world_traversable_tmpdir(prefix: str) -> Path:
    """A temp dir the embedded server's `pgserver` OS user can reach when tests run as root
    (pytest's own tmp dirs are 0700)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@pytest.fixture(scope="session")
def db_url(data_dir: Path) -> Iterator[str]:
    """URL of a fresh, migrated database private to this test process."""
    base = make_url(_server_base_url())
    name = f"ss_test_{uuid.uuid4().hex[:12]}"
    url = base.set(database=name).render_as_string(hide_password=False)
    core_db.ensure_database(url)
    os.environ["SMARTSUPPORT_DATABASE_URL"] = url
    os.environ["SMARTSUPPORT_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("SMARTSUPPORT_SECRET_KEY", "test-secret-" + uuid.uuid4().hex)
    core_settings.configure(None)
    core_db.reset_engines()
    engine = create_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    core_db.reset_engines()
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    if SERVER_URL:
        os.environ["SMARTSUPPORT_DATABASE_URL"] = SERVER_URL
    else:
        os.environ.pop("SMARTSUPPORT_DATABASE_URL", None)


@pytest.fixture(scope="session")
def engine(db_url: str) -> Engine:
    return core_db.get_engine()


def _snapshot_seed(engine: Engine) -> dict[str, list[dict]]:
    from smartsupport_core.models import SEED_TABLES

    with engine.connect() as conn:
        return {t: [dict(r._mapping) for r in conn.execute(text(f"SELECT * FROM {t} ORDER BY 1"))] for t in SEED_TABLES}


@pytest.fixture(scope="session")
def seed_snapshot(engine: Engine) -> dict[str, list[dict]]:
    return _snapshot_seed(engine)


def reset_database(engine: Engine, seed: dict[str, list[dict]]) -> None:
    """Empty every table and restore the seed configuration (fast: one TRUNCATE)."""
    tables = [t.name for t in Base.metadata.sorted_tables]
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
        for name in numbering.sequence_names(conn):  # ticket numbers start again, as in a new database
            conn.execute(text(f"DROP SEQUENCE {name}"))
        for table in Base.metadata.sorted_tables:
            rows = seed.get(table.name)
            if rows:
                conn.execute(table.insert(), rows)
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT max(id) FROM {table.name}))"
                    )
                )


@pytest.fixture
def clean_db(engine: Engine, seed_snapshot: dict[str, list[dict]]) -> Engine:
    reset_database(engine, seed_snapshot)
    return engine


@pytest.fixture
def session(clean_db: Engine) -> Iterator[Session]:
    with Session(clean_db, expire_on_commit=False) as s:
        yield s


@pytest.fixture
def sink():
    """A real SMTP server on loopback for this test (tests/smtp_sink.py)."""
    from tests.smtp_sink import SmtpSink

    with SmtpSink() as server:
        yield server


@pytest.fixture
def smtp_base_url(db_url: str) -> Iterator[None]:
    """Core settings with the test BASE_URL and no SMTP host, restored afterwards
    (e-mail modules use it for every test: `pytestmark = pytest.mark.usefixtures(...)`)."""
    from tests.smtp_sink import smtp_settings

    core_settings.configure(smtp_settings(None))
    yield
    core_settings.configure(None)


@pytest.fixture
def private_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A data directory of this test's own (attachments, secret key), so the files a test
    leaves behind are visible; the core settings are reloaded before and after."""
    monkeypatch.setenv("SMARTSUPPORT_DATA_DIR", str(tmp_path))
    core_settings.configure(None)
    yield tmp_path
    core_settings.configure(None)


@pytest.fixture(params=["postgres", "filesystem"])
def store(request: pytest.FixtureRequest, private_data_dir: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine):
    """Each file store in turn (`SMARTSUPPORT_FILE_STORE`), with a private data dir; the
    test sees what it holds through `tests.stored_files.StoredFiles`."""
    from tests.stored_files import StoredFiles

    monkeypatch.setenv("SMARTSUPPORT_FILE_STORE", request.param)
    core_settings.configure(None)
    yield StoredFiles(request.param, private_data_dir, engine)
    core_settings.configure(None)
