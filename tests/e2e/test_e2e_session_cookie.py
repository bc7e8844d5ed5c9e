"""The session cookie is set by the server (issue 13): HttpOnly, SameSite=Lax, a browser-
session cookie without "keep me signed in", 30 days with it; never readable by the page's
JavaScript; cross-site calls to the cookie route are refused; every response carries the
Content-Security-Policy."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from portal.session_cookie import COOKIE_NAME, CSP, SESSION_PATH
from tests.e2e.harness import goto, sign_in, sign_out, wait_until
from tests.e2e.test_e2e_security import _approved_employee

pytestmark = pytest.mark.browser


def _session_cookie(page) -> dict | None:
    return next((c for c in page.context.cookies() if c["name"] == COOKIE_NAME), None)


@pytest.mark.parametrize("remember", [False, True], ids=["session", "remembered"])
def test_cookie_is_httponly_lax_and_lives_as_chosen(portal, portal_db, new_page, remember):
    email = f"cookie.{'kept' if remember else 'session'}@e2e.example.com"
    password = "Cookie#Check2026"
    _approved_employee(portal_db, email, "MA9111" if remember else "MA9112", password)
    page = new_page()
    sign_in(page, portal, email, password, remember=remember)
    cookie = _session_cookie(page)
    assert cookie is not None
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax" and cookie["path"] == "/"
    assert cookie["secure"] is False  # plain HTTP here; Secure is set when the request is HTTPS
    if remember:
        assert abs(cookie["expires"] - (time.time() + 30 * 86400)) < 3600
    else:
        assert cookie["expires"] == -1  # a browser-session cookie: no Expires/Max-Age
    assert COOKIE_NAME not in page.evaluate("document.cookie")  # page scripts cannot read it
    # a new page load (a new Streamlit session) is signed in through the cookie
    goto(page, portal, "")
    wait_until(lambda: "Signed in as" in page.locator("[data-testid='stMain']").inner_text(), 60, "signed in")
    sign_out(page)
    wait_until(lambda: _session_cookie(page) is None, 30, "the cookie to be cleared")


def test_cookie_route_refuses_cross_site_calls(portal):
    request = urllib.request.Request(
        portal.url + SESSION_PATH,
        data=json.dumps({"token": "x", "remember": True}).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Origin": "https://evil.example"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=10)
    assert info.value.code == 403
    assert "set-cookie" not in {k.lower() for k in info.value.headers}


def test_every_response_carries_the_security_headers(portal):
    with urllib.request.urlopen(portal.url + "/", timeout=10) as response:
        headers = {k.lower(): v for k, v in response.headers.items()}
    assert headers["content-security-policy"] == CSP
    assert "frame-ancestors 'self'" in CSP and "object-src 'none'" in CSP
    assert headers["x-content-type-options"] == "nosniff"
