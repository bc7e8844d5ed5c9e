"""Benchmark: scrubbing every employee's name from what the assistant sends a model.

Usage (local PostgreSQL; a throwaway database is created and dropped):

    python bench/name_scrub.py [--employees 5000] [--runs 200] \
        [--server-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

It migrates a new database, inserts `--employees` accounts with generated names (several
shapes: plain, hyphenated, apostrophised, with middle names), and measures the product's own
path, `smartsupport_core.name_scrub`: building the name index (read every name, ask the
server which name words are stop words), a cached call (the fingerprint query only: what
every question pays), and scrubbing one source passage of about 500 characters (sources are
at most 700; the set lookup per word). Prints one line per measurement and a final JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from smartsupport_core import migrate  # noqa: E402
from smartsupport_core.assistant import name_scrub  # noqa: E402
from smartsupport_core.db import drop_database, ensure_database, throwaway_url  # noqa: E402
from smartsupport_core.models import Employee  # noqa: E402

SYLLABLES = ("an", "bel", "cor", "da", "el", "fin", "gar", "ho", "is", "jo", "ka", "lin", "mar", "no", "os", "per")
PASSAGE = (
    "I asked Ossian Drummerk about the docking station flicker: he swapped the USB-C cable and the "
    "screens came back. If it happens again, restart the dock, then unplug the power for ten seconds. "
    "The firmware update from the vendor fixes the flicker for good; you will find it in the software "
    "centre under Docking. Will Harrowgate tested it on three models. O'Brien-Smith's dock needed a new "
    "power supply, which the service desk replaces on the spot."
)


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


#: People the passage names (the rest are generated).
PLANTED = (("Ossian", "Drummerk"), ("Will", "Harrowgate"), ("Maeve", "O'Brien-Smith"))


def _people(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        first, last = PLANTED[i] if i < len(PLANTED) else (_name(rng), _name(rng))
        shape = i % 4
        if shape == 1 and i >= len(PLANTED):
            last = f"{last}-{_name(rng)}"
        elif shape == 2 and i >= len(PLANTED):
            last = f"O'{last}"
        rows.append(
            {
                "first_name": first,
                "middle_name": _name(rng) if shape == 3 else None,
                "last_name": last,
                "email": f"bench{i}@example.com",
                "company_id": f"MB{i:06d}",
                "department": "Sales",
                "role": "Employee",
                "status": "Approved",
                "password": "!unusable",
            }
        )
    return rows


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument(
        "--server-url",
        default=os.environ.get("SMARTSUPPORT_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
    )
    args = parser.parse_args()
    url = throwaway_url(args.server_url, "ss_names")
    ensure_database(url)
    engine = create_engine(url)
    try:
        migrate.upgrade(engine)
        with Session(engine) as s:
            s.execute(insert(Employee), _people(args.employees, 7))
            s.commit()
        with Session(engine) as s:
            started = time.perf_counter()
            index = name_scrub.current(s)
            build = time.perf_counter() - started
            cached = []
            for _ in range(args.runs):
                started = time.perf_counter()
                assert name_scrub.current(s) is index
                cached.append(time.perf_counter() - started)
        scrubbed = index.scrub(PASSAGE)
        scrub = []
        for _ in range(args.runs):
            started = time.perf_counter()
            index.scrub(PASSAGE)
            scrub.append(time.perf_counter() - started)
    finally:
        engine.dispose()
        drop_database(url)
    words = len(index.always) + len(index.capitalised)
    cached_p50, cached_p95 = _ms(cached)
    scrub_p50, scrub_p95 = _ms(scrub)
    print(f"employees {args.employees}, name words {words} ({len(index.capitalised)} stop words)")
    print(f"build the index (read names, stop words): {build * 1000:.1f} ms")
    print(f"cached call (fingerprint query): median {cached_p50:.2f} ms, p95 {cached_p95:.2f} ms")
    print(f"scrub a {len(PASSAGE)}-character passage: median {scrub_p50:.3f} ms, p95 {scrub_p95:.3f} ms")
    print(f"sample: {scrubbed[:160]}…")
    result = {
        "benchmark": "name_scrub",
        "employees": args.employees,
        "name_words": words,
        "build_ms": round(build * 1000, 1),
        "cached_median_ms": round(cached_p50, 2),
        "cached_p95_ms": round(cached_p95, 2),
        "passage_chars": len(PASSAGE),
        "scrub_median_ms": round(scrub_p50, 3),
        "scrub_p95_ms": round(scrub_p95, 3),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
