"""A real SMTP server on loopback (aiosmtpd) that records what it receives.

Used by the e-mail tests and `bench/email_delivery.py`. It can refuse chosen recipients
(permanently with 550 or temporarily with 450), slow down each DATA (to catch a worker
mid-send), require a login, and speak STARTTLS or implicit TLS with a throwaway
certificate.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import email
import email.policy
import socket
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from smartsupport_core import settings as core_settings
from smartsupport_core.settings import Settings
from smartsupport_core.worker import Worker, WorkerConfig

BASE_URL = "https://help.example.com"


class FakeClock:
    """The worker's notion of now, moved by the test (backoff without sleeping)."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        self.now += delta


def smtp_settings(port: int | None, **changes: object) -> Settings:
    values: dict[str, object] = {
        "smtp_host": "127.0.0.1" if port else None,
        "smtp_port": port or 587,
        "smtp_starttls": False,
        "smtp_ssl": False,
        "smtp_username": None,
        "smtp_password": None,
        "smtp_from": "SmartSupport <help@example.com>",
        "base_url": BASE_URL,
    }
    values.update(changes)
    return dataclasses.replace(core_settings.load_settings(), **values)  # type: ignore[arg-type]


def make_worker(engine, settings: Settings, clock: FakeClock | None = None, **config: object) -> Worker:
    """A quiet outbox worker (no jobs) on `engine`, with a test clock."""
    cfg = WorkerConfig(run_jobs=False, **config)  # type: ignore[arg-type]
    return Worker(engine, settings, config=cfg, clock=clock or FakeClock(), echo=lambda m: None)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Delivered:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    login: str | None

    @property
    def outbox_id(self) -> int:
        return int(self.message["X-SmartSupport-Outbox-Id"])

    def part(self, subtype: str) -> str:
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None and body.get_content_subtype() == subtype, f"no text/{subtype} part"
        return body.get_content()


@dataclass
class Recorder:
    """The aiosmtpd handler: accepts, refuses or delays, and keeps every accepted message."""

    messages: list[Delivered] = field(default_factory=list)
    reject_permanent: set[str] = field(default_factory=set)
    reject_temporary: set[str] = field(default_factory=set)
    data_delay: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    data_started: threading.Event = field(default_factory=threading.Event)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.reject_permanent:
            return "550 5.1.1 <" + address + ">: mailbox unavailable"
        if address in self.reject_temporary:
            return "450 4.2.1 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.data_started.set()
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        login = session.auth_data if session.authenticated else None
        with self.lock:
            self.messages.append(Delivered(envelope.mail_from, list(envelope.rcpt_tos), message, login))
        return "250 OK: queued"

    def snapshot(self) -> list[Delivered]:
        with self.lock:
            return list(self.messages)


class _Auth:
    def __init__(self, users: dict[str, str]) -> None:
        self.users = users

    def __call__(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            user, pw = auth_data.login.decode(), auth_data.password.decode()
            if self.users.get(user) == pw:
                return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1/localhost (cert.pem, key.pem)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class SmtpSink:
    """Start/stop an aiosmtpd server on 127.0.0.1; `with SmtpSink() as sink: ... sink.messages`."""

    def __init__(
        self,
        port: int | None = None,
        *,
        users: dict[str, str] | None = None,
        starttls_cert: tuple[Path, Path] | None = None,
        implicit_tls_cert: tuple[Path, Path] | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self.port = port or free_port()
        self.recorder = recorder or Recorder()
        kwargs: dict[str, object] = {}
        if users is not None:
            kwargs["authenticator"] = _Auth(users)
            kwargs["auth_require_tls"] = starttls_cert is not None
        if starttls_cert is not None:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(*starttls_cert)
            kwargs["tls_context"] = ctx
            kwargs["require_starttls"] = True
        if implicit_tls_cert is not None:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(*implicit_tls_cert)
            kwargs["ssl_context"] = ctx
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, **kwargs)

    def start(self) -> SmtpSink:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def __enter__(self) -> SmtpSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def messages(self) -> list[Delivered]:
        return self.recorder.snapshot()
