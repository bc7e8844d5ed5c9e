"""Password hashing: scrypt round trip, Django pbkdf2_sha256 compatibility, rehash signal."""

from __future__ import annotations

import base64
import hashlib

import pytest

from smartsupport_core import passwords
from smartsupport_core.passwords import hash_password, needs_rehash, verify_password


def django_hash(password: str, salt: str = "q1w2e3r4t5y6u7i8", iterations: int = 1_000) -> str:
    """Built independently of the module, exactly as Django's PBKDF2PasswordHasher does."""
    dk = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(dk).decode()}"


def test_scrypt_round_trip_and_format() -> None:
    stored = hash_password("Correct#Horse9")
    assert stored.startswith("scrypt$16384$8$1$")
    assert len(stored) <= 128
    assert verify_password("Correct#Horse9", stored)
    assert not verify_password("Correct#Horse8", stored)
    assert not verify_password("", stored)
    assert not needs_rehash(stored)


def test_salted_every_time() -> None:
    assert hash_password("Same#Pass1") != hash_password("Same#Pass1")


def test_django_hash_verifies_and_needs_rehash() -> None:
    stored = django_hash("Imported#Pass1")
    assert verify_password("Imported#Pass1", stored)
    assert not verify_password("imported#Pass1", stored)
    assert needs_rehash(stored)
    assert passwords.django_pbkdf2_sha256("Imported#Pass1", "q1w2e3r4t5y6u7i8", 1_000) == stored


@pytest.mark.parametrize(
    "stored",
    [
        None,
        "",
        "!unusable",
        "plain-text-password",
        "md5$abc$def",
        "scrypt$16384$8$1$notbase64!!$xx",
        "scrypt$3$8$1$AAAA$AAAA",  # n not a power of two
        "scrypt$1073741824$8$1$AAAA$AAAA",  # absurd cost refused, not computed
        "pbkdf2_sha256$abc$salt$hash",
        "pbkdf2_sha256$1000$salt",
    ],
)
def test_malformed_or_unusable_never_verifies(stored: str | None) -> None:
    assert not verify_password("anything#A1", stored)
    if not (stored or "").startswith("scrypt$16384$8$1$"):
        assert needs_rehash(stored)


def test_old_scrypt_parameters_need_rehash() -> None:
    salt = b"0123456789abcdef"
    key = hashlib.scrypt(b"Old#Params1", salt=salt, n=2**12, r=8, p=1, dklen=32)
    enc = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")  # noqa: E731
    stored = f"scrypt$4096$8$1${enc(salt)}${enc(key)}"
    assert verify_password("Old#Params1", stored)
    assert needs_rehash(stored)
