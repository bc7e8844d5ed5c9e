"""Assistant, Help Center and Help articles pages through Streamlit's AppTest."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest

from smartsupport_core import settings as core_settings
from smartsupport_core.demo.articles import load_articles
from smartsupport_core.models import AuditLog, ChatMessage, HelpArticle, TicketCategory, TicketComment
from smartsupport_core.vocab import Role
from tests.chat_server import ChatServer
from tests.factories import make_employee, make_ticket
from tests.portal_helpers import open_page, signed_in


@pytest.fixture
def employee(session):
    emp = make_employee(session)
    load_articles(session)
    session.commit()
    return emp


def test_chat_answers_streams_sources_and_keeps_history(session, employee):
    at = open_page(employee, "assistant.py")
    assert "No language model is configured" in at.caption[0].value
    at.chat_input[0].set_value("How do I reset my password?").run()
    assert not at.exception
    assistant_text = " ".join(m.value for m in at.chat_message[1].markdown)
    assert "Reset your password" in assistant_text
    assert any("/help_center?article=" in m.value for m in at.chat_message[1].markdown)  # sources as links
    rows = session.scalars(select(ChatMessage).where(ChatMessage.employee_id == employee.id).order_by(ChatMessage.id))
    assert [r.role for r in rows] == ["user", "assistant"]
    # the history is shown again on the next visit
    at = open_page(employee, "assistant.py")
    assert len(at.chat_message) == 2


def test_chat_shows_the_rate_limit_message(session, employee):
    for i in range(20):
        session.add(ChatMessage(employee_id=employee.id, role="user", content=f"q{i}"))
    session.commit()
    at = open_page(employee, "assistant.py")
    at.chat_input[0].set_value("one more").run()
    assert "20 messages per 10 minutes" in at.error[0].value
    assert session.scalar(select(func.count()).select_from(ChatMessage)) == 20


def test_create_a_ticket_prefills_the_submit_page(session, employee):
    other = make_employee(session)
    for i in range(2):
        make_ticket(
            session,
            other,
            subject=f"Printer offline on the 2nd floor {i}",
            description="The floor printer shows offline and nothing prints.",
            sub_category="Printer/Scanner Setup or Issue",
        )
    session.commit()
    at = open_page(employee, "assistant.py")
    at.chat_input[0].set_value("The printer on the 2nd floor shows offline").run()
    at.button(key="assistant_create_ticket").click().run()
    assert not at.exception
    # now on the submit page, pre-filled once for review
    assert at.title[0].value == "Submit a ticket"
    assert "ticket_prefill" not in at.session_state  # consumed
    assert at.selectbox(key="submit_0_category").value == "IT Support"
    it = session.scalar(select(TicketCategory).where(TicketCategory.name == "IT Support"))
    assert at.selectbox(key=f"submit_0_{it.id}_sub").value == "Printer/Scanner Setup or Issue"
    assert at.selectbox(key=f"submit_0_{it.id}_priority").value == "Medium"
    assert at.text_input(key="submit_0_subject").value == "The printer on the 2nd floor shows offline"
    description = at.text_area(key="submit_0_description").value
    assert description.startswith("The printer on the 2nd floor shows offline\n\nThe assistant found")
    assert "- Printer is not printing or shows offline (" in description  # what the assistant found
    assert any("Pre-filled from your conversation" in i.value for i in at.info)


def test_clear_history(session, employee):
    at = open_page(employee, "assistant.py")
    at.chat_input[0].set_value("vpn").run()
    at.button(key="assistant_clear_history").click().run()
    assert not at.exception
    assert session.scalar(select(func.count()).select_from(ChatMessage)) == 0
    assert len(at.chat_message) == 0


def test_help_center_search_and_read(session, employee):
    at = open_page(employee, "help_center.py")
    assert "Coordinator Guides" not in at.selectbox[0].options
    at.text_input[0].set_value("expense claim").run()
    # Titles are headings with the searched words marked; previews are plain text, no Markdown.
    titles = [h.value for h in at.subheader]
    assert titles[0] == "Submit an :orange-background[expense] :orange-background[claim]"
    first = next(b for b in at.button if b.key and b.key.startswith("article_"))
    previews = [m.value for m in at.markdown if "background" in m.value or "claim" in m.value]
    assert previews and not any("**" in p or "##" in p for p in previews)
    first.click().run()
    assert at.title[0].value == "Submit an expense claim"
    assert any("30 days" in m.value for m in at.markdown)


def test_help_center_hides_articles_above_the_readers_role(session, employee):
    guide = session.scalar(select(HelpArticle).where(HelpArticle.title.like("Coordinator guide%")))
    at = signed_in(employee)
    at.switch_page("../pages/help_center.py")
    at.query_params["article"] = str(guide.id)
    at.run()
    assert "not available to you" in at.error[0].value
    assert not [t for t in at.title if "Coordinator" in t.value]


def test_article_body_html_is_not_rendered(session, employee):
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    art = HelpArticle(title="Html test", body="<script>alert(1)</script> **bold**", is_published=True, category="x")
    session.add(art)
    session.commit()
    at = signed_in(admin)
    at.switch_page("../pages/help_center.py")
    at.query_params["article"] = str(art.id)
    at.run()
    body = next(m for m in at.markdown if "bold" in m.value)
    assert body.proto.allow_html is False  # Streamlit escapes the <script> tag


def test_articles_admin_create_with_validation_and_audit(session):
    coord = make_employee(session, role=Role.COORDINATOR, department="IT Department")
    session.commit()
    at = open_page(coord, "articles_admin.py")
    at.text_input[0].set_value("")
    at.text_input[1].set_value("IT Support")
    at.text_area[0].set_value("Some body")
    at.get("form_submit_button")[0].click()
    at.run()
    assert any("Title is required" in e.value for e in at.error)
    assert session.scalar(select(func.count()).select_from(HelpArticle)) == 0
    at.text_input[0].set_value("Docking station does not charge")
    at.text_area[0].set_value("Use the **USB-C** port marked with a lightning bolt.")
    at.checkbox[0].check()
    at.get("form_submit_button")[0].click()
    at.run()
    assert not at.exception
    art = session.scalar(select(HelpArticle))
    assert art.title == "Docking station does not charge" and art.is_published and art.created_by_id == coord.id
    assert (
        session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.table_name == "core_helparticle")) == 1
    )
    assert any("Article saved" in s.value for s in at.success)


def test_articles_admin_is_not_reachable_for_employees(session, employee):
    at = signed_in(employee)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("../pages/articles_admin.py")


def _ticket_page(user, ticket_id: int) -> AppTest:
    return open_page(user, "ticket.py", id=str(ticket_id))


def test_suggest_reply_fills_the_reply_box_for_staff(session, monkeypatch):
    requester = make_employee(session, first_name="Liza")
    coord = make_employee(session, role=Role.COORDINATOR, department="IT Department")
    ticket = make_ticket(session, requester, subject="VPN does not connect", description="Gateway not responding.")
    session.add(TicketComment(ticket_id=ticket.id, user_id=coord.id, comment="SECRET-NOTE", is_internal=True))
    session.commit()
    # no language model configured: the button is there but disabled
    at = _ticket_page(coord, ticket.id)
    assert at.button(key=f"suggest_{ticket.id}").disabled
    with ChatServer("reply", "Hi Liza, please switch networks and try GlobalProtect again.") as server:
        monkeypatch.setenv("SMARTSUPPORT_AI_BASE_URL", server.base_url)
        monkeypatch.setenv("SMARTSUPPORT_AI_MODEL", "stub")
        core_settings.configure(None)
        try:
            at = _ticket_page(coord, ticket.id)
            at.button(key=f"suggest_{ticket.id}").click().run()
            assert not at.exception
            assert at.text_area(key=f"reply_{ticket.id}").value.startswith("Hi Liza, please switch networks")
            assert "SECRET-NOTE" not in server.seen_text()
            # the requester never gets the button
            at = _ticket_page(requester, ticket.id)
            assert not [b for b in at.button if b.key == f"suggest_{ticket.id}"]
        finally:
            monkeypatch.delenv("SMARTSUPPORT_AI_BASE_URL")
            core_settings.configure(None)
