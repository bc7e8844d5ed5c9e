"""The KPI and cohort figures computed with numpy from the packed rows (`packed_rows`): one
histogram per grouping for counts, exact `percentile_cont` by `packed_rows.Ranker`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from ..models import Employee
from ..vocab import Priority
from . import packed_rows
from .definitions import (
    KPI_DEFS,
    NEVER_ANSWERED_OK,
    QUANTILES,
    RESOLUTION_BOUNDS_HOURS,
    UTC,
    Kpi,
    Period,
    ReportFilters,
    now_or,
    period_of,
)
from .rules import (
    PACKED_DIMENSIONS,
    RowMask,
    checked,
    department_mask,
    open_and_breached,
)


def load_rows(session: Session, p: Period, now: dt.datetime) -> packed_rows.Rows:
    """Every ticket any figure of period `p` can count (a superset; masks select exactly)."""
    packed_rows.refresh_if_stale(session, before=dt.datetime.now(UTC).date())  # today (UTC): read live
    since = min(p.prev_start, now)
    return packed_rows.load(session, p.prev_start.astimezone(UTC).date(), since)


def _ratio(part: float, whole: float) -> float | None:
    """As SQL's 100.0 * part / nullif(whole, 0)."""
    return None if whole == 0 else 100.0 * float(part) / float(whole)


