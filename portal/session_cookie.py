"""The session cookie, set and cleared by the server: HttpOnly, SameSite=Lax, Secure under HTTPS.

WHY a route of our own: Streamlit scripts talk to the browser over a websocket and cannot
send a `Set-Cookie` header, so a cookie written from the script has to go through JavaScript
(streamlit-authenticator's CookieManager component) and cannot be HttpOnly. Streamlit
1.67 serves through Starlette and its `st.App` (streamlit/web/server/starlette/
starlette_app.py, class `App`) takes extra routes and middleware; `portal/server.py` mounts
`SESSION_PATH` here. After a sign-in the script hands the browser a one-minute *hand-off*
token (`login.issue_token`, lifetime `HANDOFF_FOR`); a tiny component posts it here with
`fetch` (same origin, JSON); this route checks it and answers with the real session token in
a cookie the page's JavaScript can never read:

* `HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure` when the request came over HTTPS (directly
  or through a proxy that says so in `X-Forwarded-Proto`);
* "keep me signed in": `Max-Age` = 30 days; otherwise no `Max-Age`/`Expires` (a browser-
  session cookie) and a token that expires after `login.SESSION_FOR` anyway.

Cross-site requests are refused (the `Origin` must be this host; a JSON body cannot be sent
cross-site without a CORS pre-flight we never answer), so another site cannot sign a browser
in or out. Everything else about the token (signature, session version, account state) is
checked on every restore by `login.resolve_token`, as before.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from urllib.parse import urlsplit

from smartsupport_core import login
from smartsupport_core import settings as core_settings

COOKIE_NAME = "smartsupport_session"
SESSION_PATH = "/_ss/session"
HANDOFF_FOR = dt.timedelta(minutes=1)
MAX_BODY = 4096


def cookie_attributes(*, https: bool, remember: bool, lifetime: dt.timedelta) -> dict[str, Any]:
    """The keyword arguments of Starlette's `Response.set_cookie` for the session cookie."""
    return {
        "path": "/",
        "httponly": True,
        "samesite": "lax",
        "secure": https,
        "max_age": int(lifetime.total_seconds()) if remember else None,
    }


def _secret() -> str:
    from portal.state import _secrets

    return core_settings.load_settings(_secrets()).secret_key


def _https(request: Any) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def _same_origin(request: Any) -> bool:
    origin = request.headers.get("origin")
    if not origin:
        return False
    host = request.headers.get("x-forwarded-host") or request.headers.get("host") or ""
    return urlsplit(origin).netloc.lower() == host.split(",")[0].strip().lower()


async def session_endpoint(request: Any) -> Any:
    """POST {"token": hand-off, "remember": bool}: set the cookie. DELETE: clear it."""
    from starlette.responses import PlainTextResponse, Response

    if not _same_origin(request):
        return PlainTextResponse("cross-site request refused", status_code=403)
    https = _https(request)
    if request.method == "DELETE":
        response = Response(status_code=204)
        response.delete_cookie(COOKIE_NAME, path="/", secure=https, httponly=True, samesite="lax")
        return response
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return PlainTextResponse("expected JSON", status_code=415)
    body = await request.body()
    try:
        data = json.loads(body[:MAX_BODY]) if len(body) <= MAX_BODY else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("token"), str):
        return PlainTextResponse("bad request", status_code=400)
    secret = _secret()
    claims = login.token_claims(data["token"], secret)
    if claims is None:
        return PlainTextResponse("the hand-off has expired; sign in again", status_code=400)
    remember = data.get("remember") is True
    lifetime = login.REMEMBER_FOR if remember else login.SESSION_FOR
    token = login.token_for(claims["uid"], claims["sv"], secret, lifetime=lifetime)
    response = Response(status_code=204)
    response.set_cookie(COOKIE_NAME, token, **cookie_attributes(https=https, remember=remember, lifetime=lifetime))
    return response


def browser_call_html(method: str, body: dict[str, Any] | None = None) -> str:
    """The component that makes the browser call SESSION_PATH (same origin, cookies included)."""
    payload = json.dumps(json.dumps(body)) if body is not None else "undefined"
    return (
        "<script>fetch(new URL(" + json.dumps(SESSION_PATH) + ", window.parent.location.href), "
        "{method: " + json.dumps(method) + ", credentials: 'same-origin', "
        "headers: {'Content-Type': 'application/json'}, body: " + payload + "});</script>"
    )


#: Headers on every HTTP response of the portal. The policy keeps what Streamlit needs
#: (its own scripts and inline styles, component iframes from srcdoc, websockets to itself,
#: data:/blob: images) and forbids plugins, foreign framing, <base> and form posts elsewhere.
#: 'unsafe-inline'/'unsafe-eval' scripts stay allowed: Streamlit's components (ours included)
#: run inline scripts in srcdoc iframes, which inherit this policy, and its charts use eval.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self' ws: wss:",
        "frame-src 'self' blob: data:",
        "worker-src 'self' blob:",
        "media-src 'self' data: blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ]
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware adding SECURITY_HEADERS to every HTTP response (not websockets)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict) -> None:
            if message.get("type") == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)
