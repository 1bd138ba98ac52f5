"""The public pages in a real browser: language, navigation, phone width, escaping."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from registry.ladder import operations as ops
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.browser

XSS_NAME = "<img src=x onerror=alert(1)>"
TEMPLATE_NAME = "{{7*7}}"


def grant(session, enterprise, code="tech_sme"):
    ops.grant_tier(session, enterprise, code, actor=TEST_ACTOR, reason="x")


def watch_console(page) -> list[str]:
    """Console errors, CSP refusals included."""
    errors: list[str] = []

    def record(message) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", record)
    return errors


def test_home_shows_five_tiers_with_bars_in_chinese(new_page):
    page = new_page()
    errors = watch_console(page)
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("企业梯度培育总览")
    rungs = page.locator(".rung")
    expect(rungs).to_have_count(5)
    expect(rungs.first).to_contain_text("科技型中小企业")
    expect(rungs.first).to_contain_text("5,000")
    gauges = page.locator("meter.gauge")
    expect(gauges).to_have_count(5)
    for n in range(5):
        box = gauges.nth(n).bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 4
    # The stylesheet loaded (no CSP refusal, nothing missing).
    assert page.evaluate("getComputedStyle(document.body).display") == "flex"
    assert errors == []


def test_english_switcher_shows_english_names_and_sticks(new_page):
    page = new_page()
    page.goto("/")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".rung").first).to_contain_text("Technology-based SME")
    expect(page.locator(".rung").nth(4)).to_contain_text("Chain leader")
    assert "lang=en" in page.url
    page.goto("/")
    expect(page.locator(".rung").first).to_contain_text("Technology-based SME")
    page.get_by_role("link", name="简体中文").click()
    expect(page.locator(".rung").first).to_contain_text("科技型中小企业")


def test_tier_link_leads_to_the_published_list(new_page, session, make):
    enterprise = make.enterprise(name="江西赣江光电科技有限公司")
    grant(session, enterprise)
    session.commit()
    page = new_page()
    page.goto("/")
    page.locator("#tier-tech_sme a").click()
    expect(page).to_have_url(re.compile(r"/tiers/tech_sme$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("科技型中小企业")
    row = page.locator("table.register tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("江西赣江光电科技有限公司")
    expect(row).to_contain_text(enterprise.uscc)
    expect(row).to_contain_text(enterprise.registration_number)
    expect(row).to_contain_text("南昌市")


def test_filter_form_works_without_javascript(new_page, session, make):
    nanchang = make.enterprise(name="南昌企业有限公司")
    jiujiang = make.enterprise(name="九江企业有限公司", city_code="360400", area="360400")
    for enterprise in (nanchang, jiujiang):
        grant(session, enterprise)
    session.commit()
    page = new_page(javascript=False)
    page.goto("/tiers/tech_sme")
    page.get_by_label("设区市").select_option("360400")
    page.get_by_role("button", name="查询").click()
    expect(page).to_have_url(re.compile(r"city=360400"))
    rows = page.locator("table.register tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("九江企业有限公司")
    # The search by name is the same GET form.
    page.goto("/tiers/tech_sme")
    page.get_by_label("企业名称或统一社会信用代码").fill("南昌")
    page.get_by_role("button", name="查询").click()
    expect(page).to_have_url(re.compile(r"q=%E5%8D%97%E6%98%8C"))
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("南昌企业有限公司")
    expect(page.get_by_text("共 1 家企业符合查询和筛选条件。")).to_be_visible()


@pytest.mark.parametrize("path", ["/", "/tiers/tech_sme", "/tiers/tech_sme?city=bad", "/nowhere"])
def test_no_horizontal_overflow_at_phone_width(new_page, session, make, path):
    grant(
        session,
        make.enterprise(
            name="江西省赣江新区超长名称示范光电子信息与智能装备制造科技股份有限公司",
            name_en="Jiangxi Ganjiang New Area Extraordinarily Long Name Optoelectronics Co., Ltd.",
        ),
    )
    session.commit()
    for lang in ("zh", "en"):
        page = new_page(width=375, height=740)
        page.goto(f"{path}{'&' if '?' in path else '?'}lang={lang}")
        assert page.evaluate("document.documentElement.scrollWidth") <= 375


def test_hostile_names_are_shown_as_text_and_never_run(new_page, session, make):
    grant(session, make.enterprise(name=XSS_NAME, name_en=TEMPLATE_NAME))
    session.commit()
    dialogs: list[str] = []
    page = new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/tiers/tech_sme?lang=zh")
    name = page.locator(".register__name")
    expect(name).to_have_text(XSS_NAME)
    assert page.locator(".register img").count() == 0
    page.goto("/tiers/tech_sme?lang=en")
    expect(name).to_contain_text(TEMPLATE_NAME)
    expect(name).to_contain_text(XSS_NAME)
    page.wait_for_load_state("load")
    assert dialogs == []
