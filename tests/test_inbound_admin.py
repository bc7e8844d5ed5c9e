"""Inbound mailboxes as the admin manages them: encrypted passwords never shown or audited,
field-named validation (a category e-mail cannot fill is refused), admin-only access, and the
"Inbound mail" page (AppTest) with the mailbox's last error and the processed-message log."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from smartsupport_core import inbound_admin as ia
from smartsupport_core import secret_box
from smartsupport_core.errors import PermissionDenied, ValidationError
from smartsupport_core.models import AuditLog, InboundMailbox, InboundMessage, Ticket
from smartsupport_core.vocab import InboundOutcome, Role
from tests.factories import make_employee, make_ticket
from tests.portal_helpers import open_page, page_script


def form(**changes) -> ia.MailboxForm:
    values = dict(name="Help desk", host="imap.gmail.com", port=993, security="ssl",
                  username="help@example.com", password="abcd efgh ijkl mnop", category="Others")
    values.update(changes)
    return ia.MailboxForm(**values)


@pytest.fixture
def admin(session: Session):
    return make_employee(session, role=Role.ADMIN, department="IT Department")


def test_password_is_encrypted_and_never_in_the_audit_log(session: Session, admin):
    box = ia.create_mailbox(session, admin, form())
    session.commit()
    stored = session.scalar(text("SELECT password_encrypted FROM core_inboundmailbox"))
    assert "abcd" not in stored and secret_box.decrypt(stored) == "abcd efgh ijkl mnop"

    ia.update_mailbox(session, admin, box.id, form(password=None, folder="Support"))
    assert secret_box.decrypt(session.get(InboundMailbox, box.id).password_encrypted) == "abcd efgh ijkl mnop"
    ia.update_mailbox(session, admin, box.id, form(password="new secret pass", folder="Support"))
    session.commit()
    assert secret_box.decrypt(session.get(InboundMailbox, box.id).password_encrypted) == "new secret pass"

    rows = list(session.scalars(select(AuditLog).where(AuditLog.table_name == "core_inboundmailbox")
                                .order_by(AuditLog.id)))
    assert [r.action_type for r in rows] == ["CREATE", "UPDATE", "UPDATE"]
    assert rows[0].new_values["credential"] == "set"
    assert rows[1].new_values == {"folder": "Support"}
    assert (rows[2].old_values, rows[2].new_values) == ({"credential": "set"}, {"credential": "changed"})
    dumped = " ".join(str(r.old_values) + str(r.new_values) for r in rows)
    assert "abcd" not in dumped and "new secret" not in dumped and "gAAAA" not in dumped


def test_a_changed_secret_key_is_reported_not_crashed():
    token = secret_box.encrypt("pw", secret_key="one")
    with pytest.raises(secret_box.SecretUnreadable, match="enter it again"):
        secret_box.decrypt(token, secret_key="two")


def test_validation_names_each_field_and_changes_nothing(session: Session, admin):
    with pytest.raises(ValidationError) as caught:
        ia.create_mailbox(session, admin, form(name="", host="bad host!", port="99999", security="tls",
                                               username="", password="", folder="INBOX", move_to="INBOX"))
    assert set(caught.value.errors) == {"name", "host", "port", "security", "username", "password", "move_to"}
    assert "IMAP host: must be a host name" in str(caught.value)
    assert session.scalar(select(InboundMailbox.id)) is None


def test_a_category_whose_form_email_cannot_fill_is_refused_unless_fixed_values_are_given(session: Session, admin):
    with pytest.raises(ValidationError) as caught:
        ia.create_mailbox(session, admin, form(category="IT Support"))
    assert caught.value.errors["sub_category"] == "Sub-category is required"
    assert "Device type" in caught.value.errors["field_values"]
    box = ia.create_mailbox(session, admin, form(category="IT Support", sub_category="Technical Assistance",
                                                 field_values={"device_type": "Laptop"}))
    assert box.field_values == {"device_type": "Laptop"}
    with pytest.raises(ValidationError) as budget:
        ia.create_mailbox(session, admin, form(name="Budget", category="New Budget Proposal",
                                               sub_category="Project Budget"))
    assert "Cost items" in budget.value.errors["field_values"]


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.COORDINATOR])
def test_only_admins_manage_mailboxes(session: Session, role):
    person = make_employee(session, role=role, department="IT Department")
    with pytest.raises(PermissionDenied):
        ia.create_mailbox(session, person, form())
    with pytest.raises(PermissionDenied):
        ia.list_log(session, person)


def test_page_is_admin_only_in_the_navigation(session: Session, admin):
    coordinator = make_employee(session, role=Role.COORDINATOR, department="IT Department")
    session.commit()
    from portal import nav

    assert any(p.file == "inbound_mail.py" for p in nav.sections_for(admin).get("Administration", []))
    assert not any(p.file == "inbound_mail.py" for specs in nav.sections_for(coordinator).values() for p in specs)
    at = page_script(coordinator, "inbound_mail.py")
    assert any("not allowed to manage inbound mailboxes" in e.value for e in at.error)


def test_page_shows_last_error_counts_and_the_log_with_outcomes(session: Session, admin):
    requester = make_employee(session)
    box = ia.create_mailbox(session, admin, form())
    box.last_poll_at = box.last_error_at = dt.datetime.now(dt.UTC)
    box.last_error = "MailboxLoginError: [AUTHENTICATIONFAILED] Authentication failed."
    ticket = make_ticket(session, requester, ticket_number="TKT2026000077", category="Others", department="Operations")
    session.add_all([
        InboundMessage(mailbox_id=box.id, uidvalidity=1, uid=1, outcome=InboundOutcome.TICKET_CREATED.value,
                       sender=requester.email, subject="Printer jam", ticket_id=ticket.id, employee_id=requester.id),
        InboundMessage(mailbox_id=box.id, uidvalidity=1, uid=2, outcome=InboundOutcome.REFUSED.value,
                       sender="stranger@elsewhere.org", subject="Let me in", bounced=True,
                       reason="The address stranger@elsewhere.org does not belong to a SmartSupport account."),
    ])
    session.commit()

    at = open_page(admin, "inbound_mail.py")
    table = at.dataframe[0].value
    assert list(table["Mailbox"]) == ["Help desk"] and list(table["Messages"]) == [2]
    assert list(table["Ticket created"]) == [1] and list(table["Refused"]) == [1]
    assert any("AUTHENTICATIONFAILED" in e.value for e in at.error)
    log = at.dataframe[1].value
    assert list(log["Outcome"]) == ["refused", "ticket created"]
    assert list(log["Number"]) == ["", "TKT2026000077"]
    assert log["Ticket"].iloc[1].endswith(f"/ticket?id={ticket.id}")
    assert "does not belong" in log["Why"].iloc[0]
    assert "abcd" not in str(at.text_input) and session.get(Ticket, ticket.id) is not None


def test_adding_a_mailbox_on_the_page_with_a_bad_port_names_the_field(session: Session, admin):
    session.commit()
    at = open_page(admin, "inbound_mail.py")
    at.text_input(key="inbound_new_name").set_value("Support")
    at.text_input(key="inbound_new_user").set_value("support@example.com")
    at.text_input(key="inbound_new_port").set_value("not a port")
    at.text_input(key="inbound_new_password").set_value("app password")
    at.button[0].click().run()
    assert any(e.value.startswith("Port: must be a whole number") for e in at.error), [e.value for e in at.error]
    assert session.scalar(select(InboundMailbox.id)) is None

    at.text_input(key="inbound_new_port").set_value("993")
    at.button[0].click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    session.expire_all()
    stored = session.scalars(select(InboundMailbox)).one()
    assert (stored.name, stored.port, stored.category) == ("Support", 993, "Others")
    assert any("Mailbox Support added" in s.value for s in at.success)


def test_deleting_a_mailbox_on_the_page_needs_a_confirmation(session: Session, admin):
    box = ia.create_mailbox(session, admin, form())
    session.commit()
    at = open_page(admin, "inbound_mail.py")
    delete = at.button(key=f"inbound_delete_{box.id}")
    assert delete.disabled
    at.checkbox(key=f"inbound_delete_sure_{box.id}").check().run()
    at.button(key=f"inbound_delete_{box.id}").click().run()
    assert not at.exception
    session.expire_all()
    assert session.scalar(select(InboundMailbox.id)) is None
    assert session.scalars(select(AuditLog.action_type).where(AuditLog.table_name == "core_inboundmailbox")
                           .order_by(AuditLog.id)).all() == ["CREATE", "DELETE"]
