"""Runtime settings, read from the environment (the portal may add `.streamlit/secrets.toml`).

Everything an operator sets lives here under the names fixed in design.md, so the CLI, the
worker, the portal and the tests read one definition. Nothing here is a secret constant:
the secret key is generated into the data directory when it is not given.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ValidationError

DEFAULT_ALLOWED_TYPES = ("png", "jpeg", "pdf", "doc", "docx", "xls", "xlsx", "csv")


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


#: Where attachment and avatar bytes live (smartsupport_core/file_store.py).
FILE_STORES = ("postgres", "filesystem")


def _whole(name: str, value: str | None, default: int, minimum: int) -> int:
    """A whole-number setting; a bad value is a ValidationError naming the variable."""
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise ValidationError({f"SMARTSUPPORT_{name}": f"must be a whole number of at least {minimum} (got {value!r})"})
    return number


def _choice(name: str, value: str | None, choices: tuple[str, ...]) -> str:
    if value is None:
        return choices[0]
    if value.strip().lower() not in choices:
        raise ValidationError({f"SMARTSUPPORT_{name}": f"must be one of {', '.join(choices)} (got {value!r})"})
    return value.strip().lower()


@dataclass(frozen=True)
class Settings:
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
    allowed_attachment_types: tuple[str, ...] = DEFAULT_ALLOWED_TYPES
    max_attachment_bytes: int = 10 * 1024 * 1024
    file_store: str = FILE_STORES[0]
    db_pool_size: int = 10
    db_max_overflow: int = 20
    max_attachments_per_ticket: int = 20
    max_ticket_attachment_bytes: int = 50 * 1024 * 1024
    inbound_poll_seconds: int = 60
    extra: dict[str, str] = field(default_factory=dict)

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


BASE_URL_ENV = "SMARTSUPPORT_BASE_URL"
DEFAULT_PORT = 8501  # `smartsupport run`'s default port


def portal_base_url(port: int) -> str:
    """The base URL e-mail links use when `SMARTSUPPORT_BASE_URL` is unset and the portal was
    started on `port` (`smartsupport run --port N`): the portal as seen on this machine."""
    return f"http://localhost:{port}"


def load_settings(overrides: Mapping[str, object] | None = None) -> Settings:
    """Settings from the environment, with `overrides` (e.g. Streamlit secrets) on top."""
    env: dict[str, str] = {k: v for k, v in os.environ.items() if k.startswith(("SMARTSUPPORT_", "OPENAI_"))}
    for key, value in (overrides or {}).items():
        if isinstance(value, (str, int, float, bool)) and key.startswith(("SMARTSUPPORT_", "OPENAI_")):
            env[key] = str(value)

    def get(name: str, default: str | None = None) -> str | None:
        value = env.get("SMARTSUPPORT_" + name)
        return value if value not in (None, "") else default

    types = get("ALLOWED_ATTACHMENT_TYPES")
    return Settings(
        database_url=get("DATABASE_URL"),
        data_dir=Path(get("DATA_DIR", ".smartsupport")).expanduser().resolve(),
        secret_key_value=get("SECRET_KEY"),
        base_url=(get("BASE_URL", portal_base_url(DEFAULT_PORT)) or "").rstrip("/"),
        timezone=get("TIMEZONE", "UTC") or "UTC",
        currency=get("CURRENCY", "PHP") or "PHP",
        smtp_host=get("SMTP_HOST"),
        smtp_port=int(get("SMTP_PORT", "587") or 587),
        smtp_username=get("SMTP_USERNAME"),
        smtp_password=get("SMTP_PASSWORD"),
        smtp_starttls=_bool(get("SMTP_STARTTLS"), True),
        smtp_ssl=_bool(get("SMTP_SSL"), False),
        smtp_from=get("SMTP_FROM", "SmartSupport <no-reply@localhost>") or "",
        ai_api_key=get("AI_API_KEY") or env.get("OPENAI_API_KEY") or None,
        ai_base_url=get("AI_BASE_URL"),
        ai_model=get("AI_MODEL"),
        allowed_attachment_types=tuple(t.strip().lower() for t in types.split(",")) if types else DEFAULT_ALLOWED_TYPES,
        file_store=_choice("FILE_STORE", get("FILE_STORE"), FILE_STORES),
        db_pool_size=_whole("DB_POOL_SIZE", get("DB_POOL_SIZE"), 10, 1),
        db_max_overflow=_whole("DB_MAX_OVERFLOW", get("DB_MAX_OVERFLOW"), 20, 0),
        max_attachments_per_ticket=_whole("MAX_ATTACHMENTS_PER_TICKET", get("MAX_ATTACHMENTS_PER_TICKET"), 20, 1),
        max_ticket_attachment_bytes=_whole(
            "MAX_TICKET_ATTACHMENT_BYTES", get("MAX_TICKET_ATTACHMENT_BYTES"), 50 * 1024 * 1024, 1
        ),
        inbound_poll_seconds=_whole("INBOUND_POLL_SECONDS", get("INBOUND_POLL_SECONDS"), 60, 5),
        extra={k: v for k, v in env.items()},
    )


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
