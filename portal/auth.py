"""Sign-in plumbing of the portal: our own login form, streamlit-authenticator's cookie
machinery, and optional single sign-on through Streamlit's OIDC (`st.login` / `st.user`).

WHY not streamlit-authenticator's `Authenticate.login` widget: it checks credentials
against an in-memory dict of bcrypt hashes (`Hasher.check_pw`) loaded from YAML, and keeps
its own attempt counter in `st.session_state`. Our source of truth is `core_employee`
(scrypt and imported Django hashes, per-status messages, a lockout in the database that
holds across replicas), which that widget cannot delegate to. So the form is ours
(`login.authenticate`), and the cookie is set and cleared by the server
(`portal/session_cookie.py`, mounted by `portal/server.py`): HttpOnly, SameSite=Lax, Secure
under HTTPS, a browser-session cookie unless "keep me signed in" (a cookie written by
streamlit-authenticator's JavaScript CookieManager could not be HttpOnly).

The cookie holds only `login.issue_token(...)`: a signature over user id, session version
and expiry. It is never trusted by itself: `login.resolve_token` re-reads the account on
every restore, and `state.current_user` re-checks id + session version on every run, so a
cookie dies at logout, password change, suspension and deactivation.
"""

from __future__ import annotations

import streamlit as st
import streamlit.components.v1 as components

from portal import session_cookie, state
from smartsupport_core import login
from smartsupport_core.models import Employee
from smartsupport_core.settings import get_settings

COOKIE_NAME = session_cookie.COOKIE_NAME
FORBIDDEN_KEYS = frozenset({"some_key", ""})

# session_state keys owned by this module
_PENDING_COOKIE = "_auth_cookie_to_set"  # (hand-off token, remember) until the browser is told
_DELETE_COOKIE = "_auth_cookie_to_delete"
_REMEMBER = "_auth_remember"  # the "keep me signed in" choice of this browser session
_SIGNED_OUT = "_auth_signed_out"  # this browser session signed out: never restore from cookie
_SSO_DONE = "_auth_sso_checked"  # the OIDC identity was already matched (or refused) once
SSO_PREFILL = "sso_prefill"  # registration data offered for an unknown company identity
LOGIN_NOTICE = "login_notice"  # (kind, message) shown by the sign-in page


def secret_key() -> str:
    """The cookie-signing key: SMARTSUPPORT_SECRET_KEY, or generated into the data dir."""
    state.engine()  # make sure the settings (with Streamlit secrets) are loaded
    key = get_settings().secret_key
    if key in FORBIDDEN_KEYS:
        raise RuntimeError("SMARTSUPPORT_SECRET_KEY must be set to a random value, not a default")
    return key


def read_cookie() -> str | None:
    """The remembered-session cookie sent by the browser (None in tests and bare mode)."""
    try:
        value = st.context.cookies.get(COOKIE_NAME)
    except Exception:
        return None
    return value if isinstance(value, str) else None


def client_ip() -> str | None:
    try:
        ip = st.context.ip_address
    except Exception:
        return None
    return ip if isinstance(ip, str) else None  # AppTest answers with a mock


def sso_configured() -> bool:
    """True when `.streamlit/secrets.toml` has an `[auth]` block (Streamlit OIDC)."""
    try:
        return "auth" in st.secrets
    except Exception:
        return False


def _sso_identity() -> dict[str, str] | None:
    if not sso_configured():
        return None
    try:
        if not st.user.is_logged_in:
            return None
        info = st.user.to_dict()
    except Exception:
        return None
    email = str(info.get("email") or "").strip()
    if not email:
        return None
    return {
        "email": email,
        "first_name": str(info.get("given_name") or "").strip(),
        "last_name": str(info.get("family_name") or "").strip(),
    }


def complete_sign_in(employee: Employee, *, remember: bool) -> None:
    """Mark this browser session as signed in and have the cookie set on the next run (a
    one-minute hand-off the browser posts to the server's cookie route: session_cookie.py)."""
    state.sign_in(employee)
    handoff = login.issue_token(employee, secret_key(), lifetime=session_cookie.HANDOFF_FOR)
    st.session_state[_PENDING_COOKIE] = (handoff, remember)
    st.session_state[_REMEMBER] = remember
    st.session_state.pop(_DELETE_COOKIE, None)
    st.session_state.pop(_SIGNED_OUT, None)


def refresh_cookie(employee: Employee) -> None:
    """After a password change: this browser stays in with a cookie of the new version."""
    complete_sign_in(employee, remember=bool(st.session_state.get(_REMEMBER)))


def restore() -> None:
    """Before `current_user`: bring back a remembered session or an SSO identity."""
    if st.session_state.get("user_id") is not None or st.session_state.get(_SIGNED_OUT):
        return
    token = read_cookie()
    if token:
        with state.session() as s:
            employee = login.resolve_token(s, token, secret_key())
            if employee is not None:
                state.sign_in(employee)
                return
    identity = _sso_identity()
    if identity is None or st.session_state.get(_SSO_DONE):
        return
    st.session_state[_SSO_DONE] = True
    with state.session() as s:
        result = login.sso_sign_in(s, identity["email"], client_ip())
        s.commit()
        if result.ok and result.employee is not None:
            complete_sign_in(result.employee, remember=False)
            return
        if result.outcome is login.LoginOutcome.BAD_CREDENTIALS:
            st.session_state[SSO_PREFILL] = identity
            st.session_state[LOGIN_NOTICE] = (
                "info",
                "There is no SmartSupport account for your company e-mail yet: please register.",
            )
        else:
            st.session_state[LOGIN_NOTICE] = ("error", result.message)


def sync_cookie() -> None:
    """Render the cookie call this session owes the browser. It stays on every run (the same
    element, so the browser does not call again) until the next sign-in or sign-out: a rerun
    straight after sign-in must not remove it before the browser made the call."""
    pending = st.session_state.get(_PENDING_COOKIE)
    deleting = st.session_state.get(_DELETE_COOKIE)
    if pending:
        handoff, remember = pending
        html = session_cookie.browser_call_html("POST", {"token": handoff, "remember": bool(remember)})
    elif deleting:
        html = session_cookie.browser_call_html("DELETE")
    else:
        return
    try:
        components.html(html, height=0)
    except Exception as exc:  # the browser cookie is a convenience; the DB check is the security
        st.session_state["_auth_cookie_error"] = repr(exc)


def sign_out(user: Employee) -> None:
    """End every session of the account (server side) and drop this browser's cookie."""
    with state.unit_of_work() as s:
        login.logout(s, user.id)
    st.session_state.pop("user_id", None)
    st.session_state.pop("session_version", None)
    st.session_state.pop(_PENDING_COOKIE, None)
    st.session_state[_DELETE_COOKIE] = True
    st.session_state[_SIGNED_OUT] = True
    if _sso_identity() is not None:
        st.logout()  # also end the company identity (redirects)


def sidebar(user: Employee) -> None:
    """Who is signed in, their avatar, and the sign-out button."""
    from smartsupport_core.accounts import avatar_content

    with st.sidebar:
        cols = st.columns([1, 3], vertical_alignment="center")
        with state.session() as s:
            picture = avatar_content(s, user)
        if picture is not None:
            cols[0].image(picture, width=48)
        else:
            initials = (user.first_name[:1] + user.last_name[:1]).upper()
            cols[0].markdown(f"**{initials}**")
        cols[1].text(f"{user.full_name}\n{user.role} · {user.department}")
        if st.button("Sign out", key="sign_out", icon=":material/logout:"):
            sign_out(user)
            st.rerun()
