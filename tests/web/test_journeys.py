"""The registry's three journeys in a real browser, as people take them (issue 12), at
375 px and 1280 px in both languages, each step kept as a screenshot for people to
look at (tests.web.journeys.Album: ``tmp/screenshots/`` or ``$SCREENSHOTS_DIR``).

- The enterprise signs up, completes its profile, files last year's figures, opens the
  self-check and submits a tech_sme application with the declaration.
- The reviewers: one verifies the new enterprise, claims its application, ticks the
  checks to confirm and approves (tech_sme needs one approval): the notice opens.
- The public: a visitor finds the application on the notice page and objects; a
  reviewer upholds the objection after its confirmation page; the admin looks at the
  users, a tier and the audit log.

Each walk asserts what a person sees at each step (the next-step block, the
confirmation page, the state's badge), the page's language, and at 375 px that no
page scrolls sideways. ``make test`` walks each journey once, the languages and widths
taking turns; ``make test-long`` walks each in all four.
"""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from registry.accounts.models import Role
from registry.applications import decisions
from registry.applications import operations as apps
from registry.core import clock
from tests.factories import PASSWORD, new_uscc
from tests.fixtures.api import TSME_CHECKS
from tests.web.journeys import (
    PHONE,
    Album,
    Person,
    complete_profile,
    cut_off,
    file_figures,
    open_self_check,
    said,
    sign_in,
    sign_up,
    start_application,
    submit_application,
)

pytestmark = pytest.mark.browser

WIDTHS = (PHONE, 1280)
LANGS = ("zh", "en")
#: The walk of each journey in ``make test``; the other three are slow.
QUICK = {"enterprise": ("zh", PHONE), "reviewers": ("en", 1280), "public": ("zh", PHONE)}
#: The tier's name as the seed gives it.
TECH_SME = {"zh": "科技型中小企业", "en": "Technology-based SME"}
REVIEWER, SECOND, ADMIN = "wang@review.example", "li@review.example", "admin@registry.example"


def walks(journey: str) -> list:
    """The four (language, width) walks of ``journey``, all but one marked slow."""
    return [
        pytest.param(
            lang,
            width,
            marks=[] if QUICK[journey] == (lang, width) else [pytest.mark.slow],
            id=f"{lang}-{width}",
        )
        for lang in LANGS
        for width in WIDTHS
    ]


def opened(new_page, width: int, **kwargs) -> Person:
    """A person at a browser window ``width`` px wide, with the pointer."""
    return Person(new_page(width=width), **kwargs)


def signed_in(new_page, width: int, email: str, lang: str) -> Person:
    """A person at a browser window ``width`` px wide, signed in as ``email`` in
    ``lang``."""
    person = opened(new_page, width)
    sign_in(person, email, lang)
    return person


def an_applicant(make, session, *, verified: bool):
    """An enterprise with its profile and last year's eligible figures, whose user has
    submitted a tech_sme application; returns (enterprise, application)."""
    enterprise = make.enterprise(
        name="赣江光电科技有限公司",
        name_en="Ganjiang Photonics Co., Ltd.",
        verified=verified,
        founded_on=date(2015, 3, 2),
        contact_name="张经理",
        contact_phone="0791-88888888",
    )
    make.eligible_report(enterprise, clock.today().year - 1)
    owner = make.user("owner@ganjiang.example", password=PASSWORD, enterprise=enterprise)
    application = make.application(enterprise, owner, submitted=True)
    return enterprise, application


