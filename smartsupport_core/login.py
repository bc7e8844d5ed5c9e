"""Signing in and out: credential check, per-account lockout, remembered-session tokens.

WHY the database and not streamlit-authenticator's YAML credentials: `core_employee` is the
one source of truth (accounts are approved, suspended and re-roled there), and the lockout
must hold across portal replicas, so every attempt is a row of `core_loginattempt`, keyed by
the normalised e-mail address whether or not an account has it; the lock is decided from
those rows (`_address_lock`) and mirrored into `Employee.locked_until` for accounts.

WHY a session version: a remembered-session cookie is only a signed pointer
(user id + `Employee.session_version` + expiry). Logging out, changing the password and
being suspended or deactivated bump the version, so every cookie issued before stops
working at once, on every replica, without a server-side session store.

`authenticate` never raises for a refused login (only for input that is not an e-mail
address at all: a ValidationError naming the field, before anything is read or written):
it returns a `LoginResult` whose message says exactly why (wrong credentials, locked,
Pending, Rejected, Suspended, deactivated), because the failed-attempt row must be
committed by the caller even when sign-in fails.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit
from .errors import ValidationError
from .models import Employee, LoginAttempt
from .passwords import hash_password, needs_rehash, verify_password
from .text_input import EMAIL_MAX, MSG_NOT_TEXT, PASSWORD_MAX, clean_text
from .vocab import AccountStatus, AuditAction

MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)
LOCK_DURATION = dt.timedelta(minutes=15)
#: Lifetime of a remembered session ("keep me signed in") and of an ordinary one.
REMEMBER_FOR = dt.timedelta(days=30)
SESSION_FOR = dt.timedelta(hours=12)
TOKEN_PREFIX = "ss2"  # ss1: hand-made HMAC-SHA256 (before itsdangerous); no longer accepted
#: Seed of the per-address advisory lock key (`hashtextextended(address, LOCK_KEY)`).
LOCK_KEY = 1301


class LoginOutcome(StrEnum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"
    PENDING = "pending"
    REJECTED = "rejected"
    SUSPENDED = "suspended"
    DEACTIVATED = "deactivated"


BAD_CREDENTIALS_MESSAGE = "Incorrect e-mail address or password."

#: What each refused account status is told (the reason recorded by the admin is appended).
STATUS_MESSAGES: dict[LoginOutcome, str] = {
    LoginOutcome.PENDING: "Your account is pending approval by an administrator. You will get an e-mail once "
    "it is approved.",
    LoginOutcome.REJECTED: "Your registration was rejected by an administrator.",
    LoginOutcome.SUSPENDED: "Your account is suspended. Contact an administrator.",
    LoginOutcome.DEACTIVATED: "Your account has been deactivated. Contact an administrator if this is a mistake.",
}


@dataclass(frozen=True)
class LoginResult:
    outcome: LoginOutcome
    message: str
    employee: Employee | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is LoginOutcome.OK


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_by_email(session: Session, email: str, *, for_update: bool = False) -> Employee | None:
    """The employee with this e-mail address, compared case-insensitively."""
    stmt = select(Employee).where(func.lower(Employee.email) == normalise_email(email))
    if for_update:
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def status_outcome(employee: Employee) -> LoginOutcome:
    """Which refusal (if any) the account's state calls for; deactivation wins over status."""
    if not employee.is_active:
        return LoginOutcome.DEACTIVATED
    return {
        AccountStatus.APPROVED.value: LoginOutcome.OK,
        AccountStatus.PENDING.value: LoginOutcome.PENDING,
        AccountStatus.REJECTED.value: LoginOutcome.REJECTED,
        AccountStatus.SUSPENDED.value: LoginOutcome.SUSPENDED,
    }[employee.status]


def status_message(employee: Employee, outcome: LoginOutcome) -> str:
    message = STATUS_MESSAGES[outcome]
    if outcome in (LoginOutcome.REJECTED, LoginOutcome.SUSPENDED) and employee.status_reason:
        message += f" Reason: {employee.status_reason}"
    return message


