"""The dashboard's ticket rows, packed per UTC day of submission (see bench/README.md for how fast).

WHY: the dashboard needs exact percentiles (`percentile_cont`) of ~1M numbers per grouping
(department, category, priority, coordinator, week, current/previous period) for two
cohorts. In PostgreSQL every grouping is a sort or an `array_agg` pass over the cohort,
and shipping the rows to Python costs per row (binary COPY, `string_agg` of pre-packed rows):
both were measured far slower than reading whole days, which costs per byte:
`core_reportday` keeps, per UTC day of `submit_date`, every ticket of that day as
fixed-width big-endian columns (`FIELDS`: all ids, then all submit dates, ...; built by
`PACKED_SQL` in the database), so the dashboard reads one byte string per day and `numpy.frombuffer` turns them
into columns (figures: `bench/dashboard.py`, recorded in `bench/README.md`).

Staying exact. Statement-level triggers on `core_ticket` (migration 0005) insert the UTC
day of every inserted/updated/deleted ticket into `core_reportdirty`. `load` reads, in ONE
statement (one snapshot), the packed days that have no dirty mark plus the dirty days
packed live from `core_ticket`; so what it returns is exactly the tickets that statement
sees. `refresh_report` repacks dirty days in its own short transaction (one statement:
delete the marks it sees, pack those days from the same snapshot; an advisory lock keeps
two refreshers apart; a write committed after its snapshot leaves its mark, so that day
stays live until the next refresh). Blocks of another `LAYOUT` count as dirty. Writes that
bypass triggers (`session_replication_role = replica`) must mark their days themselves:
`INSERT INTO core_reportdirty (day) SELECT DISTINCT (submit_date AT TIME ZONE 'UTC')::date
FROM core_ticket` marks every day.
"""

from __future__ import annotations

import datetime as dt
import logging
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..vocab import OPEN_STATUSES, Priority, TicketStatus

log = logging.getLogger(__name__)

#: NULL timestamp in a packed row (microseconds since 1970-01-01 UTC).
NULL_US = np.iinfo(np.int64).min
TIMESTAMPS = (
    "submit_date",
    "resolved_at",
    "time_closed",
    "first_response_at",
    "sla_response_due_at",
    "sla_resolution_due_at",
    "on_hold_since",
)
#: Flags bits.
RESPONSE_MET, RESPONSE_DECIDED, RESOLUTION_MET, RESOLUTION_DECIDED, REOPENED = 1, 2, 4, 8, 16
PRIORITIES = tuple(p.value for p in Priority)
STATUSES = tuple(s.value for s in TicketStatus)


def _array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join(f"'{v}'" for v in values) + "]::text[]"


def _us(column: str) -> str:
    return f"int8send(coalesce((extract(epoch FROM {column}) * 1000000)::int8, '{NULL_US}'::int8))"