# --- the enterprise ---------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "width"), walks("enterprise"))
def test_the_enterprise_signs_up_and_applies(app, new_page, lang, width):
    album = Album("enterprise", lang, width)
    firm = opened(new_page, width)
    page = firm.page

    sign_up(
        firm, lang, email="owner@ganjiang.example", uscc=new_uscc(), name="赣江光电科技有限公司"
    )
    expect(page.locator("[data-step=profile] .badge--pending")).to_be_visible()
    album.shoot(page, "signed-up")

    complete_profile(firm)
    expect(page.locator(".flash")).to_be_visible()
    album.shoot(page, "profile-saved")

    last_year = clock.today().year - 1
    file_figures(firm, last_year)
    # The figures meet tech_sme: the self-check's step is done, applying comes next.
    expect(page.locator("[data-next-step]")).to_contain_text(
        said(app, lang, "Start an application")
    )
    album.shoot(page, "figures-filed")
    assert cut_off(page, "main table") == []  # the years on file, on a phone too

    open_self_check(firm)
    album.shoot(page, "self-check")

    application_id = start_application(firm)
    expect(page.locator("[data-next-step]")).to_be_visible()
    album.shoot(page, "draft")

    submit_application(firm, application_id)
    expect(page.locator(".page-head .badge--submitted")).to_have_text(said(app, lang, "Submitted"))
    album.shoot(page, "submitted")

    firm.go("/account")
    steps = page.locator("[data-next-step] [data-step]")
    expect(steps).to_have_count(4)
    expect(page.locator("[data-next-step] [data-done=false]")).to_have_count(0)
    album.shoot(page, "every-step-done")


# --- the reviewers ----------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "width"), walks("reviewers"))
def test_a_reviewer_verifies_claims_and_approves(app, session, make, new_page, lang, width):
    enterprise, application = an_applicant(make, session, verified=False)
    make.user(REVIEWER, Role.REVIEWER, password=PASSWORD, name="Reviewer Wang")
    session.commit()
    application_id, uscc = application.id, enterprise.uscc
    session.rollback()
    album = Album("reviewers", lang, width)
    in_the_queue = f"a[href='/review/applications/{application_id}']"

    desk = signed_in(new_page, width, REVIEWER, lang)
    page = desk.page
    expect(page).to_have_url(f"{page.url.split('/review')[0]}/review")
    row = page.locator("tr", has=page.locator(in_the_queue))
    expect(row.locator(".badge--unverified")).to_be_visible()
    expect(row.locator(".badge--submitted")).to_be_visible()
    album.shoot(page, "queue")

    desk.press(in_the_queue)
    expect(page.locator(".page-head .badge--submitted")).to_be_visible()
    album.shoot(page, "application")

    desk.press(f"form[action$='/applications/{application_id}/claim'] button[type=submit]")
    expect(page.locator("[data-next-step]")).to_contain_text(said(app, lang, "Go to the decision"))
    expect(page.locator(".page-head .badge--in_review")).to_be_visible()
    # The final approval waits for the verification: the decision says so and links to it.
    expect(page.locator("#verify-first")).to_be_visible()
    album.shoot(page, "claimed")

    desk.press("#verify-first a")
    desk.press(f"form[action$='/enterprises/{uscc}/verification'] button[type=submit]")
    expect(page.locator(".flash")).to_have_text(
        said(app, lang, "The enterprise is marked as verified.")
    )
    expect(page.locator(".badge--unverified")).to_have_count(0)
    album.shoot(page, "verified")

    desk.press("nav a[href='/review']")
    desk.press(in_the_queue)
    expect(page.locator("#verify-first")).to_have_count(0)
    decision = f"form[action$='/applications/{application_id}/decision']"
    desk.choose(f"{decision} input[value=approve]")
    for code in TSME_CHECKS:
        desk.tick(f"{decision} #confirm_{code}")
    album.shoot(page, "decision")
    desk.press(f"{decision} button[type=submit]")
    expect(page.locator(".page-head .badge--in_notice")).to_be_visible()
    expect(page.locator("[data-next-step]")).to_contain_text(
        said(app, lang, "Open the public notice")
    )
    album.shoot(page, "approved")

    desk.press("[data-next-step] a.next-step__link")
    expect(page.locator(f"#application-{application_id}")).to_contain_text(uscc)
    album.shoot(page, "notice")


