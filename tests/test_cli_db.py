"""The command line's contract and the database selection rules."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from smartsupport_core import db as core_db
from smartsupport_core import migrate
from smartsupport_core.cli import main
from smartsupport_core.settings import load_settings
from tests.conftest import SERVER_URL, world_traversable_tmpdir


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "smartsupport_core.cli", *args],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=120,
    )


def test_db_current_and_upgrade(db_url: str) -> None:
    result = run_cli("db", "current")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == migrate.head()
    result = run_cli("db", "upgrade")
    assert result.returncode == 0 and migrate.head() in result.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["demo", "--tickets", "-5"], "--tickets"),
        (["demo", "--tickets", "many"], "--tickets"),
        (["run", "--port", "70000"], "--port"),
        (["no-such-command"], "no-such-command"),
    ],
)
def test_bad_input_is_one_line_exit_2(db_url: str, args: list[str], needle: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and needle in lines[0]


def test_bad_database_url_is_one_line(db_url: str) -> None:
    result = run_cli("db", "current", env={"SMARTSUPPORT_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/x"})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "cannot reach the database" in result.stderr


def test_click_runner_help_lists_contract_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    for name in ("run", "db", "demo"):
        assert name in result.output


def test_dropped_connection_is_reestablished(engine) -> None:
    """pool_pre_ping: a connection killed by the server is replaced, not fatal."""
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    killer_engine = create_engine(engine.url, poolclass=NullPool)
    with killer_engine.connect() as killer:
        assert killer.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
    killer_engine.dispose()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1


def test_url_forms_are_normalised() -> None:
    assert core_db.to_sqlalchemy_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert core_db.to_sqlalchemy_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"


def test_embedded_server_when_no_url(monkeypatch) -> None:
    """Without SMARTSUPPORT_DATABASE_URL the embedded server starts in the data dir, once."""
    tmp_path = world_traversable_tmpdir("ss-embedded-")
    monkeypatch.delenv("SMARTSUPPORT_DATABASE_URL", raising=False)
    monkeypatch.setenv("SMARTSUPPORT_DATA_DIR", str(tmp_path))
    settings = load_settings()
    assert settings.database_url is None
    url = core_db.database_url(settings)
    assert url.startswith("postgresql+psycopg://") and url.split("?")[0].endswith("/smartsupport")
    assert core_db.embedded_server(tmp_path) is core_db.embedded_server(tmp_path)
    assert (tmp_path / "pg").is_dir()


def test_embedded_server_start_waits_for_the_machine_wide_lock() -> None:
    """Every pgserver start is serialised by one lock per OS user (issue 13): while another
    process holds it, a start neither creates the `pgserver` user nor runs initdb; it proceeds
    once the lock is free. Without it, two xdist workers starting at once as root raced on
    `useradd` and one initdb failed with `could not change permissions of directory`."""
    import fcntl
    import shutil
    import threading

    root = world_traversable_tmpdir("ss-lock-")
    pgdata = root / "pg"
    started: list[object] = []
    with open(core_db.pgserver_start_lock_path(), "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        try:
            starter = threading.Thread(target=lambda: started.append(core_db.start_pgserver(pgdata)))
            starter.start()
            starter.join(timeout=3)
            assert starter.is_alive() and not started
            assert not (pgdata / "PG_VERSION").exists()
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)
    starter.join(timeout=300)
    try:
        assert started and (pgdata / "PG_VERSION").exists()
        engine = create_engine(core_db.to_sqlalchemy_url(started[0].get_uri("postgres")), poolclass=NullPool)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
        engine.dispose()
    finally:
        if started:
            started[0].cleanup()
        shutil.rmtree(root, ignore_errors=True)


def test_test_run_shares_one_embedded_server(db_url: str) -> None:
    """Without a server URL, every test process of a run uses the run's one embedded server
    (started by the controlling process), each with a database of its own."""
    if SERVER_URL:
        pytest.skip("the run uses SMARTSUPPORT_DATABASE_URL's server")
    assert os.environ.get("SMARTSUPPORT_TEST_SERVER_URL"), "no shared embedded server for the run"
    shared = make_url(os.environ["SMARTSUPPORT_TEST_SERVER_URL"])
    mine = make_url(db_url)
    assert (mine.host, mine.port, dict(mine.query)) == (shared.host, shared.port, dict(shared.query))
    assert mine.database != shared.database


def test_secret_key_generated_once(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SMARTSUPPORT_SECRET_KEY", raising=False)
    monkeypatch.setenv("SMARTSUPPORT_DATA_DIR", str(tmp_path))
    first = load_settings().secret_key
    assert len(first) >= 32 and first == load_settings().secret_key
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
