"""Counts and amounts on pages carry the thousands separators of the page's language
(5,000); years, USCCs and registration numbers never do."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from babel import numbers
from flask_babel import get_locale

from registry.accounts.models import Role
from registry.core import i18n
from registry.ladder import operations as ladder
from tests.factories import PASSWORD, TEST_ACTOR


def figures_of(html: str, tier: str, following: str) -> dict[str, str]:
    card = html[html.index(f'id="tier-{tier}"') : html.index(f'id="tier-{following}"')]
    return dict(re.findall(r"<dt>([^<]+)</dt>\s*<dd>([^<]+)</dd>", card))


@pytest.mark.parametrize(
    ("lang", "labels"),
    [
        ("zh", ("在册", "名额", "剩余名额", "1 / 名额 5,000")),
        ("en", ("Holders", "Quota", "Remaining", "1 of 5,000")),
    ],
)
def test_home_figures_have_thousands_separators(client, session, make, lang, labels):
    ladder.grant_tier(session, make.enterprise(), "tech_sme", actor=TEST_ACTOR, reason="x")
    session.commit()
    html = client.get(f"/?lang={lang}").get_data(as_text=True)
    figures = figures_of(html, "tech_sme", "high_tech")
    holders, quota, remaining, detail = labels
    assert (figures[holders], figures[quota], figures[remaining]) == ("1", "5,000", "4,999")
    assert detail in html
    # The meter's own attributes stay plain numbers.
    assert 'max="5000" value="1"' in html


def test_admin_tiers_pages_have_thousands_separators(auth):
    admin = auth.signed_in_as_new(Role.ADMIN)
    html = admin.get("/admin/tiers?lang=en").get_data(as_text=True)
    assert '<td class="num">5,000' in html and '<td class="num">3,000' in html
    html = admin.get("/admin/tiers/tech_sme?lang=en").get_data(as_text=True)
    assert "<dd>5,000</dd>" in html
    # The quota's form field keeps the plain number people edit.
    assert 'value="5000"' in html


def test_annual_figures_have_separators_and_years_none(session, make, auth):
    enterprise = make.enterprise()
    make.report(enterprise, 2025, employees=12345, revenue=123_456_789_000)
    owner = make.user(enterprise=enterprise, password=PASSWORD)
    session.commit()
    client = auth.signed_in(owner.email, lang="en")
    html = client.get("/enterprise/reports").get_data(as_text=True)
    assert ">12,345<" in html and "12,345,678.9" in html
    assert ">2025<" in html and "2,025" not in html

    reviewer = auth.signed_in_as_new(Role.REVIEWER, lang="en")
    html = reviewer.get(f"/review/enterprises/{enterprise.uscc}").get_data(as_text=True)
    assert ">12,345<" in html
    assert enterprise.uscc in html


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_figure_is_written_as_babel_writes_it_in_the_page_language(app, lang):
    """``number`` keeps each figure it has written once per language: the same text as
    Babel's, whatever the type of the value (5, 5.0 and 5.50 alike or not)."""
    values = [0, 7, 5000, 1234567, -3, 5.0, 12.5, 0.125, Decimal("5.50"), Decimal("1234.5678")]
    with app.test_request_context(f"/?lang={lang}"):
        assert str(get_locale()) == lang
        for _ in range(2):  # the second time from what was kept
            assert [i18n.number(v) for v in values] == [
                numbers.format_decimal(v, locale=lang) for v in values
            ]
