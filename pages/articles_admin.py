"""Help articles: write, edit, publish, archive and delete (admins and coordinators).

The core checks `Action.MANAGE_ARTICLES` on every call, lists and opens only articles the
user may read (`knowledge.manageable_condition`) and validates every field; this page shows
each field's message next to the form and changes nothing on bad input. The visibility choices
are the core's `settable_visibilities` (never above the user's role).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from portal import state
from smartsupport_core import knowledge
from smartsupport_core.errors import DomainError, ValidationError
from smartsupport_core.policy import Action, allowed

user = state.current_user()
if user is None or not allowed(user, Action.MANAGE_ARTICLES):
    st.error("Only administrators and ticket coordinators can manage help articles.")
    st.stop()

st.title("Help articles")
if flash := st.session_state.pop("article_flash", None):
    st.success(flash)
NEW = "(new article)"

with state.session() as s:
    articles = knowledge.list_all_articles(s, user)

if articles:
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "ID": a.id,
                    "Title": a.title,
                    "Category": a.category or "",
                    "Visible to": a.visibility,
                    "Published": a.is_published,
                    "Archived": a.is_archived,
                    "Updated": a.updated_at,
                }
                for a in articles
            ]
        ),
        hide_index=True,
        width="stretch",
    )
else:
    st.info("No help articles yet: write the first one below.")

labels = {f"#{a.id} {a.title}": a.id for a in articles}
# A save or delete picks the next selection for the *next* run (a widget's state cannot be
# set after the widget is drawn).
if "article_choice_next" in st.session_state:
    st.session_state["article_choice"] = st.session_state.pop("article_choice_next")
if st.session_state.get("article_choice") not in (NEW, *labels):
    st.session_state["article_choice"] = NEW
choice = st.selectbox("Article", [NEW, *labels], key="article_choice")
article = None if choice == NEW else next(a for a in articles if a.id == labels[choice])
errors: dict[str, str] = st.session_state.pop("article_errors", {})
visibilities = knowledge.settable_visibilities(user)

with st.form("article_form", enter_to_submit=False):
    title = st.text_input("Title", value=article.title if article else "", max_chars=knowledge.TITLE_MAX)
    if "title" in errors:
        st.error(errors["title"])
    category = st.text_input(
        "Category", value=(article.category or "") if article else "", max_chars=knowledge.CATEGORY_MAX
    )
    if "category" in errors:
        st.error(errors["category"])
    visibility = st.selectbox(
        "Visible to (lowest role)",
        visibilities,
        index=visibilities.index(article.visibility) if article and article.visibility in visibilities else 0,
    )
    if "visibility" in errors:
        st.error(errors["visibility"])
    body = st.text_area("Body (Markdown)", value=article.body if article else "", height=320)
    if "body" in errors:
        st.error(errors["body"])
    published = st.checkbox("Published", value=article.is_published if article else False)
    saved = st.form_submit_button("Save", type="primary")

if saved:
    data = {"title": title, "category": category, "visibility": visibility, "body": body, "is_published": published}
    with state.session() as s:
        try:
            if article is None:
                created = knowledge.create_article(s, user, data)
                s.commit()
                st.session_state["article_choice_next"] = f"#{created.id} {created.title}"
            else:
                updated = knowledge.update_article(s, user, article.id, data)
                s.commit()
                st.session_state["article_choice_next"] = f"#{updated.id} {updated.title}"
            st.session_state["article_flash"] = "Article saved."
        except ValidationError as exc:
            s.rollback()
            st.session_state["article_errors"] = exc.errors
        except DomainError as exc:
            s.rollback()
            st.session_state["article_errors"] = {"__all__": str(exc)}
    st.rerun()

def run(flash: str, fn, *args) -> None:
    """One core call as the user, committed, then reload with `flash` (or the core's message)."""
    with state.session() as s:
        try:
            fn(s, user, *args)
            s.commit()
        except DomainError as exc:
            s.rollback()
            st.session_state.pop("article_choice_next", None)
            st.error(str(exc))
            return
    st.session_state["article_flash"] = flash
    st.rerun()


if "__all__" in errors:
    st.error(errors["__all__"])

if article is not None:
    with st.expander("Preview"):
        st.markdown(article.body)  # raw HTML is not rendered
    c1, c2 = st.columns(2)
    archive_label = "Restore" if article.is_archived else "Archive"
    if c1.button(archive_label, key="article_archive"):
        flash = "Article restored." if article.is_archived else "Article archived."
        run(flash, knowledge.set_archived, article.id, not article.is_archived)
    confirm = c2.checkbox("I really want to delete this article", key="article_delete_confirm")
    if c2.button("Delete", disabled=not confirm, key="article_delete"):
        st.session_state["article_choice_next"] = NEW
        run("Article deleted.", knowledge.delete_article, article.id)
