"""Harness of the end-to-end tests: a real portal process on its own throwaway database,
a real SMTP server on loopback, and Debian's headless Chromium driven by Playwright.

Why a separate database per portal: the unit tests of the same pytest process empty every
table before each test (`clean_db`); a portal sharing that database would lose its data
between two steps of a journey. Why the portal runs as a subprocess through the CLI
(`python -m smartsupport_core.cli run`): that is exactly what an operator starts, so the
migration, the settings and the Streamlit server are the real ones.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
APP_IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    """Poll `predicate` until it returns something truthy; fail naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# --------------------------------------------------------------------------- databases


def create_throwaway_database(any_url: str, prefix: str = "ss_e2e") -> str:
    """A new empty database on the same server as `any_url`; returns its URL."""
    base = make_url(any_url)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    finally:
        admin.dispose()


# --------------------------------------------------------------------------- SMTP


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")

    def text(self) -> str:
        """The plain-text part (or the only part)."""
        part = self.message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""

    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""


class _SinkHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server, session, envelope) -> str:  # aiosmtpd hook
        if self.sink.refuse_with:
            return self.sink.refuse_with
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        with self.sink.lock:
            self.sink.messages.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
        return "250 Message accepted for delivery"


@dataclass
class SmtpSink:
    """A real SMTP server (aiosmtpd) on loopback that keeps every message it accepts."""

    port: int = field(default_factory=free_port)
    messages: list[ReceivedMail] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    refuse_with: str | None = None  # e.g. "554 rejected" to simulate a permanent refusal
    _controller: Any = None

    def start(self) -> SmtpSink:
        from aiosmtpd.controller import Controller

        self._controller = Controller(_SinkHandler(self), hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def running(self) -> bool:
        return self._controller is not None

    def to(self, address: str) -> list[ReceivedMail]:
        with self.lock:
            return [m for m in self.messages if address.lower() in (r.lower() for r in m.rcpt_tos)]

    def snapshot(self) -> list[ReceivedMail]:
        with self.lock:
            return list(self.messages)


# --------------------------------------------------------------------------- the portal


def portal_env(
    db_url: str,
    data_dir: Path,
    *,
    smtp_port: int | None = None,
    secret_key: str | None = None,
    base_url: str | None = None,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment an operator would set; nothing inherited from the test process's
    own SMARTSUPPORT_* variables (they point at the unit tests' database)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMARTSUPPORT_", "STREAMLIT_"))}
    env.update(
        {
            "SMARTSUPPORT_DATABASE_URL": db_url,
            "SMARTSUPPORT_DATA_DIR": str(data_dir),
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "STREAMLIT_SERVER_FILE_WATCHER_TYPE": "none",
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
        }
    )
    # with a database URL the portal refuses to start without a secret key (server mode)
    env["SMARTSUPPORT_SECRET_KEY"] = secret_key if secret_key is not None else "e2e-" + secrets.token_urlsafe(32)
    if base_url is not None:
        env["SMARTSUPPORT_BASE_URL"] = base_url
    if smtp_port is not None:
        env.update(
            {
                "SMARTSUPPORT_SMTP_HOST": "127.0.0.1",
                "SMARTSUPPORT_SMTP_PORT": str(smtp_port),
                "SMARTSUPPORT_SMTP_STARTTLS": "false",
                "SMARTSUPPORT_SMTP_SSL": "false",
                "SMARTSUPPORT_SMTP_FROM": "SmartSupport <helpdesk@example.com>",
            }
        )
    env.update(extra or {})
    return env


@dataclass
class Portal:
    """`smartsupport run --port N` as a subprocess, with its output captured to a log file."""

    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    #: The `smartsupport` command: the checkout's by default; an installed one (test_deploy).
    command: list[str] = field(default_factory=lambda: [sys.executable, "-m", "smartsupport_core.cli"])
    cwd: Path = ROOT
    run_args: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str, timeout: float = 120, input_text: str | None = None, env: dict[str, str] | None = None):
        """Run `smartsupport <args>` with the portal's settings; returns the CompletedProcess."""
        return subprocess.run(
            [*self.command, *args],
            env={**self.env, **(env or {})},
            cwd=str(self.cwd),
            capture_output=True,
            text=True,
            timeout=timeout,
            input=input_text,
        )

    def start(self, timeout: float = 90) -> Portal:
        return self.launch().wait_healthy(timeout)

    def launch(self) -> Portal:
        """Start `run` without waiting (replicas started at the same moment)."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [*self.command, "run", "--port", str(self.port), *self.run_args],
            env=self.env,
            cwd=str(self.cwd),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # one process group: `run` and its Streamlit child
        )
        return self

    def wait_healthy(self, timeout: float = 90) -> Portal:
        def healthy() -> bool:
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"portal exited with {self.proc.returncode}:\n{self.log()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as resp:
                    return resp.status == 200
            except OSError:
                return False

        wait_until(healthy, timeout, f"the portal's /_stcore/health on port {self.port}", interval=0.3)
        return self

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        self.proc = None
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


# --------------------------------------------------------------------------- the browser


def wait_idle(page, timeout: float = 60_000) -> None:
    """Wait until Streamlit has finished the script run the last action started.

    A rerun starts a few milliseconds after the click, so first give it a moment to leave
    `notRunning`, then wait for it to come back.
    """
    with contextlib.suppress(Exception):  # the run was already over (or never needed): fine
        page.wait_for_selector("[data-testid='stApp']:not([data-test-script-state='notRunning'])", timeout=1500)
    deadline = time.monotonic() + timeout / 1000
    while True:  # idle, and still idle a moment later (`st.rerun` chains a second run)
        page.wait_for_selector(APP_IDLE, timeout=max(1000, (deadline - time.monotonic()) * 1000))
        page.wait_for_timeout(300)
        if page.locator(APP_IDLE).count() or time.monotonic() > deadline:
            break


class Shots:
    """Numbered screenshots of each step under test-artifacts/e2e/<test>/."""

    def __init__(self, test_name: str) -> None:
        self.dir = ARTIFACTS / "e2e" / re.sub(r"[^A-Za-z0-9_.-]", "_", test_name)
        self.dir.mkdir(parents=True, exist_ok=True)
        for old in self.dir.glob("*.png"):
            old.unlink(missing_ok=True)
        self.n = 0

    def __call__(self, page, step: str) -> Path:
        self.n += 1
        path = self.dir / f"{self.n:02d}-{re.sub(r'[^A-Za-z0-9_-]', '_', step)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def exceptions_shown(page) -> list[str]:
    """Texts of Streamlit exception boxes on the page (a stack trace shown to a user)."""
    return [e.inner_text() for e in page.locator("[data-testid='stException']").all()]


# --------------------------------------------------------------------------- a private PostgreSQL


class PrivatePostgres:
    """A PostgreSQL server of our own (pgserver, on a unix socket in a temp dir) that a fault
    test may stop and start: never the machine's shared server, which other people use."""

    def __init__(self, root: Path | None = None) -> None:
        import tempfile

        if root is None:  # pgserver runs as its own OS user under root: the dir must be traversable
            root = Path(tempfile.mkdtemp(prefix="ss-private-pg-"))
            root.chmod(0o755)
        self.root = root
        self.pgdata = root / "pgdata"
        self.server: Any = None

    def start(self) -> PrivatePostgres:
        from smartsupport_core.db import start_pgserver

        if self.server is None:
            self.server = start_pgserver(self.pgdata)
        else:
            with self.server._lock:
                self.server.ensure_postgres_running()
        return self

    def stop(self) -> None:
        """Fast shutdown: the server ends every open session, as a restart would."""
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.pgdata, user=self.server.system_user, timeout=30)

    def url(self, database: str = "postgres") -> str:
        from smartsupport_core.db import to_sqlalchemy_url

        return to_sqlalchemy_url(self.server.get_uri(database))

    def close(self) -> None:
        import shutil

        if self.server is not None:
            with contextlib.suppress(Exception):
                self.server.cleanup()
        shutil.rmtree(self.root, ignore_errors=True)


# --------------------------------------------------------------------------- driving the portal


def key_locator(page, key: str):
    """The element Streamlit rendered for the widget with `key` (its `st-key-<key>` class)."""
    return page.locator(f".st-key-{re.sub(r'[^a-zA-Z0-9_-]', '-', key.strip())}")


def goto(page, portal: Portal, path: str = "") -> None:
    page.goto(f"{portal.url}/{path.lstrip('/')}")
    wait_idle(page)


def fill(page, key: str, value: str) -> None:
    box = key_locator(page, key).locator("input, textarea").first
    box.fill(value)
    box.press("Tab")  # commit the value (Streamlit reads text inputs on blur)


def choose(page, key: str, option: str, timeout: float = 60) -> None:
    """Pick `option` in the selectbox with `key`.

    Retried: on a loaded machine a late rerun may redraw the widget and close its list
    between the click that opens it and the click on the option.
    """
    deadline = time.monotonic() + timeout
    while True:
        wait_idle(page)
        try:
            key_locator(page, key).get_by_role("combobox").first.click(timeout=15_000)
            page.get_by_role("option", name=option, exact=True).first.click(timeout=10_000)
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            with contextlib.suppress(Exception):
                page.keyboard.press("Escape")
    wait_idle(page)


def click_button(page, name: str, *, key: str | None = None) -> None:
    scope = key_locator(page, key) if key else page
    scope.get_by_role("button", name=name, exact=True).first.click()
    wait_idle(page)


def sign_in(page, portal: Portal, email: str, password: str, *, remember: bool = False) -> None:
    goto(page, portal, "sign-in")
    fill(page, "sign_in_email", email)
    fill(page, "sign_in_password", password)
    if remember:
        key_locator(page, "sign_in_remember").locator("label").first.click()
    click_button(page, "Sign in")

    def outcome() -> str | None:
        if "Signed in as" in main_text(page):
            return "in"
        if page.locator("[data-testid='stMain'] [data-testid='stAlert']").count():
            return "refused"
        return None

    if wait_until(outcome, 30, "the sign-in outcome") == "in":
        # the session cookie is written by the run after sign-in; a later page.goto (a new
        # Streamlit session) is signed in only once the browser has it
        wait_until(
            lambda: any(c["name"] == "smartsupport_session" for c in page.context.cookies()), 30, "the session cookie"
        )
    wait_idle(page)


def nav(page, path: str) -> None:
    """Open a page through the sidebar (same Streamlit session), as a person would."""
    page.locator(f"[data-testid='stSidebarNav'] a[href$='/{path}']").first.click()
    wait_idle(page)


def sign_out(page) -> None:
    click_button(page, "Sign out", key="sign_out")


def main_text(page) -> str:
    """The text of the page's main area (not the sidebar)."""
    return page.locator("[data-testid='stMain']").inner_text()


def expect_text(page, text: str, timeout: float = 60) -> str:
    """Wait until the main area shows `text` (a loaded machine may start a rerun late)."""
    try:
        wait_until(lambda: text in main_text(page), timeout, f"{text!r} on {page.url}", interval=0.3)
    except AssertionError as exc:
        failures = ARTIFACTS / "e2e" / "failures"
        failures.mkdir(parents=True, exist_ok=True)
        shot = failures / f"{time.strftime('%H%M%S')}-{uuid.uuid4().hex[:6]}.png"
        page.screenshot(path=str(shot), full_page=True)
        raise AssertionError(f"{exc}\nscreenshot: {shot}\npage text:\n{main_text(page)[:1500]}") from None
    wait_idle(page)
    return main_text(page)


def add_person(
    s, email: str, first: str, last: str, role: str, department: str, company_id: str, *, password: str
) -> int:
    """An approved account written straight to the database (a journey's cast), its id."""
    from smartsupport_core.models import Employee
    from smartsupport_core.passwords import hash_password

    emp = Employee(
        first_name=first,
        last_name=last,
        email=email,
        company_id=company_id,
        department=department,
        role=role,
        status="Approved",
        password=hash_password(password),
    )
    s.add(emp)
    s.flush()
    return emp.id
