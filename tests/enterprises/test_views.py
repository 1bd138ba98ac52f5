"""The enterprise's own pages: profile, annual reports, self-check (S1, S2, roles)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from registry.accounts.models import Role
from registry.core import clock
from registry.core.models import AuditEntry, ChangeLogEntry
from registry.enterprises.models import AnnualReport, Enterprise
from registry.extensions import db
from registry.ladder import operations as ladder
from tests.conftest import make_app
from tests.factories import PASSWORD, TEST_ACTOR
from tests.pages import field_error, value_of

NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)
LAST = 2025  # the latest completed year at NOW
PAGES = ("/enterprise/profile", "/enterprise/reports", f"/enterprise/reports/{LAST}")
PAGES += ("/enterprise/eligibility",)


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.pinned(NOW):
        yield


@pytest.fixture
def owner(session, make):
    """Enterprise A and its signed-in user."""
    enterprise = make.enterprise(name="赣江甲有限公司", verified=False)
    make.user("a@example.com", password=PASSWORD, enterprise=enterprise)
    session.commit()
    return enterprise


@pytest.fixture
def signed_in(client, auth, owner):
    assert auth.login("a@example.com").status_code == 303
    return client


def profile_form(**changes) -> dict:
    form = {
        "name": "赣江甲有限公司",
        "name_en": "Ganjiang A Co., Ltd.",
        "city_code": "360700",
        "county": "章贡区",
        "industry_code": "new_materials",
        "founded_on": "2015-03-02",
        "legal_representative": "张三",
        "contact_name": "李四",
        "contact_phone": "0791-88888888",
        "contact_email": "contact@example.com",
        "address": "南昌市红谷滩区",
        "main_products": "稀土永磁材料",
    }
    form.update(changes)
    return form


# --- access -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=")
    assert client.post(path).status_code in (303, 405)


@pytest.mark.parametrize("path", PAGES)
def test_reviewers_are_refused(client, session, path, auth, make):
    make.user("reviewer@example.com", Role.REVIEWER, password=PASSWORD)
    session.commit()
    assert auth.login("reviewer@example.com").status_code == 303
    response = client.get(path)
    assert response.status_code == 403
    assert "Access denied" in client.get(f"{path}?lang=en").text


@pytest.mark.parametrize("path", PAGES)
def test_an_account_waiting_for_its_claim_goes_to_its_account_page(
    client, session, path, auth, make
):
    make.user("pending@example.com", password=PASSWORD)
    session.commit()
    assert auth.login("pending@example.com").status_code == 303
    response = client.get(f"{path}?lang=en")
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert "not linked to an enterprise yet" in client.get("/account").text


def test_pages_are_private_and_in_the_enterprise_navigation(signed_in):
    for path in PAGES:
        response = signed_in.get(path)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store"
    html = signed_in.get("/enterprise/profile?lang=en").text
    nav = html[html.index('class="site-nav"') :]
    positions = [nav.index(f'href="{path}"') for path in PAGES if path != PAGES[2]]
    assert positions == sorted(positions)
    assert ">Profile<" in nav and ">Annual reports<" in nav and ">Self-check<" in nav


def test_csrf_token_is_required(app, database_url, session, owner):
    owner_id = owner.id
    session.commit()  # the test's own session holds no lock while the other app writes
    strict = make_app(database_url, WTF_CSRF_ENABLED=True)
    client = strict.test_client()
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post(
        "/login", data={"email": "a@example.com", "password": PASSWORD, "csrf_token": token}
    )
    form = client.get("/enterprise/profile").text
    assert 'name="csrf_token"' in form
    response = client.post("/enterprise/profile", data=profile_form(name="无令牌"))
    assert response.status_code == 400
    # The form comes back with what was typed, to be sent again.
    assert value_of(response.text, "name") == "无令牌"
    assert "表单已过期，请重新提交。" in response.text
    report = client.post(f"/enterprise/reports/{LAST}", data={"employees": "120"})
    assert report.status_code == 400 and value_of(report.text, "employees") == "120"
    with strict.app_context():
        db.engine.dispose()
    assert session.get(Enterprise, owner_id).name == "赣江甲有限公司"


# --- profile ------------------------------------------------------------------------------


def test_profile_shows_the_uscc_read_only_and_the_unverified_mark(signed_in, owner, session):
    html = signed_in.get("/enterprise/profile?lang=en").text
    assert owner.uscc in html and 'name="uscc"' not in html
    assert value_of(html, "name") == "赣江甲有限公司"
    assert "badge--unverified" in html and "Unverified" in html
    owner.verified = True
    session.commit()
    assert "badge--unverified" not in signed_in.get("/enterprise/profile").text


def test_profile_save_answers_303_and_records_the_change(signed_in, owner, session):
    response = signed_in.post("/enterprise/profile", data=profile_form())
    assert response.status_code == 303 and response.headers["Location"] == "/enterprise/profile"
    session.expire_all()
    e = session.get(Enterprise, owner.id)
    assert (e.city_code, e.industry_code, e.founded_on) == (
        "360700",
        "new_materials",
        date(2015, 3, 2),
    )
    assert (e.contact_email, e.main_products, e.version) == (
        "contact@example.com",
        "稀土永磁材料",
        2,
    )
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "enterprise.update")
    ).one()
    assert (entry.actor_name, entry.via) == ("a@example.com", "web")
    # The message is in the language of the post (简体中文 by default).
    assert "企业信息已保存。" in signed_in.get("/enterprise/profile").text

    # "Other" industry and no city are stored as null; the same post again changes nothing.
    signed_in.post("/enterprise/profile", data=profile_form(industry_code="", city_code=""))
    signed_in.post("/enterprise/profile", data=profile_form(industry_code="", city_code=""))
    session.expire_all()
    e = session.get(Enterprise, owner.id)
    assert (e.industry_code, e.city_code, e.version) == (None, None, 3)


def selected_value(html: str, name: str) -> str:
    """The value a browser sends for select ``name``: the selected option, else the first."""
    select = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S).group(0)
    options = re.findall(r'<option([^>]*)value="([^"]*)"([^>]*)>', select)
    chosen = [value for before, value, after in options if "selected" in before + after]
    return (chosen or [options[0][1]])[0]


def test_an_unset_city_and_industry_stay_unset_when_the_form_is_saved(signed_in, owner, session):
    owner.city_code = owner.industry_code = None
    session.commit()
    html = signed_in.get("/enterprise/profile").text
    assert selected_value(html, "city_code") == "" and selected_value(html, "industry_code") == ""
    assert "未设置或不属于规划产业" in html
    signed_in.post("/enterprise/profile", data=profile_form(city_code="", industry_code=""))
    session.expire_all()
    e = session.get(Enterprise, owner.id)
    assert (e.city_code, e.industry_code) == (None, None)


def test_profile_ignores_undeclared_fields(signed_in, owner, session):
    """S2: the declared fields are saved, the others never reach the record."""
    before = session.execute(
        select(
            Enterprise.uscc,
            Enterprise.tier,
            Enterprise.status,
            Enterprise.origin,
            Enterprise.verified,
            Enterprise.registration_number,
            Enterprise.ban_until,
        ).where(Enterprise.id == owner.id)
    ).one()
    forged = {
        "uscc": "91360100MA35K8T29N",
        "tier": "champion",
        "status": "deregistered",
        "version": "99",
        "origin": "peer-gd",
        "verified": "y",
        "registration_number": "JX-CH-2026-00001",
        "ban_until": "2030-01-01",
        "id": "999",
        "enterprise_id": "999",
    }
    response = signed_in.post(
        "/enterprise/profile", data=profile_form(name="新名有限公司", **forged)
    )
    assert response.status_code == 303
    session.expire_all()
    after = session.execute(
        select(
            Enterprise.uscc,
            Enterprise.tier,
            Enterprise.status,
            Enterprise.origin,
            Enterprise.verified,
            Enterprise.registration_number,
            Enterprise.ban_until,
        ).where(Enterprise.id == owner.id)
    ).one()
    assert after == before
    e = session.get(Enterprise, owner.id)
    assert (e.name, e.version) == ("新名有限公司", 2)
    assert session.scalar(select(func.count()).select_from(Enterprise)) == 1


@pytest.mark.parametrize(
    ("lang", "changes", "field", "message"),
    [
        ("zh", {"name": "  "}, "name", "此项为必填项。"),
        ("en", {"name": ""}, "name", "This field is required."),
        ("en", {"contact_email": "not-an-email"}, "contact_email", "Invalid email address."),
        ("zh", {"city_code": "110000"}, "city_code", "不是有效的选择。"),
        ("en", {"industry_code": "mining"}, "industry_code", "Not a valid choice."),
        ("en", {"founded_on": "2015-13-40"}, "founded_on", "Not a valid date value."),
        ("en", {"founded_on": "2026-06-01"}, "founded_on", "cannot be in the future"),
        ("en", {"county": "县" * 65}, "county", "cannot be longer than 64"),
        ("en", {"contact_phone": "abcdefg"}, "contact_phone", "Enter a phone number"),
        ("zh", {"contact_phone": "12"}, "contact_phone", "请输入电话号码"),
    ],
)
def test_profile_errors_answer_422_on_the_field(
    signed_in, owner, session, lang, changes, field, message
):
    response = signed_in.post(f"/enterprise/profile?lang={lang}", data=profile_form(**changes))
    assert response.status_code == 422
    assert message in field_error(response.text, field)
    assert (
        "请更正以下问题" in response.text if lang == "zh" else "There is a problem" in response.text
    )
    session.expire_all()
    assert session.get(Enterprise, owner.id).version == 1


def test_a_mirrored_record_cannot_be_changed(client, session, make, auth):
    mirrored = make.enterprise(name="镜像有限公司", origin="peer-gd")
    make.user("m@example.com", password=PASSWORD, enterprise=mirrored)
    session.commit()
    assert auth.login("m@example.com").status_code == 303
    assert "read-only here" in client.get("/enterprise/profile?lang=en").text
    response = client.post("/enterprise/profile?lang=en", data=profile_form(name="改名"))
    assert response.status_code == 409
    assert "is mirrored from peer-gd and is read-only here" in response.text
    report = client.post(f"/enterprise/reports/{LAST}?lang=en", data={"employees": "3"})
    assert report.status_code == 409 and "read-only" in report.text
    session.expire_all()
    assert session.get(Enterprise, mirrored.id).name == "镜像有限公司"
    assert session.scalar(select(func.count()).select_from(AnnualReport)) == 0


def test_names_render_literally(client, session, make, auth):
    """S9: user text is escaped on every page of this blueprint."""
    hostile = make.enterprise(name="<img src=x onerror=alert(1)>", main_products="{{7*7}}")
    make.user("x@example.com", password=PASSWORD, enterprise=hostile)
    session.commit()
    assert auth.login("x@example.com").status_code == 303
    html = client.get("/enterprise/profile").text
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "{{7*7}}" in html and ">49<" not in html


# --- annual reports -----------------------------------------------------------------------


def test_money_is_converted_exactly_from_wan_to_yuan(signed_in, owner, session):
    figures = {
        "employees": "120",
        "tech_staff": "30",
        "revenue": "1234.5678",
        "total_income": "1234.5678",
        "total_assets": "0.0001",
        "net_assets": "0",
        "total_cost": "99999999.9999",
        "rd_expense": "5000",
        "main_business_share": "12.5",
        "debt_ratio": "33.33",
        "ip_class1": "",
    }
    response = signed_in.post(f"/enterprise/reports/{LAST}", data=figures)
    assert response.status_code == 303 and response.headers["Location"] == "/enterprise/reports"
    report = session.scalars(select(AnnualReport)).one()
    assert report.revenue == 12_345_678 and report.total_income == 12_345_678
    assert report.total_assets == 1 and report.net_assets == 0
    assert report.total_cost == 999_999_999_999 and report.rd_expense == 50_000_000
    assert (report.employees, report.tech_staff, report.ip_class1) == (120, 30, None)
    assert (report.main_business_share, report.debt_ratio) == (12.5, 33.33)
    feed = session.scalars(select(ChangeLogEntry.key)).all()
    assert feed == [f"{owner.uscc}/{LAST}"]

    # The form shows the figures back in 万元, without float noise.
    html = signed_in.get(f"/enterprise/reports/{LAST}").text
    assert value_of(html, "revenue") == "1234.5678"
    assert value_of(html, "total_assets") == "0.0001"
    assert value_of(html, "total_cost") == "99999999.9999"
    assert value_of(html, "rd_expense") == "5000"
    assert value_of(html, "main_business_share") == "12.5"
    assert value_of(html, "debt_ratio") == "33.33"
    assert value_of(html, "ip_class1") == ""


def test_a_figure_left_empty_is_cleared(signed_in, owner, session, make):
    make.report(owner, LAST, employees=10, revenue=5_000_000)
    session.commit()
    html = signed_in.get(f"/enterprise/reports/{LAST}").text
    assert value_of(html, "revenue") == "500" and value_of(html, "employees") == "10"
    response = signed_in.post(
        f"/enterprise/reports/{LAST}", data={"employees": "11", "revenue": ""}
    )
    assert response.status_code == 303
    session.expire_all()
    report = session.scalars(select(AnnualReport)).one()
    assert (report.employees, report.revenue, report.version) == (11, None, 2)


@pytest.mark.parametrize(
    ("lang", "figures", "field", "message"),
    [
        ("en", {"revenue": "1.23456"}, "revenue", "with at most 4 decimals"),
        ("en", {"revenue": "-1"}, "revenue", "Enter an amount of 0 or more in 10,000 yuan"),
        ("zh", {"employees": "1.5"}, "employees", "请输入 0 及以上的整数。"),
        ("en", {"employees": "-1"}, "employees", "Enter a whole number of 0 or more."),
        (
            "en",
            {"employees": "99999999999"},
            "employees",
            "Enter a whole number of at most 2,147,483,647.",
        ),
        ("zh", {"employees": "99999999999"}, "employees", "请输入不超过 2,147,483,647 的整数。"),
        ("zh", {"global_market_rank": "99999999999"}, "global_market_rank", "不超过 2,147,483,647"),
        ("en", {"debt_ratio": "100.01"}, "debt_ratio", "Enter a percentage from 0 to 100"),
        ("zh", {"debt_ratio": "12.345"}, "debt_ratio", "0 至 100 之间的百分比，最多 2 位小数。"),
        ("en", {"global_market_rank": "0"}, "global_market_rank", "a whole number of 1 or more"),
        (
            "en",
            {"employees": "5", "rd_staff": "6"},
            "rd_staff",
            "R&D staff cannot be more than Employees.",
        ),
        (
            "en",
            {"total_income": "100", "revenue": "100.0001"},
            "revenue",
            "Revenue cannot be more than Total income.",
        ),
    ],
)
def test_report_errors_answer_422_on_the_field(signed_in, session, lang, figures, field, message):
    response = signed_in.post(f"/enterprise/reports/{LAST}?lang={lang}", data=figures)
    assert response.status_code == 422
    assert message in field_error(response.text, field)
    assert 'aria-invalid="true"' in response.text
    assert session.scalar(select(func.count()).select_from(AnnualReport)) == 0


def test_cross_field_checks_come_with_the_field_errors(signed_in, session):
    """U2: a part above its whole is named together with the figures that are not numbers."""
    figures = {
        "employees": "5",
        "rd_staff": "6",
        "revenue": "abc",
        "total_income": "100",
        "hightech_income": "200",
        "debt_ratio": "101",
    }
    response = signed_in.post(f"/enterprise/reports/{LAST}?lang=en", data=figures)
    assert response.status_code == 422
    page = response.text
    assert field_error(page, "rd_staff") == "R&D staff cannot be more than Employees."
    assert field_error(page, "hightech_income") == (
        "High-tech product income cannot be more than Total income."
    )
    assert field_error(page, "revenue").startswith("Enter an amount of 0 or more")
    assert field_error(page, "debt_ratio").startswith("Enter a percentage from 0 to 100")
    assert page.count('class="field__error"') == 4
    for name, typed in figures.items():
        assert value_of(page, name) == typed
    assert session.scalar(select(func.count()).select_from(AnnualReport)) == 0


@pytest.mark.parametrize(
    ("lang", "typed", "message"),
    [
        ("zh", "-1", "请输入 0 及以上的金额，单位万元，最多 4 位小数。"),
        ("zh", "一百", "请输入 0 及以上的金额，单位万元，最多 4 位小数。"),
        ("en", "1.23456", "Enter an amount of 0 or more in 10,000 yuan, with at most 4 decimals."),
        ("en", "NaN", "Enter an amount of 0 or more in 10,000 yuan, with at most 4 decimals."),
        ("en", "1e999999", "Enter an amount of at most 900,000,000,000,000 in 10,000 yuan."),
        ("zh", "99999999999999999", "请输入不超过 900,000,000,000,000 的金额，单位万元。"),
    ],
)
def test_a_wrong_number_gets_one_plain_message_and_is_shown_back(
    signed_in, session, lang, typed, message
):
    response = signed_in.post(f"/enterprise/reports/{LAST}?lang={lang}", data={"revenue": typed})
    assert response.status_code == 422
    assert field_error(response.text, "revenue") == message
    assert response.text.count('class="field__error"') == 1
    # A text input, so that the browser shows what was typed, whatever it is.
    control = re.search(r'<input[^>]*\bname="revenue"[^>]*>', response.text).group(0)
    assert 'type="text"' in control and 'inputmode="decimal"' in control
    assert value_of(response.text, "revenue") == typed


def test_thousands_separators_are_accepted(signed_in, session):
    response = signed_in.post(
        f"/enterprise/reports/{LAST}", data={"revenue": "1,234.5", "employees": "1,200"}
    )
    assert response.status_code == 303
    report = session.scalars(select(AnnualReport)).one()
    assert (report.revenue, report.employees) == (12_345_000, 1200)


@pytest.mark.parametrize("year", [1989, 2026, 2030])
def test_years_outside_the_completed_range_are_not_found(signed_in, session, year):
    assert signed_in.get(f"/enterprise/reports/{year}").status_code == 404
    assert signed_in.post(f"/enterprise/reports/{year}", data={"employees": "1"}).status_code == 404
    assert session.scalar(select(func.count()).select_from(AnnualReport)) == 0


def test_reports_list_and_the_year_chooser(signed_in, owner, session, make):
    make.report(owner, 2023, employees=7, revenue=12_345_678)
    session.commit()
    html = signed_in.get("/enterprise/reports?lang=en").text
    assert 'href="/enterprise/reports/2023"' in html and "1,234.5678" in html
    options = re.findall(r'<option value="(\d+)"', html)
    assert options[0] == str(LAST) and "2023" not in options and str(LAST + 1) not in options
    chosen = signed_in.get(f"/enterprise/reports?year={LAST - 1}")
    assert chosen.status_code == 303
    assert chosen.headers["Location"] == f"/enterprise/reports/{LAST - 1}"
    refused = signed_in.get("/enterprise/reports?year=2023&lang=en")
    assert refused.status_code == 422 and "Not a valid choice." in refused.text


def test_the_year_chooser_starts_at_the_founding_year(signed_in, owner, session):
    html = signed_in.get("/enterprise/reports").text
    assert re.findall(r'<option value="(\d+)"', html)[-1] == "1990"  # founding year unknown
    owner.founded_on = date(2021, 9, 1)
    session.commit()
    options = re.findall(r'<option value="(\d+)"', signed_in.get("/enterprise/reports").text)
    assert options == [str(y) for y in range(LAST, 2020, -1)]


# --- S1: only the caller's own enterprise ---------------------------------------------------


def test_each_page_shows_only_the_callers_enterprise(client, session, make, owner, auth):
    """S1: there is no id to change in these addresses; B's user sees and changes only B."""
    other = make.enterprise(name="赣江乙有限公司", county="乙县")
    make.report(owner, LAST, employees=111, revenue=77_770_000)
    make.report(other, LAST, employees=222, revenue=88_880_000)
    make.user("b@example.com", password=PASSWORD, enterprise=other)
    session.commit()
    assert auth.login("b@example.com").status_code == 303

    for path in PAGES:
        html = client.get(path).text
        assert owner.uscc not in html and "赣江甲有限公司" not in html, path
        assert "7777" not in html and ">111<" not in html and 'value="111"' not in html, path
    assert other.uscc in client.get("/enterprise/profile").text
    report = client.get(f"/enterprise/reports/{LAST}").text
    assert value_of(report, "employees") == "222" and value_of(report, "revenue") == "8888"

    client.post("/enterprise/profile", data=profile_form(name="乙改名有限公司"))
    client.post(f"/enterprise/reports/{LAST}", data={"employees": "5"})
    session.expire_all()
    a, b = session.get(Enterprise, owner.id), session.get(Enterprise, other.id)
    assert (a.name, a.version, b.name) == ("赣江甲有限公司", 1, "乙改名有限公司")
    reports = {r.enterprise_id: r.employees for r in session.scalars(select(AnnualReport))}
    assert reports == {owner.id: 111, other.id: 5}


