"""Portal entry point: `streamlit run portal/app.py` (or `smartsupport run`).

Builds the page list for the signed-in role from `portal.nav.PAGES` (grouped in its
`SECTIONS`) and runs `st.navigation`; it lives outside `pages/` so Streamlit's legacy
auto-discovery stays off. A database that cannot be reached shows a plain message and a
"Try again" button, not a stack trace (`state.database_unreachable`).
"""

from __future__ import annotations

import streamlit as st

from portal import auth, state, timing
from portal.nav import page_file
from portal.nav import sections_for as nav_sections
from smartsupport_core.audit import set_request_info
from smartsupport_core.reporting import offload

st.set_page_config(page_title="SmartSupport", page_icon=":material/support_agent:", layout="wide")

try:
    ctx = st.context
    set_request_info(getattr(ctx, "ip_address", None), ctx.headers.get("User-Agent") if ctx.headers else None)
except Exception:  # AppTest and bare mode have no request context
    set_request_info(None, None)


@st.cache_resource(show_spinner=False)
def _report_processes_started() -> bool:
    """Once per portal process: start the dashboard's report processes (`reporting.offload`)
    now, so the first manager to open the dashboard does not wait for them to start."""
    offload.warm()
    return True


def main() -> None:
    _report_processes_started()
    auth.restore()  # a remembered cookie or SSO identity, re-checked in the database
    user = state.current_user()
    auth.sync_cookie()
    if user is not None:
        auth.sidebar(user)

    sections = {
        name: [
            st.Page(
                page_file(spec.file),
                title=spec.title,
                icon=spec.icon,
                url_path=spec.url_path,
                default=spec.default,
                visibility="hidden" if spec.hidden else "visible",
            )
            for spec in specs
        ]
        for name, specs in nav_sections(user, state.grants_of(user)).items()
    }
    nav = st.navigation(sections, expanded=True)  # every page in view, no "View more"
    if (stats := timing.current()) is not None:
        stats.page = nav.url_path
    nav.run()


# One database session and connection for the whole run (the page's `with state.session()`
# blocks share it), and the run's cost recorded when SMARTSUPPORT_TIMING is set.
with state.run_scope(), timing.measure("run", state.engine):
    try:
        main()
    except Exception as exc:  # only the database being unreachable is handled here
        if not state.database_unreachable(exc):
            raise
