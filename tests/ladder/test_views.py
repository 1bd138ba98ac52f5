"""Public ladder pages: the home page and the published lists, in both languages."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from html import unescape

import pytest

from registry.core import clock
from registry.core.pagination import encode_cursor
from tests.ladder.published import NEXT_LINK, grant, listed
from tests.query_plans import sqlite_plan, statements_sent


def text_of(response) -> str:
    return response.get_data(as_text=True)


# --- home ---------------------------------------------------------------------------


def test_home_is_in_chinese_by_default(client):
    response = client.get("/")
    html = text_of(response)
    assert response.status_code == 200
    assert '<html lang="zh-Hans">' in html
    assert "科技型中小企业" in html and "5000" in html
    assert "在册" in html and "公示中" in html and "剩余名额" in html
    assert "赣府厅字〔2022〕69号" in html
    # Five rungs, each with a bar and a link to its list, in rank order.
    assert html.count("<meter") == 5
    codes = re.findall(r'<h2 class="rung__name" id="tier-(\w+)">', html)
    assert codes == ["tech_sme", "high_tech", "champion", "navigator", "chain_leader"]
    for code in codes:
        assert f'href="/tiers/{code}"' in html


def test_lang_parameter_switches_to_english_and_sticks_in_the_session(client):
    html = text_of(client.get("/?lang=en"))
    assert '<html lang="en">' in html
    assert "Technology-based SME" in html and "Holders" in html
    assert "科技型中小企业" not in html

    again = text_of(client.get("/"))
    assert "Technology-based SME" in again

    back = text_of(client.get("/", headers={"Accept-Language": "en"}, query_string={"lang": "zh"}))
    assert "科技型中小企业" in back
    assert "科技型中小企业" in text_of(client.get("/"))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en", "Technology-based SME"),
        ("en-GB,en;q=0.9", "Technology-based SME"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "科技型中小企业"),
        ("fr-FR,fr;q=0.9", "科技型中小企业"),
    ],
)
def test_home_follows_accept_language(client, header, expected):
    assert expected in text_of(client.get("/", headers={"Accept-Language": header}))


@pytest.mark.parametrize(
    ("lang", "during", "after"),
    [
        (
            "en",
            "The plan's period is 2022–2025, to 2025-12-31; the quotas are its targets.",
            "The plan's period, 2022–2025, ended on 2025-12-31. Its targets now act as "
            "standing quotas: they remain the caps until the province sets new ones.",
        ),
        (
            "zh",
            "规划期为2022—2025年，至2025-12-31止；各梯次名额即规划目标。",
            "规划期为2022—2025年，已于2025-12-31结束。规划目标现作为常设名额继续执行："
            "在省里设定新目标之前，仍是各梯次的名额上限。",
        ),
    ],
)
def test_home_names_the_plans_period_and_its_end(client, lang, during, after):
    def said() -> str:
        html = text_of(client.get(f"/?lang={lang}"))
        head = html[html.index('<div class="page-head">') : html.index('<ol class="ladder">')]
        return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", head)))

    # Its last day still belongs to the plan (Beijing time).
    with clock.pinned(datetime(2025, 12, 31, 15, 59, tzinfo=UTC)):
        assert during in said() and after not in said()
    with clock.pinned(datetime(2025, 12, 31, 16, 0, tzinfo=UTC)):
        assert after in said() and during not in said()


def test_home_shows_occupancy_of_each_tier(client, session, make):
    for _ in range(3):
        grant(session, make.enterprise(), "champion")
    session.commit()
    html = text_of(client.get("/?lang=en"))
    card = html[html.index('id="tier-champion"') : html.index('id="tier-navigator"')]
    figures = dict(re.findall(r"<dt>(\w[\w ]*)</dt>\s*<dd>(\d+)</dd>", card))
    assert figures == {"Holders": "3", "In notice": "0", "Quota": "100", "Remaining": "97"}
    assert 'max="100" value="3"' in card
    assert "3% of the quota taken" in card


def test_language_switcher_keeps_path_and_query(client):
    html = text_of(client.get("/tiers/tech_sme?city=360100&lang=zh"))
    assert 'href="/tiers/tech_sme?city=360100&amp;lang=en"' in html


def test_language_switcher_never_links_to_another_host(app):
    from registry.core.i18n import language_url

    with app.test_request_context(environ_overrides={"PATH_INFO": "//evil.example/x"}):
        assert language_url("en") == "/evil.example/x?lang=en"


# --- published lists ------------------------------------------------------------------


def test_tier_list_shows_the_holders_of_that_tier_only(client, session, make):
    holder = make.enterprise(name="江西赣江光电科技有限公司", name_en="Ganjiang Optoelectronics")
    other_tier = make.enterprise(name="另一级企业")
    off_ladder = make.enterprise(name="未入库企业")
    grant(session, holder)
    grant(session, other_tier, "high_tech")
    session.commit()

    response = client.get("/tiers/tech_sme?lang=zh")
    html = text_of(response)
    assert response.status_code == 200
    assert listed(html) == [holder.uscc]
    assert "江西赣江光电科技有限公司" in html
    assert "南昌市" in html and "电子信息" in html
    assert holder.tier_since.isoformat() in html
    assert holder.registration_number in html
    assert other_tier.name not in html and off_ladder.name not in html

    english = text_of(client.get("/tiers/tech_sme?lang=en"))
    assert "Ganjiang Optoelectronics" in english
    assert "Nanchang" in english and "Electronic information" in english


def test_tier_list_filters_by_city_and_industry(client, session, make):
    nanchang = make.enterprise(city_code="360100", industry_code="aviation")
    jiujiang = make.enterprise(city_code="360400", industry_code="aviation", area="360400")
    other = make.enterprise(city_code="360400", industry_code=None, area="360400")
    for enterprise in (nanchang, jiujiang, other):
        grant(session, enterprise)
    session.commit()

    def shown(**filters):
        response = client.get("/tiers/tech_sme", query_string=filters)
        assert response.status_code == 200
        return sorted(listed(text_of(response)))

    assert shown() == sorted([nanchang.uscc, jiujiang.uscc, other.uscc])
    assert shown(city="360400") == sorted([jiujiang.uscc, other.uscc])
    assert shown(industry="aviation") == sorted([nanchang.uscc, jiujiang.uscc])
    assert shown(city="360400", industry="aviation") == [jiujiang.uscc]
    assert shown(industry="none") == [other.uscc]
    assert shown(city="", industry="") == shown()
    assert shown(city="361100") == []
    assert "没有符合筛选条件的企业" in text_of(client.get("/tiers/tech_sme?city=361100&lang=zh"))


@pytest.mark.parametrize(
    ("query", "zh", "en"),
    [
        ({"city": "999999"}, "设区市无效", "Unknown city"),
        ({"industry": "steel"}, "产业领域无效", "Unknown industry"),
        ({"city": "<script>"}, "设区市无效", "Unknown city"),
    ],
)
def test_unknown_filter_values_are_form_errors(client, session, make, query, zh, en):
    grant(session, make.enterprise())
    session.commit()
    response = client.get("/tiers/tech_sme", query_string={**query, "lang": "zh"})
    assert response.status_code == 422
    html = text_of(response)
    assert zh in html and 'aria-invalid="true"' in html
    assert listed(html) == []
    assert "<script>" not in html
    response = client.get("/tiers/tech_sme", query_string={**query, "lang": "en"})
    assert response.status_code == 422 and en in text_of(response)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not base64!",
        "@@@@",
        _b64(b"\xff\xfe"),
        _b64(b"not json"),
        _b64(b'{"a": 1}'),
        encode_cursor("91360100MA35XXXXXX"),
        encode_cursor("91360100MA35XXXXXX", "2"),
        encode_cursor(2, 2),
        encode_cursor("91360100MA35XXXXXX", 1),
        _b64(b'["9136", true]'),
        "A" * 600,
    ],
)
def test_malformed_cursor_is_a_422_with_a_message(client, cursor):
    response = client.get("/tiers/tech_sme", query_string={"after": cursor, "lang": "zh"})
    assert response.status_code == 422
    html = text_of(response)
    assert "该分页链接无效" in html and "从第一页重新浏览" in html


def test_pagination_walks_every_holder_once_in_uscc_order(small_pages, session, make):
    holders = []
    for n in range(10):
        enterprise = make.enterprise(city_code="360100" if n % 2 else "360400")
        grant(session, enterprise)
        holders.append(enterprise)
    grant(session, make.enterprise(), "high_tech")
    session.commit()

    def walk(url: str) -> tuple[list[str], int]:
        client = small_pages.test_client()
        seen, pages = [], 0
        while url:
            response = client.get(url)
            assert response.status_code == 200
            html = text_of(response)
            pages += 1
            assert f"第 {pages} 页" in html
            rows = listed(html)
            assert 0 < len(rows) <= 3
            seen += rows
            link = NEXT_LINK.search(html)
            url = unescape(link.group(1)) if link else None
            assert pages <= 10
        return seen, pages

    seen, pages = walk("/tiers/tech_sme?lang=zh")
    assert seen == sorted(e.uscc for e in holders)
    assert pages == 4

    # Filters ride along with the cursor.
    seen, pages = walk("/tiers/tech_sme?city=360100&lang=zh")
    assert seen == sorted(e.uscc for e in holders if e.city_code == "360100")
    assert pages == 2


def test_a_full_last_page_has_no_next_link(small_pages, session, make):
    for _ in range(3):
        grant(session, make.enterprise())
    session.commit()
    html = text_of(small_pages.test_client().get("/tiers/tech_sme"))
    assert len(listed(html)) == 3
    assert not NEXT_LINK.search(html)


@pytest.mark.sqlite_only(reason="SQLite's planner")
def test_published_list_walks_the_tier_index(client, session, make, database_url):
    """Even when statistics make a city look more selective than a tier (most
    enterprises are off the ladder), the list reads the (tier, uscc) index."""
    grant(session, make.enterprise())
    session.commit()
    after = encode_cursor("9", 2)
    with statements_sent(
        lambda sql: "FROM enterprises" in sql and "ORDER BY enterprises.uscc" in sql
    ) as sent:
        client.get(f"/tiers/tech_sme?city=360100&industry=aviation&after={after}")
    (statement, parameters), *_ = sent
    statistics = [
        ("enterprises", "ix_enterprises_tier_uscc", "1000000 200000 1"),
        ("enterprises", "ix_enterprises_city_code_uscc", "1000000 90000 1"),
        ("enterprises", "ix_enterprises_industry_code_uscc", "1000000 70000 1"),
    ]
    details = sqlite_plan(database_url, statement, parameters, statistics)
    assert "ix_enterprises_tier_uscc" in details, details
    assert "TEMP B-TREE" not in details, details


def test_unknown_tier_is_a_404_page(client):
    response = client.get("/tiers/gold?lang=zh")
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "页面不存在" in text_of(response)
    response = client.get("/tiers/gold?lang=en")
    assert "Page not found" in text_of(response)


# --- output encoding (QUALITY.md S9) --------------------------------------------------


@pytest.mark.parametrize("name", ["<img src=x onerror=alert(1)>", "{{7*7}}", "{% raw %}x"])
def test_names_are_rendered_literally(client, session, make, name):
    grant(session, make.enterprise(name=name, name_en=name))
    session.commit()
    for lang in ("zh", "en"):
        html = text_of(client.get(f"/tiers/tech_sme?lang={lang}"))
        assert "<img src=x" not in html
        cell = re.search(r'<th scope="row" class="register__name">(.*?)</th>', html, re.S)
        assert name.replace("<", "&lt;").replace(">", "&gt;") in cell.group(1)
