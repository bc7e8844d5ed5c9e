"""The deployment of README "Deploy", run for real without containers (issue 16).

What compose.yaml runs, as processes on this machine: the wheel installed into a fresh
virtualenv in an empty directory (nothing imported from the checkout), a migrate step
(`smartsupport db upgrade`), two portal replicas (`run --no-migrate`), a worker, and Debian's
HAProxy with deploy/haproxy.cfg (the same file compose mounts) in front. Chromium goes
through the proxy: signs in, submits a ticket with an attachment, loses its replica (SIGTERM)
and reloads: still signed in on the other replica, the ticket opens and the attachment
downloads byte for byte. The worker's e-mails reach a local SMTP sink. Then a backup is
restored into a new database and compared, and two replicas started at the same moment on
an empty database migrate it once. Every process is stopped by its PID.
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import time
import types
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.e2e.harness import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    Portal,
    choose,
    click_button,
    create_throwaway_database,
    drop_database,
    expect_text,
    fill,
    free_port,
    goto,
    key_locator,
    portal_env,
    sign_in,
    wait_idle,
    wait_until,
)
from tests.smtp_sink import SmtpSink

pytestmark = [pytest.mark.slow, pytest.mark.browser]

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
SECRET = "deploy-test-secret-0123456789abcdef0123456789"
ADMIN = {"email": "ops@deploy.example.com", "password": "Dep1oy#pass"}
LOGS = ARTIFACTS / "deploy"
#: Not copied into the wheel's build tree: environments, caches, build leftovers.
NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", "test-artifacts",
                                     ".smartsupport", ".pytest_cache", ".ruff_cache", "bench")


def png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (21, 101, 192)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[types.SimpleNamespace]:
    """The wheel built from a copy of the sources (no stale build/ dir can leak into it),
    installed into a fresh virtualenv; the commands run in an empty directory."""
    if not CHROMIUM.exists() or not Path(HAPROXY).exists():
        pytest.skip(f"needs Debian's chromium and haproxy ({CHROMIUM}, {HAPROXY}); .ci/run installs them")
    base = tmp_path_factory.mktemp("deploy")
    timings: dict[str, float] = {}
    started = time.monotonic()
    shutil.copytree(ROOT, base / "src", ignore=NOT_SOURCES)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(base / "wheels"), str(base / "src")],
        check=True, capture_output=True, timeout=600,
    )
    timings["wheel"] = time.monotonic() - started
    (wheel,) = (base / "wheels").glob("smartsupport-*.whl")
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(base / "venv")], check=True, timeout=300)
    # --no-compile: byte-compiling every dependency is most of the install's CPU time; the
    # modules a process imports are compiled on first import anyway
    subprocess.run([str(base / "venv/bin/pip"), "install", "-q", "--no-compile", str(wheel)],
                   check=True, capture_output=True, timeout=1200)
    timings["venv"] = time.monotonic() - started
    workdir = base / "empty"
    workdir.mkdir()
    LOGS.mkdir(parents=True, exist_ok=True)
    (LOGS / "install-timings.txt").write_text(
        f"wheel build {timings['wheel']:.0f} s, fresh venv + pip install {timings['venv']:.0f} s, "
        f"load average {os.getloadavg()[0]:.1f}\n"
    )
    yield types.SimpleNamespace(cli=[str(base / "venv/bin/smartsupport")], workdir=workdir, base=base)


def deploy_env(installed, db_url: str, smtp_port: int, base_url: str) -> dict[str, str]:
    env = portal_env(db_url, installed.base / "data", smtp_port=smtp_port, secret_key=SECRET, base_url=base_url)
    env.pop("PYTHONPATH")  # the installed package only, never the checkout
    return env


def replica(installed, env: dict[str, str], name: str, *run_args: str) -> Portal:
    log = LOGS / f"{name}.log"
    log.unlink(missing_ok=True)
    return Portal(env=env, log_path=log, command=installed.cli, cwd=installed.workdir, run_args=run_args)


def stop(proc: subprocess.Popen | None) -> None:
    """SIGTERM the process (group) by its PID, then wait; SIGKILL if it does not end."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    except ProcessLookupError:
        pass


