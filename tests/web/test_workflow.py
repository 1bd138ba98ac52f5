"""The whole workflow in a real browser, as people use it (issue: web workflow).

An enterprise signs up (简体中文), fills its profile and two years of figures, sees its
self-check and applies for tech_sme with an attachment; a reviewer (English) claims,
verifies the new enterprise when the approval asks for it, and approves; the
application appears on the public notice page; an objection is filed and dismissed;
``tick`` past the notice end grants the tier and the home page's holder count
rises by one. Then a champion application needing two approvals: the same reviewer
cannot approve twice, a second reviewer can. The enterprise's name is an HTML payload
throughout: every page shows it literally and no dialog ever opens (S9).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from registry.accounts.models import Role
from registry.applications.models import Application, State
from registry.core import clock
from registry.enterprises.models import Enterprise
from registry.ladder import operations as ladder
from tests.factories import ELIGIBLE_FIGURES, PASSWORD, TEST_ACTOR, new_uscc
from tests.fixtures.api import PDF
from tests.fixtures.browser import sign_in

pytestmark = pytest.mark.browser

NAME = "<img src=x onerror=alert(1)>赣江{{7*7}}科技有限公司"


def state_of(session, application_id: int) -> tuple[State, int, object]:
    """The application's state, approvals and notice end, read in a transaction that
    ends at once: an open transaction would hold SQLite's lock against the server."""
    application = session.get(Application, application_id)
    session.refresh(application)
    facts = (application.state, len(application.approvals()), application.notice_ends_at)
    session.rollback()
    return facts


def open_page(new_page, dialogs, lang="zh"):
    page = new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    if lang == "en":
        page.goto("/?lang=en")
    return page


def holders(page, tier="tech_sme") -> int:
    page.goto("/")
    card = page.locator(f"section[aria-labelledby='tier-{tier}']")
    return int(card.locator(".figures__item dd").first.inner_text())


def approve(page, application_id):
    """Tick every manual check, choose approve and record the decision."""
    page.goto(f"/review/applications/{application_id}")
    decision = page.locator(f"form[action$='/applications/{application_id}/decision']")
    decision.locator("input[value=approve]").check()
    for box in decision.locator("input[type=checkbox]").all():
        box.check()
    decision.locator("button[type=submit]").click()