def _address_lock(session: Session, address: str, now: dt.datetime) -> tuple[int, dt.datetime | None]:
    """(failures that count towards a lock, locked until or None) for an e-mail address.

    One rule for every address, whether or not an account has it (so the answers cannot tell
    the two apart): replaying the address's attempts in order, MAX_FAILURES failures inside
    FAILURE_WINDOW lock it for LOCK_DURATION; attempts while locked do not count; a success
    starts the count again. Only the last WINDOW + LOCK_DURATION can matter for now."""
    rows = session.execute(
        select(LoginAttempt.attempted_at, LoginAttempt.succeeded)
        .where(
            LoginAttempt.email == address,
            LoginAttempt.attempted_at >= now - (FAILURE_WINDOW + LOCK_DURATION),
            LoginAttempt.attempted_at <= now,
        )
        .order_by(LoginAttempt.attempted_at, LoginAttempt.id)
    ).all()
    locked_until: dt.datetime | None = None
    streak: list[dt.datetime] = []
    for at, succeeded in rows:
        if locked_until is not None and at < locked_until:
            continue
        if succeeded:
            streak = []
            continue
        streak = [t for t in streak if t > at - FAILURE_WINDOW] + [at]
        if len(streak) >= MAX_FAILURES:
            locked_until, streak = at + LOCK_DURATION, []
    failures = sum(1 for t in streak if t > now - FAILURE_WINDOW)
    return failures, (locked_until if locked_until is not None and locked_until > now else None)


@cache
def _dummy_hash() -> str:
    """A hash of a random password, made once, so unknown e-mails cost as much as known ones."""
    return hash_password(secrets.token_urlsafe(16))


def _locked_message(until: dt.datetime, now: dt.datetime) -> str:
    """Worded about the address, not an account: an unknown address that failed as often
    gets exactly this text."""
    minutes = max(1, int((until - now).total_seconds() + 59) // 60)
    return (
        f"Too many failed sign-in attempts with this e-mail address: sign-in with it is blocked for {minutes} "
        f"more minute{'s' if minutes != 1 else ''}. Try again later."
    )


def authenticate(
    session: Session,
    email: str,
    password: str,
    ip_address: str | None = None,
    *,
    now: dt.datetime | None = None,
) -> LoginResult:
    """Check a sign-in; record the attempt; the caller commits whatever the outcome.

    The answer never tells whether an account exists: a wrong password and an unknown address
    get the same text, cost the same work, and count towards the same per-address lock
    (`_address_lock`, kept in `core_loginattempt` for every address tried). Order matters: a
    locked address is refused before any password is looked at; only a correct password
    reveals the account's status (so statuses cannot be probed without the password).
    Attempts on one address are serialised (a transaction-scoped advisory lock), so
    concurrent guesses cannot slip past the limit.
    """
    now = now or utcnow()
    address = normalise_email(clean_text(email, "email", max_length=EMAIL_MAX))
    if not isinstance(password, str) and password is not None:
        raise ValidationError({"password": MSG_NOT_TEXT})
    if len(password or "") > PASSWORD_MAX:
        raise ValidationError({"password": f"must be at most {PASSWORD_MAX:,} characters"})
    session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(address, LOCK_KEY))))
    employee = find_by_email(session, address, for_update=True)
    failures, locked_until = _address_lock(session, address, now)

    def attempt(succeeded: bool) -> None:
        session.add(
            LoginAttempt(
                email=address,
                employee_id=employee.id if employee is not None else None,
                succeeded=succeeded,
                attempted_at=now,
                ip_address=ip_address,
            )
        )

    if locked_until is not None:
        attempt(False)
        session.flush()
        return LoginResult(LoginOutcome.LOCKED, _locked_message(locked_until, now))

    if employee is None:
        verify_password(password or "", _dummy_hash())  # same work as a real account: no timing oracle
        right = False
    else:
        right = verify_password(password or "", employee.password)
    if not right:
        attempt(False)
        failures += 1
        if failures < MAX_FAILURES:
            session.flush()
            return LoginResult(LoginOutcome.BAD_CREDENTIALS, BAD_CREDENTIALS_MESSAGE)
        locked_until = now + LOCK_DURATION
        if employee is not None:
            employee.locked_until = locked_until
            audit.record(
                session,
                None,
                Employee.__tablename__,
                employee.id,
                AuditAction.UPDATE,
                None,
                {"locked_until": locked_until, "failed_attempts": failures},
            )
        session.flush()
        return LoginResult(LoginOutcome.LOCKED, _locked_message(locked_until, now))

    assert employee is not None
    outcome = status_outcome(employee)
    if outcome is not LoginOutcome.OK:
        return LoginResult(outcome, status_message(employee, outcome))

    return LoginResult(LoginOutcome.OK, "Signed in.", _complete_login(session, employee, now, ip_address, password))


def _complete_login(
    session: Session, employee: Employee, now: dt.datetime, ip_address: str | None, password: str | None
) -> Employee:
    """Record a successful sign-in: attempt row, last_login, hash upgrade, audit."""
    session.add(
        LoginAttempt(
            email=normalise_email(employee.email)[:254],
            employee_id=employee.id,
            succeeded=True,
            attempted_at=now,
            ip_address=ip_address,
        )
    )
    old_login = employee.last_login
    employee.last_login = now
    employee.locked_until = None
    new_values: dict[str, object] = {"last_login": now}
    if password is not None and needs_rehash(employee.password):
        # An imported Django (or older scrypt) hash becomes a current scrypt hash now that
        # we briefly know the password.
        employee.password = hash_password(password)
        new_values["password"] = employee.password
    audit.record(
        session, employee, Employee.__tablename__, employee.id, AuditAction.LOGIN, {"last_login": old_login}, new_values
    )
    session.flush()
    return employee


