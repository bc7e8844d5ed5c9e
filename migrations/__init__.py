"""Alembic's script directory, installed as the package `smartsupport_migrations` (see
pyproject.toml); `smartsupport_core.migrate` hands its location to Alembic."""
