"""Shared set-up of the AppTest page tests: the portal, signed in as a user, on a page."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from smartsupport_core.models import Employee

APP = str(Path(__file__).resolve().parent.parent / "portal" / "app.py")
PAGES = Path(APP).parent.parent / "pages"


def portal_app(user: Employee | None = None, *, script: str = APP, **query: str) -> AppTest:
    """The portal (or another `script`) under AppTest, signed in as `user` (a visitor when
    None), with `query` as the URL's query parameters. Not run yet."""
    at = AppTest.from_file(script, default_timeout=60)
    if user is not None:
        at.session_state["user_id"] = user.id
        at.session_state["session_version"] = user.session_version
    for key, value in query.items():
        at.query_params[key] = value
    return at


def signed_in(user: Employee | None, **query: str) -> AppTest:
    """`portal_app` run once (which also registers the pages of st.navigation)."""
    return portal_app(user, **query).run()


def open_page(user: Employee | None, page: str, **query: str) -> AppTest:
    """Signed in as `user` and switched to pages/`page`; fails if the page raised."""
    at = signed_in(user, **query)
    at.switch_page(f"../pages/{page}").run()
    assert not at.exception, at.exception
    return at


def page_script(user: Employee | None, page: str) -> AppTest:
    """pages/`page` run by itself, not through the navigation (what a page does when it is
    reached although the navigation does not offer it), signed in as `user`."""
    return portal_app(user, script=str(PAGES / page)).run()
