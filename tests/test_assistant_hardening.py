"""The assistant's bounds (issue 13.6), checked against the echoing OpenAI-compatible server
(`tests/chat_server.py`), which records exactly what the model was sent:

* no employee's name but the asker's reaches the model (planted names of several shapes);
* the time-out bounds the whole answer, streaming included;
* what is shown and stored is capped, with a note;
* "Create a ticket" takes the current request, not older questions.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartsupport_core import assistant, knowledge
from smartsupport_core.assistant import name_scrub
from smartsupport_core.assistant.providers import OpenAICompatibleProvider, RetrievalOnlyProvider
from smartsupport_core.demo.articles import load_articles
from smartsupport_core.models import ChatMessage, Employee, TicketComment
from smartsupport_core.vocab import Role, TicketStatus
from tests.chat_server import ChatServer
from tests.factories import make_employee, make_ticket

#: Every way the planted people are written in the texts below; none may reach the model.
PLANTED = ("Ossian", "Drummerk", "DRUMMERK", "drummerk", "O'Brien", "o'brien", "Brien", "Smith", "Thaddeus", "Quill")


@pytest.fixture
def world(session: Session) -> dict:
    asker = make_employee(session, first_name="Alice", last_name="Ackerman")
    other = make_employee(session, first_name="Roberto", last_name="Quezon")
    staff = make_employee(
        session, role=Role.COORDINATOR, department="IT Department", first_name="Ossian", last_name="Drummerk"
    )
    make_employee(session, first_name="Maeve", last_name="O'Brien-Smith")
    make_employee(session, first_name="Thaddeus", last_name="Quill")
    make_employee(session, first_name="Will", last_name="Harrowgate")  # a name that is also a word
    done = make_ticket(
        session,
        other,
        subject="Docking station flickers",
        description="My docking station makes both screens flicker.",
        status=TicketStatus.RESOLVED.value,
        sub_category="Hardware Troubleshooting",
    )
    reply = (
        "I asked Ossian Drummerk about the docking station flicker: DRUMMERK swapped the USB-C cable, "
        "o'brien-smith's dock had the same fault, and Thaddeus will check the firmware. "
        "Will Harrowgate says the new cable fixed it."
    )
    session.add(TicketComment(ticket_id=done.id, user_id=staff.id, comment=reply, is_internal=False))
    knowledge.create_article(
        session,
        staff,
        {
            "title": "Docking station flickers",
            "body": "If the docking station flickers, ask drummerk or Maeve O'Brien-Smith for a new USB-C cable.",
            "category": "IT Support",
            "visibility": "Employee",
            "is_published": True,
        },
    )
    make_ticket(session, asker, subject="My docking station flickers", description="Alice here: docking flicker.")
    session.flush()
    return {"asker": asker, "staff": staff, "done": done}


def _sent(server: ChatServer) -> str:
    return json.dumps(server.requests, ensure_ascii=False)


def test_no_other_persons_name_reaches_the_model(session: Session, world: dict) -> None:
    with ChatServer("stream", "Try a new USB-C cable [1].") as server:
        provider = OpenAICompatibleProvider(model="stub", base_url=server.base_url, timeout=10)
        assistant.ask(session, world["asker"], "My docking station flickers, what can I do?", provider)
        sent = _sent(server)
    assert "swapped the USB-C cable" in sent and "new USB-C cable" in sent  # the help itself went
    leaked = [name for name in PLANTED if name in sent]
    assert leaked == [], leaked
    assert "Will Harrowgate" not in sent and "Harrowgate" not in sent
    assert "[name] will check the firmware" in sent  # the word "will" stays a word
    assert "Alice here" in sent  # the asker's own name is theirs to send


def test_stored_chat_sent_as_history_names_nobody_else(session: Session, world: dict) -> None:
    """The earlier messages sent with a question come from the database too."""
    asker = world["asker"]
    session.add_all(
        [
            ChatMessage(employee_id=asker.id, role="user", content="Is Thaddeus Quill in today? Alice asking."),
            ChatMessage(employee_id=asker.id, role="assistant", content="Ask OSSIAN DRUMMERK at the desk."),
        ]
    )
    session.flush()
    with ChatServer("stream", "Noted.") as server:
        provider = OpenAICompatibleProvider(model="stub", base_url=server.base_url, timeout=10)
        assistant.ask(session, asker, "And who fixes docking stations?", provider)
        history = server.requests[0]["messages"][1:-1]
    assert [m["content"] for m in history] == ["Is [name] in today? Alice asking.", "Ask [name] at the desk."]


def test_a_new_employee_is_scrubbed_from_the_next_question_on(session: Session, world: dict) -> None:
    """The name set is cached, but a change to `core_employee` is seen at once."""
    before = name_scrub.current(session)
    assert name_scrub.current(session) is before  # cached while the names stay the same
    make_employee(session, first_name="Zebulon", last_name="Fairweather")
    session.add(
        TicketComment(
            ticket_id=world["done"].id,
            user_id=world["staff"].id,
            comment="Zebulon Fairweather fixed the docking station flicker with a firmware update.",
            is_internal=False,
        )
    )
    session.flush()
    with ChatServer("stream", "Update the firmware.") as server:
        provider = OpenAICompatibleProvider(model="stub", base_url=server.base_url, timeout=10)
        assistant.ask(session, world["asker"], "docking station flicker firmware", provider)
        sent = _sent(server)
    assert "firmware update" in sent
    assert "Zebulon" not in sent and "Fairweather" not in sent


def test_reply_draft_sends_no_names_and_puts_the_requesters_back(session: Session, world: dict) -> None:
    staff, done = world["staff"], world["done"]
    done.status = TicketStatus.OPEN.value
    session.flush()
    with ChatServer("reply", "Hello [requester], a new cable is on its way.") as server:
        provider = OpenAICompatibleProvider(model="stub", base_url=server.base_url, timeout=10)
        draft = assistant.suggest_reply(session, staff, done.id, provider)
        sent = _sent(server)
    assert draft == "Hello Roberto, a new cable is on its way."
    for name in ("Roberto", "Quezon", "Thaddeus", "O'Brien", "Harrowgate"):
        assert name not in sent, name
    assert "swapped the USB-C cable" in sent


def test_the_time_out_bounds_the_whole_streamed_answer(session: Session, world: dict) -> None:
    """One word a second, time-out 3 s: the turn ends after a few words, keeps them, and
    falls back to retrieval-only with the notice (the model never finished)."""
    load_articles(session)
    words = "First second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth"
    with ChatServer("trickle", words, delay=1.0) as server:
        provider = OpenAICompatibleProvider(model="stub", base_url=server.base_url, timeout=3)
        turn = assistant.start_turn(session, world["asker"], "How do I connect to the VPN?")
        shown = "".join(assistant.stream_answer(provider, turn))
    assert shown.startswith("First")  # what was shown is kept
    assert "twelfth" not in shown and "seventh" not in shown  # ended long before the model did
    assert "*The language model did not answer in time" in shown
    assert "Connect to the company VPN from home" in shown  # the retrieval-only answer follows
    stored = assistant.save_reply(session, world["asker"], shown, turn.sources)
    assert stored.content == shown


def test_a_5_mb_answer_is_cut_to_8000_characters_shown_and_stored(session: Session, world: dict) -> None:
    huge = "All work and no play makes a dull help desk. " * 112_000  # ~5 MB
    assert len(huge) > 5_000_000
    with ChatServer("stream", huge, chunk_chars=65_536) as server:
        provider = OpenAICompatibleProvider(model="stub", base_url=server.base_url, timeout=30)
        turn = assistant.start_turn(session, world["asker"], "Tell me a long story")
        shown = "".join(assistant.stream_answer(provider, turn))
        msg = assistant.save_reply(session, world["asker"], shown, turn.sources)
    assert len(shown) == assistant.ANSWER_MAX_CHARS
    assert shown.endswith(assistant.CUT_NOTICE) and "8,000 characters" in shown
    assert shown.startswith("All work and no play")
    stored = session.scalar(select(func.length(ChatMessage.content)).where(ChatMessage.id == msg.id))
    assert stored == assistant.ANSWER_MAX_CHARS
    # whatever a caller hands in is stored within the cap too; an answer at the cap is untouched
    assert len(assistant.save_reply(session, world["asker"], huge, []).content) == assistant.ANSWER_MAX_CHARS
    exact = "x" * assistant.ANSWER_MAX_CHARS
    assert assistant.cap_answer(exact) == exact
    assert "".join(assistant.capped(iter(["x" * 7000, "y" * 1000]))) == "x" * 7000 + "y" * 1000


def test_create_a_ticket_takes_the_current_request_only(session: Session, world: dict) -> None:
    asker: Employee = world["asker"]
    load_articles(session)
    two_days_ago = session.scalar(select(func.now())) - dt.timedelta(days=2)
    session.add_all(
        [
            ChatMessage(employee_id=asker.id, role="user", content="OLDQUESTION where can I park my bike?",
                        created_at=two_days_ago),
            ChatMessage(employee_id=asker.id, role="assistant", content="See the parking article.",
                        created_at=two_days_ago),
        ]
    )  # fmt: skip
    session.flush()
    assistant.ask(session, asker, "EARLIERTODAY is the canteen open?", RetrievalOnlyProvider())
    assistant.ask(session, asker, "The VPN does not connect from home", RetrievalOnlyProvider())
    s = assistant.suggest_ticket(session, asker, None, RetrievalOnlyProvider())
    assert s["subject"] == "The VPN does not connect from home"
    assert s["description"].startswith("The VPN does not connect from home\n\nThe assistant found")
    assert "Connect to the company VPN from home" in s["description"]  # what the assistant found
    assert "OLDQUESTION" not in s["description"] and "EARLIERTODAY" not in s["description"]
    # the model, too, is shown only the current request
    answer = json.dumps({"subject": "VPN", "description": "The VPN fails.", "category": "IT Support",
                         "sub_category": "", "priority": "Medium"})  # fmt: skip
    with ChatServer("reply", answer) as server:
        provider = OpenAICompatibleProvider(model="stub", base_url=server.base_url, timeout=10)
        s = assistant.suggest_ticket(session, asker, None, provider)
        sent = _sent(server)
    assert "The VPN does not connect from home" in sent
    assert "OLDQUESTION" not in sent and "EARLIERTODAY" not in sent
    assert s["description"].startswith("The VPN fails.\n\nThe assistant found")


@pytest.fixture
def model_at(monkeypatch: pytest.MonkeyPatch):
    """Configure the portal's provider to a `ChatServer` (time-out in seconds) for one test."""
    from smartsupport_core import settings as core_settings

    def configure(server: ChatServer, timeout: float) -> None:
        monkeypatch.setenv("SMARTSUPPORT_AI_BASE_URL", server.base_url)
        monkeypatch.setenv("SMARTSUPPORT_AI_MODEL", "stub")
        monkeypatch.setenv("SMARTSUPPORT_AI_TIMEOUT_SECONDS", str(timeout))
        core_settings.configure(None)

    yield configure
    monkeypatch.delenv("SMARTSUPPORT_AI_BASE_URL", raising=False)
    monkeypatch.delenv("SMARTSUPPORT_AI_TIMEOUT_SECONDS", raising=False)
    core_settings.configure(None)


