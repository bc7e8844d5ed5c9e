"""The dashboard computed in report processes (`reporting.offload`), as the portal does it:
the same figures as in the caller's process, the same refusals, a dead worker survived, and
a page run (where `__main__` is the page script) starting workers that do not run the portal."""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
from collections.abc import Iterator

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from smartsupport_core import reporting
from smartsupport_core.errors import PermissionDenied, ValidationError
from smartsupport_core.reporting import offload
from smartsupport_core.settings import get_settings
from tests.portal_helpers import open_page
from tests.test_reporting import FIELDS_OF_PART, NOW, PERIOD, World, _same, world  # noqa: F401 (fixture)


@pytest.fixture
def workers() -> Iterator[None]:
    assert get_settings().report_processes > 0  # the default: the portal computes in workers
    offload.shutdown()
    yield
    offload.shutdown()


def _worker_pids() -> set[int]:
    pool = offload._pool
    return set() if pool is None else {p.pid for p in pool._processes.values()}


def test_workers_compute_what_the_caller_computes(session: Session, world: World, workers: None) -> None:  # noqa: F811
    whole = reporting.dashboard(session, world.admin, PERIOD, now=NOW)
    for part in reporting.PARTS:
        got = offload.dashboard_of(world.admin.id, PERIOD, (part,), now=NOW)
        assert got.parts == {part}
        for name in FIELDS_OF_PART[part]:
            assert _same(getattr(got, name), getattr(whole, name)), (part, name)
    pids = _worker_pids()
    assert pids and os.getpid() not in pids  # computed elsewhere


def test_workers_refuse_what_the_core_refuses(session: Session, world: World, workers: None) -> None:  # noqa: F811
    with pytest.raises(PermissionDenied, match="not allowed to view reports"):
        offload.dashboard_of(world.requester.id, PERIOD, ("summary",), now=NOW)
    with pytest.raises(PermissionDenied, match="no longer exists"):
        offload.dashboard_of(10**9, PERIOD, ("summary",), now=NOW)
    backwards = reporting.ReportFilters(start=PERIOD.end, end=PERIOD.start)
    with pytest.raises(ValidationError) as refused:
        offload.dashboard_of(world.admin.id, backwards, ("summary",), now=NOW)
    assert "end date must be on or after the start date" in str(refused.value)
    with pytest.raises(ValidationError, match="Dashboard part"):
        offload.dashboard_of(world.admin.id, PERIOD, ("everything",), now=NOW)


def test_a_dead_worker_is_survived(session: Session, world: World, workers: None, caplog) -> None:  # noqa: F811
    expected = reporting.dashboard(session, world.admin, PERIOD, now=NOW, parts=("summary",))
    offload.dashboard_of(world.admin.id, PERIOD, ("summary",), now=NOW)
    for pid in _worker_pids():
        os.kill(pid, signal.SIGKILL)
    with caplog.at_level(logging.WARNING, logger=offload.__name__):
        got = offload.dashboard_of(world.admin.id, PERIOD, ("summary",), now=NOW)  # in this process
    assert "report worker died" in caplog.text
    assert _same(got.kpis, expected.kpis) and _same(got.trends, expected.trends)
    again = offload.dashboard_of(world.admin.id, PERIOD, ("summary",), now=NOW)  # new workers
    assert _same(again.kpis, expected.kpis) and _worker_pids()


def test_no_workers_computes_in_the_callers_session(session: Session, world: World) -> None:  # noqa: F811
    """`report_processes` = 0: the portal's run computes in its own session (its one
    connection check-out), and only then; with workers that session is not touched."""
    admin_id = world.admin.id  # read now: the computation rolls the session back (expiring it)
    used: list[object] = []
    event.listen(session, "do_orm_execute", used.append)
    settings = dataclasses.replace(get_settings(), report_processes=0)
    got = offload.dashboard_of(admin_id, PERIOD, ("summary",), now=NOW, settings=settings, session=session)
    assert used, "computed in the caller's session"
    used.clear()
    offload.dashboard_of(admin_id, PERIOD, ("summary",), now=NOW, session=session)  # in a worker
    assert not used
    offload.shutdown()
    expected = reporting.dashboard(session, world.admin, PERIOD, now=NOW, parts=("summary",))
    assert _same(got.kpis, expected.kpis)


def test_the_page_starts_workers_that_do_not_run_the_portal(world: World, workers: None, caplog) -> None:  # noqa: F811
    """Under Streamlit `__main__` is the page script: a worker spawned from a page run must
    not re-run it (it did: every dashboard then fell back to the portal's process)."""
    with caplog.at_level(logging.WARNING, logger=offload.__name__):
        at = open_page(world.admin, "dashboard.py")
        at.date_input(key="dash_range").set_value((PERIOD.start, PERIOD.end)).run()
    assert not at.exception, at.exception
    assert "report worker died" not in caplog.text
    assert _worker_pids() and {m.label for m in at.metric} >= {"Created", "Resolved"}
