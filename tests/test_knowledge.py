"""Help articles: who may write, validation, audit, and what each role can read and find."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from smartsupport_core import knowledge
from smartsupport_core.demo.articles import ARTICLES, load_articles
from smartsupport_core.errors import NotFound, PermissionDenied, ValidationError
from smartsupport_core.models import AuditLog, HelpArticle
from smartsupport_core.vocab import ArticleVisibility, Role
from tests.factories import make_employee


def _article(session, author, **over):
    data = {
        "title": "Connect to the VPN",
        "body": "Install GlobalProtect and sign in with MFA.",
        "category": "IT Support",
        "visibility": ArticleVisibility.EMPLOYEE.value,
        "is_published": True,
    }
    data.update(over)
    return knowledge.create_article(session, author, data)


def test_employee_cannot_write_articles(session):
    emp = make_employee(session)
    with pytest.raises(PermissionDenied):
        _article(session, emp)
    assert session.scalar(select(func.count()).select_from(HelpArticle)) == 0


def test_create_validates_every_field_and_writes_nothing(session):
    coord = make_employee(session, role=Role.COORDINATOR, department="IT Department")
    with pytest.raises(ValidationError) as info:
        knowledge.create_article(
            session,
            coord,
            {"title": " ", "body": "", "category": "x" * 101, "visibility": "Everyone", "is_published": "yes"},
        )
    assert set(info.value.errors) == {"title", "body", "category", "visibility", "is_published"}
    assert "required" in info.value.errors["title"]
    assert "Employee" in info.value.errors["visibility"]
    with pytest.raises(ValidationError) as info:
        _article(session, coord, title="t" * 201)
    assert "200" in info.value.errors["title"]
    assert session.scalar(select(func.count()).select_from(HelpArticle)) == 0


def test_create_update_archive_delete_are_audited(session):
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    art = _article(session, admin)
    knowledge.update_article(session, admin, art.id, {"title": "Connect to the company VPN", "body": art.body})
    knowledge.set_archived(session, admin, art.id, True)
    knowledge.delete_article(session, admin, art.id)
    rows = session.scalars(
        select(AuditLog)
        .where(AuditLog.table_name == "core_helparticle", AuditLog.record_id == art.id)
        .order_by(AuditLog.id)
    ).all()
    assert [r.action_type for r in rows] == ["CREATE", "UPDATE", "UPDATE", "DELETE"]
    assert rows[1].old_values == {"title": "Connect to the VPN"}  # only what changed
    assert rows[1].new_values == {"title": "Connect to the company VPN"}
    assert rows[2].new_values == {"is_archived": True}
    assert session.get(HelpArticle, art.id) is None


def test_update_rejects_bad_field_and_keeps_row(session):
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    art = _article(session, admin)
    with pytest.raises(ValidationError) as info:
        knowledge.update_article(session, admin, art.id, {"title": "", "author": "me"})
    assert set(info.value.errors) == {"title", "author"}
    session.refresh(art)
    assert art.title == "Connect to the VPN"


def test_readers_see_only_published_unarchived_articles_at_or_below_their_role(session):
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    coord = make_employee(session, role=Role.COORDINATOR, department="IT Department")
    emp = make_employee(session)
    public = _article(session, admin, title="VPN for everyone")
    coord_only = _article(
        session, admin, title="VPN triage for coordinators", visibility=ArticleVisibility.COORDINATOR.value
    )
    admin_only = _article(session, admin, title="VPN admin console", visibility=ArticleVisibility.ADMIN.value)
    draft = _article(session, admin, title="VPN draft", is_published=False)
    archived = _article(session, admin, title="VPN old")
    knowledge.set_archived(session, admin, archived.id, True)

    def titles(actor):
        return {h.article.title for h in knowledge.search_articles(session, actor, "VPN")}

    assert titles(emp) == {public.title}
    assert titles(coord) == {public.title, coord_only.title}
    assert titles(admin) == {public.title, coord_only.title, admin_only.title}
    for hidden in (coord_only, admin_only, draft, archived):
        with pytest.raises(NotFound):
            knowledge.get_article(session, emp, hidden.id)
    assert knowledge.get_article(session, emp, public.id).id == public.id
    # writers still see drafts and archived ones on their page
    assert {a.title for a in knowledge.list_all_articles(session, admin)} >= {draft.title, archived.title}


def test_search_is_ranked_and_falls_back_to_any_word(session):
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    emp = make_employee(session)
    load_articles(session, admin)
    hits = knowledge.search_articles(session, emp, "reset password")
    assert hits[0].article.title == "Reset your password"
    assert hits == sorted(hits, key=lambda h: -h.rank)
    # a chat-like question with words no article has all of still finds the VPN article
    hits = knowledge.search_articles(session, emp, "how do I connect the vpn from my hotel tonight")
    assert hits and hits[0].article.title == "Connect to the company VPN from home"
    # employees never get the coordinator guides, even by their exact words
    assert not [
        h for h in knowledge.search_articles(session, emp, "triaging new tickets") if "Coordinator" in h.article.title
    ]
    with pytest.raises(ValidationError) as info:
        knowledge.search_articles(session, emp, "x" * 201)
    assert "query" in info.value.errors


def test_browse_by_category(session):
    emp = make_employee(session)
    load_articles(session)
    cats = knowledge.article_categories(session, emp)
    assert "Finance" in cats and "Coordinator Guides" not in cats
    finance = knowledge.search_articles(session, emp, "", category="Finance", limit=100)
    assert finance and all(h.article.category == "Finance" for h in finance)


def test_seed_loader_is_idempotent(session):
    assert len(ARTICLES) >= 28
    assert load_articles(session) == len(ARTICLES)
    assert load_articles(session) == 0
    assert session.scalar(select(func.count()).select_from(HelpArticle)) == len(ARTICLES)
    assert len({a["title"] for a in ARTICLES}) == len(ARTICLES)
