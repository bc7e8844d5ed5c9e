"""Fixtures of the browser tests: one portal + SMTP sink + Chromium per test process.

The portal is session-scoped (starting Streamlit costs seconds): tests share it and keep
out of each other's way by using their own accounts and tickets.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Portal,
    Shots,
    SmtpSink,
    create_throwaway_database,
    drop_database,
    portal_env,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


DB_PASSWORD = "e2e-db-pw-" + secrets.token_hex(8)


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def portal_secret() -> str:
    """A known secret key, so tests can check cookies are signed with it and logs never show it."""
    return "e2e-secret-" + secrets.token_hex(16)


@pytest.fixture(scope="session")
def portal(db_url: str, smtp_sink: SmtpSink, portal_secret: str, tmp_path_factory) -> Iterator[Portal]:
    from sqlalchemy.engine import make_url

    # a password in the URL (ignored by the trust-auth test server) so tests can check it never shows up in logs
    url = make_url(create_throwaway_database(db_url)).set(password=DB_PASSWORD).render_as_string(hide_password=False)
    data_dir: Path = tmp_path_factory.mktemp("portal-data")
    from tests.e2e.harness import ARTIFACTS, free_port

    port = free_port()
    env = portal_env(
        url,
        data_dir,
        smtp_port=smtp_sink.port,
        secret_key=portal_secret,
        base_url=f"http://127.0.0.1:{port}",
    )
    log = ARTIFACTS / "e2e" / f"portal-{port}.log"
    log.unlink(missing_ok=True)
    server = Portal(env=env, log_path=log, port=port).start()
    try:
        yield server
    finally:
        server.stop()
        drop_database(url)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def new_page(browser, request) -> Iterator[Callable[[], object]]:
    """Factory of pages, each in its own browser context (its own cookies: one per user).

    Every page records JavaScript dialogs (an `alert` from injected script would open one);
    the test fails at teardown if any fired.
    """
    contexts = []
    dialogs: list[str] = []

    def make(**context_args):
        ctx = browser.new_context(**{"viewport": {"width": 1400, "height": 1000}, **context_args})
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(60_000)

        def on_dialog(dialog) -> None:
            dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return page

    make.dialogs = dialogs  # type: ignore[attr-defined]
    yield make
    for ctx in contexts:
        ctx.close()
    assert not dialogs, f"JavaScript dialogs fired (injected script ran): {dialogs}"


@pytest.fixture
def shots(request) -> Shots:
    return Shots(request.node.name)


@pytest.fixture(scope="session")
def admin_account(portal: Portal) -> dict[str, str]:
    """The first System Admin, made the way an operator does: `smartsupport create-admin`."""
    account = {"email": "admin@e2e.example.com", "password": "Adm1n#" + secrets.token_hex(6)}
    done = portal.cli(
        "create-admin",
        "--email",
        account["email"],
        "--company-id",
        "MA9001",
        "--first-name",
        "Ada",
        "--last-name",
        "Admin",
        env={"SMARTSUPPORT_ADMIN_PASSWORD": account["password"]},
    )
    assert done.returncode == 0, done.stderr
    return account


@pytest.fixture(scope="session")
def portal_db(portal: Portal):
    """A session factory on the portal's own database (to arrange and to check rows)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    engine = create_engine(portal.env["SMARTSUPPORT_DATABASE_URL"])
    yield sessionmaker(bind=engine, expire_on_commit=False)
    engine.dispose()
