"""The page registry: which page each role may reach.

A page left out of `st.navigation` cannot be reached by URL, so building the list from the
policy is the access control of the portal's navigation (the core checks again anyway).
"""

from __future__ import annotations

from dataclasses import dataclass

from smartsupport_core.models import Employee
from smartsupport_core.policy import NO_GRANTS, Action, Grants, allowed
from smartsupport_core.resources import pages_dir

PAGES_PATH = pages_dir()


def page_file(file: str) -> str:
    """Absolute path of a page script, as `st.switch_page` / `st.page_link` want it."""
    return str(PAGES_PATH / file)


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
    visitors_only: bool = False  # shown only to visitors (Sign in, Register)
    #: Reachable by URL and links, not listed in the sidebar (the ticket page is opened from
    #: a list or a link; listed, it was a dead-end picker).
    hidden: bool = False


#: The sidebar's sections, top to bottom ("" is the untitled top group: Home). Every page is
#: shown (`st.navigation(..., expanded=True)`): an admin's 14 pages would otherwise fold
#: behind "View more".
SECTIONS = ("", "Tickets", "Help", "Reports", "Administration", "Account")

#: Order within a section is the order in the sidebar. Later issues append their pages.
PAGES: list[PageSpec] = [
    PageSpec("home.py", "Home", ":material/home:", "", url_path="home", public=True, default=True),
    PageSpec("submit_ticket.py", "Submit a ticket", ":material/add_circle:", "Tickets", Action.CREATE_TICKET, "submit"),
    PageSpec(
        "my_tickets.py",
        "My tickets",
        ":material/confirmation_number:",
        "Tickets",
        Action.VIEW_OWN_TICKETS,
        "my-tickets",
    ),
    PageSpec("ticket.py", "Ticket", ":material/description:", "Tickets", Action.VIEW_OWN_TICKETS, "ticket",
             hidden=True),
    PageSpec("queue.py", "Queue", ":material/view_list:", "Tickets", needs=Action.USE_QUEUE, url_path="queue"),
    PageSpec("dashboard.py", "SLA dashboard", ":material/monitoring:", "Reports", Action.VIEW_REPORTS, "dashboard"),
    PageSpec("sign_in.py", "Sign in", ":material/login:", "Account", url_path="sign-in", public=True,
             visitors_only=True),
    PageSpec("register.py", "Register", ":material/person_add:", "Account", url_path="register", public=True,
             visitors_only=True),
    PageSpec("profile.py", "My profile", ":material/account_circle:", "Account", url_path="profile"),
    PageSpec("accounts_admin.py", "Accounts", ":material/manage_accounts:", "Administration",
             needs=Action.MANAGE_ACCOUNTS, url_path="accounts"),
    PageSpec("outbox.py", "E-mail outbox", ":material/outgoing_mail:", "Administration", needs=Action.VIEW_OUTBOX,
             url_path="outbox"),
    PageSpec("admin_console.py", "Admin console", ":material/tune:", "Administration", needs=Action.MANAGE_CONFIG,
             url_path="admin-console"),
    PageSpec("inbound_mail.py", "Inbound mail", ":material/move_to_inbox:", "Administration",
             needs=Action.MANAGE_INBOUND_MAIL, url_path="inbound-mail"),
    PageSpec("audit_log.py", "Audit log", ":material/history:", "Administration", needs=Action.VIEW_AUDIT_LOG,
             url_path="audit-log"),
    PageSpec("assistant.py", "Assistant", ":material/smart_toy:", "Help", Action.USE_ASSISTANT, "assistant"),
    PageSpec("help_center.py", "Help Center", ":material/menu_book:", "Help", Action.READ_ARTICLES, "help_center"),
    PageSpec("articles_admin.py", "Help articles", ":material/edit_note:", "Help", Action.MANAGE_ARTICLES, "articles"),
]


def visible(spec: PageSpec, user: Employee | None, grants: Grants = NO_GRANTS) -> bool:
    """Whether `user` (None: a visitor) is offered the page, by role or by a grant it holds
    (a department head of any role is offered the SLA dashboard)."""
    if user is None:
        return spec.public
    return not spec.visitors_only and (spec.needs is None or allowed(user, spec.needs, grants))


def sections_for(user: Employee | None, grants: Grants = NO_GRANTS) -> dict[str, list[PageSpec]]:
    """The pages `user` may open, by section in `SECTIONS` order, empty sections left out."""
    grouped: dict[str, list[PageSpec]] = {name: [] for name in SECTIONS}
    for spec in PAGES:
        if visible(spec, user, grants):
            grouped[spec.section].append(spec)
    return {name: specs for name, specs in grouped.items() if specs}
