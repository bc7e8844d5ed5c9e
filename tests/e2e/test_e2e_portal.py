"""The portal as an operator starts it: a fresh database, served, reachable, no error shown."""

from __future__ import annotations

import urllib.request

import pytest

from tests.e2e.harness import exceptions_shown, wait_idle

pytestmark = pytest.mark.browser


def test_fresh_portal_serves_home_page(portal, new_page, shots):
    with urllib.request.urlopen(portal.url + "/_stcore/health", timeout=5) as resp:
        assert resp.read().strip() == b"ok"
    page = new_page()
    page.goto(portal.url)
    wait_idle(page)
    shots(page, "home")
    assert page.get_by_role("heading", name="SmartSupport").first.is_visible()
    assert exceptions_shown(page) == []
    assert "Traceback" not in page.content()
