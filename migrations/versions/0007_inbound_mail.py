"""Inbound e-mail (issue 17): mailboxes, the processed-message log, the bounce limit, and the
Message-ID each outgoing e-mail was sent with.

`core_inboundmessage`'s unique (mailbox_id, uidvalidity, uid) is the exactly-once key: the
row is written in the transaction that creates the ticket or comment. `core_emailnotification
.message_id` lets a reply's In-Reply-To/References find the ticket it answers (older rows
keep NULL: their Message-ID was `<smartsupport-outbox-ID@domain>`, which `inbound` also reads).

Revision ID: 0007_inbound_mail
Revises: 0006_file_store
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0007_inbound_mail"
down_revision: str | Sequence[str] | None = "0006_file_store"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("core_emailnotification", sa.Column("message_id", sa.String(255), nullable=True))
    op.create_index(
        "idx_email_message_id",
        "core_emailnotification",
        ["message_id"],
        postgresql_where=sa.text("message_id IS NOT NULL"),
    )
    op.create_table(
        "core_inboundmailbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("security", sa.String(10), nullable=False, server_default="ssl"),
        sa.Column("username", sa.String(254), nullable=False),
        sa.Column("password_encrypted", sa.Text(), nullable=False),
        sa.Column("folder", sa.String(255), nullable=False, server_default="INBOX"),
        sa.Column("move_to", sa.String(255), nullable=True),
        sa.Column("category", sa.String(100), nullable=False),
        sa.Column("sub_category", sa.String(100), nullable=True),
        sa.Column("field_values", JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("is_active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("last_uid", sa.BigInteger(), nullable=True),
        sa.Column("last_poll_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.UniqueConstraint("name", name="uk_inboundmailbox_name"),
        sa.CheckConstraint("security IN ('ssl', 'starttls', 'none')", name="chk_inboundmailbox_security"),
        sa.CheckConstraint("port BETWEEN 1 AND 65535", name="chk_inboundmailbox_port"),
        sa.ForeignKeyConstraint(
            ["category"], ["core_ticketcategory.name"], name="fk_inboundmailbox_category",
            onupdate="CASCADE", ondelete="RESTRICT",
        ),
    )
    op.create_table(
        "core_inboundmessage",
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("mailbox_id", sa.Integer(), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=True),
        sa.Column("sender", sa.String(254), nullable=True),
        sa.Column("subject", sa.String(255), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("bounced", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.ForeignKeyConstraint(
            ["mailbox_id"], ["core_inboundmailbox.id"], name="fk_core_inboundmessage_mailbox_id", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["ticket_id"], ["core_ticket.id"], name="fk_core_inboundmessage_ticket_id",
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["employee_id"], ["core_employee.id"], name="fk_core_inboundmessage_employee_id",
                                ondelete="SET NULL"),
        sa.UniqueConstraint("mailbox_id", "uidvalidity", "uid", name="uk_inboundmessage_mailbox_uid"),
        sa.CheckConstraint(
            "outcome IN ('ticket created', 'comment added', 'ticket reopened', 'refused', 'ignored')",
            name="chk_inboundmessage_outcome",
        ),
    )
    op.create_index(
        "idx_inboundmessage_message_id",
        "core_inboundmessage",
        ["message_id"],
        postgresql_where=sa.text("message_id IS NOT NULL"),
    )
    op.create_index("idx_inboundmessage_mailbox_processed", "core_inboundmessage", ["mailbox_id", "processed_at"])
    op.create_index("idx_inboundmessage_processed", "core_inboundmessage", ["processed_at"])
    op.create_table(
        "core_inboundbounce",
        sa.Column("address", sa.String(254), primary_key=True),
        sa.Column("last_sent_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("core_inboundbounce")
    op.drop_index("idx_inboundmessage_processed", table_name="core_inboundmessage")
    op.drop_index("idx_inboundmessage_mailbox_processed", table_name="core_inboundmessage")
    op.drop_index("idx_inboundmessage_message_id", table_name="core_inboundmessage")
    op.drop_table("core_inboundmessage")
    op.drop_table("core_inboundmailbox")
    op.drop_index("idx_email_message_id", table_name="core_emailnotification")
    op.drop_column("core_emailnotification", "message_id")
