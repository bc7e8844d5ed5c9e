"""The portal's server: `smartsupport run` starts `streamlit run portal/server.py`.

Streamlit 1.67's `st.App` (streamlit/web/server/starlette/starlette_app.py) runs the same
Streamlit server as `streamlit run portal/app.py`, plus our own route and middleware:
`portal.session_cookie` sets the session cookie from the server (HttpOnly) and adds the
security headers (Content-Security-Policy, nosniff, referrer policy) to every response.
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.routing import Route
from streamlit.starlette import App

from portal.session_cookie import SESSION_PATH, SecurityHeaders, session_endpoint

app = App(
    "app.py",
    routes=[Route(SESSION_PATH, session_endpoint, methods=["POST", "DELETE"])],
    middleware=[Middleware(SecurityHeaders)],
)
