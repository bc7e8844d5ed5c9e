"""The `smartsupport` command line (fixed contract: see design.md)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click

from . import migrate, settings
from .db import get_engine
from .errors import DomainError
from .resources import portal_server


def fail(message: str) -> None:
    """One clear line, exit code 2 (bad input); nothing has been written."""
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


class OneLineErrors(click.Group):
    """Bad input to any command: one line naming the problem, exit code 2."""

    def main(self, *args, **kwargs):  # type: ignore[override]
        from sqlalchemy.exc import ArgumentError, OperationalError

        try:
            return super().main(*args, standalone_mode=False, **kwargs)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.Abort:
            fail("aborted")
        except click.ClickException as exc:
            fail(" ".join(exc.format_message().split()))
        except DomainError as exc:
            fail(str(exc))
        except ArgumentError as exc:
            fail(f"SMARTSUPPORT_DATABASE_URL is not a valid database URL ({exc})")
        except OperationalError as exc:
            fail(f"cannot reach the database: {str(exc.orig).strip().splitlines()[0] if exc.orig else exc}")


@click.group(cls=OneLineErrors)
def main() -> None:
    """SmartSupport internal help desk."""


@main.group()
def db() -> None:
    """Database schema (Alembic)."""


def migrate_and_say(engine) -> None:
    """Upgrade under the migration lock (migrate.py) and say whether this process migrated."""
    before, after = migrate.upgrade(engine)
    if before == after:
        click.echo(f"database already at revision {after}")
    else:
        click.echo(f"database migrated from {before or '(empty)'} to {after}")


def server_mode() -> None:
    """Refuse to serve a shared database without a shared secret; say which database is used.

    WHY: with `SMARTSUPPORT_DATABASE_URL` several processes (replicas, workers) share the data,
    and a key generated into each one's data dir would make a cookie or download link signed by
    one replica fail on the next. Without a URL the process starts an embedded PostgreSQL of its
    own, which is only right for one machine: say so, so nobody scales that by accident."""
    current = settings.get_settings()
    if current.database_url:
        if not current.secret_key_value:
            fail(
                "SMARTSUPPORT_SECRET_KEY must be set when SMARTSUPPORT_DATABASE_URL is: every portal "
                "replica and worker signs and checks sign-in cookies and download links with it "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
    else:
        click.echo(
            f"SMARTSUPPORT_DATABASE_URL is not set: using the embedded PostgreSQL in {current.data_dir / 'pg'} "
            "(one machine only; set the URL to share a server between processes)"
        )


@db.command("upgrade")
def db_upgrade() -> None:
    """Upgrade the database to the newest schema (the deployment's migrate step)."""
    migrate_and_say(get_engine())


@db.command("current")
def db_current() -> None:
    """Show the database's schema revision."""
    click.echo(migrate.current(get_engine()) or "(empty database)")


@main.command()
@click.option("--port", type=click.IntRange(1, 65535), default=settings.DEFAULT_PORT, show_default=True)
@click.option("--demo", is_flag=True, help="Load demo data first if the database is empty.")
@click.option("--address", default="127.0.0.1", show_default=True)
@click.option("--no-migrate", is_flag=True, help="Do not migrate at start (the deployment runs `db upgrade`).")
def run(port: int, demo: bool, address: str, no_migrate: bool) -> None:
    """Migrate to head (under a lock), then serve the portal.

    Without SMARTSUPPORT_BASE_URL, e-mail links follow the port: the portal process (the only
    writer `run` starts) gets SMARTSUPPORT_BASE_URL=http://localhost:<port> in its
    environment. A separately started worker writes links too (auto-close, weekly summary)
    and needs the same setting."""
    server_mode()
    engine = get_engine()
    if no_migrate:
        if migrate.current(engine) != migrate.head():
            fail(f"the database is at revision {migrate.current(engine) or '(empty)'}, not {migrate.head()}: "
                 "run `smartsupport db upgrade` first (or start without --no-migrate)")
    else:
        migrate_and_say(engine)
    env = dict(os.environ)
    env.setdefault("STREAMLIT_SERVER_COOKIE_SECRET", streamlit_cookie_secret())
    if not env.get(settings.BASE_URL_ENV):
        env[settings.BASE_URL_ENV] = settings.portal_base_url(port)
    if demo:
        from .demo import database_is_empty, load_demo

        if database_is_empty(engine):
            click.echo("loading demo data ...")
            load_demo(engine, echo=click.echo)
        env["SMARTSUPPORT_DEMO_MODE"] = "1"
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(portal_server()),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    raise SystemExit(serve(cmd, env))


def streamlit_cookie_secret() -> str:
    """Streamlit's `server.cookieSecret`, derived from SMARTSUPPORT_SECRET_KEY.

    WHY: Streamlit signs its XSRF cookie (checked on every file upload) and its own sign-in
    cookie with this secret, random per process by default: after a replica goes away and the
    load balancer sends the browser to another, uploads would be refused. Every replica with the
    same SmartSupport key derives the same value; deriving it keeps our signing key itself out
    of Streamlit's hands."""
    import hashlib
    import hmac

    key = settings.get_settings().secret_key.encode()
    return hmac.new(key, b"streamlit server.cookieSecret", hashlib.sha256).hexdigest()


def serve(cmd: list[str], env: dict[str, str]) -> int:
    """Run the Streamlit server until it ends; SIGTERM/SIGHUP stop it too.

    WHY: a service manager or `kill` sends SIGTERM to this process only. Python's default
    action would end it at once, leaving the Streamlit child serving and (with the embedded
    database) its PostgreSQL running, since pgserver stops that at interpreter exit. So the
    signal is passed on, the child is waited for, and the exit is a normal one."""
    child = subprocess.Popen(cmd, env=env)  # the caller's directory: its .streamlit/secrets.toml

    def stop(signum: int, _frame: object) -> None:
        child.send_signal(signal.SIGTERM)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    try:
        return child.wait()
    except KeyboardInterrupt:  # Ctrl-C reaches the child too (same process group): let it finish
        return child.wait()


@main.command()
@click.option("--tickets", type=click.IntRange(min=0), default=500, show_default=True)
@click.option("--password", default=None, help="Password of the demo accounts (default: Demo#2026pass).")
@click.option("--seed", type=int, default=42, show_default=True)
def demo(tickets: int, password: str | None, seed: int) -> None:
    """Load idempotent demo data and print the demo accounts."""
    from .demo import load_demo

    engine = get_engine()
    migrate.upgrade(engine)
    load_demo(engine, tickets=tickets, password=password, seed=seed, echo=click.echo)


@main.command()
@click.option("--once", is_flag=True, help="Run the due maintenance jobs, send everything due now, then exit.")
@click.option("--batch-size", type=click.IntRange(1, 500), default=10, show_default=True,
              help="Messages claimed per transaction.")
@click.option("--poll-interval", type=click.FloatRange(0.1, 3600), default=5.0, show_default=True,
              help="Seconds to wait when nothing is due.")
def worker(once: bool, batch_size: int, poll_interval: float) -> None:
    """Send queued e-mail notifications and run periodic maintenance (auto-close, ...).

    Run as many as you like: they share the work without sending a message twice. SIGTERM or
    Ctrl-C finishes the message in hand, puts the rest back in the queue and exits 0.
    """
    import logging
    import signal

    from .worker import Worker, WorkerConfig

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    server_mode()
    engine = get_engine()
    w = Worker(
        engine,
        config=WorkerConfig(batch_size=batch_size, poll_interval=poll_interval),
        echo=lambda message: click.echo(f"worker: {message}"),
    )

    def stop(signum: int, frame: object) -> None:
        w.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"worker: started (pid {os.getpid()}{', once' if once else ''})")
    if not os.environ.get(settings.BASE_URL_ENV):
        click.echo(
            f"worker: {settings.BASE_URL_ENV} is not set; links in e-mails the worker writes (auto-close,"
            f" weekly summary) point at {settings.get_settings().base_url}"
        )
    stats = w.run(once=once)
    click.echo(f"worker: stopped ({stats.summary()})")


