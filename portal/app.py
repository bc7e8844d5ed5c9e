"""Portal entry point: `streamlit run portal/app.py` (or `smartsupport run`).

Builds the page list for the signed-in role from `portal.nav.PAGES` (grouped in its
`SECTIONS`) and runs `st.navigation`; it lives outside `pages/` so Streamlit's legacy
auto-discovery stays off. A database that cannot be reached shows a plain message and a
"Try again" button, not a stack trace (`state.database_unreachable`).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run portal/app.py` from anywhere
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from portal import auth, state  # noqa: E402
from portal.nav import sections_for as nav_sections  # noqa: E402
from smartsupport_core.audit import set_request_info  # noqa: E402

st.set_page_config(page_title="SmartSupport", page_icon=":material/support_agent:", layout="wide")

try:
    ctx = st.context
    set_request_info(getattr(ctx, "ip_address", None), ctx.headers.get("User-Agent") if ctx.headers else None)
except Exception:  # AppTest and bare mode have no request context
    set_request_info(None, None)


def main() -> None:
    auth.restore()  # a remembered cookie or SSO identity, re-checked in the database
    user = state.current_user()
    auth.sync_cookie()
    if user is not None:
        auth.sidebar(user)

    sections = {
        name: [
            st.Page(
                str(ROOT / "pages" / spec.file),
                title=spec.title,
                icon=spec.icon,
                url_path=spec.url_path,
                default=spec.default,
            )
            for spec in specs
        ]
        for name, specs in nav_sections(user, state.grants_of(user)).items()
    }
    nav = st.navigation(sections, expanded=True)  # every page in view, no "View more"
    nav.run()


try:
    main()
except Exception as exc:  # only the database being unreachable is handled here
    if not state.database_unreachable(exc):
        raise
