"""Home: an inbox per role — counts of what needs the signed-in person, each opening its list.

The tiles and their counts come from `inbox.tiles` (the same filters the queue and My tickets
list by); one click on a tile opens that list. Visitors get the sign-in and register links.
"""

from __future__ import annotations

import streamlit as st

from portal import state
from portal.nav import PAGES, page_file, visible
from smartsupport_core import inbox

user = state.current_user()
if user is None:
    st.title("SmartSupport")
    st.write(
        "The internal help desk for IT, HR, Finance, Facilities and Asset requests: file a ticket, "
        "follow it to resolution, and ask the assistant first."
    )
    st.page_link(page_file("sign_in.py"), label="Sign in", icon=":material/login:")
    st.page_link(page_file("register.py"), label="Register for an account", icon=":material/person_add:")
    st.stop()

st.title(f"Hello, {user.first_name}")
st.caption(f"Signed in as {user.full_name} · {user.role} · {user.department}")
with state.session() as s:
    tiles = inbox.tiles(s, user)

columns = st.columns(max(1, len(tiles)))
for column, tile in zip(columns, tiles, strict=False):
    with column.container(border=True, key=f"tile_{tile.key}"):
        st.metric(tile.label, tile.shown)
        st.page_link(page_file(tile.page), label="Open the list", icon=":material/arrow_forward:",
                     query_params=tile.params or None)

st.subheader("Go to")
for spec in PAGES:
    if spec.public or not visible(spec, user) or spec.hidden:  # Home itself is public
        continue
    st.page_link(page_file(spec.file), label=spec.title, icon=spec.icon)