@dataclass
class Cohort:
    """Tickets of one cohort (created or resolved) in the period and the period before."""

    rows: packed_rows.Rows
    index: np.ndarray  # row numbers of the cohort's tickets (current and previous period)
    current: np.ndarray  # bool per cohort ticket
    minutes: np.ndarray  # float, NaN = NULL
    flags: dict[str, np.ndarray]  # bool per cohort ticket: met, counted, (reopened)

    def __post_init__(self) -> None:
        self._ranker = packed_rows.Ranker(self.minutes)  # NULL (NaN) minutes: in no percentile
        self._all_current = bool(self.current.all())
        self._names = list(self.flags)
        self._bits = sum((flag.astype(np.int64) << i for i, flag in enumerate(self.flags.values())), np.int64(0))
        self._cols: dict[str, np.ndarray] = {}
        self._local: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def _pick(self, column: np.ndarray) -> np.ndarray:
        return _take(column, self.index)

    def col(self, name: str) -> np.ndarray:
        if name not in self._cols:
            self._cols[name] = self._pick(self.rows[name])
        return self._cols[name]

    def codes(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Dense codes of an id column (see Rows.codes) for the cohort's tickets, and their keys."""
        codes, keys = self.rows.codes(name)
        return self._pick(codes), keys

    def local(self, name: str, tz: str) -> tuple[np.ndarray, np.ndarray]:
        """(local day number of the week's Monday, weekday x hour cell) of a timestamp column."""
        if name not in self._local:
            self._local[name] = packed_rows.local_parts(self.col(name), tz)
        return self._local[name]

    def _counts(self, codes: np.ndarray, groups: int) -> dict[str, np.ndarray]:
        """Tickets per group and, per flag, those with it set: one histogram of (group, flags)."""
        width = 1 << len(self._names)
        hist = np.bincount(codes * width + self._bits, minlength=groups * width).reshape(groups, width)
        out = {"n": hist.sum(axis=1)}
        for i, name in enumerate(self._names):
            out[name] = hist[:, (np.arange(width) >> i) & 1 == 1].sum(axis=1)
        return out

    def group(self, codes: np.ndarray, groups: int, quantiled: bool = True) -> dict[str, np.ndarray]:
        """n, counts per flag and the QUANTILES per group of the CURRENT period's tickets."""
        if not self._all_current:
            codes = np.where(self.current, codes, groups)  # previous period: a discarded extra group
        out = {k: v[:groups] for k, v in self._counts(codes, groups + 1).items()}
        if quantiled:
            out["q"] = self._ranker.quantiles(codes, groups + 1, QUANTILES)[:groups]
        return out

    def totals(self) -> dict[str, np.ndarray]:
        """The same figures for [current, previous]."""
        codes = np.where(self.current, 0, 1)
        out = self._counts(codes, 2)
        out["q"] = self._ranker.quantiles(codes, 2, QUANTILES)
        return out


def _take(column: np.ndarray, index: np.ndarray) -> np.ndarray:
    """`column[index]` for sorted distinct row numbers (the column itself when they are all)."""
    return column if len(index) == len(column) else np.take(column, index)


def _cohort(rows: packed_rows.Rows, visible: np.ndarray, column: str, p: Period, flags: Any, minutes: str) -> Cohort:
    at = rows[column]
    start, end, prev = (packed_rows.to_us(x) for x in (p.start, p.end, p.prev_start))
    index = np.flatnonzero(visible & (at != packed_rows.NULL_US) & (at >= prev) & (at < end))
    return Cohort(rows, index, _take(at, index) >= start, _take(rows[minutes], index), flags(index))


def created_cohort(rows: packed_rows.Rows, visible: np.ndarray, p: Period, now: dt.datetime) -> Cohort:
    def flags(ix: np.ndarray) -> dict[str, np.ndarray]:
        due = _take(rows["sla_response_due_at"], ix)
        waiting = (due != packed_rows.NULL_US) & (due < packed_rows.to_us(now))
        # status NOT IN (Rejected, Withdrawn): false for a NULL status, as in SQL
        answerable = _take(rows.status_in([s for s in packed_rows.STATUSES if s not in NEVER_ANSWERED_OK]), ix)
        counted = _take(rows.flag(packed_rows.RESPONSE_DECIDED), ix) | (waiting & answerable)
        return {"met": _take(rows.flag(packed_rows.RESPONSE_MET), ix), "counted": counted}

    return _cohort(rows, visible, "submit_date", p, flags, "sla_response_minutes")


def resolved_cohort(rows: packed_rows.Rows, visible: np.ndarray, p: Period) -> Cohort:
    def flags(ix: np.ndarray) -> dict[str, np.ndarray]:
        return {
            "met": _take(rows.flag(packed_rows.RESOLUTION_MET), ix),
            "counted": _take(rows.flag(packed_rows.RESOLUTION_DECIDED), ix),
            "reopened": _take(rows.flag(packed_rows.REOPENED), ix),
        }

    return _cohort(rows, visible, "resolved_at", p, flags, "sla_resolution_minutes")


def _first(q: np.ndarray, row: int, quantile: float) -> float | None:
    value = q[row, QUANTILES.index(quantile)]
    return None if np.isnan(value) else float(value)


def _ratings(rows: packed_rows.Rows, visible: np.ndarray, p: Period) -> dict[str, Any]:
    """Average rating given in the period / the previous one (tickets in scope), and how many."""
    at = rows["rated_at"]
    start, end, prev = (packed_rows.to_us(x) for x in (p.start, p.end, p.prev_start))
    given = visible & (rows["rating"] > 0) & (at >= prev) & (at < end)
    cur = given & (at >= start)
    stars = rows["rating"].astype(np.int64)

    def avg(m: np.ndarray) -> float | None:
        n = int(np.count_nonzero(m))
        return None if n == 0 else int(stars[m].sum()) / n

    return {"avg": avg(cur), "avg_prev": avg(given & ~cur), "n": int(np.count_nonzero(cur))}


def kpi_figures(p: Period, now: dt.datetime, created: Cohort, resolved: Cohort, visible: np.ndarray) -> dict[str, Any]:
    """The KPI tiles (current, previous): the grand totals of the two cohorts."""
    c, r = created.totals(), resolved.totals()
    rows = created.rows
    backlog = [open_and_breached(rows, visible, w) for w in (min(p.end, now), min(p.prev_end, now))]
    ratings = _ratings(rows, visible, p)

    def both(fn: Callable[[int], Any]) -> tuple[Any, Any]:
        return fn(0), fn(1)

    return {
        "open_backlog": (backlog[0][0], backlog[1][0]),
        "created": both(lambda i: int(c["n"][i])),
        "resolved": both(lambda i: int(r["n"][i])),
        "response_p50": both(lambda i: _first(c["q"], i, 0.5)),
        "response_p90": both(lambda i: _first(c["q"], i, 0.9)),
        "resolution_p50": both(lambda i: _first(r["q"], i, 0.5)),
        "resolution_p90": both(lambda i: _first(r["q"], i, 0.9)),
        "response_compliance": both(lambda i: _ratio(c["met"][i], c["counted"][i])),
        "resolution_compliance": both(lambda i: _ratio(r["met"][i], r["counted"][i])),
        "breached_open": (backlog[0][1], backlog[1][1]),
        "reopen_rate": both(lambda i: _ratio(r["reopened"][i], r["n"][i])),
        "satisfaction": (ratings["avg"], ratings["avg_prev"]),
        "_ratings": ratings["n"],
    }


def to_kpis(figures: dict[str, Any]) -> list[Kpi]:
    def num(v: Any) -> float | None:
        return None if v is None else float(v)

    return [
        Kpi(d.key, d.label, d.unit, d.better, num(figures[d.key][0]), num(figures[d.key][1]), d.help)
        for d in KPI_DEFS
    ]


@dataclass
class Figures:
    kpis: dict[str, Any] | None
    created: pd.DataFrame | None  # None: that cohort was not asked for
    resolved: pd.DataFrame | None


#: Row kinds of the cohort frames: "week", "heat" (created), "hist" (resolved) and each
#: breakdown dimension (`PACKED_DIMENSIONS`). A caller names the kinds it shows per cohort,
#: so a first open of the page groups by week only, not by every dimension, hour and bucket.
ALL_KINDS: frozenset[str] = frozenset({"week", "heat", "hist", *PACKED_DIMENSIONS})

#: The two cohorts' groupings run side by side (numpy releases the GIL): ~45% less wall
#: time on two idle cores. Shared by all requests; a busy pool only queues.
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="reporting")


