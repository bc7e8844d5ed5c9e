"""Benchmark: inbound e-mails per second, from IMAP fetch to committed ticket.

Usage:
    python bench/email_inbound.py                  # 400 messages over 2 mailboxes, 1 then 2 workers
    python bench/email_inbound.py --messages 1000

A throwaway database is created on the server of SMARTSUPPORT_DATABASE_URL (default: the
local server, postgres@127.0.0.1:5432) and dropped at the end; Dovecot runs on loopback
(tests/imap_server.py). Each round makes two fresh mailboxes, delivers the messages (half to
each, IMAP APPEND, not timed: plain-text mail from approved employees, so every one becomes a
ticket through `tickets.submit_ticket` with its confirmation e-mail queued), then starts the
polling workers (separate processes running `inbound.poll_all`, as the worker job does) at
the same instant and times until every message has its committed row. It then checks that
every message made exactly one ticket. Prints the figures, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
import uuid
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from smartsupport_core import db as core_db
from smartsupport_core import inbound_admin, migrate
from smartsupport_core import settings as core_settings
from smartsupport_core.models import Employee, InboundMessage, Ticket
from tests.imap_server import Dovecot

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
SENDERS = 20


def _worker(url: str, mailbox_ids: list[int], target: int, go, results) -> None:  # type: ignore[no-untyped-def]
    from smartsupport_core import inbound

    engine = create_engine(url, pool_size=3)
    with engine.connect():
        pass  # connect before the clock starts
    go.wait()
    polls = processed = 0
    busy = 0.0
    while True:
        t0 = time.perf_counter()
        polled = inbound.poll_all(engine)
        polls += 1
        processed += sum(r.processed for r in polled)
        if any(r.processed for r in polled):
            busy += time.perf_counter() - t0
        if not any(r.processed for r in polled):
            time.sleep(0.2)  # nothing new (or the other worker holds the mailbox): as the worker job, wait
        with Session(engine) as s:
            done = s.scalar(select(func.count()).select_from(InboundMessage)
                            .where(InboundMessage.mailbox_id.in_(mailbox_ids)))
        if done >= target:
            break
    results.put((os.getpid(), polls, time.perf_counter(), processed, round(busy, 2)))
    engine.dispose()


def _message(sender: str, n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@example.com"
    msg["Subject"] = f"Benchmark request number {n}"
    msg["Message-ID"] = make_msgid(domain="bench.example.com")
    msg.set_content(f"Hello,\n\nthe printer in room {n} does not print.\n\n-- \nA colleague\n\n"
                    "On Mon, 1 Dec 2026, Help wrote:\n> earlier text\n")
    return msg.as_bytes()


def _setup(engine) -> tuple[Employee, list[str]]:  # type: ignore[no-untyped-def]
    with Session(engine, expire_on_commit=False) as s:
        admin = Employee(first_name="Bench", last_name="Admin", email="bench.admin@example.com", company_id="MA9000",
                         department="IT Department", role="System Admin", status="Approved", password="!")
        people = [Employee(first_name="Req", last_name=str(i), email=f"requester{i}@example.com",
                           company_id=f"MA{9100 + i}", department="Sales", status="Approved", password="!")
                  for i in range(SENDERS)]
        s.add_all([admin, *people])
        s.commit()
        return admin, [p.email for p in people]


def _round(url: str, engine, imap: Dovecot, admin, senders: list[str], workers: int, n: int) -> dict[str, object]:  # type: ignore[no-untyped-def]
    users = [f"bench-{uuid.uuid4().hex[:8]}@example.com" for _ in range(2)]
    ids = []
    with Session(engine, expire_on_commit=False) as s:
        for user in users:
            imap.add_user(user, "pw")
            box = inbound_admin.create_mailbox(s, admin, inbound_admin.MailboxForm(
                name=user, host="127.0.0.1", port=imap.port, security="none", username=user, password="pw",
                category="Others"))
            ids.append(box.id)
        s.commit()
    with Session(engine) as s:
        before = s.scalar(select(func.count()).select_from(Ticket))
    for i in range(n):
        with imap.client(users[i % 2]) as box:
            box.client.append("INBOX", None, None, _message(senders[i % len(senders)], i))
    ctx = mp.get_context("spawn")
    go, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, ids, n, go, results)) for _ in range(workers)]
    for p in procs:
        p.start()
    time.sleep(4.0)  # let the processes import and connect
    started = time.perf_counter()
    go.set()
    finished = [results.get(timeout=900) for _ in procs]
    for p in procs:
        p.join(60)
    seconds = max(f[2] for f in finished) - started
    with Session(engine) as s:
        created = s.scalar(select(func.count()).select_from(Ticket)) - before
        rows = s.execute(select(InboundMessage.outcome, func.count()).where(InboundMessage.mailbox_id.in_(ids))
                         .group_by(InboundMessage.outcome)).all()
    outcomes = dict(rows)
    ok = created == n and outcomes == {"ticket created": n}
    return {"workers": workers, "messages": n, "seconds": round(seconds, 3), "per_second": round(n / seconds, 1),
            "exactly_once": ok, "outcomes": outcomes,
            "per_worker": sorted((f[3], f[4]) for f in finished)}  # (messages, seconds spent processing)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=400)
    args = parser.parse_args()

    os.environ.setdefault("SMARTSUPPORT_SECRET_KEY", "bench-" + uuid.uuid4().hex)
    url = core_db.throwaway_url(os.environ.get("SMARTSUPPORT_DATABASE_URL") or DEFAULT_SERVER, "ss_bench_inbound")
    core_db.ensure_database(url)
    os.environ["SMARTSUPPORT_DATABASE_URL"] = url
    core_settings.configure(None)
    engine = create_engine(url)
    rounds = []
    load_start = os.getloadavg()[0]
    try:
        migrate.upgrade(engine)
        with engine.begin() as conn:
            conn.execute(text("SELECT 1"))
        admin, senders = _setup(engine)
        with Dovecot() as imap:
            for workers in (1, 2):
                r = _round(url, engine, imap, admin, senders, workers, args.messages)
                rounds.append(r)
                print(f"{workers} worker(s): {r['messages']:,} messages in {r['seconds']:.2f} s = "
                      f"{r['per_second']:,.1f} messages/s from fetch to committed ticket "
                      f"(exactly once: {r['exactly_once']}; {r['outcomes']}; per worker (messages, busy s): "
                      f"{r['per_worker']})")
    finally:
        engine.dispose()
        core_db.drop_database(url)
    load = os.getloadavg()[0]
    print(f"note: Dovecot, PostgreSQL and the workers share this machine's {os.cpu_count()} cores (load average "
          f"{load_start:.1f} at the start, {load:.1f} at the end); two mailboxes, one transaction per message "
          "(log row, ticket, history, audit, confirmation e-mail, last UID), then the \\Seen flag.")
    print(json.dumps({
        "benchmark": "email_inbound",
        "messages": args.messages,
        "mailboxes": 2,
        "one_worker_per_s": rounds[0]["per_second"],
        "two_workers_per_s": rounds[1]["per_second"],
        "exactly_once": all(r["exactly_once"] for r in rounds),
        "load_average": round(load, 1),
    }))
    if not all(r["exactly_once"] for r in rounds):
        sys.exit("error: a message was lost or processed twice")


if __name__ == "__main__":
    main()
