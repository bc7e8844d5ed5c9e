"""Attachment and profile-image bytes in PostgreSQL (issue 16: every replica serves every file,
and a database backup holds everything).

`core_filecontent.content` is stored EXTERNAL (out of line, not compressed): attachments are
mostly compressed formats already, and an uncompressed TOAST value lets
`substring(content FROM n FOR m)` fetch only the slices it needs, which is how downloads read
it (`file_store.PostgresStore.chunks`). Existing files on disk stay where they are; move them
with `smartsupport files move --to postgres` (README "Deploy").

Revision ID: 0006_file_store
Revises: 0008_workspace
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_file_store"
down_revision: str | Sequence[str] | None = "0008_workspace"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "core_filecontent",
        sa.Column("path", sa.String(200), primary_key=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.CheckConstraint("size = octet_length(content)", name="chk_filecontent_size"),
    )
    op.execute("ALTER TABLE core_filecontent ALTER COLUMN content SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("core_filecontent")