#: (name, big-endian numpy type, SQL giving its bytes) for one ticket `t` joined to its
#: department `d`, category `c` and rating `rt`. NULLs become sentinels: fixed width.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("id", ">i4", "int4send(t.id)"),
    *[(name, ">i8", _us("t." + name)) for name in TIMESTAMPS],
    ("sla_response_minutes", ">f8", "float8send(coalesce(t.sla_response_minutes, 'NaN'::float8))"),
    ("sla_resolution_minutes", ">f8", "float8send(coalesce(t.sla_resolution_minutes, 'NaN'::float8))"),
    ("assigned_to_id", ">i4", "int4send(coalesce(t.assigned_to_id, -1))"),
    ("employee_id", ">i4", "int4send(coalesce(t.employee_id, -1))"),
    ("department", ">i4", "int4send(coalesce(d.id, -1))"),  # core_department.id
    ("category", ">i4", "int4send(coalesce(c.id, -1))"),  # core_ticketcategory.id
    (
        "priority",  # index in PRIORITIES, -1 = NULL
        ">i2",
        f"int2send((coalesce(array_position({_array(PRIORITIES)}, t.priority::text), 0) - 1)::int2)",
    ),
    (
        "status",  # index in STATUSES, -1 = NULL
        ">i2",
        f"int2send((coalesce(array_position({_array(STATUSES)}, t.status::text), 0) - 1)::int2)",
    ),
    (
        "flags",
        ">i2",
        "int2send(((t.sla_response_met IS TRUE)::int"
        f" + {RESPONSE_DECIDED} * (t.sla_response_met IS NOT NULL)::int"
        f" + {RESOLUTION_MET} * (t.sla_resolution_met IS TRUE)::int"
        f" + {RESOLUTION_DECIDED} * (t.sla_resolution_met IS NOT NULL)::int"
        f" + {REOPENED} * (t.reopen_count > 0)::int)::int2)",
    ),
    ("rating", ">i2", "int2send(coalesce(rt.rating, 0)::int2)"),  # 0 = not rated
    ("rated_at", ">i8", _us("rt.created_at")),
)
#: One row's fields; a day's block stores them column by column (all ids, then all
#: submit dates, ...): each column is one contiguous run, cheap to convert.
PACKED_ROW = np.dtype([(name, kind) for name, kind, _ in FIELDS])
#: A day's block: the per-field aggregates concatenated (one aggregate pass, so every
#: column lists the day's tickets in the same order).
PACKED_SQL = " || ".join(f"string_agg({sql}, ''::bytea)" for _, _, sql in FIELDS)
#: Changes whenever the packing does: stored blocks of another layout are repacked.
LAYOUT = zlib.crc32((PACKED_SQL + str(PACKED_ROW.descr)).encode())
NULL_DAY = dt.date(1, 1, 1)  # tickets without a submit_date
_OPEN_SQL = ", ".join(f"'{s.value}'" for s in OPEN_STATUSES)
_JOINS = (
    "LEFT JOIN core_department d ON d.name = t.department LEFT JOIN core_ticketcategory c ON c.name = t.category"
    # per ticket, by the unique index (a hash join would read every rating for each day)
    " LEFT JOIN LATERAL (SELECT r.rating, r.created_at FROM core_ticketrating r WHERE r.ticket_id = t.id) rt ON true"
)
_IN_DAY = (
    "t.submit_date >= (x.day::timestamp AT TIME ZONE 'UTC')"
    " AND t.submit_date < ((x.day + 1)::timestamp AT TIME ZONE 'UTC')"
)


def _packed_days(days: str) -> str:
    """SELECT day, tickets, open_tickets, max_resolved_at, max_closed_at, max_rated_at, packed
    for the days listed by `days`, one LATERAL index range scan per day (no day, no scan)."""
    cols = (
        "count(*) AS tickets, count(*) FILTER (WHERE t.status IN (" + _OPEN_SQL + ")) AS open_tickets,"
        " max(t.resolved_at) AS max_resolved_at, max(t.time_closed) AS max_closed_at,"
        " max(rt.created_at) AS max_rated_at,"
        f" {PACKED_SQL} AS packed"
    )

    def per_day(where: str) -> str:
        day = f"SELECT {cols} FROM core_ticket t {_JOINS} WHERE {where}"
        return f"SELECT x.day, p.* FROM {days} x CROSS JOIN LATERAL ({day}) p"

    null_day = f"DATE '{NULL_DAY.isoformat()}'"
    return (
        f"SELECT * FROM ({per_day(_IN_DAY)} WHERE x.day <> {null_day}"
        f" UNION ALL {per_day('t.submit_date IS NULL')} WHERE x.day = {null_day}) packed_days WHERE tickets > 0"
    )


_REFRESH = text(
    f"""
    WITH gone AS (DELETE FROM core_reportdirty WHERE day < :before RETURNING day),
    days AS (SELECT day FROM gone UNION SELECT day FROM core_reportday WHERE layout <> :layout),
    built AS ({_packed_days("days")}),
    dropped AS (
        DELETE FROM core_reportday WHERE day IN (SELECT day FROM days) AND day NOT IN (SELECT day FROM built)
    ),
    stored AS (
        INSERT INTO core_reportday
            (day, layout, tickets, open_tickets, max_resolved_at, max_closed_at, max_rated_at, packed)
        SELECT day, :layout, tickets, open_tickets, max_resolved_at, max_closed_at, max_rated_at, packed FROM built
        ON CONFLICT (day) DO UPDATE SET layout = EXCLUDED.layout, tickets = EXCLUDED.tickets,
            open_tickets = EXCLUDED.open_tickets, max_resolved_at = EXCLUDED.max_resolved_at,
            max_closed_at = EXCLUDED.max_closed_at, max_rated_at = EXCLUDED.max_rated_at, packed = EXCLUDED.packed
        RETURNING day
    )
    SELECT (SELECT count(*) FROM days) AS days, (SELECT count(*) FROM stored) AS stored
    """
)

_STALE = text(
    "SELECT EXISTS (SELECT 1 FROM core_reportdirty WHERE day < :before)"
    " OR EXISTS (SELECT 1 FROM core_reportday WHERE layout <> :layout)"
)
#: `before` for "every dirty day" (the worker's job, the demo loader, the benchmarks).
ALL_DAYS = dt.date(9999, 12, 31)

