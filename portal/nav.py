"""The page registry: which page each role may reach.

A page left out of `st.navigation` cannot be reached by URL, so building the list from the
policy is the access control of the portal's navigation (the core checks again anyway).
"""

from __future__ import annotations

from dataclasses import dataclass

from smartsupport_core.policy import Action

PAGES_DIR = "../pages"


@dataclass(frozen=True)
class PageSpec:
    file: str  # under pages/
    title: str
    icon: str
    section: str
    needs: Action | None = None  # None: every signed-in user
    url_path: str | None = None
    public: bool = False  # shown to visitors who are not signed in
    default: bool = False


#: Order here is the order in the sidebar. Later issues append their pages.
PAGES: list[PageSpec] = [
    PageSpec("home.py", "Home", ":material/home:", "SmartSupport", url_path="home", public=True, default=True),
    PageSpec("outbox.py", "E-mail outbox", ":material/outgoing_mail:", "Administration", needs=Action.VIEW_OUTBOX,
             url_path="outbox"),
]