@main.command()
@click.option("--portal", "portal_url", default=None, metavar="URL",
              help="Also ask a portal's /_stcore/health (e.g. http://127.0.0.1:8501).")
def health(portal_url: str | None) -> None:
    """Exit 0 when the database answers and its schema is at head (and the portal, if given)."""
    import urllib.request

    from sqlalchemy import text

    problems: list[str] = []
    try:
        engine = get_engine()
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        at, head = migrate.current(engine), migrate.head()
        if at != head:
            problems.append(f"database schema at {at or '(empty)'}, not {head}: run `smartsupport db upgrade`")
    except Exception as exc:  # any failure to reach the database is the answer, not a crash
        problems.append(f"database unreachable: {str(exc).strip().splitlines()[0]}")
    if portal_url:
        url = portal_url.rstrip("/") + "/_stcore/health"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status != 200:
                    problems.append(f"{url} answered {response.status}")
        except OSError as exc:
            problems.append(f"{url}: {exc}")
    if problems:
        for problem in problems:
            click.echo(f"unhealthy: {problem}", err=True)
        sys.exit(1)
    click.echo("healthy: database reachable, schema at head" + (", portal answering" if portal_url else ""))


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup(file: Path) -> None:
    """Back up the database (pg_dump custom format) to FILE; with the filesystem store also
    the files, to FILE.files.tar."""
    from .backup import backup as write_backup

    for written in write_backup(file):
        click.echo(f"wrote {written} ({written.stat().st_size} bytes)")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Restore into a database that is not empty (replaces what FILE holds).")
