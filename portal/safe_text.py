"""Showing user-written text through Markdown-rendering elements exactly as written."""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md_escape(text: str) -> str:
    """Escape Markdown (and :emoji:/:material: shortcodes) so st.error/st.success show `text` verbatim."""
    return _MD_SPECIAL.sub(r"\\\1", text)