# The journeys (test_journeys.py) walk this path in make test; this longer form runs in
# make test-long.
@pytest.mark.slow
def test_from_sign_up_to_the_published_list(app, session, new_page, runner, make):
    make.user("wang@review.example", Role.REVIEWER, password=PASSWORD, name="Reviewer Wang")
    session.commit()
    dialogs: list[str] = []
    public = open_page(new_page, dialogs)
    before = holders(public)

    # The enterprise, in Chinese: sign-up, profile, two years of figures, self-check.
    firm = open_page(new_page, dialogs)
    uscc = new_uscc()
    firm.goto("/signup")
    for field, value in {
        "email": "owner@example.com",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "uscc": uscc,
        "enterprise_name": NAME,
    }.items():
        firm.fill(f"#{field}", value)
    firm.locator("form.form button[type=submit]").click()
    expect(firm.locator("html")).to_have_attribute("lang", "zh-Hans")
    expect(firm.locator("main")).to_contain_text(NAME)
    expect(firm.locator("main")).to_contain_text("未核实")

    firm.goto("/enterprise/profile")
    firm.select_option("#industry_code", "electronic_info")
    firm.fill("#founded_on", "2015-03-02")
    firm.fill("#contact_name", "张经理")
    firm.locator("form.form button[type=submit]").click()
    expect(firm.locator(".flash")).to_be_visible()

    last_year = clock.today().year - 1
    for year in (last_year, last_year - 1):
        firm.goto(f"/enterprise/reports/{year}")
        for field, value in ELIGIBLE_FIGURES.items():
            firm.fill(f"#{field}", value)
        firm.locator("form.form button[type=submit]").click()
        expect(firm.locator(".flash")).to_be_visible()
    reports = session.scalars(select(Enterprise).where(Enterprise.uscc == uscc)).one().reports
    assert [r.revenue for r in reports] == [50_000_000, 50_000_000]  # 5000 万元, exactly
    session.rollback()

    firm.goto("/enterprise/eligibility")
    expect(firm.locator("main")).to_contain_text("科技型中小企业")
    firm.locator("a[href='/applications/new']").first.click()

    # The wizard: tech_sme, an attachment, the declaration, submit.
    firm.check("input[name=target][value='promotion:tech_sme']")
    firm.locator("form.form button[type=submit]").click()
    expect(firm).to_have_url(re.compile(r"/applications/\d+$"))
    application_id = int(firm.url.rsplit("/", 1)[1])
    firm.set_input_files(
        "#file", files=[{"name": "财务报表.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    firm.locator("form[enctype='multipart/form-data'] button[type=submit]").click()
    expect(firm.locator("main")).to_contain_text("财务报表.pdf")
    firm.check("#declaration")
    firm.locator(f"form[action$='/applications/{application_id}/submit'] button").click()
    expect(firm.locator("main")).to_contain_text("已提交")

    # The reviewer, in English: the queue shows the unverified mark; claim, approve.
    desk = open_page(new_page, dialogs, lang="en")
    sign_in(desk, "wang@review.example")
    desk.goto("/review")
    row = desk.locator("tr", has_text=uscc)
    expect(row).to_contain_text(NAME)
    expect(row.locator(".badge--unverified")).to_be_visible()
    row.locator(f"a[href='/review/applications/{application_id}']").first.click()
    expect(desk.locator("a[href^='/attachments/']")).to_have_count(1)
    desk.locator(f"form[action$='/applications/{application_id}/claim'] button").click()
    # A web sign-up is approved only once verified: the refusal leads to the verification.
    approve(desk, application_id)
    expect(desk.locator(".error-summary")).to_contain_text("is not verified yet")
    desk.locator("#verify-first a").click()
    desk.locator(f"form[action$='/enterprises/{uscc}/verification'] button").click()
    expect(desk.locator(".flash")).to_contain_text("verified")
    approve(desk, application_id)
    expect(desk.locator(".flash")).to_contain_text("notice")
    state, _approvals, notice_ends_at = state_of(session, application_id)
    assert state == State.IN_NOTICE

    # The public notice: the application is there; an objection is filed.
    public.goto("/notices")
    notice = public.locator(f"#application-{application_id}")
    expect(notice).to_contain_text(NAME)
    expect(notice).to_contain_text(uscc)
    notice.locator("summary").click()  # the form opens under its summary
    prefix = f"#objection-{application_id}-"
    public.fill(prefix + "name", "李四")
    public.fill(prefix + "contact", "lisi@example.com")
    public.fill(prefix + "grounds", "研发费用数据存疑。")
    notice.locator("button[type=submit]").click()
    expect(public.locator(".flash")).to_be_visible()

    # The reviewer dismisses it; the enterprise sees grounds and outcome, not who.
    desk.goto("/review/objections")
    objection = desk.locator("section[id^='objection-']").first
    expect(objection).to_contain_text("lisi@example.com")
    objection.locator("input[value=dismissed]").check()
    objection.locator("textarea").fill("Figures checked against the audit report.")
    objection.locator("button[type=submit]").click()
    expect(desk.locator(".flash")).to_be_visible()
    firm.goto(f"/applications/{application_id}")
    expect(firm.locator("main")).to_contain_text("研发费用数据存疑。")
    expect(firm.locator("main")).not_to_contain_text("lisi@example.com")

    # tick after the end of the notice grants the tier: one more holder on the home page.
    after_end = notice_ends_at + timedelta(minutes=1)
    result = runner.invoke(args=["registry", "tick", "--now", after_end.isoformat()])
    assert result.exit_code == 0, result.output
    assert holders(public) == before + 1
    public.goto("/tiers/tech_sme")
    expect(public.locator("main")).to_contain_text(NAME)
    assert dialogs == []


def test_a_champion_needs_two_different_reviewers(app, session, make, new_page):
    enterprise = make.enterprise(name=NAME, founded_on=date(2015, 1, 1))
    last_year = clock.today().year - 1
    for year in (last_year - 2, last_year - 1, last_year):
        make.eligible_report(enterprise, year)
    ladder.grant_tier(session, enterprise, "tech_sme", actor=TEST_ACTOR, reason="held")
    owner = make.user("owner@example.com", password=PASSWORD, enterprise=enterprise)
    make.user("wang@review.example", Role.REVIEWER, password=PASSWORD, name="Reviewer Wang")
    make.user("li@review.example", Role.REVIEWER, password=PASSWORD, name="Reviewer Li")
    application = make.application(enterprise, owner, "champion", submitted=True)
    session.commit()
    application_id = application.id
    session.rollback()
    dialogs: list[str] = []

    wang = open_page(new_page, dialogs, lang="en")
    sign_in(wang, "wang@review.example")
    wang.goto(f"/review/applications/{application_id}")
    wang.locator(f"form[action$='/applications/{application_id}/claim'] button").click()
    approve(wang, application_id)
    expect(wang.locator(".flash")).to_be_visible()
    approve(wang, application_id)  # the same reviewer again: refused, nothing changes
    expect(wang.locator("main")).to_contain_text("already approved")
    assert state_of(session, application_id)[:2] == (State.IN_REVIEW, 1)

    li = open_page(new_page, dialogs)  # the second reviewer works in Chinese
    sign_in(li, "li@review.example")
    approve(li, application_id)
    expect(li.locator(".flash")).to_contain_text("公示")
    assert state_of(session, application_id)[0] == State.IN_NOTICE
    assert dialogs == []


# The usability walk (test_usability.py) holds every page to U3 in make test.
@pytest.mark.slow
def test_working_pages_fit_a_phone(app, session, make, new_page):
    """Every page of the three audiences is usable at 375 px: nothing wider than the
    screen (tables scroll inside their panel)."""
    long_name = "江西省赣江新区超长名称示范光电子信息与智能装备制造科技股份有限公司"
    enterprise = make.enterprise(name=long_name, founded_on=date(2015, 1, 1))
    last_year = clock.today().year - 1
    for year in (last_year - 1, last_year):
        make.eligible_report(enterprise, year)
    owner = make.user("owner@example.com", password=PASSWORD, enterprise=enterprise)
    make.user("wang@review.example", Role.REVIEWER, password=PASSWORD, name="Reviewer Wang")
    make.user("admin@example.com", Role.ADMIN, password=PASSWORD)
    application = make.application(enterprise, owner, submitted=True)
    session.commit()
    application_id, uscc = application.id, enterprise.uscc
    session.rollback()
    pages = {
        "owner@example.com": [
            "/account",
            "/enterprise/profile",
            "/enterprise/reports",
            f"/enterprise/reports/{last_year}",
            "/enterprise/eligibility",
            "/applications",
            f"/applications/{application_id}",
        ],
        "wang@review.example": [
            "/review",
            f"/review/applications/{application_id}",
            "/review/enterprises",
            f"/review/enterprises/{uscc}",
            "/review/objections",
            "/review/account-claims",
            "/review/nominate",
        ],
        "admin@example.com": [
            "/admin/users",
            "/admin/tiers",
            "/admin/tiers/tech_sme",
            "/admin/audit",
        ],
    }
    for email, paths in pages.items():
        page = new_page(width=375, height=740)
        sign_in(page, email)
        for path in paths:
            for lang in ("zh", "en"):
                response = page.goto(f"{path}?lang={lang}")
                assert response.status == 200, path
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= 375, f"{path} ({lang}) is {width} px wide"
