"""Queue indexes: the coordinator views stay fast at a million tickets (issue 6).

Revision ID: 0002_queue_indexes
Revises: 0001_initial
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from smartsupport_core.vocab import NOT_CLOSED_STATUSES, OPEN_STATUSES, check_in

revision: str = "0002_queue_indexes"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = check_in("status", OPEN_STATUSES)


def upgrade() -> None:
    op.create_index(
        "idx_ticket_queue_unassigned",
        "core_ticket",
        ["department", "submit_date"],
        postgresql_where=sa.text("assigned_to_id IS NULL AND " + OPEN),
    )
    op.create_index(
        "idx_ticket_queue_mine",
        "core_ticket",
        ["assigned_to_id", "submit_date"],
        postgresql_where=sa.text(check_in("status", NOT_CLOSED_STATUSES)),
    )
    op.create_index("idx_ticket_department_submit", "core_ticket", ["department", "submit_date"])
    op.create_index(
        "idx_ticket_open_response_due",
        "core_ticket",
        ["sla_response_due_at"],
        postgresql_where=sa.text("first_response_at IS NULL AND " + OPEN),
    )
    op.create_index(
        "idx_ticket_open_resolution_due",
        "core_ticket",
        ["sla_resolution_due_at"],
        postgresql_where=sa.text(OPEN),
    )
    op.create_index(
        "idx_ticket_open_response_missed",
        "core_ticket",
        ["submit_date"],
        postgresql_where=sa.text("sla_response_met = false AND " + OPEN),
    )


def downgrade() -> None:
    for name in (
        "idx_ticket_open_response_missed",
        "idx_ticket_open_resolution_due",
        "idx_ticket_open_response_due",
        "idx_ticket_department_submit",
        "idx_ticket_queue_mine",
        "idx_ticket_queue_unassigned",
    ):
        op.drop_index(name, table_name="core_ticket")
