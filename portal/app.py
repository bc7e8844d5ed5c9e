"""Portal entry point: `streamlit run portal/app.py` (or `smartsupport run`).

Builds the page list for the signed-in role from `portal.nav.PAGES` and runs
`st.navigation`; it lives outside `pages/` so Streamlit's legacy auto-discovery stays off.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run portal/app.py` from anywhere
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from portal import auth, state  # noqa: E402
from portal.nav import PAGES  # noqa: E402
from smartsupport_core.audit import set_request_info  # noqa: E402
from smartsupport_core.policy import allowed  # noqa: E402

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

    sections: OrderedDict[str, list] = OrderedDict()
    for spec in PAGES:
        if user is None:
            visible = spec.public
        else:
            visible = not spec.visitors_only and (spec.needs is None or allowed(user, spec.needs))
        if not visible:
            continue
        page = st.Page(
            str(ROOT / "pages" / spec.file),
            title=spec.title,
            icon=spec.icon,
            url_path=spec.url_path,
            default=spec.default,
        )
        sections.setdefault(spec.section, []).append(page)

    nav = st.navigation(dict(sections))
    nav.run()


try:
    main()
except Exception as exc:  # only the database being unreachable is handled here
    if not state.database_unreachable(exc):
        raise