@pytest.mark.parametrize("case", ["trickle", "huge"])
def test_the_assistant_page_shows_and_stores_the_bounded_answer(session: Session, world: dict, model_at, case) -> None:
    """AppTest: the page's streamed turn ends at the time-out (SMARTSUPPORT_AI_TIMEOUT_SECONDS)
    with the notice, or is cut at 8,000 characters; what it shows is what is stored."""
    from tests.portal_helpers import open_page

    load_articles(session)
    session.commit()
    asker = world["asker"]
    if case == "trickle":
        server = ChatServer("trickle", "First second third fourth fifth sixth seventh eighth ninth tenth", delay=1.0)
    else:
        server = ChatServer("stream", "Lorem ipsum dolor sit amet. " * 200_000, chunk_chars=65_536)
    with server:
        model_at(server, 3)
        at = open_page(asker, "assistant.py")
        at.chat_input[0].set_value("How do I connect to the VPN?").run()
        assert not at.exception
    shown = " ".join(m.value for m in at.chat_message[1].markdown)
    stored = session.scalars(
        select(ChatMessage).where(ChatMessage.employee_id == asker.id, ChatMessage.role == "assistant")
    ).one()
    assert stored.content.startswith("First" if case == "trickle" else "Lorem ipsum")
    assert stored.content.strip() in shown  # shown = stored
    if case == "trickle":
        assert "tenth" not in stored.content
        assert "did not answer in time" in stored.content and "Connect to the company VPN" in stored.content
    else:
        assert len(stored.content) == assistant.ANSWER_MAX_CHARS
        assert stored.content.endswith(assistant.CUT_NOTICE)
