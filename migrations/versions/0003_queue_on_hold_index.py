"""Queue: index of open On Hold tickets, the last arm of the SLA "breached" filter (issue 6).

Revision ID: 0003_queue_on_hold_index
Revises: 0002_queue_indexes
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from smartsupport_core.vocab import OPEN_STATUSES, check_in

revision: str = "0003_queue_on_hold_index"
down_revision: str | Sequence[str] | None = "0002_queue_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "idx_ticket_open_on_hold",
        "core_ticket",
        ["sla_resolution_due_at"],
        postgresql_where=sa.text("on_hold_since IS NOT NULL AND " + check_in("status", OPEN_STATUSES)),
    )


def downgrade() -> None:
    op.drop_index("idx_ticket_open_on_hold", table_name="core_ticket")
