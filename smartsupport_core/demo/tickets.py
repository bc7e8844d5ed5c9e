"""Demo ticket histories: arrivals, category fields and a lifecycle per ticket, as plain rows.

WHY plain tuples and no ORM: a million tickets must be generated and bulk-loaded (COPY)
in seconds, so this module only computes rows; `demo` streams them into the database.

How a history is made, so every stored number agrees with the rows beside it:

1. *Arrivals* are spread over the last `days` days, weighted to working days and office
   hours of the business calendar, in chronological order (ids and ticket numbers follow
   submission order).
2. A ticket's whole *plan* is drawn first (approval, first response, holds, resolution,
   reopen, close, rating) as timed events. Staff work happens in business time; the delays
   are drawn as multiples of the priority's SLA target, so most tickets meet it and some
   breach. A few tickets are "stuck" (very late), some are rejected or withdrawn.
3. Events after *now* are cut off, so recent tickets are still New/Open/In Progress/On Hold
   and old ones are Resolved/Closed.
4. The remaining events are *folded* in time order with the same rules the workflow's SLA
   hooks (`sla.py`) apply: first response = first public staff comment or staff move out
   of Open; resolution values are the first resolution's (a reopen keeps them and counts
   in `reopen_count`); hold time accumulates on the resolution clock; due dates are
   `sla.due` from submission. So `status` is always the last history row's `to_status`,
   `response_time = first_response_at - submit_date`, and so on.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .. import sla, workflow
from ..seed import CHECK_IN_ISSUES
from ..ticket_forms import CATEGORY_COLUMNS
from ..vocab import LOCATIONS, Priority, SlaClock, TicketStatus
from . import text as T

S = TicketStatus
BUSINESS = SlaClock.BUSINESS
CALENDAR = SlaClock.CALENDAR
MIN = dt.timedelta(minutes=1)
#: The note `tickets.auto_close` writes.
AUTO_CLOSE_NOTE = f"Closed automatically {workflow.REOPEN_DAYS} days after resolution"
# Plain strings: enum attribute access is measurable at a million tickets.
NEW, OPEN, IN_PROGRESS, ON_HOLD = S.NEW.value, S.OPEN.value, S.IN_PROGRESS.value, S.ON_HOLD.value
RESOLVED, CLOSED, REJECTED, WITHDRAWN = S.RESOLVED.value, S.CLOSED.value, S.REJECTED.value, S.WITHDRAWN.value

#: COPY column lists (the order of the tuples built below).
TICKET_COLUMNS = (
    "id", "ticket_number", "subject", "category", "sub_category", "description", "priority", "department",
    "status", "submit_date", "update_date", "time_closed", "response_time", "resolution_time",
    "rejection_reason", "asset_name", "serial_number", "location", "expected_return_date", "issue_type",
    "other_issue", "performance_start_date", "performance_end_date", "approved_by", "cost_items",
    "requested_budget", "dynamic_data", "employee_id", "assigned_to_id", "version", "first_response_at",
    "resolved_at", "reopen_count", "on_hold_since", "sla_hold_minutes", "sla_response_due_at",
    "sla_resolution_due_at", "sla_response_minutes", "sla_resolution_minutes", "sla_response_met",
    "sla_resolution_met",
)  # fmt: skip
HISTORY_COLUMNS = ("ticket_id", "from_status", "to_status", "changed_by_id", "changed_at", "note")
COMMENT_COLUMNS = ("comment", "is_internal", "created_at", "updated_at", "ticket_id", "user_id")
RATING_COLUMNS = ("ticket_id", "employee_id", "rating", "comment", "created_at")

#: Relative arrival weight per local hour of day (office hours dominate).
HOUR_WEIGHTS = (
    0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 4, 9, 10, 9, 5, 7, 9, 8, 6, 3, 1.5, 1, 0.8, 0.6, 0.4, 0.3,
)  # fmt: skip
WEEKEND_WEIGHT = 0.12
HOLIDAY_WEIGHT = 0.15

#: Share of tickets per known category (others an admin added get UNKNOWN_CATEGORY_WEIGHT).
CATEGORY_WEIGHTS = {
    "IT Support": 46,
    "Asset Check Out": 14,
    "Asset Check In": 12,
    "New Budget Proposal": 7,
    "Others": 10,
}
UNKNOWN_CATEGORY_WEIGHT = 6

#: Priority mix given the category's default priority.
PRIORITY_MIX: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = {
    Priority.LOW.value: (("Low", "Medium", "High", "Critical"), (70, 22, 7, 1)),
    Priority.MEDIUM.value: (("Low", "Medium", "High", "Critical"), (15, 55, 22, 8)),
    Priority.HIGH.value: (("Medium", "High", "Critical"), (20, 65, 15)),
    Priority.CRITICAL.value: (("High", "Critical"), (30, 70)),
}

#: When a priority has no SLA target row (an admin removed it), staff still work at this pace.
FALLBACK_TARGET = sla.Target(8 * 60, BUSINESS, 3 * 8 * 60, BUSINESS)

#: Lifecycle probabilities (per ticket).
P_REJECT = 0.05
P_WITHDRAW = 0.035
P_STUCK = 0.05
P_HOLD = 0.25
P_INTERNAL = 0.4
P_FOLLOW_UP = 0.15
P_REOPEN = 0.05
P_REQUESTER_CLOSES = 0.45
P_RATING = 0.4


@dataclass(frozen=True)
class CategoryPlan:
    """What the generator needs of a core_ticketcategory row."""

    name: str
    department: str
    default_priority: str
    sub_categories: tuple[str, ...]
    required_fields: tuple[dict[str, Any], ...]
    auto_assign: bool
    weight: float


@dataclass
class World:
    """Everything a ticket's plan draws from, loaded once per run."""

    now: dt.datetime
    cal: sla.Calendar
    targets: dict[str, sla.Target]
    categories: list[CategoryPlan]
    coordinators: dict[str, list[int]]  # department -> coordinator ids (first ones more often)
    admins: list[int]
    requesters: list[int]  # approved employees who submit tickets
    names: dict[int, str]  # employee id -> first name (for "Hi Maria, ...")
    featured_requester: int | None = None  # employee@example.com: gets a visible share
    featured_share: float = 0.0
    approvers: list[str] = field(default_factory=list)  # names for budget "approved_by"
    _cat_weights: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        acc = 0.0
        for c in self.categories:
            acc += c.weight
            self._cat_weights.append(acc)