# --- the public, a reviewer and the admin -----------------------------------------------


@pytest.mark.parametrize(("lang", "width"), walks("public"))
def test_the_public_objects_and_the_admin_looks_on(app, session, make, new_page, lang, width):
    enterprise, application = an_applicant(make, session, verified=True)
    deciding = make.user(SECOND, Role.REVIEWER, password=PASSWORD, name="Reviewer Li")
    make.user(REVIEWER, Role.REVIEWER, password=PASSWORD, name="Reviewer Wang")
    make.user(ADMIN, Role.ADMIN, password=PASSWORD, name="Admin Zhao")
    apps.claim(session, application, user=deciding, via="web")
    decisions.decide(
        session, application, "approve", user=deciding, via="web", manual_checks=TSME_CHECKS
    )
    session.commit()
    application_id, uscc = application.id, enterprise.uscc
    session.rollback()
    album = Album("public", lang, width)

    # A visitor finds the application on the public notice and objects.
    visitor = opened(new_page, width)
    page = visitor.page
    visitor.go(f"/?lang={lang}")
    visitor.press("nav a[href='/notices']")
    notice = f"#application-{application_id}"
    expect(page.locator(notice)).to_contain_text(uscc)
    album.shoot(page, "notices")
    visitor.press(f"{notice} summary", navigates=False)
    prefix = f"#objection-{application_id}-"
    visitor.type_into(prefix + "name", "李四")
    visitor.type_into(prefix + "contact", "lisi@example.com")
    visitor.type_into(prefix + "grounds", "研发费用数据与审计报告不一致。")
    album.shoot(page, "objection-form")
    visitor.press(f"{notice} button[type=submit]")
    expect(page.locator(".flash")).to_be_visible()
    expect(page.locator("[data-next-step]")).to_be_visible()
    album.shoot(page, "objection-filed")

    # A reviewer upholds it: a page of its own asks first.
    desk = signed_in(new_page, width, REVIEWER, lang)
    page = desk.page
    desk.press("nav a[href='/review/objections']")
    objection = page.locator("section[id^='objection-']", has_text=uscc)
    expect(objection).to_contain_text("lisi@example.com")
    form = f"section#{objection.get_attribute('id')} form"
    desk.choose(f"{form} input[value=upheld]")
    desk.type_into(f"{form} textarea", "核实属实，研发费用不符合要求。")
    album.shoot(page, "objections")
    desk.press(f"{form} button[type=submit]")
    expect(page.locator("[data-confirm]")).to_be_visible()
    album.shoot(page, "confirm-uphold")
    desk.press("[data-confirm] button[type=submit]")
    expect(page.locator("[data-next-step]")).to_be_visible()
    expect(page.locator(".flash")).to_contain_text(
        said(
            app, lang, "The objection is upheld: application %(id)s is rejected.", id=application_id
        )
    )
    album.shoot(page, "upheld")
    desk.go(f"/review/applications/{application_id}")
    expect(page.locator(".page-head .badge--rejected")).to_be_visible()
    album.shoot(page, "rejected")

    # The admin looks at the users, a tier and the audit log.
    admin = signed_in(new_page, width, ADMIN, lang)
    page = admin.page
    admin.press("nav a[href='/admin/users']")
    expect(page.locator("main table")).to_contain_text("owner@ganjiang.example")
    album.shoot(page, "users")
    assert cut_off(page, "main table") == []  # every column of a user seen, on a phone too
    admin.press("nav a[href='/admin/tiers']")
    admin.press("main a[href='/admin/tiers/tech_sme']")
    expect(page.locator("main h1")).to_have_text(TECH_SME[lang])
    album.shoot(page, "tier")
    admin.press("nav a[href='/admin/audit']")
    expect(page.locator("main")).to_contain_text("Reviewer Wang")
    album.shoot(page, "audit")
