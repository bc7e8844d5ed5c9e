"""The portal as an operator starts it: a fresh database, served, reachable, no error shown."""

from __future__ import annotations

import re
import urllib.request

import pytest

from tests.e2e.harness import exceptions_shown, goto, sign_in, wait_idle

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


def test_admin_sidebar_shows_every_page_in_sections(portal, admin_account, new_page, shots):
    """An admin has more than ten pages: all of them are listed, grouped, none behind "View more"."""
    from portal.nav import sections_for
    from smartsupport_core.models import Employee

    admin = Employee(role="System Admin", status="Approved", is_active=True, department="IT Department")
    expected = sections_for(admin)
    page = new_page()
    sign_in(page, portal, admin_account["email"], admin_account["password"])
    goto(page, portal, "")
    shots(page, "admin-sidebar")
    assert "Page not found" not in page.content()
    sidebar_nav = page.locator("[data-testid='stSidebarNav']")
    titles = [a.inner_text().strip().splitlines()[-1] for a in sidebar_nav.locator("a").all()]  # after the icon
    assert titles == [spec.title for specs in expected.values() for spec in specs if not spec.hidden]
    assert len(titles) > 12  # more than Streamlit shows before folding the rest away
    assert sidebar_nav.get_by_text(re.compile(r"View( \d+)? more")).count() == 0
    headers = sidebar_nav.inner_text()
    for section in (s for s in expected if s):
        assert section in headers
