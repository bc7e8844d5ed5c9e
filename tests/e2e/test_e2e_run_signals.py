"""`smartsupport run` stops cleanly on SIGTERM sent to it alone (what `kill` or a service
manager does): its Streamlit child goes too, and so do the report processes a page run
started (`reporting.offload`), and the port is free again."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from pathlib import Path

import pytest

from tests.e2e.harness import (
    ARTIFACTS,
    Portal,
    create_throwaway_database,
    drop_database,
    portal_env,
    wait_idle,
    wait_until,
)

pytestmark = pytest.mark.browser


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:  # gone (and reaped)
        return False
    return stat.split(") ", 1)[1][0] != "Z"  # a zombie has exited


def _children(pid: int) -> list[int]:
    """Child processes of `pid`, started by any of its threads."""
    return [int(c) for task in Path(f"/proc/{pid}/task").iterdir() for c in (task / "children").read_text().split()]


def test_sigterm_to_run_stops_the_portal(db_url: str, tmp_path, new_page) -> None:
    url = create_throwaway_database(db_url)
    children: list[int] = []
    portal = Portal(env=portal_env(url, tmp_path), log_path=ARTIFACTS / "e2e" / "run-sigterm.log")
    try:
        portal.start()
        pid = portal.proc.pid
        children += _children(pid)
        assert children, "the Streamlit child process"
        page = new_page()
        page.goto(portal.url)  # a script run: it starts the report processes
        wait_idle(page)
        workers = wait_until(lambda: [w for c in children for w in _children(c)], 30, "the report processes")
        children += workers
        os.kill(pid, signal.SIGTERM)  # the `run` process only, not its group
        portal.proc.wait(timeout=30)
        wait_until(lambda: not any(_alive(c) for c in children), 30, "the Streamlit child and report processes to exit")
        wait_until(lambda: not _port_open(portal.port), 30, f"port {portal.port} to be free")
    finally:
        portal.stop()
        for child in children:  # left behind only when the test fails
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        drop_database(url)
