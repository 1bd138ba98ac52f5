"""The published list of a tier for people: search by name or USCC, the number of holders
matching, the page before as well as the next, and "valid until" as a last day."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest

from registry.core import clock
from tests.ladder.published import NEXT_LINK, PREVIOUS_LINK, grant, listed


def html_of(client, url: str, **query) -> str:
    response = client.get(url, query_string=query) if query else client.get(url)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


# --- search -----------------------------------------------------------------------------


@pytest.fixture
def three(session, make):
    """Three holders with names in both languages, and one enterprise of another tier."""
    made = [
        make.enterprise(name="江西赣江光电科技有限公司", name_en="Ganjiang Optoelectronics Co."),
        make.enterprise(name="南昌洪都航空配件有限公司", name_en="Hongdu Aviation Parts"),
        make.enterprise(name="九江石化设备有限公司", name_en=None, area="360400"),
    ]
    for enterprise in made:
        grant(session, enterprise)
    grant(session, make.enterprise(name="赣江另一级企业"), "high_tech")
    session.commit()
    return made


def test_search_by_part_of_the_name_in_either_language(client, three):
    ganjiang, hongdu, _jiujiang = three
    assert listed(html_of(client, "/tiers/tech_sme", q="赣江")) == [ganjiang.uscc]
    assert listed(html_of(client, "/tiers/tech_sme", q="optoELECTRONICS")) == [ganjiang.uscc]
    assert listed(html_of(client, "/tiers/tech_sme", q="  hongdu aviation ")) == [hongdu.uscc]
    html = html_of(client, "/tiers/tech_sme", q="100%_", lang="zh")
    assert listed(html) == [] and "没有符合筛选条件的企业" in html


def test_search_by_uscc_exact_or_its_start(client, three):
    ganjiang, hongdu, jiujiang = three
    assert listed(html_of(client, "/tiers/tech_sme", q=hongdu.uscc)) == [hongdu.uscc]
    assert listed(html_of(client, "/tiers/tech_sme", q=hongdu.uscc.lower())) == [hongdu.uscc]
    # Every holder made in Nanchang starts with 91360100, the Jiujiang one with 91360400.
    assert sorted(listed(html_of(client, "/tiers/tech_sme", q="91360100"))) == sorted(
        [ganjiang.uscc, hongdu.uscc]
    )
    assert listed(html_of(client, "/tiers/tech_sme", q="9136 0400")) == [jiujiang.uscc]
    # A USCC in the middle of another is not a match.
    assert listed(html_of(client, "/tiers/tech_sme", q=hongdu.uscc[4:])) == []


def test_search_is_a_get_form_kept_in_the_links(small_pages, session, make):
    for n in range(5):
        grant(session, make.enterprise(name=f"赣江企业{n}"))
    grant(session, make.enterprise(name="别的企业"))
    session.commit()
    client = small_pages.test_client()
    html = html_of(client, "/tiers/tech_sme", q="赣江", lang="en")
    assert re.search(r'<form class="filters" method="get"[^>]*role="search"', html)
    assert 'name="q" type="search" value="赣江"' in html
    next_url = unescape(NEXT_LINK.search(html).group(1))
    assert "q=%E8%B5%A3%E6%B1%9F" in next_url
    assert len(listed(html)) == 3 and len(listed(html_of(client, next_url))) == 2
    # Downloads carry the same search and filters, and say so.
    assert "Download the filtered list" in html
    assert "/exports/tiers/tech_sme?format=csv&amp;q=%E8%B5%A3%E6%B1%9F" in html
    html = html_of(client, "/tiers/tech_sme", lang="en")
    assert "Download the whole list" in html and "filtered" not in html


def test_a_search_too_long_is_a_form_error(client):
    response = client.get("/tiers/tech_sme", query_string={"q": "x" * 101, "lang": "en"})
    assert response.status_code == 422
    assert "at most 100 characters" in response.get_data(as_text=True)


# --- the number of holders -----------------------------------------------------------------


def test_the_number_of_holders_matching_is_shown(small_pages, session, make):
    for n in range(5):
        grant(session, make.enterprise(city_code="360100" if n < 4 else "360400"))
    session.commit()
    client = small_pages.test_client()
    assert "5 enterprises hold this rung." in html_of(client, "/tiers/tech_sme", lang="en")
    html = html_of(client, "/tiers/tech_sme", city="360400", lang="en")
    assert "1 enterprise matches the search and filters." in html
    assert "共 4 家企业符合" in html_of(client, "/tiers/tech_sme", city="360100", lang="zh")
    assert "本级在册企业共 5 家" in html_of(client, "/tiers/tech_sme", lang="zh")


def test_the_number_has_thousands_separators(client, monkeypatch):
    from registry.ladder import listing

    monkeypatch.setattr(listing, "published_count", lambda *_a, **_k: 1234)
    assert "1,234 enterprises hold this rung." in html_of(client, "/tiers/tech_sme", lang="en")


# --- the page before ------------------------------------------------------------------------


def test_previous_page_links_walk_back_to_the_first(small_pages, session, make):
    holders = []
    for _ in range(8):
        enterprise = make.enterprise()
        grant(session, enterprise)
        holders.append(enterprise.uscc)
    session.commit()
    client = small_pages.test_client()

    pages, url = [], "/tiers/tech_sme?lang=en"
    while url:
        html = html_of(client, url)
        pages.append(listed(html))
        link = NEXT_LINK.search(html)
        url = unescape(link.group(1)) if link else None
    assert [len(p) for p in pages] == [3, 3, 2]
    assert not PREVIOUS_LINK.search(html_of(client, "/tiers/tech_sme"))

    # From the last page back: the same pages, in reverse, each with its number.
    back = []
    while html is not None:
        back.append(listed(html))
        link = PREVIOUS_LINK.search(html)
        if link:
            assert f"Page {len(pages) - len(back)}" in html_of(client, unescape(link.group(1)))
        html = html_of(client, unescape(link.group(1))) if link else None
    assert back == pages[::-1]
    assert sorted(sum(pages, [])) == sorted(holders)


def test_a_page_reached_backwards_links_forwards(small_pages, session, make):
    for _ in range(10):
        grant(session, make.enterprise())
    session.commit()
    client = small_pages.test_client()
    first = html_of(client, "/tiers/tech_sme", lang="en")
    second = html_of(client, unescape(NEXT_LINK.search(first).group(1)))
    third = html_of(client, unescape(NEXT_LINK.search(second).group(1)))
    again = html_of(client, unescape(PREVIOUS_LINK.search(third).group(1)))
    assert listed(again) == listed(second) and "Page 2" in again
    assert listed(html_of(client, unescape(NEXT_LINK.search(again).group(1)))) == listed(third)
    # Page 2's previous page is the first page itself, with no cursor.
    assert PREVIOUS_LINK.search(again).group(1) == "/tiers/tech_sme"
    assert "First page" not in again


def test_a_damaged_previous_cursor_is_a_422(client):
    response = client.get("/tiers/tech_sme", query_string={"before": "nope", "lang": "zh"})
    assert response.status_code == 422 and "该分页链接无效" in response.get_data(as_text=True)


# --- valid until --------------------------------------------------------------------------


def test_valid_until_is_the_last_day_of_the_designation(client, session, make):
    enterprise = make.enterprise()
    with clock.pinned(datetime(2026, 3, 5, 2, 0, tzinfo=UTC)):
        grant(session, enterprise)
    session.commit()
    html = html_of(client, "/tiers/tech_sme", lang="zh")
    assert "有效期至" in html
    assert '<time datetime="2026-12-31">2026-12-31</time>' in html
    assert "2027-01-01" not in html
