"""Benchmark: full-text ticket search of a common and a rare word.

Usage (the shared 1M-ticket database made by `bench/demo_load.py` or `smartsupport demo`):

    python bench/search.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/ss_bench_1m

It measures the product's own search path, `smartsupport_core.tickets.search_tickets` (policy
check, `websearch_to_tsquery`, ranking, visibility filter, LIMIT 50), as an admin (sees every
ticket) and as a coordinator (department filter), for a common and a rare word; and the bare
indexed match (`TICKET_TSVECTOR @@ query`, LIMIT 50, no ranking) as the floor. The words are
picked from the data (the most and the least frequent lexeme of a ~1% sample) unless given.
Read-only: it never writes. Prints one line per measurement and a final JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from smartsupport_core.db import to_sqlalchemy_url  # noqa: E402
from smartsupport_core.models import TICKET_TSVECTOR, Employee, Ticket  # noqa: E402
from smartsupport_core.vocab import AccountStatus, Role  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/ss_bench_1m"


def pick_words(session: Session) -> tuple[str, str]:
    """The most and the least frequent lexeme (of at least 4 letters) in a ~1% sample."""
    rows = session.execute(
        text(
            """
            SELECT word, ndoc FROM ts_stat($$
                SELECT to_tsvector('english', subject || ' ' || description)
                FROM core_ticket TABLESAMPLE SYSTEM (1) REPEATABLE (7)
            $$)
            WHERE word ~ '^[a-z]{4,}$'
            ORDER BY ndoc DESC, word
            """
        )
    ).all()
    if not rows:
        raise SystemExit("no tickets with text in the sample: load data first (bench/demo_load.py)")
    return rows[0][0], rows[-1][0]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def time_runs(fn, runs: int, warmup: int) -> tuple[list[float], int]:
    result = 0
    for _ in range(warmup):
        result = fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("SMARTSUPPORT_BENCH_URL", DEFAULT_URL))
    parser.add_argument("--common", help="the common word (default: most frequent lexeme of a sample)")
    parser.add_argument("--rare", help="the rare word (default: least frequent lexeme of a sample)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)

    engine = create_engine(to_sqlalchemy_url(args.database_url))
    results: dict[str, object] = {"benchmark": "search", "runs": args.runs}
    with Session(engine) as session:
        tickets = session.scalar(select(func.count()).select_from(Ticket))
        results["tickets"] = tickets
        print(f"tickets in the database: {tickets:,}")
        common, rare = args.common, args.rare
        if not common or not rare:
            auto_common, auto_rare = pick_words(session)
            common, rare = common or auto_common, rare or auto_rare

        def actor(role: Role) -> Employee | None:
            return session.scalars(
                select(Employee)
                .where(Employee.role == role.value, Employee.status == AccountStatus.APPROVED.value, Employee.is_active)
                .order_by(Employee.id)
                .limit(1)
            ).first()

        actors = {"admin": actor(Role.ADMIN), "coordinator": actor(Role.COORDINATOR)}
        try:
            from smartsupport_core.tickets import search_tickets
        except ImportError:  # the ticket service is not installed in this checkout
            search_tickets = None
            print("search_tickets: not measured (smartsupport_core.tickets.search_tickets is missing)")

        for label, word in (("common", common), ("rare", rare)):
            tsq = func.websearch_to_tsquery("english", word)
            matches = session.scalar(select(func.count()).where(TICKET_TSVECTOR.op("@@")(tsq)))
            print(f"{label} word {word!r}: {matches:,} matching tickets")
            results[f"{label}_word"] = word
            results[f"{label}_matches"] = matches

            def bare(tsq=tsq) -> int:
                return len(session.execute(select(Ticket.id).where(TICKET_TSVECTOR.op("@@")(tsq)).limit(50)).all())

            samples, n = time_runs(bare, args.runs, args.warmup)
            median, p95 = statistics.median(samples), percentile(samples, 0.95)
            print(f"  bare index match, LIMIT 50 ({n} rows): median {median:.1f} ms, p95 {p95:.1f} ms")
            results[f"{label}_bare_median_ms"] = round(median, 2)
            results[f"{label}_bare_p95_ms"] = round(p95, 2)

            if search_tickets is None:
                continue
            for who, user in actors.items():
                if user is None:
                    print(f"  search_tickets as {who}: not measured (no approved {who} in the data)")
                    continue

                def service(user=user, word=word) -> int:
                    hits = search_tickets(session, user, word, limit=50)
                    session.expunge_all()
                    return len(hits)

                samples, n = time_runs(service, args.runs, args.warmup)
                median, p95 = statistics.median(samples), percentile(samples, 0.95)
                print(f"  search_tickets as {who} ({n} hits): median {median:.1f} ms, p95 {p95:.1f} ms")
                results[f"{label}_{who}_median_ms"] = round(median, 2)
                results[f"{label}_{who}_p95_ms"] = round(p95, 2)
        session.rollback()
    engine.dispose()
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
