"""Sign-in: status messages, DB-backed lockout and its expiry, Django hash upgrade,
remembered-session tokens refused after logout / password change / suspension."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from smartsupport_core import accounts, login
from smartsupport_core.audit import MASK
from smartsupport_core.login import LoginOutcome
from smartsupport_core.models import AuditLog, Employee, LoginAttempt
from smartsupport_core.passwords import hash_password, verify_password
from smartsupport_core.vocab import Role
from tests.factories import make_employee

PW = "Sunny#Day2026"
SECRET = "unit-test-secret-key"


def django_hash(password: str, salt: str = "AbCdEf123456", iterations: int = 870_000) -> str:
    """A real Django PBKDF2PasswordHasher hash, computed independently of our module."""
    dk = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"pbkdf2_sha256${iterations}${salt}${base64.b64encode(dk).decode()}"


@pytest.fixture
def user(session: Session) -> Employee:
    return make_employee(session, email="pat@example.com", password=hash_password(PW))


def test_success_updates_last_login_and_records_attempt(session: Session, user: Employee) -> None:
    assert user.last_login is None
    result = login.authenticate(session, " PAT@Example.com ", PW, "10.0.0.7")
    session.commit()
    assert result.ok and result.employee is not None and result.employee.id == user.id
    assert user.last_login is not None
    (attempt,) = session.scalars(select(LoginAttempt)).all()
    assert (attempt.succeeded, attempt.employee_id, attempt.ip_address) == (True, user.id, "10.0.0.7")
    row = session.scalars(select(AuditLog).where(AuditLog.action_type == "LOGIN")).one()
    assert row.record_id == user.id and row.user_id == user.id


def test_wrong_password_and_unknown_email_same_message(session: Session, user: Employee) -> None:
    bad = login.authenticate(session, "pat@example.com", "Sunny#Day2025")
    unknown = login.authenticate(session, "nobody@example.com", PW)
    assert bad.outcome is unknown.outcome is LoginOutcome.BAD_CREDENTIALS
    assert bad.message == unknown.message == "Incorrect e-mail address or password."  # nothing tells them apart
    assert bad.employee is None and user.last_login is None


@pytest.mark.parametrize(
    ("changes", "outcome", "message"),
    [
        ({"status": "Pending"}, LoginOutcome.PENDING, "Your account is pending approval by an administrator."),
        (
            {"status": "Rejected", "status_reason": "Unknown company ID"},
            LoginOutcome.REJECTED,
            "Your registration was rejected by an administrator. Reason: Unknown company ID",
        ),
        (
            {"status": "Suspended", "status_reason": "Security review"},
            LoginOutcome.SUSPENDED,
            "Your account is suspended. Contact an administrator. Reason: Security review",
        ),
        ({"is_active": False}, LoginOutcome.DEACTIVATED, "Your account has been deactivated."),
        ({"is_active": False, "status": "Pending"}, LoginOutcome.DEACTIVATED, "Your account has been deactivated."),
    ],
)
def test_each_status_gets_its_own_message(
    session: Session, user: Employee, changes: dict[str, object], outcome: LoginOutcome, message: str
) -> None:
    for key, value in changes.items():
        setattr(user, key, value)
    session.flush()
    result = login.authenticate(session, "pat@example.com", PW)
    assert result.outcome is outcome and not result.ok
    assert result.message.startswith(message)
    assert user.last_login is None
    # a wrong password never reveals the status
    wrong = login.authenticate(session, "pat@example.com", "nope")
    assert wrong.outcome is LoginOutcome.BAD_CREDENTIALS


def test_five_failures_lock_for_fifteen_minutes_then_expire(session: Session, user: Employee) -> None:
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    for i in range(4):
        r = login.authenticate(session, "pat@example.com", "bad", now=now + dt.timedelta(minutes=i))
        assert r.outcome is LoginOutcome.BAD_CREDENTIALS
        assert r.message == login.BAD_CREDENTIALS_MESSAGE  # no "N attempts left": that would confirm the account
    fifth = login.authenticate(session, "pat@example.com", "bad", now=now + dt.timedelta(minutes=4))
    session.commit()
    assert fifth.outcome is LoginOutcome.LOCKED
    assert user.locked_until == now + dt.timedelta(minutes=19)
    assert "blocked for 15 more minutes" in fifth.message

    # while locked even the right password is refused, without looking at it
    during = login.authenticate(session, "pat@example.com", PW, now=now + dt.timedelta(minutes=10))
    assert during.outcome is LoginOutcome.LOCKED and "9 more minutes" in during.message
    assert user.last_login is None
    session.commit()

    # a fresh session (another replica) sees the same lock: it is in the database
    with Session(session.get_bind()) as other:
        r = login.authenticate(other, "pat@example.com", PW, now=now + dt.timedelta(minutes=18))
        assert r.outcome is LoginOutcome.LOCKED
        other.rollback()

    after = login.authenticate(session, "pat@example.com", PW, now=now + dt.timedelta(minutes=19, seconds=1))
    assert after.ok and user.locked_until is None
    lock_audit = session.scalars(
        select(AuditLog).where(AuditLog.record_id == user.id, AuditLog.action_type == "UPDATE")
    ).one()
    assert lock_audit.new_values["failed_attempts"] == 5


def test_failures_outside_window_do_not_count(session: Session, user: Employee) -> None:
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    for _ in range(4):
        login.authenticate(session, "pat@example.com", "bad", now=now)
    # move those four failures 16 minutes into the past
    session.execute(update(LoginAttempt).values(attempted_at=now - dt.timedelta(minutes=16)))
    for _ in range(4):  # four more inside the window: still one short of the lock
        r = login.authenticate(session, "pat@example.com", "bad", now=now)
        assert r.outcome is LoginOutcome.BAD_CREDENTIALS
    assert user.locked_until is None


def test_lock_expiry_resets_the_count(session: Session, user: Employee) -> None:
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    for _ in range(5):
        login.authenticate(session, "pat@example.com", "bad", now=now)
    assert user.locked_until == now + dt.timedelta(minutes=15)
    # attempts while locked do not count; once the lock ends, the count starts again
    login.authenticate(session, "pat@example.com", "bad", now=now + dt.timedelta(minutes=10))
    later = now + dt.timedelta(minutes=15, seconds=1)
    for i in range(4):
        r = login.authenticate(session, "pat@example.com", "bad", now=later + dt.timedelta(seconds=i))
        assert r.outcome is LoginOutcome.BAD_CREDENTIALS
    r = login.authenticate(session, "pat@example.com", "bad", now=later + dt.timedelta(seconds=5))
    assert r.outcome is LoginOutcome.LOCKED


def test_success_resets_the_count(session: Session, user: Employee) -> None:
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    for i in range(4):
        login.authenticate(session, "pat@example.com", "bad", now=now + dt.timedelta(seconds=i))
    assert login.authenticate(session, "pat@example.com", PW, now=now + dt.timedelta(seconds=5)).ok
    for i in range(4):  # four failures after the success: not yet locked
        r = login.authenticate(session, "pat@example.com", "bad", now=now + dt.timedelta(seconds=6 + i))
        assert r.outcome is LoginOutcome.BAD_CREDENTIALS


def _answers(session: Session, address: str, now: dt.datetime, tries: int = 7) -> list[tuple[LoginOutcome, str]]:
    answers = []
    for i in range(tries):
        r = login.authenticate(session, address, "Wrong#Guess1", now=now + dt.timedelta(minutes=i))
        answers.append((r.outcome, r.message))
    return answers


def test_unknown_address_gets_exactly_the_answers_of_an_account(session: Session, user: Employee) -> None:
    """Issue 13: the answers must not reveal whether an account exists, lock-out included.
    An unknown address is tracked and locked exactly like an account's (per normalised
    address, in core_loginattempt), so the two sequences of answers are identical."""
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    known = _answers(session, "pat@example.com", now)
    unknown = _answers(session, " Nobody@Example.com", now)
    assert known == unknown
    assert [o for o, _ in known] == [LoginOutcome.BAD_CREDENTIALS] * 4 + [LoginOutcome.LOCKED] * 3
    assert all("account" not in m for _, m in known)
    rows = session.scalars(select(LoginAttempt).where(LoginAttempt.email == "nobody@example.com")).all()
    assert len(rows) == 7 and all(r.employee_id is None and not r.succeeded for r in rows)


def test_unknown_address_lock_holds_across_sessions(session: Session) -> None:
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    _answers(session, "ghost@example.com", now, tries=5)
    session.commit()
    with Session(session.get_bind()) as other:
        r = login.authenticate(other, "GHOST@example.com", "x", now=now + dt.timedelta(minutes=6))
        assert r.outcome is LoginOutcome.LOCKED and "13 more minutes" in r.message
        r = login.authenticate(other, "ghost@example.com", "x", now=now + dt.timedelta(minutes=20))
        assert r.outcome is LoginOutcome.BAD_CREDENTIALS
        other.rollback()


def test_django_hash_verifies_and_is_upgraded(session: Session) -> None:
    imported = django_hash("Legacy#Pass1")
    emp = make_employee(session, email="legacy@example.com", password=imported)
    assert not login.authenticate(session, "legacy@example.com", "Legacy#Pass2").ok
    assert emp.password == imported
    result = login.authenticate(session, "legacy@example.com", "Legacy#Pass1")
    session.commit()
    assert result.ok
    assert emp.password.startswith("scrypt$") and verify_password("Legacy#Pass1", emp.password)
    row = session.scalars(select(AuditLog).where(AuditLog.action_type == "LOGIN")).one()
    assert row.new_values["password"] == MASK
    # and the next sign-in works with the new hash
    assert login.authenticate(session, "legacy@example.com", "Legacy#Pass1").ok


# --- Remembered-session tokens -------------------------------------------------------------------


def test_token_round_trip_and_tampering(session: Session, user: Employee) -> None:
    token = login.issue_token(user, SECRET)
    assert login.resolve_token(session, token, SECRET).id == user.id
    assert login.resolve_token(session, token, "another-secret") is None
    head, _payload, sig = token.split(".")
    forged_payload = base64.urlsafe_b64encode(b'{"uid":1,"sv":1,"exp":9999999999}').decode().rstrip("=")
    assert login.resolve_token(session, f"{head}.{forged_payload}.{sig}", SECRET) is None
    assert login.resolve_token(session, token[:-2], SECRET) is None
    assert login.resolve_token(session, None, SECRET) is None
    assert login.resolve_token(session, "garbage", SECRET) is None
    with pytest.raises(ValueError):
        login.issue_token(user, "")


def test_token_expires(session: Session, user: Employee) -> None:
    now = dt.datetime.now(dt.UTC)
    token = login.issue_token(user, SECRET, lifetime=dt.timedelta(days=30), now=now)
    assert login.resolve_token(session, token, SECRET, now=now + dt.timedelta(days=29)) is not None
    assert login.resolve_token(session, token, SECRET, now=now + dt.timedelta(days=30, seconds=1)) is None


def test_token_refused_after_logout(session: Session, user: Employee) -> None:
    token = login.issue_token(user, SECRET)
    login.logout(session, user.id)
    session.commit()
    assert login.resolve_token(session, token, SECRET) is None
    # a new sign-in issues a token that works again
    assert login.resolve_token(session, login.issue_token(user, SECRET), SECRET) is not None
    assert session.scalars(select(AuditLog).where(AuditLog.action_type == "LOGOUT")).one().record_id == user.id


def test_token_refused_after_password_change(session: Session, user: Employee) -> None:
    token = login.issue_token(user, SECRET)
    accounts.change_password(session, user, PW, "Rainy#Day2027", "Rainy#Day2027")
    session.commit()
    assert login.resolve_token(session, token, SECRET) is None


def test_token_refused_after_suspension_and_deactivation(session: Session, user: Employee) -> None:
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    token = login.issue_token(user, SECRET)
    accounts.suspend_account(session, admin, user.id, "Investigation")
    session.commit()
    assert login.resolve_token(session, token, SECRET) is None
    accounts.reactivate_account(session, admin, user.id)
    token2 = login.issue_token(user, SECRET)
    assert login.resolve_token(session, token2, SECRET) is not None
    accounts.deactivate_account(session, admin, user.id)
    assert login.resolve_token(session, token2, SECRET) is None


def test_token_refused_when_status_changes_without_version_bump(session: Session, user: Employee) -> None:
    token = login.issue_token(user, SECRET)
    session.execute(update(Employee).where(Employee.id == user.id).values(status="Pending"))
    session.expire_all()
    assert login.resolve_token(session, token, SECRET) is None


def test_sso_sign_in_matches_by_email(session: Session, user: Employee) -> None:
    r = login.sso_sign_in(session, "PAT@example.com", "10.1.1.1")
    assert r.ok and r.employee.id == user.id and user.last_login is not None
    assert login.sso_sign_in(session, "stranger@example.com").outcome is LoginOutcome.BAD_CREDENTIALS
    user.status = "Suspended"
    assert login.sso_sign_in(session, "pat@example.com").outcome is LoginOutcome.SUSPENDED
