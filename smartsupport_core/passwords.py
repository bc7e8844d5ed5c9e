"""Password hashing: scrypt for new hashes, Django's pbkdf2_sha256 still verified.

WHY scrypt: it is memory-hard and in the standard library (no extra dependency), and its
encoded form `scrypt$n$r$p$salt$hash` (about 85 characters) fits the spec's
`core_employee.password VARCHAR(128)`. WHY Django too: the spec stores passwords "hashed
with Django's algorithm", so accounts imported from an existing SmartSupport database
must keep working; such hashes verify here and `needs_rehash` tells the login to replace
them with a current scrypt hash. Every comparison is constant-time (`hmac.compare_digest`).
A stored value starting with "!" (Django's unusable password) never verifies.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

SCRYPT_PREFIX = "scrypt"
DJANGO_PREFIX = "pbkdf2_sha256"

#: Current scrypt cost: n=2**14, r=8, p=1 (16 MiB, tens of milliseconds per hash).
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
#: Refuse absurd parameters read from the database (a tampered row must not exhaust memory).
_MAX_N = 2**20
_MAX_PBKDF2_ITERATIONS = 10_000_000


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES, maxmem=128 * r * n * 2 + 1024 * 1024
    )


def hash_password(password: str) -> str:
    """A new salted scrypt hash of `password` in `scrypt$n$r$p$salt$hash` form."""
    if not isinstance(password, str):
        raise TypeError("password must be a string")
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"{SCRYPT_PREFIX}${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def _verify_scrypt(password: str, parts: list[str]) -> bool:
    if len(parts) != 6:
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, expected = _unb64(parts[4]), _unb64(parts[5])
    except (ValueError, binascii.Error):
        return False
    if not (1 < n <= _MAX_N and n & (n - 1) == 0 and 0 < r <= 32 and 0 < p <= 16 and expected):
        return False
    key = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=len(expected), maxmem=128 * r * n * 2 + 1024 * 1024
    )
    return hmac.compare_digest(key, expected)


def django_pbkdf2_sha256(password: str, salt: str, iterations: int) -> str:
    """Django's `pbkdf2_sha256$iterations$salt$hash` encoding (used to verify imports)."""
    dk = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt.encode("utf-8"), iterations)
    return f"{DJANGO_PREFIX}${iterations}${salt}${base64.b64encode(dk).decode('ascii').strip()}"


def _verify_django(password: str, stored: str, parts: list[str]) -> bool:
    if len(parts) != 4:
        return False
    try:
        iterations = int(parts[1])
    except ValueError:
        return False
    if not 0 < iterations <= _MAX_PBKDF2_ITERATIONS:
        return False
    candidate = django_pbkdf2_sha256(password, parts[2], iterations)
    return hmac.compare_digest(candidate.encode("utf-8"), stored.encode("utf-8"))


def verify_password(password: str, stored: str | None) -> bool:
    """True when `password` matches the stored hash (scrypt or Django pbkdf2_sha256)."""
    if not password or not stored or stored.startswith("!") or not isinstance(password, str):
        return False
    parts = stored.split("$")
    if parts[0] == SCRYPT_PREFIX:
        return _verify_scrypt(password, parts)
    if parts[0] == DJANGO_PREFIX:
        return _verify_django(password, stored, parts)
    return False


def needs_rehash(stored: str | None) -> bool:
    """True when `stored` is not a scrypt hash with the current parameters."""
    if not stored:
        return True
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != SCRYPT_PREFIX:
        return True
    return parts[1:4] != [str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P)]


def is_unusable(stored: str | None) -> bool:
    """Django's convention: a hash starting with '!' means "no password can log in"."""
    return not stored or stored.startswith("!")
