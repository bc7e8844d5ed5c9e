"""An employee cannot reach another's ticket, comment or attachment by changing an id.

For every core function that takes a ticket, comment or attachment id, an outsider (another
employee; a coordinator of another department) gets exactly the answer a non-existent id
gets: `NotFound` with the same wording, so probing ids reveals nothing, and nothing is
written. Download tokens are bound to the user they were issued to and expire.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from smartsupport_core import attachments, tickets
from smartsupport_core.errors import NotFound, PermissionDenied
from smartsupport_core.vocab import Role, TicketStatus
from tests.factories import make_employee, row_counts
from tests.ticket_helpers import IT_DATA, PNG

MISSING = 987_654


@pytest.fixture
def world(session: Session, private_data_dir: Path) -> dict:
    owner = make_employee(session, department="Sales", first_name="Owner")
    outsider = make_employee(session, department="Sales", first_name="Outsider")
    hr_coord = make_employee(session, role=Role.COORDINATOR, department="Human Resources", first_name="Hana")
    it_coord = make_employee(session, role=Role.COORDINATOR, department="IT Department", first_name="Ivan")
    admin = make_employee(session, role=Role.ADMIN, department="IT Department", first_name="Ada")
    ticket = tickets.submit_ticket(session, owner, IT_DATA, [("screen.png", PNG)])
    tickets.approve_ticket(session, admin, ticket.id)
    public = tickets.add_comment(session, owner, ticket.id, "It happened again this morning.")
    note = tickets.add_comment(session, it_coord, ticket.id, "Probably the PSU; order one.", internal=True)
    (att,) = tickets.list_attachments(session, owner, ticket.id)
    session.commit()
    return {
        "owner": owner,
        "outsider": outsider,
        "hr_coord": hr_coord,
        "it_coord": it_coord,
        "admin": admin,
        "ticket": ticket.id,
        "public": public.id,
        "note": note.id,
        "att": att.id,
    }


def _by_ticket(w: dict) -> dict[str, Callable]:
    return {
        "get_ticket": lambda s, a, i: tickets.get_ticket(s, a, i),
        "list_comments": lambda s, a, i: tickets.list_comments(s, a, i),
        "list_history": lambda s, a, i: tickets.list_history(s, a, i),
        "list_attachments": lambda s, a, i: tickets.list_attachments(s, a, i),
        "add_comment": lambda s, a, i: tickets.add_comment(s, a, i, "let me in"),
        "add_attachments": lambda s, a, i: tickets.add_attachments(s, a, i, [("x.png", PNG)]),
        "withdraw": lambda s, a, i: tickets.withdraw_ticket(s, a, i),
        "change_status": lambda s, a, i: tickets.change_status(s, a, i, TicketStatus.WITHDRAWN.value),
        "close": lambda s, a, i: tickets.close_ticket(s, a, i),
    }


def _message_shape(exc: Exception, the_id: int) -> str:
    return re.sub(rf"\b{the_id}\b", "<id>", str(exc))


@pytest.mark.parametrize("who", ["outsider", "hr_coord"])
def test_ticket_ids_of_others_look_like_missing_ids(session: Session, world: dict, who: str) -> None:
    actor = world[who]
    before = row_counts(session)
    for name, call in _by_ticket(world).items():
        with pytest.raises(NotFound) as theirs:
            call(session, actor, world["ticket"])
        session.rollback()
        with pytest.raises(NotFound) as missing:
            call(session, actor, MISSING)
        session.rollback()
        assert _message_shape(theirs.value, world["ticket"]) == _message_shape(missing.value, MISSING), name
    assert row_counts(session) == before
    assert world["ticket"] not in {t.id for t in tickets.search_tickets(session, actor, "laptop black screen")}


@pytest.mark.parametrize("who", ["outsider", "hr_coord"])
def test_comment_and_attachment_ids_of_others_look_like_missing_ids(session: Session, world: dict, who: str) -> None:
    actor = world[who]
    before = row_counts(session)
    for comment_id in (world["public"], world["note"]):
        with pytest.raises(NotFound) as theirs:
            tickets.edit_comment(session, actor, comment_id, "rewritten by someone else")
        session.rollback()
        with pytest.raises(NotFound) as missing:
            tickets.edit_comment(session, actor, MISSING, "rewritten by someone else")
        session.rollback()
        assert _message_shape(theirs.value, comment_id) == _message_shape(missing.value, MISSING)
    for call in (
        lambda i: attachments.download_token(session, actor, i),
        lambda i: attachments.revoke_links(session, actor, i),
    ):
        with pytest.raises(NotFound) as theirs:
            call(world["att"])
        session.rollback()
        with pytest.raises(NotFound) as missing:
            call(MISSING)
        session.rollback()
        assert _message_shape(theirs.value, world["att"]) == _message_shape(missing.value, MISSING)
    assert row_counts(session) == before


def test_requester_never_gets_an_internal_note(session: Session, world: dict) -> None:
    owner = world["owner"]
    assert [c.id for c in tickets.list_comments(session, owner, world["ticket"])] == [world["public"]]
    with pytest.raises(NotFound):  # not even by its id, to edit it
        tickets.edit_comment(session, owner, world["note"], "x")
    staff_view = tickets.list_comments(session, world["it_coord"], world["ticket"])
    assert {c.id for c in staff_view} == {world["public"], world["note"]}


def test_download_tokens_are_personal_and_expire(session: Session, world: dict) -> None:
    owner, outsider, it_coord = world["owner"], world["outsider"], world["it_coord"]
    token = attachments.download_token(session, owner, world["att"], now=10_000.0)
    assert attachments.open_download(session, owner, token, now=10_001.0).content == PNG
    # someone else replays the owner's token: an outsider learns nothing; staff who may see the
    # ticket still cannot use a token issued to somebody else
    with pytest.raises(NotFound):
        attachments.open_download(session, outsider, token, now=10_001.0)
    with pytest.raises(PermissionDenied):
        attachments.open_download(session, it_coord, token, now=10_001.0)
    with pytest.raises(NotFound):
        attachments.open_download(session, world["hr_coord"], token, now=10_001.0)
    # the owner replays their own token after it expired
    with pytest.raises(PermissionDenied, match="expired"):
        attachments.open_download(session, owner, token, now=10_000.0 + attachments.TOKEN_TTL.total_seconds() + 1)
    # a token re-pointed at another attachment id does not verify
    other_ticket = tickets.submit_ticket(session, outsider, IT_DATA, [("mine.png", PNG)])
    (other_att,) = tickets.list_attachments(session, outsider, other_ticket.id)
    session.commit()
    _aid, exp, sig = token.split(".")
    with pytest.raises((PermissionDenied, NotFound)):
        attachments.open_download(session, owner, f"{other_att.id}.{exp}.{sig}", now=10_001.0)
    with pytest.raises(PermissionDenied):
        attachments.open_download(session, outsider, f"{other_att.id}.{exp}.{sig}", now=10_001.0)
