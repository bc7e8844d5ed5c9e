"""SMTP delivery of one outbox row: the MIME message and the connection, with error classes.

Everything comes from settings (`SMARTSUPPORT_SMTP_*`), so Gmail works by configuration
alone: host `smtp.gmail.com`, port 587, STARTTLS on (the default), the account as username
and an app password. Port 465 servers use `SMARTSUPPORT_SMTP_SSL=true`. TLS always verifies
the server certificate against the system trust store (`SSL_CERT_FILE` can point elsewhere).

Errors are split in two because the worker treats them differently: a `PermanentFailure`
is the server refusing *this message* with a 5xx reply (bad recipient, rejected content):
retrying cannot help, so the row fails at once. Everything else — server down, time-out,
4xx, TLS or login trouble — is a `TemporaryFailure` and is retried with backoff.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, parseaddr
from typing import Self

from .settings import Settings

DEFAULT_FROM = "SmartSupport <no-reply@localhost>"

#: 5xx replies about *our* session, not the message (530 authentication/STARTTLS required,
#: 534 app password required, 535 bad credentials, 538 encryption required): a settings
#: problem, so the message is retried rather than failed — fixing the settings delivers it.
SETTINGS_CODES = frozenset({530, 534, 535, 538})


class DeliveryError(Exception):
    """A message could not be delivered; `str()` is what the outbox shows."""


class PermanentFailure(DeliveryError):
    """The server rejected this message for good (5xx): do not retry."""


class TemporaryFailure(DeliveryError):
    """Delivery may work later (connection, time-out, 4xx, TLS, login): retry with backoff."""


@dataclass(frozen=True)
class Outgoing:
    """What the worker needs from an outbox row to send it."""

    id: int
    recipient: str
    subject: str
    body: str
    html_body: str | None
    created_at: object | None = None  # datetime; the Date header


def sender(settings: Settings) -> str:
    """The From header. With the default From and a login (Gmail), the login address sends."""
    configured = settings.smtp_from or DEFAULT_FROM
    if configured == DEFAULT_FROM and settings.smtp_username and "@" in settings.smtp_username:
        return f"SmartSupport <{settings.smtp_username}>"
    return configured


def envelope_sender(settings: Settings) -> str:
    return parseaddr(sender(settings))[1] or "no-reply@localhost"


def message_id(outbox_id: int, settings: Settings) -> str:
    """Stable per outbox row, so a (rare) repeat after a crash can be recognised downstream."""
    domain = envelope_sender(settings).rpartition("@")[2] or "localhost"
    return f"<smartsupport-outbox-{outbox_id}@{domain}>"


def build_message(item: Outgoing, settings: Settings) -> EmailMessage:
    """multipart/alternative: the plain text first, the HTML part last (preferred by clients)."""
    msg = EmailMessage()
    msg["From"] = sender(settings)
    msg["To"] = item.recipient
    msg["Subject"] = " ".join(item.subject.split())
    msg["Message-ID"] = message_id(item.id, settings)
    msg["X-SmartSupport-Outbox-Id"] = str(item.id)
    msg["Auto-Submitted"] = "auto-generated"
    if item.created_at is not None:
        msg["Date"] = format_datetime(item.created_at)  # type: ignore[arg-type]
    msg.set_content(item.body)
    if item.html_body:
        msg.add_alternative(item.html_body, subtype="html")
    return msg


def _reply_text(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {' '.join(text.split())}"


def classify(exc: BaseException) -> DeliveryError:
    """Map an smtplib/socket error raised while sending one message to our two classes."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = list(exc.recipients.values())
        text = "; ".join(f"recipient refused: {_reply_text(code, msg)}" for code, msg in replies) or str(exc)
        permanent = bool(replies) and all(code >= 500 for code, _ in replies)
        return PermanentFailure(text) if permanent else TemporaryFailure(text)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return TemporaryFailure(f"SMTP login failed: {_reply_text(exc.smtp_code, exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPResponseException):
        kind = "sender refused" if isinstance(exc, smtplib.SMTPSenderRefused) else "server replied"
        text = f"{kind}: {_reply_text(exc.smtp_code, exc.smtp_error)}"
        if exc.smtp_code in SETTINGS_CODES:
            return TemporaryFailure(f"{text} (check the SMTP login/STARTTLS settings)")
        return PermanentFailure(text) if 500 <= exc.smtp_code < 600 else TemporaryFailure(text)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TemporaryFailure(f"SMTP server disconnected: {exc}")
    if isinstance(exc, ssl.SSLError):
        return TemporaryFailure(f"TLS error: {exc}")
    if isinstance(exc, TimeoutError):
        return TemporaryFailure(f"SMTP time-out: {exc}")
    if isinstance(exc, OSError):
        return TemporaryFailure(f"cannot reach the SMTP server: {exc}")
    return TemporaryFailure(f"{type(exc).__name__}: {exc}")


class SmtpConnection:
    """One SMTP session, reused for a batch of messages; opened lazily, closed by the worker."""

    def __init__(self, settings: Settings, *, timeout: float = 30.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_open(self) -> bool:
        return self._smtp is not None

    def open(self) -> None:
        """Connect, STARTTLS/SSL, log in. Any failure here is temporary (a settings or network issue)."""
        s = self.settings
        if not s.smtp_host:
            raise TemporaryFailure("SMTP is not configured (SMARTSUPPORT_SMTP_HOST is empty)")
        context = ssl.create_default_context()
        smtp: smtplib.SMTP | None = None
        try:
            if s.smtp_ssl:
                smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=self.timeout)
            smtp.ehlo()
            if s.smtp_starttls and not s.smtp_ssl:
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.smtp_username:
                smtp.login(s.smtp_username, s.smtp_password or "")
        except smtplib.SMTPNotSupportedError as exc:
            self._abort(smtp)
            raise TemporaryFailure(f"SMTP server does not support this (STARTTLS or AUTH?): {exc}") from exc
        except Exception as exc:
            self._abort(smtp)
            err = classify(exc)
            # A refusal while connecting is about the server or our settings, never one message.
            raise TemporaryFailure(str(err)) from exc
        self._smtp = smtp

    def send(self, item: Outgoing) -> None:
        """Deliver one message; raises PermanentFailure / TemporaryFailure."""
        if self._smtp is None:
            self.open()
        assert self._smtp is not None
        message = build_message(item, self.settings)
        try:
            recipients = [address for _, address in getaddresses([item.recipient])]
            refused = self._smtp.send_message(message, from_addr=envelope_sender(self.settings), to_addrs=recipients)
        except Exception as exc:
            err = classify(exc)
            if not isinstance(exc, (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused)):
                self._abort(self._smtp)  # the session is in an unknown state: start afresh next time
                self._smtp = None
            raise err from exc
        if refused:  # only possible with several recipients; we send one per row
            raise classify(smtplib.SMTPRecipientsRefused(refused))

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except Exception:
                self._abort(smtp)

    @staticmethod
    def _abort(smtp: smtplib.SMTP | None) -> None:
        if smtp is None:
            return
        with contextlib.suppress(Exception):
            smtp.close()
