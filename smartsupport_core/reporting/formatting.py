"""How report values are written for people (the page and the weekly e-mail)."""

from __future__ import annotations

from collections.abc import Callable


#: For modules that render values (page, e-mail): minutes -> "3.5 h".
def hours(minutes: float | None) -> str:
    return "-" if minutes is None else f"{minutes / 60:.1f} h"


FORMATTERS: dict[str, Callable[[float | None], str]] = {
    "count": lambda v: "-" if v is None else f"{v:,.0f}",
    "minutes": hours,
    "percent": lambda v: "-" if v is None else f"{v:.1f} %",
    "score": lambda v: "-" if v is None else f"{v:.2f}",
}


def change_text(change: float | None, unit: str) -> str | None:
    """A KPI's change in its unit, signed ("+1.5 h", "-2.0 pts"); None when there is none."""
    if change is None:
        return None
    if unit == "minutes":
        return f"{change / 60:+.1f} h"
    if unit == "percent":
        return f"{change:+.1f} pts"
    if unit == "score":
        return f"{change:+.2f}"
    return f"{change:+,.0f}"