def sso_sign_in(
    session: Session, email: str, ip_address: str | None = None, *, now: dt.datetime | None = None
) -> LoginResult:
    """Sign in an identity the company's OIDC provider vouched for, matched by e-mail.

    Roles and status stay in our database: an unknown e-mail is refused (the portal offers
    registration instead), a non-approved account gets its status message. The lockout
    does not apply (no password was guessed), but a currently locked account stays locked.
    """
    now = now or utcnow()
    employee = find_by_email(session, email, for_update=True)
    if employee is None:
        return LoginResult(
            LoginOutcome.BAD_CREDENTIALS,
            "There is no SmartSupport account for this e-mail address yet: register first.",
        )
    if employee.locked_until is not None and employee.locked_until > now:
        return LoginResult(LoginOutcome.LOCKED, _locked_message(employee.locked_until, now))
    outcome = status_outcome(employee)
    if outcome is not LoginOutcome.OK:
        return LoginResult(outcome, status_message(employee, outcome))
    return LoginResult(LoginOutcome.OK, "Signed in.", _complete_login(session, employee, now, ip_address, None))


def bump_session_version(employee: Employee) -> int:
    """End every session and remembered cookie of this account (the caller commits)."""
    employee.session_version = (employee.session_version or 1) + 1
    return employee.session_version


def logout(session: Session, employee_id: int) -> None:
    """Sign out everywhere: remembered cookies issued so far stop working."""
    employee = session.get(Employee, employee_id, with_for_update=True)
    if employee is None:
        return
    old = employee.session_version
    bump_session_version(employee)
    audit.record(
        session,
        employee,
        Employee.__tablename__,
        employee.id,
        AuditAction.LOGOUT,
        {"session_version": old},
        {"session_version": employee.session_version},
    )
    session.flush()


# --- Remembered-session tokens -----------------------------------------------------------


def _serializer(secret: str) -> URLSafeSerializer:
    """Signs the claims (itsdangerous: HMAC-SHA256 over a derived key, compact URL-safe JSON);
    the salt keeps a session token from being valid as any other token signed with the key."""
    return URLSafeSerializer(secret, salt="smartsupport.session", signer_kwargs={"digest_method": hashlib.sha256})


def issue_token(
    employee: Employee, secret: str, *, lifetime: dt.timedelta = SESSION_FOR, now: dt.datetime | None = None
) -> str:
    """A signed `ss2.<payload>.<signature>` token naming the account and its session version."""
    return token_for(employee.id, employee.session_version, secret, lifetime=lifetime, now=now)


def token_for(
    uid: int, session_version: int, secret: str, *, lifetime: dt.timedelta = SESSION_FOR, now: dt.datetime | None = None
) -> str:
    """`issue_token` from the claims alone (the cookie route turns a hand-off into a session)."""
    if not secret:
        raise ValueError("a secret key is required to sign session tokens")
    now = now or utcnow()
    body = {"uid": uid, "sv": session_version, "exp": int((now + lifetime).timestamp())}
    return f"{TOKEN_PREFIX}.{_serializer(secret).dumps(body)}"


def token_claims(token: str | None, secret: str, *, now: dt.datetime | None = None) -> dict[str, int] | None:
    """The claims of a well-signed, unexpired token; None for anything else."""
    if not token or not secret:
        return None
    head, _, signed = token.partition(".")
    if head != TOKEN_PREFIX:
        return None
    try:
        claims = _serializer(secret).loads(signed)
        uid, sv, exp = int(claims["uid"]), int(claims["sv"]), int(claims["exp"])
    except (BadData, ValueError, KeyError, TypeError):
        return None
    if exp <= (now or utcnow()).timestamp():
        return None
    return {"uid": uid, "sv": sv, "exp": exp}


def resolve_token(
    session: Session, token: str | None, secret: str, *, now: dt.datetime | None = None
) -> Employee | None:
    """The account a remembered-session token still stands for, re-checked in the database.

    Refused: bad signature, expired, unknown account, session version moved on (logout,
    password change, suspension), or the account is no longer approved and active.
    """
    claims = token_claims(token, secret, now=now)
    if claims is None:
        return None
    employee = session.get(Employee, claims["uid"])
    if employee is None or employee.session_version != claims["sv"]:
        return None
    if status_outcome(employee) is not LoginOutcome.OK:
        return None
    return employee
