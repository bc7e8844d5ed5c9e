"""Register: a new account starts Pending until an administrator approves it."""

from __future__ import annotations

import streamlit as st

from portal import auth, state
from portal.safe_text import md_escape
from smartsupport_core import accounts
from smartsupport_core.errors import ValidationError

st.title("Register")
st.write("Create your SmartSupport account. An administrator approves new accounts before the first sign-in.")

ERRORS = "register_errors"
DONE = "register_done"

if st.session_state.get(DONE):
    st.success(st.session_state[DONE])
    st.stop()

prefill = st.session_state.get(auth.SSO_PREFILL) or {}
if prefill:
    st.info("Your company account has no SmartSupport account yet: complete the registration below.")
    for field in ("email", "first_name", "last_name"):
        st.session_state.setdefault(f"reg_{field}", prefill.get(field, ""))

with state.session() as s:
    departments = accounts.active_departments(s)

errors: dict[str, str] = st.session_state.get(ERRORS, {})


def field_error(name: str) -> None:
    if name in errors:
        st.error(errors[name], icon=":material/error:")


with st.form("register_form"):
    c1, c2 = st.columns(2)
    with c1:
        st.text_input("First name", key="reg_first_name", max_chars=100)
        field_error("first_name")
        st.text_input("Last name", key="reg_last_name", max_chars=100)
        field_error("last_name")
    with c2:
        st.text_input("Middle name (optional)", key="reg_middle_name", max_chars=100)
        field_error("middle_name")
        st.text_input("Suffix (optional)", key="reg_suffix", max_chars=20, placeholder="Jr., Sr., III")
        field_error("suffix")
    st.text_input("E-mail address", key="reg_email", autocomplete="email")
    field_error("email")
    st.text_input("Company ID", key="reg_company_id", placeholder="MA0001")
    field_error("company_id")
    st.selectbox("Department", departments, index=None, key="reg_department", placeholder="Choose your department")
    field_error("department")
    st.text_input(
        "Password",
        type="password",
        key="reg_password",
        autocomplete="new-password",
        help="At least 8 characters with an uppercase letter, a lowercase letter, a digit and a symbol; "
        "it must not contain the name part of your e-mail address.",
    )
    field_error("password")
    st.text_input("Confirm password", type="password", key="reg_password_confirm", autocomplete="new-password")
    field_error("password_confirm")
    submitted = st.form_submit_button("Register", type="primary")

if submitted:
    data = {
        name: st.session_state.get(f"reg_{name}")
        for name in (
            "first_name",
            "middle_name",
            "last_name",
            "suffix",
            "email",
            "company_id",
            "department",
            "password",
            "password_confirm",
        )
    }
    try:
        with state.unit_of_work() as s:
            employee = accounts.register(s, data)
    except ValidationError as exc:
        st.session_state[ERRORS] = exc.errors
        st.rerun()
    else:
        st.session_state.pop(ERRORS, None)
        st.session_state.pop(auth.SSO_PREFILL, None)
        st.session_state[DONE] = (
            f"Thank you, {md_escape(employee.first_name)}. Your account ({md_escape(employee.email)}) is pending "
            "approval: you will get an e-mail when an administrator has approved it."
        )
        st.rerun()
