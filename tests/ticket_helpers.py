"""Shared set-up for the ticket tests: people, a clock, tickets in a given state.

Test modules import `clock_fixture` and `people_fixture` to use the `clock` and `people` fixtures.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from smartsupport_core import tickets
from smartsupport_core.models import Employee, Ticket, TicketStatusHistory
from smartsupport_core.vocab import Role, TicketStatus
from tests.factories import make_employee, make_ticket

T0 = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)  # a Monday, 10:00 UTC


class Clock:
    """Replaces `tickets._now` so a test can walk through time."""

    def __init__(self, start: dt.datetime = T0) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw: float) -> dt.datetime:
        self.now += dt.timedelta(**kw)
        return self.now


@pytest.fixture(name="clock")
def clock_fixture(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock()
    monkeypatch.setattr(tickets, "_now", c)
    return c


@dataclass
class People:
    admin: Employee
    coord: Employee  # IT Department coordinator
    coord2: Employee  # another IT Department coordinator
    other_coord: Employee  # Finance coordinator
    requester: Employee
    other: Employee  # another employee


@pytest.fixture(name="people")
def people_fixture(session: Session) -> People:
    return People(
        admin=make_employee(session, role=Role.ADMIN, department="IT Department", first_name="Ada"),
        coord=make_employee(session, role=Role.COORDINATOR, department="IT Department", first_name="Cora"),
        coord2=make_employee(session, role=Role.COORDINATOR, department="IT Department", first_name="Cole"),
        other_coord=make_employee(session, role=Role.COORDINATOR, department="Finance", first_name="Fin"),
        requester=make_employee(session, department="Sales", first_name="Rita"),
        other=make_employee(session, department="Sales", first_name="Otto"),
    )


def ticket_in(session: Session, requester: Employee, status: TicketStatus, *, at: dt.datetime = T0, **extra) -> Ticket:
    """A ticket already in `status` (rows made directly), with a Resolved history row if needed."""
    fields = {"status": status.value, "submit_date": at - dt.timedelta(hours=2), "version": 1, **extra}
    if status is TicketStatus.ON_HOLD:
        fields.setdefault("on_hold_since", at - dt.timedelta(hours=1))
    ticket = make_ticket(session, requester, **fields)
    if status is TicketStatus.RESOLVED:
        session.add(
            TicketStatusHistory(ticket_id=ticket.id, from_status="In Progress", to_status="Resolved", changed_at=at)
        )
        session.flush()
    return ticket


IT_DATA = {
    "category": "IT Support",
    "sub_category": "Hardware Troubleshooting",
    "subject": "Laptop will not start",
    "description": "The laptop shows a black screen after boot every morning.",
    "device_type": "Laptop",
}


def _image(fmt: str) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 30, 30)).save(buf, format=fmt)
    return buf.getvalue()


PNG = _image("PNG")
JPEG = _image("JPEG")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
GIF = b"GIF89a" + b"\x00" * 32
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
DOC = OLE2 + b"\x00" * 100 + "WordDocument".encode("utf-16-le") + b"\x00" * 50
XLS = OLE2 + b"\x00" * 100 + "Workbook".encode("utf-16-le") + b"\x00" * 50
CSV = b"item,qty\nmouse,2\nkeyboard,1\n"


def ooxml(kind: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        if kind == "docx":
            ct = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
            zf.writestr(
                "[Content_Types].xml", f'<Types><Override PartName="/word/document.xml" ContentType="{ct}"/></Types>'
            )
            zf.writestr("word/document.xml", "<w:document/>")
        elif kind == "xlsx":
            ct = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
            zf.writestr(
                "[Content_Types].xml", f'<Types><Override PartName="/xl/workbook.xml" ContentType="{ct}"/></Types>'
            )
            zf.writestr("xl/workbook.xml", "<workbook/>")
        else:
            zf.writestr("readme.txt", "just a zip")
    return buf.getvalue()