# --- self-check ---------------------------------------------------------------------------


def test_self_check_of_an_eligible_enterprise(signed_in, owner, session, make):
    owner.founded_on = date(2015, 1, 1)
    make.eligible_report(owner, LAST)
    session.commit()
    response = signed_in.get("/enterprise/eligibility?lang=en")
    html = response.text
    assert response.status_code == 200
    # The self-apply rungs above none: tech_sme, high_tech, champion (not the nominated ones).
    sections = re.findall(r'<section class="panel" aria-labelledby="tier-([\w-]+)">', html)
    assert sections == ["tech_sme", "high_tech", "champion-srdi", "champion-single_champion"]
    tech_sme = html[html.index('id="tier-tech_sme"') : html.index('id="tier-high_tech"')]
    assert "Eligible" in tech_sme and 'href="/applications/new"' in tech_sme
    # Revenue in 万元, which English names as 10,000 yuan.
    assert "≤ 20,000 × 10,000 yuan" in tech_sme and "5,000 × 10,000 yuan" in tech_sme
    zh = signed_in.get("/enterprise/eligibility?lang=zh").text
    assert "≤ 20,000 万元" in zh and "5,000 万元" in zh
    assert "badge--pass" in tech_sme and "badge--manual" in tech_sme
    assert "Evaluation score (100 points)" in tech_sme and "Pass mark" in tech_sme
    assert re.search(r"Technical staff</th>\s*<td class=\"num\">20</td>", tech_sme)
    assert re.search(r"Total</th>\s*<td class=\"num\">100</td>", tech_sme)
    champion = html[html.index('id="tier-champion-srdi"') :]
    assert "Not eligible yet" in champion and "/applications/new" not in champion
    assert "off the ladder" in champion  # its prerequisite rung is not held
    # Both routes of the rung, each with the criteria version it is judged by.
    assert "route: Specialised and innovative SME" in champion
    assert "route: Manufacturing single champion" in champion
    assert "Criteria in force from 2023-09-14." in champion
    assert "Criteria in force from 2016-01-01." in html  # high_tech
    zh = signed_in.get("/enterprise/eligibility?lang=zh").text
    assert "科技型中小企业评价得分" in zh and "职工总数" in zh
    assert "认定途径：专精特新中小企业" in zh and "认定途径：制造业单项冠军" in zh
    assert "认定条件自 2023-09-14 起生效。" in zh