_LOAD = f"""
    WITH dirty AS (
        SELECT DISTINCT day FROM core_reportdirty
        UNION SELECT day FROM core_reportday WHERE layout <> %(layout)s
    )
    SELECT r.packed FROM core_reportday r
    WHERE r.layout = %(layout)s AND NOT EXISTS (SELECT 1 FROM dirty WHERE dirty.day = r.day)
      AND (r.day >= %(lo)s OR r.open_tickets > 0 OR r.max_resolved_at >= %(since)s
           OR r.max_closed_at >= %(since)s OR r.max_rated_at >= %(since)s)
    UNION ALL
    SELECT packed FROM ({_packed_days("dirty")}) live
    """
REFRESH_LOCK = 0x5EB0


def tune(conn: Connection | Session) -> None:
    """Report queries sort or pack up to a million rows: give them memory, skip JIT compile time
    (for the current transaction only)."""
    conn.execute(text("SET LOCAL work_mem = '256MB'"))
    conn.execute(text("SET LOCAL jit = off"))


def refresh_report(bind: Engine | Connection, before: dt.date = ALL_DAYS) -> int | None:
    """Repack the dirty days before `before` in a transaction of its own; None when another
    refresh runs."""
    engine = bind.engine if isinstance(bind, Connection) else bind
    with engine.connect() as conn, conn.begin():
        if not conn.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": REFRESH_LOCK}):
            return None
        tune(conn)
        return int(conn.execute(_REFRESH, {"layout": LAYOUT, "before": before}).one().days)


def refresh_if_stale(session: Session, before: dt.date = ALL_DAYS) -> int | None:
    """Repack dirty days before `before` first (own transaction) so the read that follows
    needs few live days.

    A dashboard read passes today's UTC day as `before`: the day being written is never
    repacked on the read path (under 40 submitting users every read repacked it, and it was
    dirty again at once); `load` reads it live, and the worker's
    `report_refresh` job repacks it every few minutes. Only an optimisation: if it cannot
    run (another refresh holds the lock, a read-only replica, an error), `load` still packs
    the dirty days live."""
    if not session.scalar(_STALE, {"layout": LAYOUT, "before": before}):
        return 0
    try:
        return refresh_report(session.get_bind(), before)
    except SQLAlchemyError as exc:
        log.warning("report refresh failed (dirty days are packed live): %s", exc)
        return None


def refresh_job(session: Session, now: dt.datetime) -> str:
    """The worker's `report_refresh` job: repack days written since the last pass, so a
    dashboard read finds few days to pack live (it stays exact either way)."""
    days = refresh_if_stale(session)
    return "another refresh is running" if days is None else f"{days} day(s) repacked"


SMALL_IDS = 256


