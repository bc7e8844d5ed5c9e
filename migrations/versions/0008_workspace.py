"""Workspace (issue 14): when each employee last opened each ticket (`core_ticketseen`).

"Updated by the requester since I last looked" (Home's coordinator tile, the queue's state
filter) compares the requester's public replies with this time. A small table written
once per ticket-page view; no existing row changes.

Revision ID: 0008_workspace
Revises: 0005_reporting
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_workspace"
down_revision: str | Sequence[str] | None = "0005_reporting"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "core_ticketseen",
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["employee_id"], ["core_employee.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["ticket_id"], ["core_ticket.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("employee_id", "ticket_id"),
    )
    op.create_index("idx_ticketseen_ticket", "core_ticketseen", ["ticket_id"])


def downgrade() -> None:
    op.drop_index("idx_ticketseen_ticket", table_name="core_ticketseen")
    op.drop_table("core_ticketseen")
