"""Dashboard report rows (issue 7's performance target): one packed row block per UTC day.

`core_reportday` holds, per UTC day of `submit_date`, every ticket of that day packed as
fixed-width binary columns (`report_rows.PACKED_ROW`), so the dashboard reads one value per
day instead of a million tickets. Statement-level triggers on `core_ticket` (and
`core_ticketrating`: a rating is packed with its ticket) record the days a write touched in
`core_reportdirty`; the dashboard packs dirty days live from `core_ticket` and
`report_rows.refresh_report` repacks them. This migration marks every existing day dirty
(the first refresh packs them).

Revision ID: 0005_reporting
Revises: 0004_search_vector
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_reporting"
down_revision: str | Sequence[str] | None = "0004_search_vector"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The UTC day a ticket's packed row lives in (tickets without submit_date: 0001-01-01).
DAY = "coalesce((submit_date AT TIME ZONE 'UTC')::date, date '0001-01-01')"


def _marking_function(name: str, days_of: Callable[[str], str], on_truncate: str = "") -> None:
    """A trigger function recording the UTC days of the changed rows in core_reportdirty."""
    truncate = f"IF TG_OP = 'TRUNCATE' THEN {on_truncate} RETURN NULL; END IF;" if on_truncate else ""
    op.execute(
        f"""
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {truncate}
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                INSERT INTO core_reportdirty (day) {days_of("new_rows")};
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                INSERT INTO core_reportdirty (day) {days_of("old_rows")};
            END IF;
            RETURN NULL;
        END;
        $$
        """
    )


def _statement_triggers(prefix: str, table: str, function: str) -> None:
    """AFTER INSERT/UPDATE/DELETE statement triggers with transition tables (one pass per write)."""
    for name, event, referencing in (
        ("insert", "INSERT", "NEW TABLE AS new_rows"),
        ("update", "UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("delete", "DELETE", "OLD TABLE AS old_rows"),
    ):
        op.execute(
            f"CREATE TRIGGER {prefix}_{name} AFTER {event} ON {table} REFERENCING {referencing}"
            f" FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )


def upgrade() -> None:
    op.create_table(
        "core_reportday",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("layout", sa.BigInteger(), nullable=False),
        sa.Column("tickets", sa.Integer(), nullable=False),
        sa.Column("open_tickets", sa.Integer(), nullable=False),
        sa.Column("max_resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("max_rated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("packed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_core_reportday")),
    )
    # Read whole and often, never searched: keep it out of compression.
    op.execute("ALTER TABLE core_reportday ALTER COLUMN packed SET STORAGE EXTERNAL")
    op.create_table(
        "core_reportdirty",
        sa.Column("id", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_core_reportdirty")),
    )
    _marking_function(
        "core_report_mark_dirty",
        lambda rows: f"SELECT DISTINCT {DAY} FROM {rows}",
        on_truncate="DELETE FROM core_reportday; DELETE FROM core_reportdirty;",
    )
    _statement_triggers("ticket_report", "core_ticket", "core_report_mark_dirty")
    # A rating is packed with its ticket: mark the ticket's day.
    _marking_function(
        "core_report_mark_rated",
        lambda rows: f"SELECT DISTINCT {DAY} FROM core_ticket WHERE id IN (SELECT ticket_id FROM {rows})",
    )
    _statement_triggers("rating_report", "core_ticketrating", "core_report_mark_rated")
    op.execute(
        "CREATE TRIGGER ticket_report_truncate AFTER TRUNCATE ON core_ticket"
        " FOR EACH STATEMENT EXECUTE FUNCTION core_report_mark_dirty()"
    )
    op.execute(f"INSERT INTO core_reportdirty (day) SELECT DISTINCT {DAY} FROM core_ticket")


def downgrade() -> None:
    for name in ("insert", "update", "delete", "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS ticket_report_{name} ON core_ticket")
        op.execute(f"DROP TRIGGER IF EXISTS rating_report_{name} ON core_ticketrating")
    op.execute("DROP FUNCTION IF EXISTS core_report_mark_rated()")
    op.execute("DROP FUNCTION IF EXISTS core_report_mark_dirty()")
    op.drop_table("core_reportdirty")
    op.drop_table("core_reportday")
