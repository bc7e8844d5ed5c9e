"""The command line's contract and the database selection rules."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from smartsupport_core import db as core_db
from smartsupport_core import migrate
from smartsupport_core.cli import main
from smartsupport_core.settings import load_settings
from tests.conftest import world_traversable_tmpdir


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


def test_secret_key_generated_once(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("SMARTSUPPORT_SECRET_KEY", raising=False)
    monkeypatch.setenv("SMARTSUPPORT_DATA_DIR", str(tmp_path))
    first = load_settings().secret_key
    assert len(first) >= 32 and first == load_settings().secret_key
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
