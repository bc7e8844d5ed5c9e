"""Help articles (the spec's public "Help Content"): write, publish, archive, browse, search.

Admins and coordinators write articles (`Action.MANAGE_ARTICLES`); every signed-in user
reads the published, non-archived ones whose visibility is at or below their role. The
reader rule is one SQL condition (`readable_condition`) used by the help centre *and* the
assistant's retrieval, so the chat can never quote an article its user could not open.

Managing an article requires being allowed to read it: the same visibility rule
(`readable_visibilities`) limits what the writers' page lists, opens, updates, publishes,
archives and deletes (`manageable_condition`; drafts and archived articles included, since
those are what writers work on), and nobody sets an article's visibility above their own
role. Otherwise a coordinator could open, downgrade to Employee or delete an article meant for
administrators only.
Search uses the full-text GIN index `idx_article_search` through `ARTICLE_TSVECTOR`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Text, and_, cast, false, func, literal_column, select
from sqlalchemy.orm import Session

from . import audit
from .errors import NotFound, ValidationError
from .models import ARTICLE_TSVECTOR, Employee, HelpArticle
from .policy import Action, allowed, is_active_account, require
from .text_input import clean_text, optional_text, text_errors
from .vocab import ArticleVisibility, AuditAction, Role

TABLE = "core_helparticle"
TITLE_MAX = 200
BODY_MAX = 50_000
CATEGORY_MAX = 100
QUERY_MAX = 200
FIELDS = ("title", "body", "category", "visibility", "is_published")

#: Role rank: an article of visibility V is readable by roles ranked at or above V.
ROLE_RANK: dict[str, int] = {Role.EMPLOYEE.value: 0, Role.COORDINATOR.value: 1, Role.ADMIN.value: 2}
VISIBILITY_RANK: dict[str, int] = {
    ArticleVisibility.EMPLOYEE.value: 0,
    ArticleVisibility.COORDINATOR.value: 1,
    ArticleVisibility.ADMIN.value: 2,
}


def readable_visibilities(actor: Employee | None) -> list[str]:
    """The visibility values `actor` may read (empty for no/inactive account)."""
    if not is_active_account(actor):
        return []
    assert actor is not None
    rank = ROLE_RANK.get(actor.role, -1)
    return [v for v, r in VISIBILITY_RANK.items() if r <= rank]


def _visibility_rule(actor: Employee | None) -> ColumnElement[bool]:
    return HelpArticle.visibility.in_(readable_visibilities(actor))


def readable_condition(actor: Employee | None) -> ColumnElement[bool]:
    """SQL condition selecting exactly the articles `actor` may read."""
    if not allowed(actor, Action.READ_ARTICLES):
        return false()
    return and_(
        HelpArticle.is_published.is_(True),
        HelpArticle.is_archived.is_(False),
        _visibility_rule(actor),
    )


def manageable_condition(actor: Employee | None) -> ColumnElement[bool]:
    """SQL condition selecting the articles `actor` may manage: a writer's articles of any
    state whose visibility they may read (never one above their role)."""
    if not allowed(actor, Action.MANAGE_ARTICLES):
        return false()
    return _visibility_rule(actor)


def settable_visibilities(actor: Employee | None) -> list[str]:
    """The visibility values `actor` may give an article (up to their own role)."""
    return readable_visibilities(actor) if allowed(actor, Action.MANAGE_ARTICLES) else []


def _check_visibility(actor: Employee, values: dict[str, Any]) -> None:
    """Refuse a visibility above the actor's own role (after `_clean` checked the vocabulary)."""
    if "visibility" in values and values["visibility"] not in settable_visibilities(actor):
        highest = settable_visibilities(actor)[-1]
        raise ValidationError(
            {"visibility": f"Visible to: you can choose up to {highest} (your role), not {values['visibility']}."}
        )


# ---------------------------------------------------------------------------------------
# Validation and writes
# ---------------------------------------------------------------------------------------