def start_figures(
    session: Session,
    mask: RowMask,
    p: Period,
    now: dt.datetime,
    created_kinds: frozenset[str] = ALL_KINDS,
    resolved_kinds: frozenset[str] = ALL_KINDS,
    *,
    with_kpis: bool = True,
) -> Callable[[], Figures]:
    """Read the packed rows, start each cohort's groupings (only its `kinds`; a cohort with
    none and no KPIs is not built) in `_POOL`, compute the KPIs here; returns the function
    that waits for the groupings. The caller may query meanwhile."""
    rows = load_rows(session, p, now)
    visible = mask(rows)
    for kind, name in PACKED_DIMENSIONS.items():  # shared by both cohorts: convert once
        if kind in created_kinds | resolved_kinds:
            rows.codes(name)
    created = created_cohort(rows, visible, p, now) if with_kpis or created_kinds else None
    resolved = resolved_cohort(rows, visible, p) if with_kpis or resolved_kinds else None
    created_job = _POOL.submit(created_frame, created, p, created_kinds) if created_kinds else None
    resolved_job = _POOL.submit(resolved_frame, resolved, p, resolved_kinds) if resolved_kinds else None
    kpi_values = kpi_figures(p, now, created, resolved, visible) if with_kpis else None  # type: ignore[arg-type]
    return lambda: Figures(
        kpi_values,
        created_job.result() if created_job else None,
        resolved_job.result() if resolved_job else None,
    )


def kpis_only(rows: packed_rows.Rows, mask: RowMask, p: Period, now: dt.datetime) -> dict[str, Any]:
    """The KPI figures alone (no trends, breakdowns or heat map) of the rows `mask` selects."""
    visible = mask(rows)
    return kpi_figures(p, now, created_cohort(rows, visible, p, now), resolved_cohort(rows, visible, p), visible)


def kpis(session: Session, actor: Employee, filters: ReportFilters, *, now: dt.datetime | None = None) -> list[Kpi]:
    """The KPI tiles, each with its previous-period value (see the module docstring)."""
    sc = checked(session, actor, filters)
    p, now = period_of(filters), now_or(now)
    return to_kpis(kpis_only(load_rows(session, p, now), sc.mask, p, now))


def department_kpi_figures(
    session: Session, departments: list[str], filters: ReportFilters, now: dt.datetime
) -> dict[str, dict[str, Any]]:
    """KPI (current, previous) pairs per department, for the weekly summary (no actor).

    One read of the packed rows for all departments, and only the KPI totals (the summary
    shows no trends, breakdowns or heat map)."""
    packed_rows.tune(session)
    p = period_of(filters)
    rows = load_rows(session, p, now)
    return {d: kpis_only(rows, department_mask(d), p, now) for d in departments}


def figures_for(session: Session, actor: Employee, filters: ReportFilters, now: dt.datetime | None) -> Figures:
    sc = checked(session, actor, filters)
    return start_figures(session, sc.mask, period_of(filters), now_or(now))()


# --- Cohort frames: one row per (kind, key) as the page's tables expect -------------------

_FRAME = ["kind", "key", "week", "a", "b", "n", "q", "met", "counted"]


def _q_list(q: np.ndarray, i: int) -> list[float | None] | None:
    row = q[i]
    if np.isnan(row).all():
        return None
    return [None if np.isnan(v) else float(v) for v in row]


