"""Encryption of stored credentials (inbound mailbox passwords) with a key derived from
`SMARTSUPPORT_SECRET_KEY`.

Why Fernet: authenticated encryption (AES-128-CBC + HMAC-SHA256) from `cryptography`, so a
token altered in the database fails to decrypt instead of yielding garbage. The Fernet key
is HKDF-SHA256 of the secret key with a purpose label, so the same secret signing download
links never doubles as this key directly. Rotating `SMARTSUPPORT_SECRET_KEY` makes stored
passwords unreadable: the mailbox then reports "the stored password cannot be decrypted"
and an admin enters it again.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .settings import get_settings

PURPOSE = b"smartsupport stored credentials v1"


class SecretUnreadable(Exception):
    """The token was made with another secret key, or was altered."""


def _fernet(secret_key: str | None = None) -> Fernet:
    material = (secret_key or get_settings().secret_key).encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=PURPOSE).derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(plain: str, *, secret_key: str | None = None) -> str:
    return _fernet(secret_key).encrypt(plain.encode()).decode()


def decrypt(token: str, *, secret_key: str | None = None) -> str:
    try:
        return _fernet(secret_key).decrypt(token.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise SecretUnreadable(
            "the stored password cannot be decrypted (was SMARTSUPPORT_SECRET_KEY changed?); enter it again"
        ) from exc
