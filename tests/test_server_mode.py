"""Running against a shared server (issue 16): the secret key is required, migrations take a
lock, `health` answers for a load balancer, pool sizes are settings, files move between stores."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from smartsupport_core import attachments, file_store, migrate, tickets
from smartsupport_core import db as core_db
from smartsupport_core import settings as core_settings
from smartsupport_core.errors import ValidationError
from smartsupport_core.settings import load_settings
from tests.factories import make_employee
from tests.stored_files import StoredFiles
from tests.test_cli_db import run_cli
from tests.ticket_helpers import IT_DATA, PDF, PNG


@pytest.mark.parametrize("command", [["run", "--port", "8599"], ["worker", "--once"]])
def test_shared_database_without_secret_key_refuses_to_start(db_url: str, command: list[str]) -> None:
    result = run_cli(*command, env={"SMARTSUPPORT_SECRET_KEY": ""})
    assert result.returncode == 2
    assert "SMARTSUPPORT_SECRET_KEY must be set when SMARTSUPPORT_DATABASE_URL is" in result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DB_POOL_SIZE", "0"),
        ("DB_POOL_SIZE", "ten"),
        ("DB_MAX_OVERFLOW", "-1"),
        ("FILE_STORE", "s3"),
        ("REPORT_PROCESSES", "-1"),
        ("REPORT_PROCESSES", "two"),
    ],
)
def test_bad_deployment_setting_names_the_variable(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(f"SMARTSUPPORT_{name}", value)
    with pytest.raises(ValidationError) as err:
        load_settings()
    assert list(err.value.errors) == [f"SMARTSUPPORT_{name}"]


def test_report_processes_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().report_processes == 2
    monkeypatch.setenv("SMARTSUPPORT_REPORT_PROCESSES", "0")
    assert load_settings().report_processes == 0


def test_pool_size_and_overflow_are_settings(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMARTSUPPORT_DB_POOL_SIZE", "3")
    monkeypatch.setenv("SMARTSUPPORT_DB_MAX_OVERFLOW", "1")
    core_db.reset_engines()
    try:
        engine = core_db.get_engine(load_settings())
        assert (engine.pool.size(), engine.pool._max_overflow) == (3, 1)
    finally:
        core_db.reset_engines()


@pytest.fixture
def empty_database(db_url: str):
    url = core_db.throwaway_url(db_url, "ss_lock")
    core_db.ensure_database(url)
    yield url
    core_db.drop_database(url)


def test_upgrades_started_together_migrate_once(empty_database: str) -> None:
    engines = [create_engine(empty_database) for _ in range(3)]
    start = threading.Barrier(len(engines))
    outcomes: list[object] = []

    def upgrade(engine) -> None:
        start.wait()
        try:
            outcomes.append(migrate.upgrade(engine))
        except Exception as exc:  # the failure is the finding
            outcomes.append(exc)

    threads = [threading.Thread(target=upgrade, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for e in engines:
        e.dispose()
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sorted(outcomes, key=str) == sorted(
        [(None, migrate.head())] + [(migrate.head(), migrate.head())] * 2, key=str
    )


def test_health_exit_codes(db_url: str, empty_database: str) -> None:
    ok = run_cli("health")
    assert ok.returncode == 0 and "healthy" in ok.stdout
    old = run_cli("health", env={"SMARTSUPPORT_DATABASE_URL": empty_database})
    assert old.returncode == 1 and "not " + migrate.head() in old.stderr
    gone = run_cli("health", env={"SMARTSUPPORT_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/x"})
    assert gone.returncode == 1 and "database unreachable" in gone.stderr


def test_run_no_migrate_refuses_an_old_schema(empty_database: str) -> None:
    result = run_cli("run", "--no-migrate", "--port", "8598", env={"SMARTSUPPORT_DATABASE_URL": empty_database})
    assert result.returncode == 2 and "smartsupport db upgrade" in result.stderr


def test_files_move_between_stores_and_back(session: Session, private_data_dir: Path, engine) -> None:
    requester = make_employee(session, department="Sales")
    ticket = tickets.submit_ticket(session, requester, IT_DATA, [("screen.png", PNG), ("invoice.pdf", PDF)])
    session.commit()
    rows = tickets.list_attachments(session, requester, ticket.id)
    postgres = StoredFiles("postgres", private_data_dir, engine)
    filesystem = StoredFiles("filesystem", private_data_dir, engine)
    paths = sorted(file_store.attachment_path(r.file) for r in rows)
    assert postgres.paths() == paths and filesystem.paths() == []

    def move(to: str):
        scope = lambda: core_db.session_scope(engine)  # noqa: E731
        return file_store.move_files(scope, file_store.store(_other(to)), file_store.store(to))

    assert move("filesystem") == (2, [])
    assert postgres.paths() == [] and filesystem.paths() == paths
    assert filesystem.read(file_store.attachment_path(rows[1].file)) == PDF
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SMARTSUPPORT_FILE_STORE", "filesystem")
        core_settings.configure(None)
        token = attachments.download_token(session, requester, rows[0].id)
        assert attachments.open_download(session, requester, token).content == PNG
    core_settings.configure(None)
    assert move("postgres") == (2, [])
    assert postgres.paths() == paths and filesystem.paths() == []
    assert move("postgres") == (0, [])  # again: nothing left to move
    token = attachments.download_token(session, requester, rows[1].id)
    assert attachments.open_download(session, requester, token).content == PDF


def _other(name: str) -> str:
    return next(n for n in core_settings.FILE_STORES if n != name)


def test_backup_and_restore_with_the_filesystem_store(
    session: Session, private_data_dir: Path, empty_database: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SMARTSUPPORT_FILE_STORE", "filesystem")
        core_settings.configure(None)
        requester = make_employee(session, department="Sales")
        ticket = tickets.submit_ticket(session, requester, IT_DATA, [("screen.png", PNG)])
        session.commit()
    core_settings.configure(None)
    (row,) = tickets.list_attachments(session, requester, ticket.id)
    backup = tmp_path_factory.mktemp("backup") / "helpdesk.dump"
    store_env = {"SMARTSUPPORT_FILE_STORE": "filesystem", "SMARTSUPPORT_DATA_DIR": str(private_data_dir)}
    done = run_cli("backup", str(backup), env=store_env)
    assert done.returncode == 0, done.stderr
    assert backup.is_file() and Path(f"{backup}.files.tar").is_file()

    elsewhere = tmp_path_factory.mktemp("restored-data")
    target = {**store_env, "SMARTSUPPORT_DATABASE_URL": empty_database, "SMARTSUPPORT_DATA_DIR": str(elsewhere)}
    done = run_cli("restore", str(backup), env=target)
    assert done.returncode == 0, done.stderr
    assert (elsewhere / file_store.attachment_path(row.file)).read_bytes() == PNG
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT file, file_size FROM core_ticketattachment")).all() == [(row.file, len(PNG))]
    engine.dispose()
    again = run_cli("restore", str(backup), env=target)
    assert again.returncode == 2 and "not empty" in again.stderr
    forced = run_cli("restore", "--force", str(backup), env=target)
    assert forced.returncode == 0, forced.stderr
