"""The page's tables (trends, breakdowns, heat map, resolution distribution) shaped with pandas
from the cohort frames `figures` builds."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from ..errors import ValidationError
from ..models import Employee
from ..vocab import Priority
from .definitions import (
    QUANTILES,
    RESOLUTION_LABELS,
    UNASSIGNED,
    WEEKDAYS,
    ReportFilters,
)
from .figures import (
    figures_for,
)
from .rules import (
    DIMENSIONS,
)

# --- Public views (each checks policy) ----------------------------------------------------


def _names(session: Session, ids: list[str]) -> dict[str, str]:
    wanted = [int(i) for i in ids if i not in (None, UNASSIGNED)]
    if not wanted:
        return {}
    rows = session.execute(
        select(Employee.id, Employee.first_name, Employee.last_name).where(Employee.id.in_(wanted))
    ).all()
    return {str(r.id): f"{r.first_name} {r.last_name}" for r in rows}


def _qcols(df: pd.DataFrame, prefix: str, qs: tuple[float, ...] = (0.5, 0.9)) -> pd.DataFrame:
    for q in qs:
        name = f"{prefix}_p{round(q * 100):02d}"
        df[name] = df["q"].map(lambda arr, q=q: None if arr is None else arr[QUANTILES.index(q)])
    return df


def _rate(met: pd.Series, counted: pd.Series) -> pd.Series:
    out = 100.0 * met.astype("float64") / counted.astype("float64")
    return out.where(counted > 0)


def trends_table(created: pd.DataFrame, resolved: pd.DataFrame) -> pd.DataFrame:
    c = _qcols(created[created.kind == "week"].copy(), "response")
    r = _qcols(resolved[resolved.kind == "week"].copy(), "resolution")
    out = pd.DataFrame({"week": pd.to_datetime(c["week"]).dt.date.to_numpy()})
    out["created"] = c["n"].fillna(0).astype(int).to_numpy()
    out["resolved"] = r["n"].fillna(0).astype(int).to_numpy()
    for col in ("response_p50", "response_p90"):
        out[col] = c[col].to_numpy()
    for col in ("resolution_p50", "resolution_p90"):
        out[col] = r[col].to_numpy()
    out["response_compliance"] = _rate(c["met"].fillna(0), c["counted"].fillna(0)).to_numpy()
    out["resolution_compliance"] = _rate(r["met"].fillna(0), r["counted"].fillna(0)).to_numpy()
    return out


def breakdown_table(session: Session, created: pd.DataFrame, resolved: pd.DataFrame, dim: str) -> pd.DataFrame:
    c = _qcols(created[created.kind == dim].copy(), "response")
    r = _qcols(resolved[resolved.kind == dim].copy(), "resolution")
    c["key"] = c["key"].fillna(UNASSIGNED)
    r["key"] = r["key"].fillna(UNASSIGNED)
    c = c.rename(columns={"n": "created", "met": "response_met", "counted": "response_counted"})
    r = r.rename(columns={"n": "resolved", "met": "resolution_met", "counted": "resolution_counted"})
    out = c[["key", "created", "response_p50", "response_met", "response_counted"]].merge(
        r[["key", "resolved", "resolution_p50", "resolution_met", "resolution_counted", "reopened"]],
        on="key",
        how="outer",
    )
    for col in ("created", "resolved", "response_met", "response_counted", "resolution_met", "resolution_counted"):
        out[col] = out[col].fillna(0).astype(int)
    out["response_compliance"] = _rate(out["response_met"], out["response_counted"])
    out["resolution_compliance"] = _rate(out["resolution_met"], out["resolution_counted"])
    if dim == "coordinator":
        names = _names(session, list(out["key"]))
        out["label"] = out["key"].map(lambda k: names.get(k, "Unassigned" if k == UNASSIGNED else f"#{k}"))
    else:
        out["label"] = out["key"]
    cols = [
        "key",
        "label",
        "created",
        "resolved",
        "response_p50",
        "resolution_p50",
        "response_compliance",
        "resolution_compliance",
    ]
    return (
        out[cols].sort_values(["created", "resolved", "label"], ascending=[False, False, True]).reset_index(drop=True)
    )


def heatmap_table(created: pd.DataFrame) -> pd.DataFrame:
    h = created[created.kind == "heat"]
    out = pd.DataFrame({"dow": h["a"].astype(int).to_numpy(), "hour": h["b"].astype(int).to_numpy()})
    out["weekday"] = out["dow"].map(lambda d: WEEKDAYS[d - 1])
    out["created"] = h["n"].fillna(0).astype(int).to_numpy()
    return out.sort_values(["dow", "hour"]).reset_index(drop=True)


def distribution_tables(resolved: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    pri = resolved[resolved.kind == "priority"].copy()
    order = [p.value for p in Priority]
    dist = pd.DataFrame({"priority": pri["key"].to_numpy(), "resolved": pri["n"].astype(int).to_numpy()})
    for q in QUANTILES:
        dist[f"p{round(q * 100):02d}"] = (
            pri["q"].map(lambda a, q=q: None if a is None else a[QUANTILES.index(q)]).to_numpy()
        )
    dist["order"] = dist["priority"].map(lambda p: order.index(p) if p in order else len(order))
    dist = dist.sort_values("order").drop(columns="order").reset_index(drop=True)
    h = resolved[resolved.kind == "hist"]
    hist = pd.DataFrame({"priority": h["key"].to_numpy(), "bucket": h["a"].astype(int).to_numpy()})
    hist["label"] = hist["bucket"].map(lambda b: RESOLUTION_LABELS[b])
    hist["resolved"] = h["n"].fillna(0).astype(int).to_numpy()
    hist["order"] = hist["priority"].map(order.index)
    hist = hist.sort_values(["order", "bucket"]).drop(columns="order").reset_index(drop=True)
    return dist, hist


def trends(
    session: Session, actor: Employee, filters: ReportFilters, *, now: dt.datetime | None = None
) -> pd.DataFrame:
    """Weekly: created vs resolved, p50/p90 response and resolution, compliance %."""
    f = figures_for(session, actor, filters, now)
    return trends_table(f.created, f.resolved)


def breakdown(
    session: Session, actor: Employee, filters: ReportFilters, dimension: str, *, now: dt.datetime | None = None
) -> pd.DataFrame:
    """Counts, medians and compliance per department / category / priority / coordinator."""
    if dimension not in DIMENSIONS:
        raise ValidationError({"dimension": "must be one of " + ", ".join(DIMENSIONS)})
    f = figures_for(session, actor, filters, now)
    return breakdown_table(session, f.created, f.resolved, dimension)
