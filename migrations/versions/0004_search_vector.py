"""Full-text search: the ticket's tsvector stored in a generated column, GIN-indexed (issue 9).

Ranking the newest 1,000 matches of a common word re-parsed subject and description of each
with `to_tsvector`; the stored column is parsed once, when the row is written. Adding it
rewrites `core_ticket` (minutes at a million tickets, under an exclusive lock).

The downgrade also hands the per-year ticket number sequences of the same release
(`numbering.py`, created at run time, not here) back to `core_ticketcounter`, which is what
the code before it numbers from.

Revision ID: 0004_search_vector
Revises: 0003_queue_on_hold_index
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision: str = "0004_search_vector"
down_revision: str | Sequence[str] | None = "0003_queue_on_hold_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Kept here rather than imported, so this revision stays what it was when models.py moves on.
DOCUMENT = "to_tsvector('english'::regconfig, (((subject)::text || ' '::text) || description))"


def upgrade() -> None:
    op.drop_index("idx_ticket_search", table_name="core_ticket", postgresql_using="gin")
    op.add_column("core_ticket", sa.Column("search_vector", TSVECTOR, sa.Computed(DOCUMENT, persisted=True)))
    op.create_index("idx_ticket_search", "core_ticket", ["search_vector"], postgresql_using="gin")


def downgrade() -> None:
    conn = op.get_bind()
    for name, last in conn.execute(
        sa.text(
            "SELECT sequencename, last_value FROM pg_sequences "
            "WHERE schemaname = current_schema() AND sequencename ~ '^core_ticket_number_[0-9]+$'"
        )
    ).all():
        conn.execute(
            sa.text(
                "INSERT INTO core_ticketcounter (year, last_value) VALUES (:year, :last) ON CONFLICT (year) "
                "DO UPDATE SET last_value = greatest(core_ticketcounter.last_value, excluded.last_value)"
            ),
            {"year": int(name.rsplit("_", 1)[1]), "last": last or 0},
        )
        conn.execute(sa.text(f"DROP SEQUENCE {name}"))
    op.drop_index("idx_ticket_search", table_name="core_ticket", postgresql_using="gin")
    op.drop_column("core_ticket", "search_vector")
    op.create_index(
        "idx_ticket_search",
        "core_ticket",
        [sa.literal_column("to_tsvector('english', subject || ' ' || description)")],
        postgresql_using="gin",
    )
