"""My profile: own names and avatar, own password, notification preference."""

from __future__ import annotations

import streamlit as st

from portal import auth, state
from portal.safe_text import md_escape
from smartsupport_core import accounts, notifications
from smartsupport_core.errors import DomainError, ValidationError

user = state.current_user()
if user is None:  # navigation only offers this page to signed-in users; be safe anyway
    st.stop()

st.title("My profile")

flash = st.session_state.pop("profile_flash", None)
if flash:
    st.success(flash)

left, right = st.columns([1, 3])
with left:
    with state.session() as s:
        picture = accounts.avatar_content(s, user)
    if picture is not None:
        st.image(picture, width=120)
    else:
        st.markdown(f"### {md_escape((user.first_name[:1] + user.last_name[:1]).upper())}")
with right:
    st.text(f"{user.full_name}\n{user.email} · {user.company_id}\n{user.role} · {user.department}")
    st.caption("Your e-mail address, company ID, role and department are managed by an administrator.")

# --- Names and picture ---------------------------------------------------------------------------
st.subheader("Name and picture")
errors: dict[str, str] = st.session_state.pop("profile_errors", {})
with st.form("profile_form"):
    c1, c2 = st.columns(2)
    first = c1.text_input("First name", value=user.first_name, max_chars=100)
    middle = c2.text_input("Middle name (optional)", value=user.middle_name or "", max_chars=100)
    last = c1.text_input("Last name", value=user.last_name, max_chars=100)
    suffix = c2.text_input("Suffix (optional)", value=user.suffix or "", max_chars=20)
    image = st.file_uploader(
        "Profile picture (PNG or JPEG, at most 2 MB)", type=["png", "jpg", "jpeg"], max_upload_size=2
    )
    remove = st.checkbox("Remove my current picture", disabled=user.image is None)
    saved = st.form_submit_button("Save profile", type="primary")
for name in ("first_name", "middle_name", "last_name", "suffix", "image"):
    if name in errors:
        st.error(errors[name])

if saved:
    data = {"first_name": first, "middle_name": middle, "last_name": last, "suffix": suffix}
    try:
        with state.unit_of_work() as s:
            accounts.update_profile(s, user, data, image=image.getvalue() if image else None, remove_image=remove)
    except ValidationError as exc:
        st.session_state["profile_errors"] = exc.errors
        st.rerun()
    except DomainError as exc:
        st.error(md_escape(str(exc)))
    else:
        st.session_state["profile_flash"] = "Profile saved."
        st.rerun()

# --- Password ------------------------------------------------------------------------------------
st.subheader("Password")
pw_errors: dict[str, str] = st.session_state.pop("password_errors", {})
with st.form("password_form", clear_on_submit=True):
    current = st.text_input("Current password", type="password", autocomplete="current-password")
    new = st.text_input(
        "New password",
        type="password",
        autocomplete="new-password",
        help="At least 8 characters with an uppercase letter, a lowercase letter, a digit and a symbol.",
    )
    confirm = st.text_input("Confirm new password", type="password", autocomplete="new-password")
    changed = st.form_submit_button("Change password")
for name in ("current_password", "password", "password_confirm"):
    if name in pw_errors:
        st.error(pw_errors[name])
if changed:
    try:
        with state.unit_of_work() as s:
            updated = accounts.change_password(s, user, current, new, confirm)
    except ValidationError as exc:
        st.session_state["password_errors"] = exc.errors
        st.rerun()
    except DomainError as exc:
        st.error(md_escape(str(exc)))
    else:
        auth.refresh_cookie(updated)  # this browser stays in; every other session has ended
        st.session_state["profile_flash"] = "Password changed. You were signed out on every other device."
        st.rerun()

# --- Notifications (the preference stored on core_employee.mute_non_essential) ---------------------
st.subheader("Notifications")
mute = st.toggle(
    "Mute non-essential e-mails",
    value=user.mute_non_essential,
    help="Comments and status updates stop; account decisions, rejections and resolutions still arrive.",
)
if mute != user.mute_non_essential:
    try:
        with state.unit_of_work() as s:
            notifications.set_notification_preference(s, user, mute)
    except DomainError as exc:
        st.error(md_escape(str(exc)))
    else:
        st.session_state["profile_flash"] = "Notification preference saved."
        st.rerun()
