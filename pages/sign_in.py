"""Sign in: our form against `core_employee` (see portal/auth.py for why not the widget)."""

from __future__ import annotations

import os

import streamlit as st

from portal import auth, state
from portal.nav import page_file
from portal.safe_text import md_escape
from smartsupport_core import login
from smartsupport_core.errors import ValidationError
from smartsupport_core.text_input import EMAIL_MAX

st.title("Sign in")

notice = st.session_state.pop(auth.LOGIN_NOTICE, None)
if notice:
    kind, message = notice
    (st.error if kind == "error" else st.info)(md_escape(message))

with st.form("sign_in_form"):
    email = st.text_input("E-mail address", key="sign_in_email", autocomplete="email", max_chars=EMAIL_MAX)
    password = st.text_input("Password", type="password", key="sign_in_password", autocomplete="current-password")
    remember = st.checkbox(f"Keep me signed in for {login.REMEMBER_FOR.days} days", key="sign_in_remember")
    submitted = st.form_submit_button("Sign in", type="primary")

result = None
if submitted:
    try:
        with state.unit_of_work() as s:  # the attempt (and a lock) is kept whatever the outcome
            result = login.authenticate(s, email, password, auth.client_ip())
    except ValidationError as exc:  # not an e-mail address at all (a control character, too long)
        st.error(md_escape(str(exc)))
if result is not None:
    if result.ok and result.employee is not None:
        auth.complete_sign_in(result.employee, remember=remember)
        st.switch_page(page_file("home.py"))
    elif result.outcome is login.LoginOutcome.PENDING:
        st.info(md_escape(result.message))
    else:
        st.error(md_escape(result.message))

if auth.sso_configured():
    st.divider()
    if st.button("Sign in with your company account", icon=":material/badge:"):
        st.login()

st.divider()
st.write("New here?")
st.page_link(page_file("register.py"), label="Register for an account", icon=":material/person_add:")

# The demo's accounts, on a demo database only (`smartsupport run --demo`), and only here.
if os.environ.get("SMARTSUPPORT_DEMO_MODE") == "1":
    from smartsupport_core.demo import DEFAULT_PASSWORD, DEMO_ACCOUNTS, is_demo_database

    with state.session() as s:
        demo_data = is_demo_database(s)
    if demo_data:
        st.subheader("Demo accounts")
        st.table(
            [
                {"E-mail address": a.email, "Role": f"{a.role} ({a.department})", "Company ID": a.company_id}
                for a in DEMO_ACCOUNTS
            ]
        )
        st.caption(f"The password is the one printed by `smartsupport demo` (default `{DEFAULT_PASSWORD}`).")
