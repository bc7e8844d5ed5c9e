"""Alembic environment: runs on a connection handed in by `smartsupport_core.migrate`,
or on the configured database when invoked as plain `alembic`."""

from __future__ import annotations

from alembic import context

from smartsupport_core.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from smartsupport_core.db import get_engine

    with get_engine().connect() as conn:
        _run(conn)
        conn.commit()
