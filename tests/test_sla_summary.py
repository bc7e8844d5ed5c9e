"""The weekly SLA summary: one outbox e-mail per department head, once per week."""

from __future__ import annotations

import datetime as dt

from click.testing import CliRunner
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from smartsupport_core import jobs
from smartsupport_core.cli import main
from smartsupport_core.models import Department, EmailNotification
from smartsupport_core.reporting.weekly import last_week, send_weekly_summaries
from tests.test_reporting import World, world  # noqa: F401 (fixture)

MONDAY = dt.datetime(2026, 3, 16, 8, 0, tzinfo=dt.UTC)


def _heads(session: Session) -> None:
    session.execute(update(Department).where(Department.name == "IT Department").values(head_email="it-head@x.test"))
    session.execute(update(Department).where(Department.name == "Finance").values(head_email="fin-head@x.test"))
    session.commit()


def test_last_week_is_the_previous_monday_to_sunday() -> None:
    week = last_week(MONDAY)
    assert (week.start, week.end) == (dt.date(2026, 3, 9), dt.date(2026, 3, 15))
    week = last_week(dt.datetime(2026, 3, 22, 23, 0, tzinfo=dt.UTC))  # Sunday
    assert (week.start, week.end) == (dt.date(2026, 3, 9), dt.date(2026, 3, 15))


def test_summary_per_department_head(session: Session, world: World) -> None:  # noqa: F811
    _heads(session)
    assert send_weekly_summaries(session, MONDAY) == 2
    session.commit()
    mails = {m.recipient_email: m for m in session.scalars(select(EmailNotification))}
    assert set(mails) == {"it-head@x.test", "fin-head@x.test"}
    it = mails["it-head@x.test"]
    assert it.template_name == "sla_weekly_summary"
    assert it.subject == "Weekly SLA summary for IT Department"
    # IT, week 03-09..03-15: created T5 T6 T9, resolved T3; the week before: created T1 T2 T3, resolved T1 T2.
    assert "- Created: 3 (3, +0)" in it.body
    assert "- Resolved: 1 (2, -1)" in it.body
    assert "- Median resolution: 11.0 h (6.5 h, +4.5 h)" in it.body  # 660 min vs median(300, 480)
    assert "- Resolution SLA met: 100.0 % (100.0 %, +0.0 pts)" in it.body
    fin = mails["fin-head@x.test"].body
    assert "- Created: 1 (0, +1)" in fin and "- Reopen rate: 100.0 % (-)" in fin  # T4


def test_job_runs_once_per_week_across_workers(session: Session, clean_db, world: World) -> None:  # noqa: F811
    _heads(session)
    job = jobs.REGISTRY["sla_weekly_summary"]
    assert jobs.run_job_if_due(clean_db, job, MONDAY).outcome == "ran"
    assert jobs.run_job_if_due(clean_db, job, MONDAY + dt.timedelta(days=3)).outcome == "not due"
    assert len(session.scalars(select(EmailNotification)).all()) == 2
    assert jobs.run_job_if_due(clean_db, job, MONDAY + dt.timedelta(days=7)).outcome == "ran"
    assert len(session.scalars(select(EmailNotification)).all()) == 4


def test_cli_command(session: Session, world: World) -> None:  # noqa: F811
    _heads(session)
    runner = CliRunner()
    first = runner.invoke(main, ["sla-summary"])
    assert first.exit_code == 0, first.output
    assert "queued 2 weekly SLA summaries" in first.output
    second = runner.invoke(main, ["sla-summary"])
    assert second.exit_code == 0 and "not sent (not due" in second.output
    forced = runner.invoke(main, ["sla-summary", "--force"])
    assert forced.exit_code == 0 and "queued 2" in forced.output
    assert len(session.scalars(select(EmailNotification)).all()) == 4


def test_change_text_per_unit() -> None:
    from smartsupport_core.reporting import change_text

    assert change_text(None, "count") is None
    assert [change_text(1234.0, "count"), change_text(-90.0, "minutes")] == ["+1,234", "-1.5 h"]
    assert [change_text(2.5, "percent"), change_text(-0.25, "score")] == ["+2.5 pts", "-0.25"]
