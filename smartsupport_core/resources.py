"""Where the installed parts of SmartSupport are: the portal's entry script, its page scripts
and the Alembic migrations.

WHY through `importlib.resources` and not a path relative to this file: in a wheel the pages
and migrations are the packages `smartsupport_pages` and `smartsupport_migrations` (mapped
from `pages/` and `migrations/` in pyproject.toml), installed wherever pip puts them, and in
an editable install they are the checkout's folders. Asking the import system gives the right
folder in both cases, from any working directory.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def package_dir(package: str) -> Path:
    """The folder of an installed (regular, not zipped) package."""
    return Path(str(files(package)))


def portal_script() -> Path:
    """`portal/app.py`, the portal's Streamlit script (its `.streamlit/config.toml` beside it
    is Streamlit's script-level configuration)."""
    return package_dir("portal") / "app.py"


def portal_server() -> Path:
    """`portal/server.py`, what `smartsupport run` starts (`streamlit run`): the script
    inside Streamlit's `st.App` with the session-cookie route and the security headers."""
    return package_dir("portal") / "server.py"


def pages_dir() -> Path:
    return package_dir("smartsupport_pages")


def migrations_dir() -> Path:
    return package_dir("smartsupport_migrations")