def _dimension_rows(
    cohort: Cohort, extra: tuple[str, ...], names: dict[str, Callable[[int], Any]], kinds: frozenset[str]
) -> list[dict]:
    out: list[dict] = []
    for kind, column in PACKED_DIMENSIONS.items():
        if kind not in kinds:
            continue
        codes, keys = cohort.codes(column)
        g = cohort.group(codes, len(keys))
        for i in np.flatnonzero(g["n"]):  # keys with a ticket in the current period
            row = {"kind": kind, "key": names[kind](int(keys[i])), "week": None, "a": None, "b": None}
            row.update({"n": int(g["n"][i]), "q": _q_list(g["q"], i), "met": int(g["met"][i])})
            row["counted"] = int(g["counted"][i])
            for name in extra:
                row[name] = int(g[name][i])
            out.append(row)
    return out


def _names_of(rows: packed_rows.Rows) -> dict[str, Callable[[int], Any]]:
    return {
        "department": lambda k: rows.departments.get(k),
        "category": lambda k: rows.categories.get(k),
        "priority": lambda k: None if k < 0 else packed_rows.PRIORITIES[k],
        "coordinator": lambda k: None if k < 0 else str(k),
    }


def _weeks(cohort: Cohort, column: str, p: Period, extra: tuple[str, ...]) -> list[dict]:
    """Every week of the period (empty ones too), by the local week of `column`."""
    first = p.start.date() - dt.timedelta(days=p.start.weekday())
    last_day = (p.end - dt.timedelta(days=1)).date()
    count = ((last_day - dt.timedelta(days=last_day.weekday())) - first).days // 7 + 1
    monday, _ = cohort.local(column, p.tz)
    codes = (monday - (first - dt.date(1970, 1, 1)).days) // 7
    codes = np.where(cohort.current, codes, count)  # outside the series: previous period
    g = cohort.group(np.clip(codes, 0, count), count)
    out = []
    for i in range(count):
        week = dt.datetime.combine(first + dt.timedelta(days=7 * i), dt.time(0))
        row = {"kind": "week", "key": None, "week": week, "a": None, "b": None, "n": int(g["n"][i])}
        row.update({"q": _q_list(g["q"], i), "met": int(g["met"][i]), "counted": int(g["counted"][i])})
        for name in extra:
            row[name] = int(g[name][i])
        out.append(row)
    return out


def created_frame(cohort: Cohort, p: Period, kinds: frozenset[str] = ALL_KINDS) -> pd.DataFrame:
    """Created-in-period figures by dimension, week and local weekday x hour (those in `kinds`)."""
    rows = _dimension_rows(cohort, (), _names_of(cohort.rows), kinds)
    if "week" in kinds:
        rows += _weeks(cohort, "submit_date", p, ())
    if "heat" in kinds:
        _, cell = cohort.local("submit_date", p.tz)
        g = cohort.group(cell, 7 * 24, quantiled=False)
        for d in range(1, 8):
            for h in range(24):
                i = (d - 1) * 24 + h
                cell = {"kind": "heat", "key": None, "week": None, "a": d, "b": h, "n": int(g["n"][i]), "q": None}
                rows.append(cell | {"met": int(g["met"][i]), "counted": int(g["counted"][i])})
    return pd.DataFrame(rows, columns=_FRAME)


def resolved_frame(cohort: Cohort, p: Period, kinds: frozenset[str] = ALL_KINDS) -> pd.DataFrame:
    """Resolved-in-period figures by dimension, week and priority x resolution-time bucket
    (those in `kinds`)."""
    extra = ("reopened",)
    rows = _dimension_rows(cohort, extra, _names_of(cohort.rows), kinds)
    if "week" in kinds:
        rows += _weeks(cohort, "resolved_at", p, extra)
    if "hist" in kinds:
        buckets = len(RESOLUTION_BOUNDS_HOURS) + 1
        bucket = np.searchsorted(np.array(RESOLUTION_BOUNDS_HOURS, dtype=float), cohort.minutes / 60.0, side="right")
        priority = cohort.col("priority")
        known = (priority >= 0) & ~np.isnan(cohort.minutes)  # NULL priority or minutes: in no cell
        codes = np.where(known, priority * buckets + bucket, len(Priority) * buckets)
        g = cohort.group(codes, len(Priority) * buckets + 1, quantiled=False)
        for pi, pr in enumerate(packed_rows.PRIORITIES):
            for b in range(buckets):
                i = pi * buckets + b
                cell = {"kind": "hist", "key": pr, "week": None, "a": b, "b": None, "n": int(g["n"][i]), "q": None}
                counts = {name: int(g[name][i]) for name in ("met", "counted", "reopened")}
                rows.append(cell | counts)
    return pd.DataFrame(rows, columns=[*_FRAME, "reopened"])