def _clean(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Normalised values, or ValidationError naming every bad field (nothing written)."""
    errors: dict[str, str] = text_errors(
        {k: v for k, v in data.items() if k in ("title", "body", "category")},
        {"title": None, "body": None, "category": None},
    )  # not text / control characters first: never str() of a dict, never a NUL
    out: dict[str, Any] = {}
    if errors:
        raise ValidationError(errors)
    if not partial or "title" in data:
        title = str(data.get("title") or "").strip()
        if not title:
            errors["title"] = "Title is required."
        elif len(title) > TITLE_MAX:
            errors["title"] = f"Title must be at most {TITLE_MAX} characters (it has {len(title)})."
        out["title"] = title
    if not partial or "body" in data:
        body = str(data.get("body") or "").strip()
        if not body:
            errors["body"] = "Body is required."
        elif len(body) > BODY_MAX:
            errors["body"] = f"Body must be at most {BODY_MAX} characters (it has {len(body)})."
        out["body"] = body
    if not partial or "category" in data:
        category = str(data.get("category") or "").strip() or None
        if category is not None and len(category) > CATEGORY_MAX:
            errors["category"] = f"Category must be at most {CATEGORY_MAX} characters."
        out["category"] = category
    if not partial or "visibility" in data:
        visibility = data.get("visibility") or ArticleVisibility.EMPLOYEE.value
        if str(visibility) not in VISIBILITY_RANK:
            allowed_values = ", ".join(VISIBILITY_RANK)
            errors["visibility"] = f"Visibility must be one of: {allowed_values}."
        out["visibility"] = str(visibility)
    if not partial or "is_published" in data:
        published = data.get("is_published", False)
        if not isinstance(published, bool):
            errors["is_published"] = "Published must be true or false."
        out["is_published"] = bool(published)
    unknown = set(data) - set(FIELDS)
    for name in sorted(unknown):
        errors[name] = f"'{name}' is not a field of a help article."
    if errors:
        raise ValidationError(errors)
    return out


def create_article(session: Session, actor: Employee, data: dict[str, Any]) -> HelpArticle:
    """Write a new article (a draft unless `is_published`)."""
    require(actor, Action.MANAGE_ARTICLES)
    values = _clean(data, partial=False)
    _check_visibility(actor, values)
    article = HelpArticle(**values, created_by_id=actor.id)
    session.add(article)
    session.flush()
    audit.record(session, actor, TABLE, article.id, AuditAction.CREATE, None, values)
    return article


def _managed(session: Session, actor: Employee, article_id: int, *, for_update: bool = True) -> HelpArticle:
    """The article if `actor` may manage it; NotFound otherwise (an article above their role
    does not exist for them, as for a reader)."""
    require(actor, Action.MANAGE_ARTICLES)
    stmt = select(HelpArticle).where(HelpArticle.id == article_id, manageable_condition(actor))
    if for_update:
        stmt = stmt.with_for_update()
    article = session.scalars(stmt).one_or_none()
    if article is None:
        raise NotFound(f"Help article {article_id} was not found.")
    return article


def update_article(session: Session, actor: Employee, article_id: int, data: dict[str, Any]) -> HelpArticle:
    """Change some fields; only the fields that really change are audited."""
    article = _managed(session, actor, article_id)
    values = _clean(data, partial=True)
    _check_visibility(actor, values)
    old, new = audit.changes(article, list(FIELDS), values)
    if not new:
        return article
    for key, value in new.items():
        setattr(article, key, value)
    article.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
    audit.record(session, actor, TABLE, article.id, AuditAction.UPDATE, old, new)
    return article


def set_archived(session: Session, actor: Employee, article_id: int, archived: bool) -> HelpArticle:
    """Archive (hide from readers, keep for history) or restore an article."""
    article = _managed(session, actor, article_id)
    if article.is_archived == archived:
        return article
    old = {"is_archived": article.is_archived}
    article.is_archived = archived
    article.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
    audit.record(session, actor, TABLE, article.id, AuditAction.UPDATE, old, {"is_archived": archived})
    return article


def delete_article(session: Session, actor: Employee, article_id: int) -> None:
    """Remove an article for good (archiving is the reversible choice)."""
    article = _managed(session, actor, article_id)
    old = {f: getattr(article, f) for f in FIELDS}
    session.delete(article)
    session.flush()
    audit.record(session, actor, TABLE, article_id, AuditAction.DELETE, old, None)


def list_all_articles(session: Session, actor: Employee, *, include_archived: bool = True) -> list[HelpArticle]:
    """Every article the actor may manage, drafts included, for the writers' page."""
    require(actor, Action.MANAGE_ARTICLES)
    stmt = (
        select(HelpArticle)
        .where(manageable_condition(actor))
        .order_by(HelpArticle.category.nulls_last(), HelpArticle.title)
    )
    if not include_archived:
        stmt = stmt.where(HelpArticle.is_archived.is_(False))
    return list(session.scalars(stmt))


def get_article_for_edit(session: Session, actor: Employee, article_id: int) -> HelpArticle:
    return _managed(session, actor, article_id, for_update=False)


# ---------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleHit:
    article: HelpArticle
    rank: float


def get_article(session: Session, actor: Employee, article_id: int) -> HelpArticle:
    """A readable article, or NotFound (drafts and restricted ones do not exist for readers)."""
    require(actor, Action.READ_ARTICLES)
    article = session.scalars(
        select(HelpArticle).where(HelpArticle.id == article_id, readable_condition(actor))
    ).one_or_none()
    if article is None:
        raise NotFound(f"Help article {article_id} was not found.")
    return article


def article_categories(session: Session, actor: Employee) -> list[str]:
    """Categories that have at least one article `actor` can read."""
    require(actor, Action.READ_ARTICLES)
    rows = session.scalars(
        select(HelpArticle.category)
        .where(readable_condition(actor), HelpArticle.category.is_not(None))
        .distinct()
        .order_by(HelpArticle.category)
    )
    return list(rows)


def tsquery(query: str, match: Literal["all", "any"]) -> ColumnElement[Any]:
    """A tsquery from free text: `all` = web-search syntax (AND, quotes, -not); `any` = OR of words.

    `any` suits chat questions ("how do I reset my password?"), where requiring every word
    would find nothing. It is built from plainto_tsquery's own output, so user input never
    reaches to_tsquery's syntax unescaped.
    """
    english = literal_column("'english'")
    if match == "all":
        return func.websearch_to_tsquery(english, query)
    plain = func.plainto_tsquery(english, query)
    return func.to_tsquery(english, func.replace(cast(plain, Text), "&", "|"))


def search_articles(
    session: Session,
    actor: Employee,
    query: str = "",
    *,
    category: str | None = None,
    match: Literal["all", "any"] = "all",
    limit: int = 20,
) -> list[ArticleHit]:
    """Readable articles, best full-text match first; with no query, all of them by title.

    With `match="all"` and no hit, the search retries with any word, so a reader who typed
    one word too many still gets the closest articles.
    """
    require(actor, Action.READ_ARTICLES)
    query = clean_text(query, "query")
    category = optional_text(category, "category")
    if len(query) > QUERY_MAX:
        raise ValidationError({"query": f"Search text must be at most {QUERY_MAX} characters."})
    base = select(HelpArticle).where(readable_condition(actor))
    if category:
        base = base.where(HelpArticle.category == category)
    if not query:
        rows = session.scalars(base.order_by(HelpArticle.category.nulls_last(), HelpArticle.title).limit(limit))
        return [ArticleHit(a, 0.0) for a in rows]
    tsq = tsquery(query, match)
    # The index has no weights, so a title match is added on top of the body's rank;
    # normalisation 1 keeps long articles from winning by sheer length.
    title_vector = func.to_tsvector(literal_column("'english'"), HelpArticle.title)
    rank = func.ts_rank_cd(ARTICLE_TSVECTOR, tsq, 1) + func.ts_rank_cd(title_vector, tsq)
    stmt = (
        base.add_columns(rank.label("rank"))
        .where(ARTICLE_TSVECTOR.op("@@")(tsq))
        .order_by(rank.desc(), HelpArticle.title)
        .limit(limit)
    )
    hits = [ArticleHit(a, float(r)) for a, r in session.execute(stmt)]
    if not hits and match == "all":
        return search_articles(session, actor, query, category=category, match="any", limit=limit)
    return hits