@dataclass
class Rows:
    """The loaded tickets as native numpy columns (each converted on first use)."""

    blocks: list[memoryview]
    departments: dict[int, str]
    categories: dict[int, str]

    def __post_init__(self) -> None:
        self._sizes = [len(b) // PACKED_ROW.itemsize for b in self.blocks]
        if any(n * PACKED_ROW.itemsize != len(b) for n, b in zip(self._sizes, self.blocks, strict=True)):
            raise ValueError("packed block of another layout")
        self._cols: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return sum(self._sizes)

    def __getitem__(self, name: str) -> np.ndarray:
        col = self._cols.get(name)
        if col is None:
            kind, offset = PACKED_ROW.fields[name][:2]
            parts = [
                np.frombuffer(b, dtype=kind, count=n, offset=offset * n)
                for b, n in zip(self.blocks, self._sizes, strict=True)
            ]
            native = kind.newbyteorder("=")
            col = np.concatenate(parts, dtype=native) if parts else np.zeros(0, dtype=native)
            self._cols[name] = col
        return col

    def codes(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Dense codes 0..k-1 of an id column whose values are >= -1 (-1 = NULL), and the
        id of each code (ascending)."""
        key = "codes:" + name
        if key not in self._cols:
            shifted = self[name].astype(np.int64) + 1
            top = int(shifted.max()) if len(shifted) else 0
            if top < SMALL_IDS:  # small ids (departments, categories, priorities): id + 1 is the code
                self._cols[key], self._cols[key + ":keys"] = shifted, np.arange(top + 1) - 1
            else:
                present = np.flatnonzero(np.bincount(shifted))
                lut = np.zeros(top + 1, dtype=np.int64)
                lut[present] = np.arange(len(present))
                self._cols[key], self._cols[key + ":keys"] = np.take(lut, shifted), present - 1
        return self._cols[key], self._cols[key + ":keys"]

    def flag(self, bit: int) -> np.ndarray:
        return (self["flags"] & bit) != 0

    def status_in(self, statuses: Iterable[str]) -> np.ndarray:
        """`status IN (...)`: false for a NULL status."""
        lut = np.zeros(len(STATUSES) + 1, dtype=bool)  # index 0: NULL
        lut[[STATUSES.index(s) + 1 for s in statuses]] = True
        return lut[self["status"] + 1]


def load(session: Session, lo: dt.date, since: dt.datetime) -> Rows:
    """Every ticket submitted on a UTC day >= `lo`, plus every older one still open or
    resolved/closed/rated at or after `since` (a superset: callers select exactly with masks).

    As binary COPY on the session's own connection (same transaction): text format would
    hex-encode ~100 MB of bytea at 1M tickets, and a plain binary result is copied once more
    (libpq's result, then Python bytes: ~2x the client CPU)."""
    driver = session.connection().connection.driver_connection
    with driver.cursor() as cur, cur.copy(f"COPY ({_LOAD}) TO STDOUT (FORMAT BINARY)", _params(lo, since)) as copy:
        chunks = list(copy)
    blocks = [b for b in _copy_values(chunks) if len(b)]
    departments = dict(session.execute(text("SELECT id, name FROM core_department")).tuples().all())
    categories = dict(session.execute(text("SELECT id, name FROM core_ticketcategory")).tuples().all())
    return Rows(blocks, departments, categories)


def _params(lo: dt.date, since: dt.datetime) -> dict[str, object]:
    return {"layout": LAYOUT, "lo": lo, "since": since}


_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


def _copy_values(chunks: list[memoryview]) -> list[memoryview]:
    """The one column of a binary COPY's rows (NULLs left out), without copying the data
    when every row arrived in a message of its own (as PostgreSQL sends them)."""
    try:
        return _copy_rows(chunks)
    except IndexError:  # a row across two chunks: parse the joined stream
        return _copy_rows([memoryview(b"".join(chunks))])


def _copy_rows(chunks: list[memoryview]) -> list[memoryview]:
    out: list[memoryview] = []
    for i, chunk in enumerate(chunks):
        pos = 0
        if i == 0:
            if len(chunk) < 19:
                raise IndexError
            if bytes(chunk[:11]) != _COPY_SIGNATURE:
                raise ValueError("not a binary COPY stream")
            pos = 19 + int.from_bytes(chunk[15:19], "big")
        while pos < len(chunk):
            if len(chunk) - pos < 2:
                raise IndexError
            fields = int.from_bytes(chunk[pos : pos + 2], "big", signed=True)
            if fields == -1:  # trailer
                return out
            if fields != 1 or len(chunk) - pos < 6:
                raise IndexError
            size = int.from_bytes(chunk[pos + 2 : pos + 6], "big", signed=True)
            pos += 6
            if size < 0:  # NULL
                continue
            if len(chunk) - pos < size:
                raise IndexError
            out.append(chunk[pos : pos + size])
            pos += size
    raise ValueError("binary COPY stream without its trailer")


def to_us(when: dt.datetime) -> int:
    """An aware datetime as microseconds since the epoch (exact)."""
    delta = when - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


class Ranker:
    """Exact `percentile_cont` (linear interpolation) of one set of values per any grouping.

    Without sorting the values: each value's float64 bit pattern, read as an integer, orders
    like the value (negative ones flipped), so its top 20 bits (sign, exponent, 8 mantissa
    bits) put it in a value range with every value of a lower range smaller. Per grouping,
    a histogram of (group, range) locates the range holding each wanted rank, and only the
    values in those ranges are sorted. Arithmetic as PostgreSQL's percentile_cont:
    h = q * (n - 1), lo = floor(h), result = v[lo] + (h - lo) * (v[ceil(h)] - v[lo]).
    """

    SHIFT = 44

    def __init__(self, values: np.ndarray) -> None:
        self.values = values  # NaN (NULL) values are in no group's percentiles
        nan = np.isnan(values)
        fill = np.nanmin(values) if len(values) and not nan.all() else 0.0
        bits = np.where(nan, fill, values).view(np.int64)
        key = np.where(bits < 0, bits ^ np.int64(0x7FFFFFFFFFFFFFFF), bits) if (bits < 0).any() else bits
        if len(values):
            coarse = key >> self.SHIFT
            coarse = coarse - coarse.min()
            used = np.bincount(coarse[~nan]) > 0 if not nan.all() else np.zeros(1, dtype=bool)
            self.width = int(used.sum())
            ranges = np.cumsum(used) - 1  # dense range numbers, in value order (NaN filled: in range)
            self.bucket = np.where(nan, self.width, np.take(ranges, coarse))
        else:
            self.bucket, self.width = key, 0

    def quantiles(self, codes: np.ndarray, groups: int, quantiles: tuple[float, ...]) -> np.ndarray:
        """(groups, len(quantiles)) array for group codes 0..groups-1 of the values; NaN = empty."""
        out = np.full((groups, len(quantiles)), np.nan)
        if len(self.values) == 0:
            return out
        width = self.width + 1  # the last range holds the NaN values: never counted
        cell = codes * width + self.bucket
        counts = np.bincount(cell, minlength=groups * width).reshape(groups, width)
        counts[:, -1] = 0
        cum = np.cumsum(counts, axis=1)
        n = cum[:, -1]
        present = np.flatnonzero(n)
        qs = np.array(quantiles, dtype=np.float64)
        h = qs[None, :] * (n[present, None] - 1).astype(np.float64)
        first = np.floor(h)
        ranks = np.stack([first.astype(np.int64), np.ceil(h).astype(np.int64)])  # (2, present, q)
        # the range holding each rank, and the rank's place inside that range
        where = np.empty_like(ranks)
        for k, g in enumerate(present):
            where[:, k, :] = np.searchsorted(cum[g], ranks[:, k, :], side="right")
        gcol = present[None, :, None]
        within = ranks - (cum[gcol, where] - counts[gcol, where])
        wanted = (gcol * width + where).ravel()
        mark = np.zeros(groups * width, dtype=bool)
        mark[wanted] = True
        picked = np.flatnonzero(mark[cell])
        picked_cell, picked_value = cell[picked], self.values[picked]
        order = np.lexsort((picked_value, picked_cell))
        picked_cell, picked_value = picked_cell[order], picked_value[order]
        start = np.searchsorted(picked_cell, wanted)
        v = picked_value[start + within.ravel()].reshape(ranks.shape)
        lo, hi = v[0], v[1]
        out[present] = lo + (h - first) * (hi - lo)
        return out


HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US


def _offsets_us(instants_us: np.ndarray, tz: str) -> np.ndarray:
    """UTC offset (microseconds) of each instant in zone `tz` (pandas/zoneinfo rules)."""
    import pandas as pd

    utc = pd.DatetimeIndex(instants_us.astype("datetime64[us]")).tz_localize("UTC")
    local = utc.tz_convert(tz).tz_localize(None).as_unit("us").asi8
    return local - instants_us


SLOT_US = 15 * 60 * 1_000_000  # every zone's offset is a multiple of 15 minutes (since 1980)


def _parts(local_us: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(day number of the week's Monday, weekday x hour cell (ISO weekday - 1) * 24 + hour)."""
    days = np.floor_divide(local_us, DAY_US)
    weekday = (days + 3) % 7  # Monday 0; 1970-01-01 was a Thursday
    hour = np.floor_divide(local_us - days * DAY_US, HOUR_US)
    return days - weekday, weekday * 24 + hour


def local_parts(us: np.ndarray, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """Of UTC microsecond instants in zone `tz`: the local day number of their week's Monday
    and their local weekday x hour cell ((ISO weekday - 1) * 24 + hour).

    Worked out per 15-minute UTC slot of the range: when the slot's first and last
    microsecond have the same offset, week and cell, so has every instant in it; instants
    in the rare other slots (an offset change, an offset not a multiple of 15 minutes) get
    their own."""
    if len(us) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    slot = np.floor_divide(us, SLOT_US)
    first = int(slot.min())
    starts = np.arange(first, int(slot.max()) + 1, dtype=np.int64) * SLOT_US
    ends = starts + SLOT_US - 1
    off_start, off_end = _offsets_us(starts, tz), _offsets_us(ends, tz)
    at_start, at_end = _parts(starts + off_start), _parts(ends + off_end)
    index = slot - first
    week, cell = (np.take(table, index) for table in at_start)
    odd = (off_start != off_end) | (at_start[0] != at_end[0]) | (at_start[1] != at_end[1])
    if odd.any():
        rows = np.flatnonzero(np.take(odd, index))
        week[rows], cell[rows] = _parts(us[rows] + _offsets_us(us[rows], tz))
    return week, cell
