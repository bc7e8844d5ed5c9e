"""Runtime settings, read from the environment (the portal may add `.streamlit/secrets.toml`).

Everything an operator sets lives here under the names fixed in design.md, so the CLI, the
worker, the portal and the tests read one definition. Nothing here is a secret constant:
the secret key is generated into the data directory when it is not given.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ValidationError

DEFAULT_ALLOWED_TYPES = ("png", "jpeg", "pdf", "doc", "docx", "xls", "xlsx", "csv")
#: Where attachment and avatar bytes live (smartsupport_core/file_store.py).
FILE_STORES = ("postgres", "filesystem")
PREFIX = "SMARTSUPPORT_"
BASE_URL_ENV = "SMARTSUPPORT_BASE_URL"
DEFAULT_PORT = 8501  # `smartsupport run`'s default port


def portal_base_url(port: int) -> str:
    """The base URL e-mail links use when `SMARTSUPPORT_BASE_URL` is unset and the portal was
    started on `port` (`smartsupport run --port N`): the portal as seen on this machine."""
    return f"http://localhost:{port}"


@dataclass(frozen=True)
class Settings:
    """The settings every part of the system reads: a plain frozen value, so a test or the
    worker can derive a variant with `dataclasses.replace`."""

    database_url: str | None
    data_dir: Path
    secret_key_value: str | None = None
    base_url: str = "http://localhost:8501"
    timezone: str = "UTC"
    currency: str = "PHP"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_from: str = "SmartSupport <no-reply@localhost>"
    ai_api_key: str | None = None
    ai_base_url: str | None = None
    ai_model: str | None = None
    ai_timeout_seconds: float = 20.0
    allowed_attachment_types: tuple[str, ...] = DEFAULT_ALLOWED_TYPES
    max_attachment_bytes: int = 10 * 1024 * 1024
    file_store: str = FILE_STORES[0]
    db_pool_size: int = 10
    db_max_overflow: int = 20
    max_attachments_per_ticket: int = 20
    max_ticket_attachment_bytes: int = 50 * 1024 * 1024
    inbound_poll_seconds: int = 60
    chat_retention_days: int = 90
    timing: str = ""
    report_processes: int = 2

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)

    @property
    def secret_key(self) -> str:
        """The signing key; generated once into the data dir when not configured."""
        if self.secret_key_value:
            return self.secret_key_value
        path = self.data_dir / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
        return path.read_text().strip()


#: Whole-number settings and their smallest allowed value (the message names both).
MINIMUMS = {
    "db_pool_size": 1,
    "db_max_overflow": 0,
    "max_attachments_per_ticket": 1,
    "max_ticket_attachment_bytes": 1,
    "inbound_poll_seconds": 5,
    "chat_retention_days": 1,
    "report_processes": 0,
}


class Environment(BaseSettings):
    """The `SMARTSUPPORT_*` environment (plus `OPENAI_API_KEY`), typed and checked by
    pydantic-settings; an empty variable counts as unset. `load_settings` turns it into
    `Settings` and a refusal into a `ValidationError` naming the variable."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX, env_ignore_empty=True, extra="ignore", populate_by_name=True, frozen=True
    )

    database_url: str | None = None
    data_dir: str = ".smartsupport"
    secret_key: str | None = None
    base_url: str = portal_base_url(DEFAULT_PORT)
    timezone: str = "UTC"
    currency: str = "PHP"
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_from: str = "SmartSupport <no-reply@localhost>"
    ai_api_key: str | None = Field(None, validation_alias=AliasChoices(PREFIX + "AI_API_KEY", "OPENAI_API_KEY"))
    ai_base_url: str | None = None
    ai_model: str | None = None
    ai_timeout_seconds: float = Field(20.0, gt=0)
    allowed_attachment_types: str | None = None  # comma-separated
    file_store: str = FILE_STORES[0]
    db_pool_size: int = Field(10, ge=MINIMUMS["db_pool_size"])
    db_max_overflow: int = Field(20, ge=MINIMUMS["db_max_overflow"])
    max_attachments_per_ticket: int = Field(20, ge=MINIMUMS["max_attachments_per_ticket"])
    max_ticket_attachment_bytes: int = Field(50 * 1024 * 1024, ge=MINIMUMS["max_ticket_attachment_bytes"])
    inbound_poll_seconds: int = Field(60, ge=MINIMUMS["inbound_poll_seconds"])
    chat_retention_days: int = Field(90, ge=MINIMUMS["chat_retention_days"])
    timing: str = ""
    report_processes: int = Field(2, ge=MINIMUMS["report_processes"])


def _message(field: str, value: Any, pydantic_message: str) -> str:
    """Our wording for a refused setting: the rule, and what was given."""
    if field in MINIMUMS:
        return f"must be a whole number of at least {MINIMUMS[field]} (got {value!r})"
    return f"{pydantic_message[:1].lower()}{pydantic_message[1:]} (got {value!r})"


def _environment(overrides: Mapping[str, object] | None) -> Environment:
    given: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if isinstance(value, (str, int, float, bool)) and str(value) != "":
            if key.startswith(PREFIX):
                given[key[len(PREFIX) :].lower()] = str(value)
            elif key == "OPENAI_API_KEY":
                given.setdefault("ai_api_key", str(value))
    try:
        return Environment(**given)
    except PydanticValidationError as exc:
        errors = {}
        for e in exc.errors():
            field = str(e["loc"][0]) if e["loc"] else ""
            errors[PREFIX + field.upper()] = _message(field, e.get("input"), e["msg"])
        raise ValidationError(errors) from None


def load_settings(overrides: Mapping[str, object] | None = None) -> Settings:
    """Settings from the environment, with `overrides` (e.g. Streamlit secrets) on top."""
    env = _environment(overrides)
    store = env.file_store.strip().lower()
    if store not in FILE_STORES:
        choices = ", ".join(FILE_STORES)
        raise ValidationError({PREFIX + "FILE_STORE": f"must be one of {choices} (got {env.file_store!r})"})
    values = env.model_dump()  # the same names as Settings' fields, but for these:
    types = values.pop("allowed_attachment_types")
    values["secret_key_value"] = values.pop("secret_key")
    values["data_dir"] = Path(env.data_dir).expanduser().resolve()
    values["base_url"] = env.base_url.rstrip("/")
    values["allowed_attachment_types"] = (
        tuple(x.strip().lower() for x in types.split(",")) if types else DEFAULT_ALLOWED_TYPES
    )
    values["file_store"] = store
    values["timing"] = env.timing.strip()
    return Settings(**values)


_current: Settings | None = None


def get_settings() -> Settings:
    """The process-wide settings (loaded on first use)."""
    global _current
    if _current is None:
        _current = load_settings()
    return _current


def configure(settings: Settings | None) -> None:
    """Replace the process-wide settings (the portal with its secrets; tests)."""
    global _current
    _current = settings
