"""`smartsupport run` stops cleanly on SIGTERM sent to it alone (what `kill` or a service
manager does): its Streamlit child goes too and the port is free again."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from pathlib import Path

import pytest

from tests.e2e.harness import ARTIFACTS, Portal, create_throwaway_database, drop_database, portal_env, wait_until

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


def test_sigterm_to_run_stops_the_portal(db_url: str, tmp_path) -> None:
    url = create_throwaway_database(db_url)
    children: list[int] = []
    portal = Portal(env=portal_env(url, tmp_path), log_path=ARTIFACTS / "e2e" / "run-sigterm.log")
    try:
        portal.start()
        pid = portal.proc.pid
        children += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        assert children, "the Streamlit child process"
        os.kill(pid, signal.SIGTERM)  # the `run` process only, not its group
        portal.proc.wait(timeout=30)
        wait_until(lambda: not any(_alive(c) for c in children), 30, "the Streamlit child to exit")
        wait_until(lambda: not _port_open(portal.port), 30, f"port {portal.port} to be free")
    finally:
        portal.stop()
        for child in children:  # left behind only when the test fails
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        drop_database(url)
