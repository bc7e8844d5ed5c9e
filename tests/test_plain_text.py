"""Markdown previews as plain text (Help Center cards, the assistant's retrieval-only answer)."""

from __future__ import annotations

from smartsupport_core.plain_text import plain, preview


def test_markup_goes_words_stay() -> None:
    body = (
        "## Steps\n1. Install **GlobalProtect** from [the portal](https://vpn.example.com)\n"
        "- Open *it* and `sign in`\n> Note: ![logo](x.png) done\n\n| a | b |\n|---|---|\n<b>x</b> snake_case_name"
    )
    expected = "Steps Install GlobalProtect from the portal Open it and sign in Note: logo done a b x snake_case_name"
    assert plain(body) == expected


def test_preview_cuts_at_a_word() -> None:
    text = preview("## Steps\n1. Install **GlobalProtect** from the portal, then sign in with your account.", 40)
    assert text == "Steps Install GlobalProtect from the…"
    assert preview("short", 40) == "short"