def test_self_check_says_the_champion_rules_in_words(signed_in, owner, session, make):
    owner.founded_on = date(2015, 1, 1)
    make.eligible_report(owner, LAST)
    session.commit()

    def champion(lang):
        html = signed_in.get(f"/enterprise/eligibility?lang={lang}").text
        panel = html[html.index('id="tier-champion-srdi"') :]
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", panel))

    off = champion("en")
    assert "Holds Technology-based SME or a higher rung No: off the ladder" in off
    assert "rung 1" not in off and "≥ 1 " not in off
    ladder.grant_tier(session, owner, "tech_sme", actor=TEST_ACTOR, reason="test")
    session.commit()
    held = champion("en")
    assert "Holds Technology-based SME or a higher rung Yes: holds Technology-based SME" in held
    assert "5,000 × 10,000 yuan: met by revenue" in held
    assert "An SRDI score of at least 60 of 100, or a direct route" in held
    zh = champion("zh")
    assert "已认定为科技型中小企业或更高梯度 是：现为科技型中小企业" in zh
    assert "5,000 万元：按营业收入达到" in zh


@pytest.mark.parametrize(
    ("lang", "row"),
    [("en", "R&amp;D expense to revenue"), ("zh", "研发费用占营业收入比例")],
)
def test_self_check_shows_a_ratio_as_the_rule_reads_it(signed_in, owner, session, make, lang, row):
    # 2.99999997 % is short of "≥ 3 %": it shows 2.99 %, never 3 %, beside "Not met".
    report = make.eligible_report(owner, LAST)
    report.rd_expense, report.revenue = 299_999_997, 10_000_000_000
    session.commit()
    html = signed_in.get(f"/enterprise/eligibility?lang={lang}").text
    champion = html[html.index('id="tier-champion-srdi"') :]
    line = champion[champion.index(row) : champion.index("</tr>", champion.index(row))]
    cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", line)]
    assert cells == ["Not met" if lang == "en" else "不符合", "≥ 3%", "2.99%"]


def test_self_check_without_reports_is_unknown(signed_in):
    html = signed_in.get("/enterprise/eligibility?lang=en").text
    assert "badge--unknown" in html and "Figures missing" in html
    assert "No annual report on file" in html and 'href="/enterprise/reports"' in html
    assert "/applications/new" not in html


def test_self_check_of_a_holder_offers_renewal_and_the_rungs_above(signed_in, owner, session):
    ladder.grant_tier(session, owner, "high_tech", actor=TEST_ACTOR, reason="test")
    session.commit()
    html = signed_in.get("/enterprise/eligibility?lang=en").text
    sections = re.findall(r'<section class="panel" aria-labelledby="tier-([\w-]+)">', html)
    assert sections == ["high_tech", "champion-srdi", "champion-single_champion"]
    assert "Renewal of High-tech enterprise" in html
