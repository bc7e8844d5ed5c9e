"""Markdown to plain text, for previews and short quotes (Help Center cards, the assistant's
retrieval-only answer).

Article bodies are staff-written Markdown; a preview cut from the raw text showed "## Steps
1. Install **GlobalProtect**". This keeps the words and drops the markup: headings' hashes,
emphasis, code fences and backticks, links and images (their text stays, the address goes),
list and quote markers, tables' pipes and raw HTML tags. The result is text, never rendered
as Markdown by the caller without escaping.
"""

from __future__ import annotations

import re

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"```.*?```", re.DOTALL), " "),  # fenced code blocks
    (re.compile(r"<[^>]{1,200}>"), " "),  # raw HTML tags
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images: their alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links: their text
    (re.compile(r"^\s{0,3}#{1,6}\s*", re.MULTILINE), ""),  # heading markers
    (re.compile(r"^\s{0,3}>\s?", re.MULTILINE), ""),  # quote markers
    (re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+", re.MULTILINE), ""),  # list markers
    (re.compile(r"^\s*\|?[\s:|-]{3,}\|?\s*$", re.MULTILINE), " "),  # table rules
    (re.compile(r"\|"), " "),
    (re.compile(r"(\*\*|__|~~)(.+?)\1"), r"\2"),  # bold, strike
    (re.compile(r"(?<![\w*])([*_])(?!\s)(.+?)(?<!\s)\1(?![\w*])"), r"\2"),  # italics
    (re.compile(r"`([^`]*)`"), r"\1"),  # inline code
    (re.compile(r"^\s*([-*_])\s*(?:\1\s*){2,}$", re.MULTILINE), " "),  # horizontal rules
)


def plain(markdown: str) -> str:
    """The words of `markdown` on one line, without markup."""
    text = markdown or ""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return " ".join(text.split())


def preview(markdown: str, max_chars: int = 200) -> str:
    """The start of `plain(markdown)`, cut at a word boundary with "…" when longer."""
    text = plain(markdown)
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1]
    if " " in cut[max_chars // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:.") + "…"
