"""Benchmark: e-mails per second the outbox worker delivers to a local SMTP server.

Usage:
    python bench/email_delivery.py                    # 2,000 messages, batch 10, 1 then 2 workers
    python bench/email_delivery.py --messages 5000 --batch-size 25

A throwaway database is created on the server of SMARTSUPPORT_DATABASE_URL (default: the
local server, postgres@127.0.0.1:5432) and dropped at the end. An aiosmtpd server on
loopback (in this process) receives the mail. Each round queues the same rendered
messages, starts the workers (separate processes, as in production) at the same instant,
and times until the outbox is empty; it then checks that every message arrived exactly
once. Prints the figures, then one JSON line.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text

from smartsupport_core import db as core_db
from smartsupport_core import migrate
from smartsupport_core.email_templates import render, sample_data
from smartsupport_core.settings import load_settings
from tests.smtp_sink import SmtpSink

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
TEMPLATE = "ticket_comment"


def _worker(url: str, port: int, batch_size: int, go: mp.Event, results: mp.Queue) -> None:  # type: ignore[type-arg]
    from smartsupport_core.worker import Worker, WorkerConfig

    settings = dataclasses.replace(
        load_settings(), database_url=url, smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
        smtp_ssl=False, smtp_username=None, smtp_password=None, smtp_from="SmartSupport <bench@example.com>",
    )
    engine = create_engine(url, pool_size=2)
    worker = Worker(engine, settings, config=WorkerConfig(batch_size=batch_size, run_jobs=False), echo=lambda m: None)
    with engine.connect():
        pass  # connect before the clock starts
    go.wait()
    stats = worker.drain()
    results.put((os.getpid(), stats.sent, stats.retried + stats.failed, time.perf_counter()))
    engine.dispose()


def _queue(engine, n: int) -> None:
    subject, body, html_body = render(TEMPLATE, sample_data(TEMPLATE))
    with engine.begin() as conn:
        conn.execute(text("TRUNCATE core_emailnotification RESTART IDENTITY"))
        conn.execute(
            text(
                "INSERT INTO core_emailnotification (recipient_email, subject, body, html_body, template_name,"
                " template_data) SELECT 'user' || g || '@example.com', :s, :b, :h, :t, '{}'::jsonb"
                " FROM generate_series(1, :n) g"
            ),
            {"s": subject, "b": body, "h": html_body, "t": TEMPLATE, "n": n},
        )


def _round(url: str, engine, sink: SmtpSink, workers: int, n: int, batch_size: int) -> dict[str, object]:
    _queue(engine, n)
    sink.recorder.messages.clear()
    ctx = mp.get_context("spawn")
    go, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, sink.port, batch_size, go, results)) for _ in range(workers)]
    for p in procs:
        p.start()
    time.sleep(3.0)  # let the processes import and connect
    started = time.perf_counter()
    go.set()
    finished = [results.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(60)
    seconds = max(f[3] for f in finished) - started
    delivered = collections.Counter(d.outbox_id for d in sink.messages)
    with engine.connect() as conn:
        sent = conn.execute(text("SELECT count(*) FROM core_emailnotification WHERE status = 'sent'")).scalar_one()
    ok = len(delivered) == n and set(delivered.values()) == {1} and sent == n
    return {
        "workers": workers,
        "messages": n,
        "seconds": round(seconds, 3),
        "per_second": round(n / seconds, 1),
        "per_worker": sorted(f[1] for f in finished),
        "exactly_once": ok,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=10)
    args = parser.parse_args()

    url = core_db.throwaway_url(os.environ.get("SMARTSUPPORT_DATABASE_URL") or DEFAULT_SERVER, "ss_bench_mail")
    core_db.ensure_database(url)
    engine = create_engine(url)
    rounds = []
    try:
        migrate.upgrade(engine)
        with SmtpSink() as sink:
            for workers in (1, 2):
                r = _round(url, engine, sink, workers, args.messages, args.batch_size)
                rounds.append(r)
                print(
                    f"{workers} worker(s): {r['messages']:,} messages in {r['seconds']:.2f} s = "
                    f"{r['per_second']:,.0f} messages/s  (per worker {r['per_worker']}; "
                    f"exactly once: {r['exactly_once']})"
                )
    finally:
        engine.dispose()
        core_db.drop_database(url)
    load = os.getloadavg()[0]
    print(
        "note: the SMTP server (one asyncio thread), PostgreSQL and the workers share this machine's "
        f"{os.cpu_count()} cores (load average {load:.1f} at the end); batch size {args.batch_size}, "
        "one SMTP connection per batch, one short transaction per claim and per outcome."
    )
    print(
        json.dumps(
            {
                "benchmark": "email_delivery",
                "messages": args.messages,
                "batch_size": args.batch_size,
                "one_worker_per_s": rounds[0]["per_second"],
                "two_workers_per_s": rounds[1]["per_second"],
                "exactly_once": all(r["exactly_once"] for r in rounds),
                "load_average": round(load, 1),
            }
        )
    )
    if not all(r["exactly_once"] for r in rounds):
        sys.exit("error: a message was lost or delivered twice")


if __name__ == "__main__":
    main()