@dataclass
class Rows:
    """The rows of one ticket."""

    ticket: tuple
    history: list[tuple] = field(default_factory=list)
    comments: list[tuple] = field(default_factory=list)
    rating: tuple | None = None


# --- arrivals -------------------------------------------------------------------------


def day_weights(cal: sla.Calendar, days: Sequence[dt.date]) -> list[float]:
    out = []
    for d in days:
        if cal.is_working_day(d):
            out.append(1.0)
        elif d.weekday() in cal.working_days:  # a holiday
            out.append(HOLIDAY_WEIGHT)
        else:
            out.append(WEEKEND_WEIGHT)
    return out


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` into integer parts proportional to `weights` (largest remainder)."""
    s = sum(weights)
    if total == 0 or s <= 0:
        return [0] * len(weights)
    exact = [total * w / s for w in weights]
    parts = [int(x) for x in exact]
    rest = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: exact[i] - parts[i], reverse=True)
    for i in order[:rest]:
        parts[i] += 1
    return parts


def arrival_days(cal: sla.Calendar, now: dt.datetime, days: int) -> list[dt.date]:
    today = now.astimezone(cal.tz).date()
    return [today - dt.timedelta(days=days - 1 - i) for i in range(days)]


def day_arrivals(cal: sla.Calendar, now: dt.datetime, day: dt.date, count: int, seed: int) -> list[dt.datetime]:
    """`count` sorted submission instants on local `day`, weighted by HOUR_WEIGHTS, all before `now`.

    Seeded per day, so the same instants can be drawn twice (once to count tickets per year
    for the number blocks, once to generate) without keeping a million datetimes in memory.
    """
    if count == 0:
        return []
    rnd = random.Random(f"{seed}:{day.isoformat()}")
    midnight = dt.datetime.combine(day, dt.time(0), tzinfo=cal.tz)
    local_now = now.astimezone(cal.tz)
    hours = list(range(24))
    weights = list(HOUR_WEIGHTS)
    if local_now.date() == day:  # today: only the hours that have begun
        hours = hours[: local_now.hour + 1]
        weights = weights[: local_now.hour + 1]
    picked = rnd.choices(hours, weights, k=count)
    out = []
    for h in picked:
        at = midnight + dt.timedelta(hours=h, seconds=rnd.random() * 3600)
        at = at.replace(microsecond=0)
        if at > now:
            at = now - dt.timedelta(seconds=rnd.random() * 600 + 1)
        out.append(at.astimezone(dt.UTC))
    out.sort()
    return out


# --- category fields ------------------------------------------------------------------


def _serial(rnd: random.Random, prefix: str) -> str:
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return prefix + "-" + "".join(rnd.choice(alphabet) for _ in range(6))


def _asset(rnd: random.Random, sub: str | None) -> tuple[str, str, str]:
    kind = sub if sub in T.ASSET_MODELS else rnd.choice(tuple(T.ASSET_MODELS))
    model, prefix = rnd.choice(T.ASSET_MODELS[kind])
    return kind, model, _serial(rnd, prefix)


def _cost_items(rnd: random.Random, kind: str) -> tuple[list[dict[str, Any]], Decimal]:
    """Cost items (description, quantity, unit_cost) and their exact total."""
    catalogue = T.COST_ITEMS.get(kind) or T.COST_ITEMS["Operating Expense"]
    items = []
    total_cents = 0
    for desc, lo, hi in rnd.sample(catalogue, k=min(len(catalogue), rnd.randint(1, 4))):
        qty = rnd.choice((1, 1, 2, 3, 4, 5, 10, 12, 20, 25))
        unit_cents = rnd.randrange(lo, hi + 1, 50) * 100
        total_cents += qty * unit_cents
        items.append({"description": desc, "quantity": qty, "unit_cost": unit_cents / 100})
    return items, Decimal(total_cents) / 100


def _money(amount: Decimal) -> str:
    return f"PHP {amount:,.2f}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _closing(rnd: random.Random) -> str:
    return rnd.choice(T.CLOSINGS)


def it_support(rnd: random.Random, cat: CategoryPlan, sub: str | None, submit: dt.datetime) -> dict[str, Any]:
    devices = _options(cat, "device_type") or ["Laptop", "Printer", "Projector", "Monitor", "Other"]
    device = rnd.choices(devices, [60 if d == "Laptop" else 10 for d in devices])[0]
    if sub == "Printer/Scanner Setup or Issue" and "Printer" in devices:
        device = "Printer"
    software = rnd.choice(T.SOFTWARE)
    location = rnd.choice(LOCATIONS)
    subjects, descriptions = T.IT_TEMPLATES.get(sub or "") or (T.IT_GENERIC_SUBJECTS, T.IT_GENERIC_DESCRIPTIONS)
    dev = device.lower() if device != "Other" else "computer"
    values = {"device": dev, "software": software, "location": location}
    subject = _cap(rnd.choice(subjects).format(**values))
    description = rnd.choice(descriptions).format(**values) + _closing(rnd)
    dynamic: dict[str, Any] = {"device_type": device}
    if rnd.random() < 0.6:
        dynamic["software_affected"] = software
    if rnd.random() < 0.3:
        dynamic["preferred_schedule"] = (submit.date() + dt.timedelta(days=rnd.randint(0, 5))).isoformat()
    return {"subject": subject[:200], "description": description, "dynamic_data": dynamic}


def asset_check_out(rnd: random.Random, cat: CategoryPlan, sub: str | None, submit: dt.datetime) -> dict[str, Any]:
    kind, model, serial = _asset(rnd, sub)
    location = rnd.choice(LOCATIONS)
    short, purpose = rnd.choice(T.CHECKOUT_PURPOSES)
    subject = _cap(rnd.choice(T.CHECKOUT_SUBJECTS).format(sub=kind.lower(), asset=model, purpose_short=short))
    description = f"I would like to borrow a {kind.lower()} ({model}). {purpose}" + _closing(rnd)
    return {
        "subject": subject[:200],
        "description": description,
        "asset_name": model,
        "serial_number": serial,
        "location": location,
        "expected_return_date": submit.date() + dt.timedelta(days=rnd.randint(2, 30)),
        "dynamic_data": {"purpose": purpose},
    }


def asset_check_in(rnd: random.Random, cat: CategoryPlan, sub: str | None, submit: dt.datetime) -> dict[str, Any]:
    kind, model, serial = _asset(rnd, sub)
    location = rnd.choice(LOCATIONS)
    options = _options(cat, "issue_type") or CHECK_IN_ISSUES
    issue = rnd.choices(options, [35 if o == options[0] else 8 if o == "Other" else 12 for o in options])[0]
    other = rnd.choice(T.OTHER_ISSUES) if issue == "Other" else None
    issue_text = other.rstrip(".").lower() if other else issue.lower()
    fmt = {"sub": kind.lower(), "asset": model, "serial": serial, "location": location, "issue": issue_text}
    return {
        "subject": _cap(rnd.choice(T.CHECKIN_SUBJECTS).format(**fmt))[:200],
        "description": rnd.choice(T.CHECKIN_DESCRIPTIONS).format(**fmt) + _closing(rnd),
        "asset_name": model,
        "serial_number": serial,
        "location": location,
        "issue_type": issue,
        "other_issue": other,
    }


def budget_proposal(
    rnd: random.Random, cat: CategoryPlan, sub: str | None, submit: dt.datetime, approver: str
) -> dict[str, Any]:
    kind = sub if sub in T.BUDGET_SUBJECTS else "Operating Expense"
    thing = rnd.choice(T.BUDGET_THINGS[kind])
    first = (submit.date().replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    months = rnd.choice((1, 3, 3, 6, 12))
    end_month = first.month - 1 + months
    end = dt.date(first.year + end_month // 12, end_month % 12 + 1, 1) - dt.timedelta(days=1)
    items, total = _cost_items(rnd, kind)
    fmt = {"thing": thing, "start": first.isoformat(), "end": end.isoformat(), "total": _money(total)}
    return {
        "subject": rnd.choice(T.BUDGET_SUBJECTS[kind]).format(**fmt)[:200],
        "description": rnd.choice(T.BUDGET_DESCRIPTIONS).format(**fmt) + _closing(rnd),
        "performance_start_date": first,
        "performance_end_date": end,
        "cost_items": items,
        "requested_budget": total,
        "approved_by": approver,
    }


def others(rnd: random.Random, cat: CategoryPlan, sub: str | None, submit: dt.datetime) -> dict[str, Any]:
    location = rnd.choice(LOCATIONS)
    out: dict[str, Any] = {
        "subject": rnd.choice(T.OTHERS_SUBJECTS).format(location=location)[:200],
        "description": rnd.choice(T.OTHERS_DESCRIPTIONS).format(location=location) + _closing(rnd),
    }
    if rnd.random() < 0.3:
        out["dynamic_data"] = {"location_detail": location}
    return out


def generic(rnd: random.Random, cat: CategoryPlan, sub: str | None, submit: dt.datetime) -> dict[str, Any]:
    """A category an admin added: text from its name, fields from its `required_fields`."""
    label = sub or cat.name
    fmt = {"category": cat.name, "sub": label}
    out: dict[str, Any] = {
        "subject": rnd.choice(T.GENERIC_SUBJECTS).format(**fmt)[:200],
        "description": rnd.choice(T.GENERIC_DESCRIPTIONS).format(**fmt) + _closing(rnd),
    }
    dynamic: dict[str, Any] = {}
    for f in cat.required_fields:
        name = f.get("name")
        if not name or (not f.get("required") and rnd.random() < 0.5):
            continue
        value = _field_value(rnd, f, submit, out)
        if value is None:
            continue
        if name in CATEGORY_COLUMNS:
            out[name] = value
        else:
            dynamic[name] = value.isoformat() if isinstance(value, dt.date) else value
    if "cost_items" in out and isinstance(out["cost_items"], tuple):
        out["cost_items"], out["requested_budget"] = out["cost_items"]
    if dynamic:
        out["dynamic_data"] = dynamic
    return out


def _field_value(rnd: random.Random, f: dict[str, Any], submit: dt.datetime, so_far: dict[str, Any]) -> Any:
    kind = f.get("type", "text")
    name = str(f.get("name"))
    if kind == "select":
        options = f.get("options") or []
        return rnd.choice(options) if options else None
    if kind == "date":
        base = submit.date()
        after = f.get("after")
        if after and isinstance(so_far.get(after), dt.date):
            base = so_far[after]
        return base + dt.timedelta(days=rnd.randint(1, 30))
    if kind == "number":
        return rnd.randint(1, 20)
    if kind == "cost_items":
        return _cost_items(rnd, "Operating Expense")
    if name == "location":
        return rnd.choice(LOCATIONS)
    text = f"{f.get('label') or name} {rnd.randint(100, 999)}"
    if kind == "textarea":
        text = f"Details for {f.get('label') or name}: see description."
    limit = f.get("max_length")
    return text[: int(limit)] if limit else text


def _options(cat: CategoryPlan, name: str) -> list[str]:
    """The options of the category's select field `name` (the data, not a copy of it)."""
    for f in cat.required_fields:
        if f.get("name") == name and f.get("options"):
            return [str(o) for o in f["options"]]
    return []


FIELD_MAKERS = {
    "IT Support": it_support,
    "Asset Check Out": asset_check_out,
    "Asset Check In": asset_check_in,
    "Others": others,
}


class Timeline:
    """Business time of the calendar as a lookup table, for *planning* events quickly.

    `sla.add_business_minutes` walks day by day, which is right for one ticket but costs
    too much eight times per ticket for a million tickets. Here every working day in the
    range is precomputed (window start as a timestamp, minutes before it), so an instant's
    business-minute position and its inverse are a bisect. Outside the range it defers to
    `sla`. Stored SLA numbers are still computed by `sla` itself.
    """

    def __init__(self, cal: sla.Calendar, start: dt.datetime, end: dt.datetime) -> None:
        self.cal = cal
        self.starts: list[float] = []  # window start (epoch seconds) of each working day
        self.before: list[float] = []  # business minutes before that window
        self.ends: list[float] = []  # business minutes at that window's end
        day = start.astimezone(cal.tz).date()
        last = end.astimezone(cal.tz).date()
        acc = 0.0
        while day <= last:
            if cal.is_working_day(day):
                lo, hi = cal.window(day)
                length = (hi - lo).total_seconds() / 60
                if length > 0:
                    self.starts.append(lo.timestamp())
                    self.before.append(acc)
                    acc += length
                    self.ends.append(acc)
            day += dt.timedelta(days=1)
        self.lo = self.starts[0] if self.starts else math.inf
        self.hi = self.starts[-1] if self.starts else -math.inf

    def position(self, ts: float) -> float:
        k = bisect.bisect_right(self.starts, ts) - 1
        if k < 0:
            return 0.0
        return self.before[k] + min(max(ts - self.starts[k], 0.0) / 60, self.ends[k] - self.before[k])

    def minutes(self, start: dt.datetime, end: dt.datetime) -> float:
        a, b = start.timestamp(), end.timestamp()
        if not (self.lo <= a and b <= self.hi):
            return sla.business_minutes(self.cal, start, end)
        return max(0.0, self.position(b) - self.position(a))

    def add(self, start: dt.datetime, minutes: float) -> dt.datetime:
        ts = start.timestamp()
        if not self.lo <= ts <= self.hi:
            return sla.add_business_minutes(self.cal, start, minutes)
        p = self.position(ts) + max(0.0, minutes)
        k = bisect.bisect_left(self.ends, p)
        if k >= len(self.ends):
            return sla.add_business_minutes(self.cal, start, minutes)
        # Before a window opens, work starts at the window (like add_business_minutes).
        at = self.starts[k] + max(0.0, p - self.before[k]) * 60
        return dt.datetime.fromtimestamp(max(at, ts), dt.UTC)


# --- the lifecycle ----------------------------------------------------------------------

# Event kinds: ("S", at, from, to, by, note) status change; ("C", at, by, text, internal)
# comment; ("A", at, assignee) assignment.


class Generator:
    """Makes the rows of ticket after ticket from one seeded random stream."""

    def __init__(self, world: World, seed: int, since: dt.datetime | None = None) -> None:
        self.w = world
        self.rnd = random.Random(seed)
        since = since or world.now - dt.timedelta(days=400)
        self.timeline = Timeline(world.cal, since, world.now + dt.timedelta(days=400))

    # helpers -------------------------------------------------------------------------

    def _staff(self, start: dt.datetime, minutes: float) -> dt.datetime:
        """When staff, working business hours, finish something `minutes` of work after `start`."""
        return self.timeline.add(start, minutes)

    def _due(self, clock: SlaClock, start: dt.datetime, minutes: float) -> dt.datetime:
        """`minutes` after `start` on `clock` (for planning; stored numbers use `sla`)."""
        if clock is CALENDAR:
            return start + dt.timedelta(minutes=minutes)
        return self.timeline.add(start, minutes)

    def _lognormal(self, median: float, sigma: float) -> float:
        return median * math.exp(self.rnd.gauss(0.0, sigma))

    def _category(self) -> CategoryPlan:
        x = self.rnd.random() * self.w._cat_weights[-1]
        for cat, acc in zip(self.w.categories, self.w._cat_weights, strict=True):
            if x < acc:
                return cat
        return self.w.categories[-1]

    def _priority(self, default: str) -> str:
        values, weights = PRIORITY_MIX.get(default, PRIORITY_MIX[Priority.MEDIUM.value])
        return self.rnd.choices(values, weights)[0]

    def _requester(self) -> int:
        w = self.w
        if w.featured_requester is not None and self.rnd.random() < w.featured_share:
            return w.featured_requester
        return self.rnd.choice(w.requesters)

    def _assignee(self, department: str) -> int:
        pool = self.w.coordinators.get(department) or self.w.admins
        # The first coordinator of a department (e.g. coordinator@example.com) is busiest.
        weights = [2.0] + [1.0] * (len(pool) - 1)
        return self.rnd.choices(pool, weights)[0]

    def fields(self, cat: CategoryPlan, submit: dt.datetime) -> tuple[str | None, dict[str, Any]]:
        sub = self.rnd.choice(cat.sub_categories) if cat.sub_categories else None
        if cat.name == "New Budget Proposal":
            approver = self.rnd.choice(self.w.approvers) if self.w.approvers else "Department Head"
            return sub, budget_proposal(self.rnd, cat, sub, submit, approver)
        maker = FIELD_MAKERS.get(cat.name, generic)
        return sub, maker(self.rnd, cat, sub, submit)

    # the plan ------------------------------------------------------------------------

    def plan(self, submit: dt.datetime, cat: CategoryPlan, priority: str, requester: int) -> list[tuple]:
        """Every event the ticket would see, ignoring `now` (the caller cuts the future off)."""
        rnd = self.rnd
        w = self.w
        target = w.targets.get(priority) or FALLBACK_TARGET
        stuck = rnd.random() < P_STUCK
        events: list[tuple] = [("S", submit, None, NEW, requester, None)]
        admin = rnd.choice(w.admins)

        # Approval (admin) and first response, in the response target's clock.
        f_resp = self._lognormal(0.35, 0.9) * (rnd.uniform(3, 15) if stuck else 1.0)
        t_resp_min = max(3.0, target.response_minutes * f_resp)
        t_approve = self._due(target.response_clock, submit, t_resp_min * rnd.uniform(0.15, 0.6))
        t_approve = max(t_approve, submit + MIN * rnd.uniform(1, 10))
        if rnd.random() < P_REJECT:
            events.append(("S", t_approve, NEW, REJECTED, admin, rnd.choice(T.REJECTION_REASONS)))
            return events
        events.append(("S", t_approve, NEW, OPEN, admin, None))
        coord = self._assignee(cat.department)
        if cat.auto_assign:
            events.append(("A", t_approve, coord))
        t_resp = self._due(target.response_clock, submit, t_resp_min)
        t_resp = max(t_resp, t_approve + MIN * rnd.uniform(1, 20))
        if not cat.auto_assign:
            events.append(("A", min(t_resp, t_approve + MIN * rnd.uniform(1, 60)), coord))
        name = w.names.get(requester, "there")

        # First response: a public reply, or taking the ticket into work (a move out of Open).
        if rnd.random() < 0.55:
            events.append(("S", t_resp, OPEN, IN_PROGRESS, coord, None))
            t_work = t_resp
            if rnd.random() < 0.6:
                reply = rnd.choice(T.STAFF_FIRST_REPLY).format(name=name)
                events.append(("C", t_resp + MIN * rnd.uniform(1, 15), coord, reply, False))
        else:
            events.append(("C", t_resp, coord, rnd.choice(T.STAFF_FIRST_REPLY).format(name=name), False))
            t_work = self._staff(t_resp, rnd.uniform(5, 120))
            events.append(("S", t_work, OPEN, IN_PROGRESS, coord, None))

        # Work until resolution, in the resolution target's clock; maybe one hold.
        f_res = self._lognormal(0.45, 0.8) * (rnd.uniform(4, 15) if stuck else 1.0)
        t_res_min = target.resolution_minutes * f_res
        if target.resolution_clock is CALENDAR:
            work_left = t_res_min - (t_work - submit).total_seconds() / 60
        else:
            work_left = t_res_min - self.timeline.minutes(submit, t_work)
        if work_left < 10:
            work_left = rnd.uniform(10, 120)
        hold_p = P_HOLD * (1.4 if cat.department in ("Asset Department", "Finance") else 1.0)
        status = IN_PROGRESS
        if rnd.random() < hold_p:
            first_part = work_left * rnd.uniform(0.1, 0.6)
            t_hold = self._due(target.resolution_clock, t_work, first_part) + MIN
            events.append(("C", t_hold, coord, rnd.choice(T.STAFF_HOLD_REQUEST).format(name=name), False))
            events.append(("S", t_hold + MIN, status, ON_HOLD, coord, None))
            reply_at = t_hold + dt.timedelta(hours=min(240.0, self._lognormal(20, 1.0)))
            events.append(("C", reply_at, requester, rnd.choice(T.REQUESTER_HOLD_REPLY), False))
            t_resume = self._staff(reply_at, rnd.uniform(10, 240))
            events.append(("S", t_resume, ON_HOLD, IN_PROGRESS, coord, None))
            t_resolved = self._due(target.resolution_clock, t_resume, work_left - first_part)
        else:
            t_resolved = self._due(target.resolution_clock, t_work, work_left)
        t_resolved = max(t_resolved, events[-1][1] + MIN * rnd.uniform(5, 30))

        self._chatter(events, t_work, t_resolved, coord, requester, cat.department)
        res_texts = T.STAFF_RESOLUTION.get(cat.name, T.STAFF_RESOLUTION_GENERIC)
        events.append(("C", t_resolved, coord, rnd.choice(res_texts), False))
        events.append(("S", t_resolved, IN_PROGRESS, RESOLVED, coord, None))

        if rnd.random() < P_REOPEN:
            reopen_at = t_resolved + (workflow.AUTO_CLOSE_AFTER - dt.timedelta(hours=2)) * rnd.uniform(0.01, 0.85)
            events.append(("C", reopen_at, requester, rnd.choice(T.REQUESTER_REOPEN), False))
            events.append(("S", reopen_at + MIN, RESOLVED, OPEN, requester, None))
            back = self._staff(reopen_at, rnd.uniform(30, 480))
            events.append(("S", back, OPEN, IN_PROGRESS, coord, None))
            t_resolved = self._staff(back, rnd.uniform(60, 960))
            events.append(("C", t_resolved, coord, rnd.choice(res_texts), False))
            events.append(("S", t_resolved, IN_PROGRESS, RESOLVED, coord, None))

        if rnd.random() < P_REQUESTER_CLOSES:
            close_at = t_resolved + min(
                workflow.AUTO_CLOSE_AFTER * 0.95, dt.timedelta(hours=max(0.1, self._lognormal(6, 1.2)))
            )
            if rnd.random() < 0.5:
                events.append(("C", close_at - MIN, requester, rnd.choice(T.REQUESTER_THANKS), False))
            events.append(("S", close_at, RESOLVED, CLOSED, requester, None))
        else:
            # `smartsupport maintenance` (tickets.auto_close, run by the worker) closes it.
            close_at = t_resolved + workflow.AUTO_CLOSE_AFTER + dt.timedelta(minutes=rnd.uniform(1, 60))
            events.append(("S", close_at, RESOLVED, CLOSED, None, AUTO_CLOSE_NOTE))
        events.sort(key=lambda e: e[1])

        if rnd.random() < P_WITHDRAW:
            _withdraw(events, submit, requester, rnd)
        return events

    def _chatter(
        self,
        events: list[tuple],
        start: dt.datetime,
        end: dt.datetime,
        coord: int,
        requester: int,
        department: str,
    ) -> None:
        """Internal notes among staff and the requester's "any update?" between work and resolution."""
        rnd = self.rnd
        span = (end - start).total_seconds()
        if span <= 120:
            return
        if rnd.random() < P_INTERNAL:
            pool = self.w.coordinators.get(department) or [coord]
            for _ in range(rnd.randint(1, 2)):
                at = start + dt.timedelta(seconds=rnd.uniform(60, span - 60))
                events.append(("C", at, rnd.choice(pool), rnd.choice(T.INTERNAL_NOTES), True))
        if span > 2 * 86400 and rnd.random() < P_FOLLOW_UP:
            at = start + dt.timedelta(seconds=rnd.uniform(86400, span - 60))
            events.append(("C", at, requester, "Hello, any update on this? Thank you.", False))

    # fold -----------------------------------------------------------------------------

    def make(self, ticket_id: int, number: str, submit: dt.datetime) -> Rows:
        """One ticket's rows: plan, cut at now, fold into the stored fields."""
        rnd = self.rnd
        w = self.w
        cat = self._category()
        priority = self._priority(cat.default_priority)
        requester = self._requester()
        sub, f = self.fields(cat, submit)
        now = w.now
        events = [e for e in self.plan(submit, cat, priority, requester) if e[1] <= now]
        events.sort(key=lambda e: e[1])

        target = w.targets.get(priority)
        status: str | None = None
        assigned: int | None = None
        first_response: dt.datetime | None = None
        resolved: dt.datetime | None = None
        hold_since: dt.datetime | None = None
        hold_minutes = 0.0
        reopen_count = 0
        time_closed: dt.datetime | None = None
        rejection: str | None = None
        version = 0
        last = submit
        resolution_minutes: float | None = None
        rows = Rows(ticket=())
        res_clock = target.resolution_clock if target else SlaClock.CALENDAR

        for ev in events:
            kind, at = ev[0], ev[1]
            last = at
            if kind == "S":
                _, _, frm, to, by, note = ev
                rows.history.append((ticket_id, frm, to, by, at, note))
                version += 1
                if frm == ON_HOLD and hold_since is not None:
                    hold_minutes += sla.elapsed(w.cal, res_clock, hold_since, at)
                    hold_since = None
                if to == ON_HOLD and hold_since is None:
                    hold_since = at
                if frm == OPEN and to != WITHDRAWN and by is not None and by != requester and first_response is None:
                    first_response = at
                if to == RESOLVED and resolved is None:
                    resolved = at
                    if target is not None:
                        worked = sla.elapsed(w.cal, res_clock, submit, at) - hold_minutes
                        resolution_minutes = max(0.0, worked)
                if frm == RESOLVED and to in (OPEN, IN_PROGRESS):
                    reopen_count += 1
                    time_closed = None
                if to == CLOSED:
                    time_closed = at
                if to == REJECTED:
                    rejection = note
                status = to
            elif kind == "C":
                _, _, by, text, internal = ev
                rows.comments.append((text, internal, at, at, ticket_id, by))
                if not internal and by != requester and first_response is None:
                    first_response = at
            else:  # "A"
                assigned = ev[2]
                version += 1

        response_minutes = response_met = resolution_met = None
        response_due = resolution_due = None
        if target is not None:
            response_due = sla.due(w.cal, target.response_clock, submit, target.response_minutes)
            resolution_due = sla.due(w.cal, res_clock, submit, target.resolution_minutes + hold_minutes)
            if first_response is not None:
                response_minutes = sla.elapsed(w.cal, target.response_clock, submit, first_response)
                response_met = response_minutes <= target.response_minutes
            if resolution_minutes is not None:
                resolution_met = resolution_minutes <= target.resolution_minutes

        if status in (RESOLVED, CLOSED) and resolved is not None and rnd.random() < P_RATING:
            rows.rating = self._rating(ticket_id, requester, resolved, bool(response_met) and bool(resolution_met))

        rows.ticket = (
            ticket_id, number, f["subject"], cat.name, sub, f["description"], priority, cat.department,
            status, submit, last, time_closed,
            (first_response - submit) if first_response else None,
            (resolved - submit) if resolved else None,
            rejection, f.get("asset_name"), f.get("serial_number"), f.get("location"),
            f.get("expected_return_date"), f.get("issue_type"), f.get("other_issue"),
            f.get("performance_start_date"), f.get("performance_end_date"), f.get("approved_by"),
            f.get("cost_items"), f.get("requested_budget"), f.get("dynamic_data"),
            requester, assigned, max(1, version), first_response, resolved, reopen_count, hold_since,
            hold_minutes, response_due, resolution_due, response_minutes, resolution_minutes, response_met,
            resolution_met,
        )  # fmt: skip
        return rows

    def _rating(self, ticket_id: int, requester: int, resolved: dt.datetime, met: bool) -> tuple | None:
        rnd = self.rnd
        at = resolved + dt.timedelta(minutes=rnd.uniform(10, 3 * 24 * 60))
        if at > self.w.now:
            return None
        weights = (2, 3, 10, 30, 55) if met else (10, 15, 25, 30, 20)
        score = rnd.choices((1, 2, 3, 4, 5), weights)[0]
        comment = rnd.choice(T.RATING_COMMENTS[score]) if rnd.random() < 0.6 else None
        return (ticket_id, requester, score, comment, at)


def _withdraw(events: list[tuple], submit: dt.datetime, requester: int, rnd: random.Random) -> None:
    """The requester withdraws before resolution: cut the plan there and add the move."""
    resolved_at = next((e[1] for e in events if e[0] == "S" and e[3] == RESOLVED), None)
    if resolved_at is None:  # rejected: nothing to withdraw
        return
    at = submit + (resolved_at - submit) * rnd.uniform(0.05, 0.9)
    at = max(at, submit + MIN)
    kept = [e for e in events if e[1] < at]
    status = next(e[3] for e in reversed(kept) if e[0] == "S")
    kept.append(("S", at, status, WITHDRAWN, requester, rnd.choice(T.WITHDRAW_NOTES)))
    events[:] = kept


def ticket_stream(
    gen: Generator,
    arrivals: Iterator[dt.datetime],
    ids: Iterator[int],
    numbers: Iterator[str],
) -> Iterator[Rows]:
    for submit in arrivals:
        yield gen.make(next(ids), next(numbers), submit)
