"""The filtered lists share one "Clear" rule (templates/macros/lists.html), in a browser.

On every list with filters the "Clear" link shows only while a filter is set — a field
with a value other than its default; neither the language nor the page cursor is one —
and leads back to the list's first page without filters, in the same language.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from registry.accounts.models import Role
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser

USERS = {"admin": "admin@example.com", "reviewer": "reviewer@example.com"}

#: (path, a filter set on it, who may see it)
LISTS = [
    ("/tiers/tech_sme", "city=360100", None),
    ("/review", "state=all", "reviewer"),
    ("/review/enterprises", "q=9136", "reviewer"),
    ("/admin/users", "role=reviewer", "admin"),
    ("/admin/audit", "action=user", "admin"),
]


@pytest.fixture
def users(session, make):
    for role, email in USERS.items():
        make.user(email, Role(role), password=PASSWORD, name=role)
    session.commit()


def clear_link(page):
    return page.locator("form[role=search] a.button--secondary")


def open_list(new_page, signed_in, role, width):
    page = new_page(width=width)
    if role:
        signed_in(page, USERS[role])
    return page


@pytest.mark.parametrize(("path", "chosen", "role"), LISTS, ids=[p for p, _, _ in LISTS])
def test_clear_shows_only_while_a_filter_is_set_and_keeps_the_language(
    new_page, signed_in, users, path, chosen, role
):
    page = open_list(new_page, signed_in, role, 1280)
    # Unfiltered, in another language, or submitted with every filter at its default:
    # nothing to clear.
    page.goto(path)
    expect(page.locator("form[role=search]")).to_be_visible()
    expect(clear_link(page)).to_have_count(0)
    page.goto(path + "?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(clear_link(page)).to_have_count(0)
    page.locator("form[role=search] button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(path) + r"\?"))
    expect(clear_link(page)).to_have_count(0)
    # A page cursor is no filter either (a refused one, here: the list starts again).
    page.goto(path + "?after=not-a-cursor&lang=en")
    expect(clear_link(page)).to_have_count(0)

    # A filter set: "Clear" goes back to the first page without it, still in English.
    page.goto(f"{path}?{chosen}&lang=en")
    expect(clear_link(page)).to_have_text("Clear")
    clear_link(page).click()
    expect(page).to_have_url(re.compile(re.escape(path) + r"\?lang=en$"))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(clear_link(page)).to_have_count(0)


@pytest.mark.parametrize(("path", "chosen", "role"), LISTS[:2], ids=[p for p, _, _ in LISTS[:2]])
def test_clear_on_a_phone_in_chinese(new_page, signed_in, users, path, chosen, role):
    """At 375 px the link sits under the submit button and keeps its Chinese label; the
    language remembered in the session survives it."""
    page = open_list(new_page, signed_in, role, 375)
    page.goto(f"{path}?{chosen}")
    expect(clear_link(page)).to_have_text("清除筛选")
    link = clear_link(page).bounding_box()
    button = page.locator("form[role=search] button[type=submit]").bounding_box()
    assert link is not None and button is not None
    assert link["y"] >= button["y"] + button["height"]
    clear_link(page).click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(clear_link(page)).to_have_count(0)
