"""Managing a help article requires being allowed to read it (issue 13.2).

Every management function x every writer role x every visibility, against a table written
here: a coordinator manages Employee and Ticket Coordinator articles only (an Admin article
does not exist for them: NotFound, nothing changed), an admin manages all; nobody gives an
article a visibility above their own role. Drafts and archived articles count the same.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from smartsupport_core import knowledge
from smartsupport_core.errors import NotFound, PermissionDenied, ValidationError
from smartsupport_core.models import HelpArticle
from smartsupport_core.vocab import ArticleVisibility, Role
from tests.factories import make_employee, row_counts
from tests.portal_helpers import open_page

V = ArticleVisibility
#: (writer role, article visibility) -> may manage
MAY_MANAGE = {
    (Role.COORDINATOR, V.EMPLOYEE): True,
    (Role.COORDINATOR, V.COORDINATOR): True,
    (Role.COORDINATOR, V.ADMIN): False,
    (Role.ADMIN, V.EMPLOYEE): True,
    (Role.ADMIN, V.COORDINATOR): True,
    (Role.ADMIN, V.ADMIN): True,
}
#: writer role -> the visibilities they may give an article
MAY_SET = {
    Role.COORDINATOR: [V.EMPLOYEE.value, V.COORDINATOR.value],
    Role.ADMIN: [V.EMPLOYEE.value, V.COORDINATOR.value, V.ADMIN.value],
}

MANAGEMENT = {
    "open for edit": lambda s, a, i: knowledge.get_article_for_edit(s, a, i),
    "update": lambda s, a, i: knowledge.update_article(s, a, i, {"title": "Changed title"}),
    "downgrade visibility": lambda s, a, i: knowledge.update_article(s, a, i, {"visibility": V.EMPLOYEE.value}),
    "publish": lambda s, a, i: knowledge.update_article(s, a, i, {"is_published": True}),
    "archive": lambda s, a, i: knowledge.set_archived(s, a, i, True),
    "delete": lambda s, a, i: knowledge.delete_article(s, a, i),
}


def _articles(session: Session) -> dict[V, HelpArticle]:
    """One unpublished, archived-free draft per visibility, written by an admin."""
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    return {
        v: knowledge.create_article(
            session,
            admin,
            {"title": f"Secret plan for {v.value}", "body": "Body.", "visibility": v.value, "is_published": False},
        )
        for v in V
    }


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ADMIN])
def test_every_management_function_follows_the_read_rule(session: Session, role: Role) -> None:
    articles = _articles(session)
    actor = make_employee(session, role=role, department="IT Department")
    listed = {a.id for a in knowledge.list_all_articles(session, actor)}
    assert listed == {a.id for v, a in articles.items() if MAY_MANAGE[(role, v)]}
    wrong = []
    for v, article in articles.items():
        for name, call in MANAGEMENT.items():
            before = row_counts(session)
            savepoint = session.begin_nested()
            try:
                call(session, actor, article.id)
                allowed = True
            except NotFound:
                allowed = False
                assert row_counts(session) == before
            finally:
                savepoint.rollback()
            if allowed is not MAY_MANAGE[(role, v)]:
                wrong.append(f"{name} {v.value}: {'allowed' if allowed else 'refused'}")
    assert wrong == []


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ADMIN])
def test_nobody_sets_visibility_above_their_role(session: Session, role: Role) -> None:
    actor = make_employee(session, role=role, department="IT Department")
    assert knowledge.settable_visibilities(actor) == MAY_SET[role]
    own = knowledge.create_article(session, actor, {"title": "Mine", "body": "Body.", "visibility": V.EMPLOYEE.value})
    for v in V:
        may = v.value in MAY_SET[role]
        before = row_counts(session)
        savepoint = session.begin_nested()
        try:
            knowledge.create_article(session, actor, {"title": "New", "body": "Body.", "visibility": v.value})
            knowledge.update_article(session, actor, own.id, {"visibility": v.value})
            assert may, f"{role.value} set {v.value}"
        except ValidationError as exc:
            assert not may, exc
            assert set(exc.errors) == {"visibility"}
            assert "Visible to" in exc.errors["visibility"] and "your role" in exc.errors["visibility"]
            assert row_counts(session) == before
        finally:
            savepoint.rollback()


def test_employee_manages_nothing(session: Session) -> None:
    articles = _articles(session)
    employee = make_employee(session)
    assert knowledge.settable_visibilities(employee) == []
    with pytest.raises(PermissionDenied):
        knowledge.list_all_articles(session, employee)
    for call in MANAGEMENT.values():
        with pytest.raises(PermissionDenied):
            call(session, employee, articles[V.EMPLOYEE].id)


def test_articles_admin_page_lists_only_what_the_coordinator_may_read(session: Session) -> None:
    """AppTest: the System Admin article is neither listed nor offered, and "System Admin" is
    not among the visibility choices; an admin sees all three."""
    articles = _articles(session)
    coord = make_employee(session, role=Role.COORDINATOR, department="IT Department")
    admin = make_employee(session, role=Role.ADMIN, department="IT Department")
    session.commit()
    at = open_page(coord, "articles_admin.py")
    titles = set(at.dataframe[0].value["Title"])
    assert titles == {articles[V.EMPLOYEE].title, articles[V.COORDINATOR].title}
    choices = at.selectbox(key="article_choice").options
    assert not [c for c in choices if articles[V.ADMIN].title in c]
    visibility = next(s for s in at.selectbox if s.label == "Visible to (lowest role)")
    assert visibility.options == MAY_SET[Role.COORDINATOR]
    at = open_page(admin, "articles_admin.py")
    assert set(at.dataframe[0].value["Title"]) == {a.title for a in articles.values()}