def restore(file: Path, force: bool) -> None:
    """Restore a backup into the configured database: an empty one unless --force."""
    from .backup import restore as read_backup

    read_backup(file, force=force)
    click.echo(f"restored {file} into the database at revision {migrate.current(get_engine())}")


@main.group()
def files() -> None:
    """Attachment and profile-image storage."""


@files.command("move")
@click.option("--to", "target", type=click.Choice(settings.FILE_STORES), required=True,
              help="The store to move files into.")
def files_move(target: str) -> None:
    """Move every attachment and profile image into another store; then set SMARTSUPPORT_FILE_STORE to it."""
    from .db import session_scope
    from .file_store import move_files, store

    source = next(name for name in settings.FILE_STORES if name != target)
    engine = get_engine()
    moved, missing = move_files(lambda: session_scope(engine), store(source), store(target))
    click.echo(f"moved {moved} file(s) from {source} to {target}; now set SMARTSUPPORT_FILE_STORE={target}")
    for path in missing:
        click.echo(f"missing in {source} (not moved): {path}", err=True)


@main.command()
def maintenance() -> None:
    """Periodic housekeeping: close Resolved tickets older than 7 days."""
    from .db import session_scope
    from .tickets import auto_close

    engine = get_engine()
    with session_scope(engine) as session:
        closed = auto_close(session)
    click.echo(f"auto-closed {len(closed)} resolved ticket(s)" + (": " + ", ".join(closed) if closed else ""))


@main.command("create-admin")
@click.option("--email", required=True, help="E-mail address (the sign-in name).")
@click.option("--company-id", required=True, help="Company ID, format MA#### (e.g. MA0001).")
@click.option("--first-name", required=True)
@click.option("--last-name", required=True)
@click.option("--middle-name", default=None)
@click.option("--suffix", default=None)
@click.option("--department", default="IT Department", show_default=True, help="An active department.")
def create_admin(
    email: str,
    company_id: str,
    first_name: str,
    last_name: str,
    middle_name: str | None,
    suffix: str | None,
    department: str,
) -> None:
    """Create an approved System Admin (password from SMARTSUPPORT_ADMIN_PASSWORD, else asked)."""
    from .accounts import create_admin as make_admin
    from .db import session_scope

    password = os.environ.get("SMARTSUPPORT_ADMIN_PASSWORD") or click.prompt(
        "Password", hide_input=True, confirmation_prompt=True
    )
    engine = get_engine()
    migrate.upgrade(engine)
    data = {
        "email": email,
        "company_id": company_id,
        "first_name": first_name,
        "last_name": last_name,
        "middle_name": middle_name,
        "suffix": suffix,
        "department": department,
        "password": password,
    }
    with session_scope(engine) as session:
        admin = make_admin(session, data)
        summary = f"created System Admin {admin.full_name} <{admin.email}> ({admin.company_id}, {admin.department})"
    click.echo(summary)


@main.command("sla-summary")
@click.option("--force", is_flag=True, help="Send now even if this week's summary already went out.")
def sla_summary(force: bool) -> None:
    """Queue the weekly SLA summary to each department head (the worker sends it)."""
    import datetime as dt

    from . import jobs
    from .db import session_scope
    from .reporting.weekly import last_week, send_weekly_summaries

    engine = get_engine()
    now = dt.datetime.now(dt.UTC)
    week = last_week(now)
    if force:
        with session_scope(engine) as session:
            count = send_weekly_summaries(session, now)
        click.echo(f"queued {count} weekly SLA summar{'y' if count == 1 else 'ies'} for {week.start} .. {week.end}")
        return
    result = jobs.run_job_if_due(engine, jobs.REGISTRY["sla_weekly_summary"], now)
    if result.outcome == "ran":
        click.echo(f"queued {result.detail} weekly SLA summaries for {week.start} .. {week.end}")
    elif result.outcome == "error":
        fail(f"the weekly SLA summary failed: {result.detail}")
    else:
        click.echo(f"not sent ({result.outcome}: {result.detail}); use --force to send anyway")


if __name__ == "__main__":  # pragma: no cover
    main()
