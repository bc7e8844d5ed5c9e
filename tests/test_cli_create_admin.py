"""`smartsupport create-admin`: same rules as registration, one-line errors, exit 2."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from smartsupport_core import login
from smartsupport_core.models import AuditLog, Employee

ARGS = [
    "create-admin",
    "--email",
    "Root@Example.com",
    "--company-id",
    "MA0001",
    "--first-name",
    "Rita",
    "--last-name",
    "Reyes",
]


def run(*args: str, password: str | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SMARTSUPPORT_ADMIN_PASSWORD"}
    if password is not None:
        env["SMARTSUPPORT_ADMIN_PASSWORD"] = password
    return subprocess.run(
        [sys.executable, "-m", "smartsupport_core.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=120,
    )


def test_create_admin_from_environment(clean_db: Engine) -> None:
    result = run(*ARGS, password="Desk#Pass2026")
    assert result.returncode == 0, result.stderr
    assert "created System Admin Rita Reyes <root@example.com>" in result.stdout
    with Session(clean_db) as s:
        admin = s.scalars(select(Employee)).one()
        assert (admin.role, admin.status, admin.department) == ("System Admin", "Approved", "IT Department")
        assert login.authenticate(s, "root@example.com", "Desk#Pass2026").ok
        row = s.scalars(select(AuditLog).where(AuditLog.action_type == "CREATE")).one()
        assert row.new_values["password"] == "********"


def test_create_admin_prompts_for_password(clean_db: Engine) -> None:
    result = run(*ARGS, stdin="Desk#Pass2026\nDesk#Pass2026\n")
    assert result.returncode == 0, result.stderr
    with Session(clean_db) as s:
        assert s.scalars(select(Employee.email)).one() == "root@example.com"


def test_create_admin_validation_one_line_exit_2(clean_db: Engine) -> None:
    result = run(
        "create-admin",
        "--email",
        "nope",
        "--company-id",
        "X1",
        "--first-name",
        "A",
        "--last-name",
        "B",
        "--department",
        "Astrology",
        password="weak",
    )
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:")
    for message in (
        "Please enter a valid email address",
        "Company ID must follow format MA#### (e.g., MA0001)",
        "Password must be at least 8 characters long",
        "Department must be one of the active departments",
    ):
        assert message in lines[0]
    with Session(clean_db) as s:
        assert s.scalars(select(Employee)).all() == []


def test_create_admin_duplicate_refused(clean_db: Engine) -> None:
    assert run(*ARGS, password="Desk#Pass2026").returncode == 0
    again = run(*ARGS, password="Desk#Pass2026")
    assert again.returncode == 2 and "already" in again.stderr and again.stderr.count("\n") == 1
