"""The sidebar: every page in a known section, grouped in `SECTIONS` order, by role."""

from __future__ import annotations

import pytest

from portal.nav import PAGES, SECTIONS, sections_for
from smartsupport_core.models import Employee
from smartsupport_core.vocab import Role


def person(role: Role) -> Employee:
    return Employee(role=role.value, status="Approved", is_active=True, department="IT Department")


def titles(user: Employee | None) -> dict[str, list[str]]:
    return {name: [spec.title for spec in specs] for name, specs in sections_for(user).items()}


def test_every_page_has_a_known_section() -> None:
    assert {spec.section for spec in PAGES} <= set(SECTIONS)


def test_visitor_sees_home_and_the_account_pages() -> None:
    assert titles(None) == {"": ["Home"], "Account": ["Sign in", "Register"]}


def test_admin_sees_every_signed_in_page_grouped_in_section_order() -> None:
    shown = titles(person(Role.ADMIN))
    assert list(shown) == [s for s in SECTIONS if s in shown]
    assert shown["Administration"] == ["Accounts", "E-mail outbox", "Admin console", "Inbound mail", "Audit log"]
    assert shown["Help"] == ["Assistant", "Help Center", "Help articles"]
    assert shown["Reports"] == ["SLA dashboard"]
    assert sorted(t for group in shown.values() for t in group) == sorted(
        spec.title for spec in PAGES if not spec.visitors_only
    )


@pytest.mark.parametrize("role", [Role.EMPLOYEE, Role.COORDINATOR])
def test_no_administration_for_other_roles(role: Role) -> None:
    shown = titles(person(role))
    assert "Administration" not in shown
    assert "My profile" in shown["Account"] and "Sign in" not in shown["Account"]
