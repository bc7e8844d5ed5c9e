"""Help Center: browse and search the help articles this user may read, and read one.

`?article=<id>` opens an article (the assistant's source links point here). Article bodies
are staff-written Markdown, rendered with st.markdown and its default: raw HTML is not
rendered.
"""

from __future__ import annotations

import re

import streamlit as st

from portal import state
from portal.nav import page_file
from portal.safe_text import highlight
from smartsupport_core import knowledge, plain_text
from smartsupport_core.errors import DomainError

user = state.current_user()
if user is None:
    st.warning("Sign in to read the help centre.")
    st.stop()


def open_article(article_id: int) -> None:
    st.query_params["article"] = str(article_id)


def close_article() -> None:
    st.query_params.pop("article", None)


raw_id = st.query_params.get("article")
if raw_id:
    with state.session() as s:
        try:
            article = knowledge.get_article(s, user, int(raw_id))
        except (ValueError, DomainError):
            article = None
    st.button("All articles", icon=":material/arrow_back:", on_click=close_article, key="help_back")
    if article is None:
        st.error("This article does not exist or is not available to you.")
        st.stop()
    st.title(article.title, anchor=False)
    if article.category:
        st.caption(f"{article.category} · updated {article.updated_at:%Y-%m-%d}")
    st.markdown(article.body)  # HTML stays escaped (unsafe_allow_html is off)
    st.divider()
    st.page_link(page_file("assistant.py"), label="Still stuck? Ask the assistant", icon=":material/smart_toy:")
    st.stop()

st.title("Help Center")
with state.session() as s:
    categories = knowledge.article_categories(s, user)
col_q, col_c = st.columns([3, 1])
query = col_q.text_input("Search", placeholder="e.g. VPN, password, expense claim", max_chars=knowledge.QUERY_MAX)
category = col_c.selectbox("Category", ["All categories", *categories])
with state.session() as s:
    try:
        hits = knowledge.search_articles(
            s, user, query, category=None if category == "All categories" else category, limit=100
        )
    except DomainError as exc:
        st.error(str(exc))
        hits = []

if not hits:
    st.info("No article matches. Try other words, or ask the assistant.")
terms = re.findall(r"\w+", query.lower()) if query.strip() else []
current = None
for hit in hits:
    art = hit.article
    if art.category != current and not query:
        current = art.category
        st.header(current or "General", divider="gray")
    with st.container(border=True, key=f"article_card_{art.id}"):
        # The title is the heading and the link; the preview is plain text (no Markdown
        # syntax), with the searched words marked.
        st.subheader(highlight(art.title, terms), anchor=False)
        st.markdown(highlight(plain_text.preview(art.body, 220), terms))
        st.button("Read the article", key=f"article_{art.id}", on_click=open_article, args=(art.id,),
                  icon=":material/article:")