def row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = conn.scalars(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
            ).all()
            return {t: conn.scalar(text(f'SELECT count(*) FROM "{t}"')) for t in tables}
    finally:
        engine.dispose()


def stored_files(url: str) -> dict[str, bytes]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT path, content FROM core_filecontent")).tuples().all())
    finally:
        engine.dispose()


def test_two_replicas_behind_haproxy_survive_losing_one(installed, db_url: str) -> None:
    url = create_throwaway_database(db_url, "ss_deploy")
    restored_url = create_throwaway_database(db_url, "ss_restored")
    drop_database(restored_url)  # `restore` creates it, as on a new server
    proxy_port = free_port()
    proxy = f"http://127.0.0.1:{proxy_port}"
    procs: list[subprocess.Popen] = []
    portals: list[Portal] = []
    LOGS.mkdir(parents=True, exist_ok=True)
    logs = [open(LOGS / name, "wb") for name in ("worker.log", "haproxy.log")]  # noqa: SIM115 - closed below
    sink = SmtpSink().start()
    env = deploy_env(installed, url, sink.port, proxy)
    cli = Portal(env=env, log_path=LOGS / "cli.log", command=installed.cli, cwd=installed.workdir).cli
    try:
        migrated = cli("db", "upgrade")  # compose's one-off migrate service
        assert migrated.returncode == 0 and "database migrated from (empty)" in migrated.stdout, migrated.stderr
        made = cli("create-admin", "--email", ADMIN["email"], "--company-id", "MA7001", "--first-name", "Olga",
                   "--last-name", "Ops", env={"SMARTSUPPORT_ADMIN_PASSWORD": ADMIN["password"]})
        assert made.returncode == 0, made.stderr
        portals = [replica(installed, env, f"portal{i}", "--no-migrate").launch() for i in (1, 2)]
        for p in portals:
            p.wait_healthy(240)
        assert not any("migrated" in p.log() for p in portals)  # --no-migrate
        procs.append(subprocess.Popen([*installed.cli, "worker", "--poll-interval", "0.5"], env=env,
                                      cwd=installed.workdir, stdout=logs[0], stderr=subprocess.STDOUT,
                                      start_new_session=True))
        proxy_env = {**env, "PROXY_BIND": f"127.0.0.1:{proxy_port}",
                     "PORTAL1_ADDR": f"127.0.0.1:{portals[0].port}", "PORTAL2_ADDR": f"127.0.0.1:{portals[1].port}"}
        procs.append(subprocess.Popen([HAPROXY, "-db", "-f", str(ROOT / "deploy" / "haproxy.cfg")], env=proxy_env,
                                      stdout=logs[1], stderr=subprocess.STDOUT,
                                      start_new_session=True))
        wait_until(lambda: _answers(proxy + "/_stcore/health"), 30, "HAProxy in front of the replicas")
        health = cli("health", "--portal", proxy)
        assert health.returncode == 0, health.stderr

        attachment = png()
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.set_default_timeout(90_000)
            network = open(LOGS / "browser.log", "w")  # noqa: SIM115 - closed with the browser
            page.on("response", lambda r: print(r.status, r.request.method, r.url, file=network, flush=True))
            page.on("console", lambda m: print("console:", m.type, m.text, file=network, flush=True))
            site = types.SimpleNamespace(url=proxy)
            sign_in(page, site, ADMIN["email"], ADMIN["password"])
            goto(page, site, "submit")
            choose(page, "submit_0_category", "Others")
            fill(page, "submit_0_subject", "Projector in room 3 flickers")
            fill(page, "submit_0_description", "The projector in meeting room 3 flickers every few seconds.")
            wait_idle(page)  # the rerun the last field started would redraw the uploader mid-upload
            key_locator(page, "submit_0_files").locator("input[type=file]").set_input_files(
                files=[{"name": "flicker.png", "mimeType": "image/png", "buffer": attachment}]
            )
            try:
                wait_until(lambda: "flicker.png" in key_locator(page, "submit_0_files").inner_text(), 60,
                           "the upload to finish")
            except AssertionError:
                page.screenshot(path=str(LOGS / "upload.png"), full_page=True)
                raise
            wait_idle(page)
            click_button(page, "Submit ticket")
            expect_text(page, "was submitted")
            engine = create_engine(url)
            with engine.connect() as conn:
                ticket_id, number = conn.execute(text("SELECT id, ticket_number FROM core_ticket")).one()
                att_id = conn.scalar(text("SELECT id FROM core_ticketattachment"))
            assert att_id is not None, "the attachment was not stored with the ticket"
            engine.dispose()

            serving = next(c["value"] for c in page.context.cookies() if c["name"] == "SMARTSUPPORT_REPLICA")
            victim, survivor = (portals[0], portals[1]) if serving == "portal1" else (portals[1], portals[0])
            victim.stop()  # SIGTERM to the replica this browser was served by
            page.reload()
            wait_idle(page)
            goto(page, site, f"ticket?id={ticket_id}")
            expect_text(page, number)  # signed in (the ticket is not shown to visitors) on the survivor
            page.get_by_role("tab", name="Details and files").click()
            expect_text(page, "flicker.png")
            now_serving = next(c["value"] for c in page.context.cookies() if c["name"] == "SMARTSUPPORT_REPLICA")
            assert now_serving != serving and survivor.proc.poll() is None
            with page.expect_download() as download:
                key_locator(page, f"dl_{att_id}").get_by_role("button").click()
            assert Path(download.value.path()).read_bytes() == attachment
            browser.close()

        def mailed() -> bool:
            return any(number in m.message.get("Subject", "") + str(m.message) for m in sink.messages)

        wait_until(mailed, 90, f"the worker's e-mail about {number} in the SMTP sink")
        assert not (installed.base / "data" / "attachments").exists()  # the bytes live in the database
        assert stored_files(url) and list(stored_files(url).values()) == [attachment]

        backup = installed.base / "backup.dump"
        done = cli("backup", str(backup))
        assert done.returncode == 0, done.stderr
        restore_env = {"SMARTSUPPORT_DATABASE_URL": restored_url}
        done = cli("restore", str(backup), env=restore_env)
        assert done.returncode == 0, done.stderr
        assert row_counts(restored_url) == row_counts(url)
        assert stored_files(restored_url) == stored_files(url)
        again = cli("restore", str(backup), env=restore_env)
        assert again.returncode == 2 and "not empty" in again.stderr
    finally:
        for proc in procs:
            stop(proc)
        for p in portals:
            p.stop()
        sink.stop()
        for log in logs:
            log.close()
        drop_database(url)
        drop_database(restored_url)


def _answers(address: str) -> bool:
    try:
        with urllib.request.urlopen(address, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def test_replicas_started_together_on_an_empty_database_migrate_once(installed, db_url: str) -> None:
    url = create_throwaway_database(db_url, "ss_together")
    env = deploy_env(installed, url, free_port(), "http://127.0.0.1:8080")
    portals = [replica(installed, env, f"together{i}") for i in (1, 2)]
    try:
        for p in portals:
            p.launch()
        for p in portals:
            p.wait_healthy(240)
        logs = [p.log() for p in portals]
        assert sum("database migrated from (empty)" in log for log in logs) == 1, logs
        assert sum("database already at" in log for log in logs) == 1, logs
        assert not any("Traceback" in log for log in logs), logs
    finally:
        for p in portals:
            p.stop()
        drop_database(url)
