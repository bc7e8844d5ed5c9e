"""E-mail links follow the port the portal was started on (issue 13): `smartsupport run
--port N` without SMARTSUPPORT_BASE_URL writes http://localhost:N into the e-mails its portal
queues (before, every link said http://localhost:8501 whatever the port)."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, select

from smartsupport_core.models import EmailNotification
from tests.e2e.harness import (
    ARTIFACTS,
    Portal,
    choose,
    click_button,
    create_throwaway_database,
    drop_database,
    expect_text,
    fill,
    goto,
    portal_env,
)

pytestmark = pytest.mark.browser


def test_run_without_base_url_links_to_its_own_port(db_url: str, tmp_path, new_page) -> None:
    url = create_throwaway_database(db_url)
    env = portal_env(url, tmp_path, secret_key="e2e-base-url-" + uuid.uuid4().hex)
    assert "SMARTSUPPORT_BASE_URL" not in env
    portal = Portal(env=env, log_path=ARTIFACTS / "e2e" / "run-base-url.log")
    try:
        portal.start()
        made = portal.cli(
            "create-admin", "--email", "admin@base.example.com", "--company-id", "MA9301",
            "--first-name", "Ada", "--last-name", "Admin", env={"SMARTSUPPORT_ADMIN_PASSWORD": "Adm1n#Base2026"},
        )
        assert made.returncode == 0, made.stderr
        page = new_page()
        goto(page, portal, "register")
        for field, value in {"first_name": "Port", "last_name": "Follower", "email": "port@base.example.com",
                             "company_id": "MA9302", "password": "Link#Check2026x",
                             "password_confirm": "Link#Check2026x"}.items():
            fill(page, f"reg_{field}", value)
        choose(page, "reg_department", "Sales")
        click_button(page, "Register")
        expect_text(page, "pending approval")
        engine = create_engine(url)
        try:
            with engine.connect() as conn:
                bodies = conn.scalars(
                    select(EmailNotification.body).where(EmailNotification.recipient_email == "admin@base.example.com")
                ).all()
        finally:
            engine.dispose()
        assert bodies, "the portal queued no e-mail to the admin"
        assert all(f"http://localhost:{portal.port}/accounts" in body for body in bodies), bodies
        assert not any("localhost:8501" in body for body in bodies)
    finally:
        portal.stop()
        drop_database(url)
