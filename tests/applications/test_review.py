"""The reviewers' pages: queue, application and decisions, nominations, enterprises
with their ladder moves, account claims (PRODUCT.md "The ladder", "Applications and review", "Web
pages"; QUALITY.md S4)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from registry.accounts import operations as accounts
from registry.accounts.models import AccountClaim, ClaimState, Role
from registry.applications import decisions
from registry.applications import operations as apps
from registry.applications.models import Application, Decision, State
from registry.core import clock
from registry.core.models import AuditEntry
from registry.extensions import db
from registry.ladder import operations as ladder
from registry.ladder.models import CalendarYear
from tests.conftest import make_app
from tests.factories import PASSWORD, TEST_ACTOR
from tests.pages import field_error

NOW = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)  # Wed 2026-03-04 in Shanghai
TSME_CHECKS = {"confirm_industry_allowed": "y", "confirm_clean_record": "y"}


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.pinned(NOW):
        yield


def text(response) -> str:
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def world(auth, session, make):
    """An enterprise eligible for tech_sme (unverified, signed up on the web) with its
    user, and three reviewers, each with a signed-in client."""
    a = make.enterprise(name="赣江甲科技有限公司", founded_on=date(2015, 1, 1), verified=False)
    for year in (2023, 2024, 2025):
        make.eligible_report(a, year)
    owner = make.user("owner@a.example", enterprise=a, name="甲公司经办人")
    people = {
        name: make.user(f"{name}@review.example", Role.REVIEWER, name=f"Reviewer {name}")
        for name in ("wang", "li")
    }
    session.commit()
    return {
        "a": a,
        "owner": owner,
        **people,
        # English: the pages' English texts are asserted; zh is asked for by ?lang=zh.
        "clients": {name: auth.client_of(user) for name, user in people.items()},
        "owner_client": auth.client_of(owner),
    }


def submitted(session, world, tier="tech_sme") -> Application:
    """The enterprise's own application, submitted with the declaration."""
    application = apps.create(
        session, world["a"], tier, "promotion", user=world["owner"], via="web"
    )
    apps.submit(session, application, user=world["owner"], via="web", declaration=True)
    session.commit()
    return application


def page_of(application) -> str:
    return f"/review/applications/{application.id}"


def verify(world) -> None:
    """A reviewer verifies the web sign-up's enterprise on its page, as the final
    approval needs (PRODUCT.md "Applications and review", verified first)."""
    response = world["clients"]["li"].post(f"/review/enterprises/{world['a'].uscc}/verification")
    assert response.status_code == 303


def decide(client, application, **data):
    return client.post(page_of(application) + "/decision?lang=en", data=data)


def claim_and_approve(client, application, lang: str):
    """The reviewer of ``client`` leads the review of ``application`` and approves it
    (tech_sme's manual checks confirmed) on its page in ``lang``; the answer."""
    client.post(page_of(application) + "/claim")
    return client.post(
        page_of(application) + f"/decision?lang={lang}",
        data={"decision": "approve", **TSME_CHECKS},
    )


def transitions(session, application, action) -> int:
    return session.scalar(
        select(func.count()).where(
            AuditEntry.object_type == "application",
            AuditEntry.object_id == str(application.id),
            AuditEntry.action == f"application.{action}",
        )
    )


# --- access ------------------------------------------------------------------------------

PAGES = ["/review", "/review/nominate", "/review/enterprises", "/review/account-claims"]


def test_every_review_page_is_for_reviewers_only(app, session, world):
    application = submitted(session, world)
    uscc = world["a"].uscc
    gets = [*PAGES, page_of(application), f"/review/enterprises/{uscc}"]
    posts = [
        page_of(application) + "/claim",
        page_of(application) + "/decision",
        page_of(application) + "/submission",
        page_of(application) + "/withdrawal",
        "/review/nominate",
        f"/review/enterprises/{uscc}/demotion",
        f"/review/enterprises/{uscc}/revocation",
        f"/review/enterprises/{uscc}/verification",
        "/review/account-claims/1/decision",
    ]
    anonymous = app.test_client()
    for url in gets:
        response = anonymous.get(url)
        assert response.status_code == 303, url
        assert response.headers["Location"].startswith("/login?next=")
    for url in posts:
        assert anonymous.post(url).status_code == 303, url
    owner = world["owner_client"]
    for url in gets:
        response = owner.get(url)
        assert response.status_code == 403, url
        assert "赣江甲科技有限公司" not in text(response)
    for url in posts:
        assert owner.post(url, data={"decision": "approve"}).status_code == 403, url
    assert application.state == State.SUBMITTED
    assert world["a"].verified is False


def test_reviewers_land_on_the_queue_and_see_the_navigation(app, session, world, make, auth):
    make.user("zhao@review.example", Role.REVIEWER, password=PASSWORD)
    session.commit()
    client = app.test_client()
    response = auth.login("zhao@review.example", client=client)
    assert response.headers["Location"] == "/review"
    html = text(client.get("/review?lang=en"))
    for label, url in [
        ("Queue", "/review"),
        ("Nominate", "/review/nominate"),
        ("Enterprises", "/review/enterprises"),
        ("Account claims", "/review/account-claims"),
    ]:
        assert f'href="{url}"' in html and label in html
    assert 'href="/review"' not in text(world["owner_client"].get("/account"))


# --- queue -------------------------------------------------------------------------------


def test_queue_lists_waiting_applications_with_the_unverified_mark(session, make, world):
    application = submitted(session, world)
    verified = make.enterprise(name="已核验企业", founded_on=date(2015, 1, 1))
    make.eligible_report(verified, 2025)
    nominated = apps.create(session, verified, "tech_sme", "promotion", user=world["li"], via="web")
    session.commit()
    client = world["clients"]["wang"]
    response = client.get("/review?lang=zh")
    html = text(response)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "科技型中小企业" in html  # tier names are data, in the page language
    assert "赣江甲科技有限公司" in html and world["a"].uscc in html
    assert html.count("badge--unverified") == 1
    assert "2026-03-04" in html
    assert f'href="{page_of(application)}"' in html
    # A draft waits for nobody: not in the default queue, found under its state.
    assert "已核验企业" not in html
    assert "已核验企业" in text(client.get("/review?state=draft"))
    assert f'href="{page_of(nominated)}"' in text(client.get("/review?state=all"))
    # The counts table: one submitted tech_sme, one draft tech_sme, each a link.
    raw = response.get_data(as_text=True)
    assert 'href="/review?state=submitted&amp;tier=tech_sme">1</a>' in raw
    assert 'href="/review?state=draft&amp;tier=tech_sme">1</a>' in raw
    assert 'href="/review?state=in_review&amp;tier=tech_sme">' not in raw  # zero: no link


def test_queue_filters_on_the_page(app, session, make, world):
    first = submitted(session, world)
    other = make.enterprise(name="赣州乙公司", city_code="360700", founded_on=date(2015, 1, 1))
    make.eligible_report(other, 2025)
    other_user = make.user("owner@b.example", enterprise=other)
    second = make.application(other, other_user, submitted=True)
    apps.claim(session, second, user=world["wang"], via="web")
    session.commit()
    client = world["clients"]["wang"]

    def listed(query):
        response = client.get("/review" + query)
        assert response.status_code == 200, query
        return set(re.findall(r'href="/review/applications/(\d+)"', response.get_data(True)))

    both = {str(first.id), str(second.id)}
    assert listed("") == both
    assert listed("?city=360700") == {str(second.id)}
    assert listed("?assignee=me") == {str(second.id)}
    assert listed("?assignee=none") == {str(first.id)}
    assert listed("?state=in_review") == {str(second.id)}
    assert listed("?tier=high_tech") == set()
    assert listed("?state=all&tier=tech_sme") == both
    # Someone else's "me" is not mine.
    assert (
        re.findall(
            r'href="/review/applications/(\d+)"',
            world["clients"]["li"].get("/review?assignee=me").get_data(True),
        )
        == []
    )
    html = text(client.get("/review?assignee=me&state=in_review"))
    assert "Reviewer wang" in html


def listed_ids(client, query) -> list[int]:
    response = client.get("/review" + query)
    assert response.status_code == 200, query
    return [int(i) for i in re.findall(r'href="/review/applications/(\d+)"', response.text)]


def applicant(make, name, *, years=(2025,)):
    """Another enterprise eligible for tech_sme, with its user."""
    enterprise = make.enterprise(name=name, founded_on=date(2015, 1, 1))
    for year in years:
        make.eligible_report(enterprise, year)
    return enterprise, make.user(f"owner@{enterprise.uscc}.example", enterprise=enterprise)


@pytest.fixture
def approvals_world(session, make, world):
    """Four applications waiting for reviewers, as wang and li see them:

    * ``led``: tech_sme in review, led by wang, no approval yet;
    * ``half``: champion in review, led by wang who approved it (1 of 2);
    * ``nominated``: li's nomination (li created and submitted it), led by wang;
    * ``waiting``: tech_sme submitted, nobody leads it yet;
    * ``own_lead``: wang's nomination, led by wang, who may not approve it himself.
    """
    wang, li = world["wang"], world["li"]
    led = submitted(session, world)
    apps.claim(session, led, user=wang, via="web")
    b, b_owner = applicant(make, "乙公司", years=(2023, 2024, 2025))
    ladder.grant_tier(session, b, "tech_sme", actor=TEST_ACTOR, reason="held")
    half = make.application(b, b_owner, "champion", submitted=True)
    apps.claim(session, half, user=wang, via="web")
    decisions.decide(
        session, half, "approve", user=wang, via="web", manual_checks={"srdi_score": True}
    )
    c, _ = applicant(make, "丙公司")
    nominated = apps.create(session, c, "tech_sme", "promotion", user=li, via="web")
    apps.submit(session, nominated, user=li, via="web")
    apps.claim(session, nominated, user=wang, via="web")
    d, d_owner = applicant(make, "丁公司")
    waiting = make.application(d, d_owner, submitted=True)
    e, _ = applicant(make, "戊公司")
    own_lead = apps.create(session, e, "tech_sme", "promotion", user=wang, via="web")
    apps.submit(session, own_lead, user=wang, via="web")
    apps.claim(session, own_lead, user=wang, via="web")
    session.commit()
    return {
        "led": led.id,
        "half": half.id,
        "nominated": nominated.id,
        "waiting": waiting.id,
        "own_lead": own_lead.id,
    }


def test_queue_shows_the_approval_progress(world, approvals_world):
    def progress(lang):
        html = text(world["clients"]["li"].get(f"/review?lang={lang}"))
        found = {}
        for row in html.split("<tr")[1:]:
            link = re.search(r'href="/review/applications/(\d+)"', row)
            if link:
                shown = re.search(r'class="approvals">([^<]+)<', row)
                found[int(link.group(1))] = shown.group(1) if shown else None
        return found

    ids = approvals_world
    assert progress("en") == {
        ids["led"]: "Approvals 0/1",
        ids["half"]: "Approvals 1/2",
        ids["nominated"]: "Approvals 0/1",
        ids["waiting"]: "Approvals 0/1",
        ids["own_lead"]: "Approvals 0/1",
    }
    assert progress("zh")[ids["half"]] == "审核通过 1/2"


def test_queue_filters_by_approvals(world, approvals_world):
    ids = approvals_world
    wang, li = world["clients"]["wang"], world["clients"]["li"]
    # wang leads "led" and may approve it and the nomination; "half" he has approved.
    assert listed_ids(wang, "?approval=mine") == [ids["led"], ids["nominated"]]
    # li: "half" waits for a second approval, which anyone but wang may give, and
    # "own_lead" for someone else than its lead; "led" waits for wang, its lead; the
    # nomination is li's own (four eyes).
    assert listed_ids(li, "?approval=mine") == [ids["half"], ids["own_lead"]]
    assert listed_ids(wang, "?approval=second") == [ids["half"]]
    assert listed_ids(li, "?approval=second") == [ids["half"]]
    # Combined with the other filters, and kept by the links of the page.
    assert listed_ids(wang, "?approval=mine&tier=champion") == []
    assert listed_ids(li, "?approval=mine&tier=champion") == [ids["half"]]
    assert listed_ids(wang, "?approval=mine&assignee=me&state=in_review") == [
        ids["led"],
        ids["nominated"],
    ]
    assert listed_ids(wang, "?approval=second&state=submitted") == []
    html = wang.get("/review?approval=second&lang=zh").text
    assert '<option selected value="second">' in html


@pytest.mark.parametrize(
    "query",
    [
        "?tier=gold",
        "?city=999999",
        "?state=lost",
        "?assignee=boss",
        "?approval=all",
        "?after=not-a-cursor",
    ],
)
def test_invalid_queue_filter_is_422_with_the_error(world, query):
    response = world["clients"]["wang"].get("/review" + query + "&lang=en")
    html = text(response)
    assert response.status_code == 422
    assert "There is a problem" in html
    assert "data-table queue" not in html


def test_queue_pages_with_a_keyset(auth, database_url, session, make, world):
    owners = []
    for n in range(5):
        e = make.enterprise(founded_on=date(2015, 1, 1))
        make.eligible_report(e, 2025)
        owners.append((e, make.user(f"o{n}@x.example", enterprise=e)))
    made = []
    for n, (e, owner) in enumerate(owners):
        with clock.pinned(NOW - timedelta(hours=5 - n)):
            application = make.application(e, owner, submitted=True)
            made.append(str(application.id))
    session.commit()
    small = make_app(database_url, PAGE_SIZE=2)
    try:
        client = auth.client_of(world["wang"], client=small.test_client())
        seen, url = [], "/review?assignee=none"
        while url:
            response = client.get(url)
            assert response.status_code == 200
            html = response.get_data(as_text=True)
            seen += re.findall(r'href="/review/applications/(\d+)"', html)
            found = re.search(r'<a class="pager__link" href="([^"]+)" rel="next">', html)
            url = unescape(found.group(1)) if found else None
            if url:
                assert "assignee=none" in url  # the filters stay on the next page
        assert seen == made  # oldest submission first, each once
    finally:
        with small.app_context():
            db.engine.dispose()


# --- one application ---------------------------------------------------------------------


def test_application_page_shows_what_a_reviewer_needs(session, world):
    application = submitted(session, world)
    response = world["clients"]["wang"].get(page_of(application) + "?lang=en")
    html = text(response)
    assert response.status_code == 200
    assert "赣江甲科技有限公司" in html and "Unverified" in html
    assert "Technology-based SME" in html
    # The checklist from the snapshot, the manual items with their checkboxes.
    assert "Not in a prohibited or restricted industry" in html
    assert 'name="confirm_industry_allowed"' not in html  # no decision form before a claim
    assert "Claim for review" in html
    # Figures of the latest years, in 万元.
    assert "5,000" in html and "2025" in html and "2023" in html
    # History from the audit log.
    assert "Application created" in html and "Application submitted" in html
    assert "甲公司经办人" in html
    assert 'href="/review/objections"' in html
    zh = text(world["clients"]["wang"].get(page_of(application) + "?lang=zh"))
    assert "科技型中小企业" in zh and "不属于禁止、限制类行业" in zh


def test_claim_then_approve_a_tech_sme_promotion_opens_the_notice(session, world):
    application = submitted(session, world)
    verify(world)
    client = world["clients"]["wang"]
    response = client.post(page_of(application) + "/claim")
    assert response.status_code == 303
    assert response.headers["Location"] == page_of(application)
    html = text(client.get(page_of(application) + "?lang=en"))
    assert "You now lead this review." in html
    assert 'name="confirm_industry_allowed"' in html and 'name="confirm_clean_record"' in html
    assert "Reviewer wang" in html
    response = decide(client, application, decision="approve", comment="ok", **TSME_CHECKS)
    assert response.status_code == 303
    session.expire_all()
    assert application.state == State.IN_NOTICE
    html = text(client.get(page_of(application)))
    # PRODUCT.md "Dates, times and working days": approved Wed 2026-03-04, N = 10 → ends 2026-03-19
    # 00:00 Shanghai: the last day of notice is 2026-03-18, as every page writes it.
    assert "Public notice: 2026-03-04 to 2026-03-18 (the last day included" in html
    assert "2026-03-19" not in html
    assert "ok" in html and "Reviewer wang" in html


def test_manual_checks_must_be_confirmed(session, world):
    application = submitted(session, world)
    client = world["clients"]["wang"]
    client.post(page_of(application) + "/claim")
    response = decide(client, application, decision="approve", confirm_industry_allowed="y")
    assert response.status_code == 422
    assert field_error(response.text, "confirm_clean_record") == (
        "Confirm this check to approve: Clean record this year and last."
    )
    assert field_error(response.text, "confirm_industry_allowed") == ""
    session.expire_all()
    assert application.state == State.IN_REVIEW
    assert transitions(session, application, "approve") == 0


@pytest.mark.parametrize(
    ("lang", "listed"),
    [
        (
            "zh",
            [
                "审核通过前须确认此项：不属于禁止、限制类行业。",
                "审核通过前须确认此项：本年及上年无不良记录。",
            ],
        ),
        (
            "en",
            [
                "Confirm this check to approve: Not in a prohibited or restricted industry.",
                "Confirm this check to approve: Clean record this year and last.",
            ],
        ),
    ],
)
def test_the_manual_checks_refusal_names_them_in_the_pages_language(session, world, lang, listed):
    """Each entry of the error summary names its check, in the page's language, and
    links to its checkbox; no entry says "confirm this" without saying what."""
    application = submitted(session, world)
    client = world["clients"]["wang"]
    client.post(page_of(application) + "/claim")
    response = client.post(
        page_of(application) + f"/decision?lang={lang}", data={"decision": "approve"}
    )
    assert response.status_code == 422
    summary = response.text[response.text.index('class="error-summary"') :]
    summary = summary[: summary.index("</div>")]
    entries = [
        (href, " ".join(unescape(re.sub(r"<[^>]+>", "", entry)).split()))
        for href, entry in re.findall(r'<li><a href="#([^"]+)">(.*?)</a></li>', summary, re.S)
    ]
    assert entries == [
        ("confirm_industry_allowed", listed[0]),
        ("confirm_clean_record", listed[1]),
    ]
    assert len(re.findall(r"<li>", summary)) == 2  # nothing else, no repeat
    shown = re.sub(r"<[^>]+>", " ", text(response))  # what a person reads, not field names
    assert "clean_record" not in shown


@pytest.mark.parametrize(
    ("lang", "required", "other_words"),
    [
        ("zh", "此项为必填项。", ["请填写意见。", "请填写拒绝理由。"]),
        ("en", "This field is required.", ["A comment is required.", "Give the reason"]),
    ],
)
def test_a_comment_the_decision_needs_is_required_in_the_forms_words(
    session, world, claims, lang, required, other_words
):
    """One wording for a missing value (QUALITY.md U1, issue 12): the comment that only
    rejecting, asking for changes or refusing a claim needs is "required" as every
    form's required field says it, beside the field."""
    application = submitted(session, world)
    client = world["clients"]["wang"]
    client.post(page_of(application) + "/claim")
    response = client.post(
        page_of(application) + f"/decision?lang={lang}", data={"decision": "reject"}
    )
    assert response.status_code == 422
    assert field_error(response.text, "comment") == required
    wrong = claims["wrong"]
    response = client.post(
        f"/review/account-claims/{wrong.id}/decision?lang={lang}",
        data={f"claim-{wrong.id}-decision": "refuse"},
    )
    assert response.status_code == 422
    assert field_error(response.text, f"claim-{wrong.id}-comment") == required
    for words in other_words:
        assert words not in response.text


def test_reject_and_request_changes_need_a_comment(session, world):
    application = submitted(session, world)
    client = world["clients"]["wang"]
    client.post(page_of(application) + "/claim")
    for decision in ("reject", "request_changes"):
        for comment in ("", "  "):
            response = decide(client, application, decision=decision, comment=comment)
            assert response.status_code == 422
            assert "This field is required." in field_error(response.text, "comment")
    assert decide(client, application).status_code == 422  # no decision chosen
    response = decide(
        client, application, decision="reject", comment="Figures not credible", confirm="1"
    )
    assert response.status_code == 303
    session.expire_all()
    assert application.state == State.REJECTED
    assert "Figures not credible" in text(client.get(page_of(application)))


def test_the_same_decision_posted_twice_makes_one_transition(session, world):
    application = submitted(session, world)
    verify(world)
    client = world["clients"]["wang"]
    client.post(page_of(application) + "/claim")
    first = decide(client, application, decision="approve", **TSME_CHECKS)
    second = decide(client, application, decision="approve", **TSME_CHECKS)
    assert first.status_code == 303
    assert second.status_code == 409
    assert "in_notice" in text(second)
    assert transitions(session, application, "approve") == 1


@pytest.mark.parametrize(
    ("lang", "refusal", "link"),
    [
        (
            "zh",
            "企业 {uscc} 尚未核实，须经审核人员核实后方可最终审核通过。",
            "核实该企业",
        ),
        (
            "en",
            "The enterprise {uscc} is not verified yet: "
            "a reviewer verifies it before the final approval.",
            "Verify the enterprise",
        ),
    ],
)
def test_the_final_approval_of_an_unverified_enterprise_links_to_its_verification(
    session, world, lang, refusal, link
):
    application = submitted(session, world)
    uscc = world["a"].uscc
    client = world["clients"]["wang"]
    response = claim_and_approve(client, application, lang)
    assert response.status_code == 409
    html = text(response)
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert refusal.format(uscc=uscc) in shown
    assert "enterprise_unverified" not in shown
    # The way out: the enterprise's page, at its verification button.
    found = re.search(rf'<a href="(/review/enterprises/{uscc}#verify-title)">([^<]+)</a>', html)
    assert found is not None and found.group(2) == link
    assert 'id="verify-title"' in text(client.get(found.group(1)))
    session.expire_all()
    assert application.state == State.IN_REVIEW
    assert transitions(session, application, "approve") == 0

    verify(world)
    assert decide(client, application, decision="approve", **TSME_CHECKS).status_code == 303
    session.expire_all()
    assert application.state == State.IN_NOTICE


@pytest.mark.parametrize(
    ("lang", "refusal"),
    [
        ("zh", "工作日日历尚未包含 2026 年"),
        ("en", "The working-day calendar does not cover 2026"),
    ],
)
def test_a_notice_the_calendar_does_not_cover_is_refused_in_the_pages_language(
    session, world, lang, refusal
):
    application = submitted(session, world)
    verify(world)
    session.delete(session.get(CalendarYear, 2026))
    session.commit()
    response = claim_and_approve(world["clients"]["wang"], application, lang)
    assert response.status_code == 409
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text(response)))
    assert refusal in shown and "calendar_not_covered" not in shown
    session.expire_all()
    assert application.state == State.IN_REVIEW
    assert transitions(session, application, "approve") == 0


def test_the_lead_reviewer_is_not_offered_to_take_the_review_over(session, world):
    application = submitted(session, world)
    wang, li = world["clients"]["wang"], world["clients"]["li"]
    claim_form = f'action="{page_of(application)}/claim"'
    assert "Claim for review" in text(wang.get(page_of(application) + "?lang=en"))
    wang.post(page_of(application) + "/claim")
    html = text(wang.get(page_of(application) + "?lang=zh"))
    assert claim_form not in html and "接手审核" not in html
    # Another reviewer may still take the lead.
    html = text(li.get(page_of(application) + "?lang=zh"))
    assert claim_form in html and "接手审核" in html
    li.post(page_of(application) + "/claim")
    assert claim_form in text(wang.get(page_of(application)))
    assert claim_form not in text(li.get(page_of(application)))


@pytest.fixture
def champion_application(session, world):
    ladder.grant_tier(session, world["a"], "tech_sme", actor=TEST_ACTOR, reason="held")
    session.commit()
    application = submitted(session, world, tier="champion")
    world["clients"]["wang"].post(page_of(application) + "/claim")
    return application


def test_four_eyes_on_a_champion_needing_two_approvals(session, world, champion_application):
    application = champion_application
    wang, li = world["clients"]["wang"], world["clients"]["li"]
    checks = {"confirm_srdi_score": "y"}
    response = decide(wang, application, decision="approve", **checks)
    assert response.status_code == 303
    assert "(1 of 2)" in text(wang.get(page_of(application) + "?lang=en"))
    response = decide(wang, application, decision="approve", **checks)
    assert response.status_code == 403
    assert "You have already approved this application." in text(response)
    session.expire_all()
    assert application.state == State.IN_REVIEW
    verify(world)
    response = decide(li, application, decision="approve", **checks)
    assert response.status_code == 303
    session.expire_all()
    assert application.state == State.IN_NOTICE


def eligibility_section(client, application, lang) -> str:
    """The eligibility panel of the application's page, as a person reads it."""
    html = text(client.get(page_of(application) + f"?lang={lang}"))
    panel = html[html.index('<h2 id="eligibility-title"') : html.index('<h2 id="figures-title"')]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", panel))


def test_the_champion_snapshot_says_each_rule_in_words(session, world):
    ladder.grant_tier(session, world["a"], "tech_sme", actor=TEST_ACTOR, reason="held")
    latest = max(world["a"].reports, key=lambda r: r.year)
    # Every figure of the SRDI score's computable part: 5 + 2 + 5 + 6 + 5 = 23 of 30 points.
    latest.main_business_share, latest.debt_ratio = 85, 40
    session.commit()
    application = submitted(session, world, tier="champion")
    client = world["clients"]["wang"]
    en = eligibility_section(client, application, "en")
    assert "Holds Technology-based SME or a higher rung Yes: holds Technology-based SME" in en
    assert "≥ 1 1" not in en  # not ranks against ranks
    assert (
        "≥ 1,000 × 10,000 yuan, or new equity financing of at least 2,000 × 10,000 yuan"
        " in two years" in en
    )
    assert "5,000 × 10,000 yuan: met by revenue" in en
    assert "An SRDI score of at least 60 of 100, or a direct route" in en
    assert "the recorded figures give 23 of the 30 points they can decide" in en
    # Not a score of 23 against a pass mark of 60 beside a check that is not failed.
    assert "pass mark" not in en and "23 of 100" not in en
    zh = eligibility_section(client, application, "zh")
    assert "已认定为科技型中小企业或更高梯度 是：现为科技型中小企业" in zh
    assert "已填报数据可计算的评分项得 23 分（这些项满分 30 分）" in zh
    assert re.findall(r"[A-Za-z]{2,}", zh) == []  # no English word on the Chinese page
    # The route and the criteria version it was judged by, in both languages.
    assert "Criteria in force from 2023-09-14." in en
    assert "认定条件自 2023-09-14 起生效。" in zh
    page = text(client.get(page_of(application) + "?lang=en"))
    assert "Route" in page and "Specialised and innovative SME" in page
    apps.claim(session, application, user=world["wang"], via="web")
    session.commit()
    page = text(client.get(page_of(application) + "?lang=en"))
    assert "Confirmed a little giant (national specialised and innovative SME) (optional)" in page
    assert "认定途径" in text(client.get(page_of(application) + "?lang=zh"))


def test_the_snapshot_shows_ratios_as_the_rules_read_them(session, world):
    ladder.grant_tier(session, world["a"], "tech_sme", actor=TEST_ACTOR, reason="held")
    latest = max(world["a"].reports, key=lambda r: r.year)
    # R&D / revenue = 6.666… % against "≥ 3 %" shows 6.66 %, rounded down; a debt ratio
    # of exactly 50 % is in the "50 %以下" band: 5 + 2 + 5 + 6 + 5 = 23 of 30 points.
    latest.rd_expense, latest.revenue = 2_000_000, 30_000_000
    latest.main_business_share, latest.debt_ratio = 85, 50
    session.commit()
    application = submitted(session, world, tier="champion")
    client = world["clients"]["wang"]
    en = eligibility_section(client, application, "en")
    assert "R&D expense to revenue Met ≥ 3% 6.66%" in en
    assert "the recorded figures give 23 of the 30 points they can decide" in en
    zh = eligibility_section(client, application, "zh")
    assert "研发费用占营业收入比例 符合 ≥ 3% 6.66%" in zh
    assert "已填报数据可计算的评分项得 23 分（这些项满分 30 分）" in zh


def test_the_tech_sme_snapshot_says_the_score_met_the_rule(session, world):
    application = submitted(session, world)
    en = eligibility_section(world["clients"]["wang"], application, "en")
    assert "Score 100 of 100 (pass mark 60)." in en
    assert (
        "At least 60 of 100 points with technical staff points above 0, or a direct pass "
        "100 points: met by the score"
    ) in en
    zh = eligibility_section(world["clients"]["wang"], application, "zh")
    assert "100 分：按评价得分达到" in zh
    assert re.findall(r"[A-Za-z]{2,}", zh) == []


def test_high_tech_approval_needs_an_innovation_score_above_70(session, make, world):
    for report in world["a"].reports:
        report.hightech_income, report.rd_domestic_expense = 40_000_000, 3_000_000
    application = submitted(session, world, tier="high_tech")
    client = world["clients"]["wang"]
    client.post(page_of(application) + "/claim")
    html = text(client.get(page_of(application)))
    assert 'name="innovation_score"' in html
    checks = {
        "confirm_tech_field": "y",
        "confirm_innovation_score": "y",
        "confirm_no_major_accident": "y",
    }
    response = decide(client, application, decision="approve", innovation_score="70", **checks)
    assert response.status_code == 422
    assert "innovation score above 70" in text(response)
    response = decide(client, application, decision="approve", innovation_score="x", **checks)
    assert response.status_code == 422
    verify(world)
    response = decide(client, application, decision="approve", innovation_score="71", **checks)
    assert response.status_code == 303


def test_claim_of_a_draft_is_an_invalid_transition(session, world):
    application = apps.create(
        session, world["a"], "tech_sme", "promotion", user=world["owner"], via="web"
    )
    session.commit()
    client = world["clients"]["wang"]
    response = client.post(page_of(application) + "/claim")
    assert response.status_code == 409
    assert "this action is not possible now" in text(response)
    # An enterprise's own application is not the reviewers' to submit or withdraw.
    assert client.post(page_of(application) + "/submission").status_code == 403
    assert client.post(page_of(application) + "/withdrawal").status_code == 403
    assert client.get("/review/applications/99999").status_code == 404


@pytest.mark.parametrize("decision", ["approve", "reject", "request_changes"])
def test_deciding_on_a_draft_is_an_invalid_transition(session, world, decision):
    application = apps.create(
        session, world["a"], "tech_sme", "promotion", user=world["owner"], via="web"
    )
    session.commit()
    checks = {"confirm_industry_allowed": "y", "confirm_clean_record": "y"}
    response = decide(
        world["clients"]["wang"], application, decision=decision, comment="x", **checks
    )
    assert response.status_code == 409
    assert "this action is not possible now" in text(response)
    session.expire_all()
    assert session.get(Application, application.id).state == State.DRAFT
    assert transitions(session, application, decision) == 0
    assert session.scalar(select(func.count()).select_from(Decision)) == 0


# --- nominations ----------------------------------------------------------------------------


def test_nominate_submit_and_the_nominator_cannot_approve(auth, session, make, world):
    enterprise = make.enterprise(name="提名企业", founded_on=date(2015, 1, 1))
    for year in (2024, 2025):
        make.eligible_report(enterprise, year)
    session.commit()
    wang = world["clients"]["wang"]
    response = wang.get("/review/nominate")
    assert response.status_code == 200
    response = wang.post(
        "/review/nominate", data={"uscc": enterprise.uscc.lower(), "tier": "tech_sme"}
    )
    assert response.status_code == 303
    application = session.scalars(
        select(Application).where(Application.enterprise_id == enterprise.id)
    ).one()
    assert response.headers["Location"] == page_of(application)
    assert (application.state, application.nominated_by) == (State.DRAFT, world["wang"].id)
    html = text(wang.get(page_of(application)))
    assert "Submit the nomination" in html and "Withdraw the nomination" in html
    # Any reviewer may submit a nomination (no declaration): here another one.
    li = world["clients"]["li"]
    assert li.post(page_of(application) + "/submission").status_code == 303
    li.post(page_of(application) + "/claim")
    # Neither its creator nor its submitter may approve it (four-eyes).
    for client in (wang, li):
        response = decide(client, application, decision="approve", **TSME_CHECKS)
        assert response.status_code == 403
        assert "You created or submitted this application." in text(response)
    zhao = make.user("zhao@review.example", Role.REVIEWER, name="Reviewer zhao")
    session.commit()
    response = decide(auth.client_of(zhao), application, decision="approve", **TSME_CHECKS)
    assert response.status_code == 303
    session.expire_all()
    assert application.state == State.IN_NOTICE
    assert transitions(session, application, "approve") == 1


def _options(html: str, name: str) -> list[tuple[str, str]]:
    """(attributes, text) of each option of the select named ``name``."""
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, name
    return re.findall(r"<option([^>]*)>([^<]*)</option>", select.group(1))


@pytest.mark.parametrize(
    ("lang", "choose", "required"),
    [("zh", "请选择", "此项为必填项。"), ("en", "Choose…", "This field is required.")],
)
def test_required_tier_selects_start_on_choose_and_refuse_it(
    session, make, world, lang, choose, required
):
    """The nominate form's tier and the demotion's lower tier start on an explicit
    "Choose…", not on the first tier (科技型中小企业) chosen for the reviewer, and leaving
    it is refused as required."""
    enterprise = make.enterprise(founded_on=date(2015, 1, 1))
    ladder.grant_tier(session, enterprise, "high_tech", actor=TEST_ACTOR, reason="granted")
    session.commit()
    wang = world["clients"]["wang"]
    for page, name in (
        ("/review/nominate", "tier"),
        (f"/review/enterprises/{enterprise.uscc}", "demote-to_tier"),
    ):
        options = _options(wang.get(f"{page}?lang={lang}").text, name)
        assert options[0] == (' value=""', choose)
        assert not any("selected" in attributes for attributes, _text in options)
        assert len(options) > 1
    response = wang.post(
        f"/review/nominate?lang={lang}", data={"uscc": enterprise.uscc, "tier": ""}
    )
    assert response.status_code == 422
    assert field_error(response.text, "tier") == required
    response = wang.post(
        f"/review/enterprises/{enterprise.uscc}/demotion?lang={lang}",
        data={"demote-to_tier": "", "demote-reason": "R&D fell"},
    )
    assert response.status_code == 422
    assert field_error(response.text, "demote-to_tier") == required
    session.expire_all()
    assert enterprise.tier == "high_tech"
    assert session.scalar(select(func.count()).select_from(Application)) == 0


def test_a_reviewer_linked_to_the_enterprise_decides_nothing(app, session, world):
    application = submitted(session, world)
    world["clients"]["wang"].post(page_of(application) + "/claim")
    # Accounts never give a reviewer an enterprise; a record that has one anyway is
    # still refused by the decision itself.
    world["li"].enterprise_id = world["a"].id
    session.commit()
    response = decide(world["clients"]["li"], application, decision="reject", comment="no")
    assert response.status_code == 403
    assert "You belong to this enterprise." in text(response)
    session.expire_all()
    assert application.state == State.IN_REVIEW


def test_a_nomination_may_be_withdrawn_by_any_reviewer(session, make, world):
    enterprise = make.enterprise(founded_on=date(2015, 1, 1))
    session.commit()
    world["clients"]["wang"].post(
        "/review/nominate", data={"uscc": enterprise.uscc, "tier": "navigator"}
    )
    application = session.scalars(
        select(Application).where(Application.enterprise_id == enterprise.id)
    ).one()
    # Not eligible (no reports, no prerequisite): the submission is refused.
    response = world["clients"]["li"].post(page_of(application) + "/submission")
    assert response.status_code == 409
    response = world["clients"]["li"].post(
        page_of(application) + "/withdrawal", data={"confirm": "1"}
    )
    assert response.status_code == 303
    session.expire_all()
    assert application.state == State.WITHDRAWN


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"uscc": "", "tier": "tech_sme"}, 422, "This field is required."),
        ({"uscc": "123", "tier": "tech_sme"}, 422, "Invalid USCC"),
        ({"uscc": "91360100MA35K8T29N", "tier": "tech_sme"}, 422, "No enterprise"),
        ({"uscc": "A", "tier": "gold"}, 422, "Unknown tier"),
    ],
)
def test_nomination_form_errors(world, data, status, message):
    response = world["clients"]["wang"].post("/review/nominate?lang=en", data=data)
    assert response.status_code == status
    assert message in text(response)


def test_nomination_of_an_enterprise_with_an_open_application_is_409(session, world):
    submitted(session, world)
    response = world["clients"]["wang"].post(
        "/review/nominate?lang=en", data={"uscc": world["a"].uscc, "tier": "champion:srdi"}
    )
    assert response.status_code == 409
    assert "already has an open application" in text(response)


# --- enterprises ---------------------------------------------------------------------------


def test_find_an_enterprise_and_open_its_page(session, make, world):
    uscc = world["a"].uscc
    client = world["clients"]["wang"]
    for query in (uscc[:10], "赣江甲", uscc.lower()):
        html = text(client.get("/review/enterprises", query_string={"q": query}))
        assert f'href="/review/enterprises/{uscc}"' in html, query
    assert "No enterprise matches." in text(client.get("/review/enterprises?q=zzz&lang=en"))
    assert client.get("/review/enterprises?q=" + "x" * 201).status_code == 422
    response = client.get(f"/review/enterprises/{uscc}?lang=en")
    html = text(response)
    assert response.status_code == 200
    assert "Mark as verified" in html and "Unverified" in html
    assert "Not on the ladder" in html and "never been on the ladder" in html
    assert client.get("/review/enterprises/91360100MA35K8T29N").status_code == 404
    assert client.get("/review/enterprises/nonsense").status_code == 404


def test_verify_removes_the_mark(session, world):
    uscc = world["a"].uscc
    client = world["clients"]["wang"]
    response = client.post(f"/review/enterprises/{uscc}/verification")
    assert response.status_code == 303
    session.expire_all()
    assert world["a"].verified is True
    html = text(client.get(f"/review/enterprises/{uscc}?lang=en"))
    assert "Mark as verified" not in html and "badge--unverified" not in html
    assert session.scalar(select(func.count()).where(AuditEntry.action == "enterprise.verify")) == 1


def test_demote_and_revoke_forms(session, world):
    enterprise = world["a"]
    ladder.grant_tier(session, enterprise, "high_tech", actor=TEST_ACTOR, reason="granted")
    session.commit()
    uscc = enterprise.uscc
    client = world["clients"]["wang"]
    html = text(client.get(f"/review/enterprises/{uscc}?lang=en"))
    assert "Demote to" in html and "Revoke the designation" in html
    assert '<option value="tech_sme">' in html and '<option value="high_tech">' not in html
    # The reason is required.
    response = client.post(
        f"/review/enterprises/{uscc}/demotion",
        data={"demote-to_tier": "tech_sme", "demote-reason": ""},
    )
    assert response.status_code == 422
    response = client.post(
        f"/review/enterprises/{uscc}/demotion",
        data={"demote-to_tier": "tech_sme", "demote-reason": "   "},
    )
    assert response.status_code == 422
    # Not below the current rung.
    response = client.post(
        f"/review/enterprises/{uscc}/demotion",
        data={"demote-to_tier": "champion", "demote-reason": "x"},
    )
    assert response.status_code == 409
    response = client.post(
        f"/review/enterprises/{uscc}/demotion",
        data={"demote-to_tier": "tech_sme", "demote-reason": "R&D fell", "confirm": "1"},
    )
    assert response.status_code == 303
    session.expire_all()
    assert enterprise.tier == "tech_sme"
    html = text(client.get(f"/review/enterprises/{uscc}"))
    assert "R&D fell" in html and "Reviewer wang" in html
    # A ban that does not end after today is refused on its field.
    response = client.post(
        f"/review/enterprises/{uscc}/revocation",
        data={"revoke-reason": "fraud", "revoke-ban_until": "2026-03-04"},
    )
    assert response.status_code == 422
    response = client.post(
        f"/review/enterprises/{uscc}/revocation",
        data={"revoke-reason": "", "revoke-ban_until": ""},
    )
    assert response.status_code == 422
    response = client.post(
        f"/review/enterprises/{uscc}/revocation",
        data={"revoke-reason": "fraud", "revoke-ban_until": "2027-01-01", "confirm": "1"},
    )
    assert response.status_code == 303
    session.expire_all()
    assert (enterprise.tier, enterprise.ban_until) == (None, date(2027, 1, 1))
    # Off the ladder now: both moves are refused with 409.
    response = client.post(
        f"/review/enterprises/{uscc}/revocation", data={"revoke-reason": "again"}
    )
    assert response.status_code == 409
    assert "is not on the ladder" in text(response)
    response = client.post(
        f"/review/enterprises/{uscc}/demotion",
        data={"demote-to_tier": "tech_sme", "demote-reason": "again"},
    )
    assert response.status_code == 409


def test_demote_into_a_full_tier_is_refused(session, make, world):
    enterprise = world["a"]
    ladder.grant_tier(session, enterprise, "high_tech", actor=TEST_ACTOR, reason="granted")
    ladder.set_quota(session, "tech_sme", 0, actor=TEST_ACTOR, reason="test")
    session.commit()
    response = world["clients"]["wang"].post(
        f"/review/enterprises/{enterprise.uscc}/demotion",
        data={"demote-to_tier": "tech_sme", "demote-reason": "x"},
    )
    assert response.status_code == 409
    assert "quota" in text(response)


# --- account claims ------------------------------------------------------------------------


@pytest.fixture
def claims(app, session, make):
    enterprise = make.enterprise(name="已在册企业")
    session.commit()
    made = {}
    for who in ("right", "wrong"):
        result = accounts.sign_up(
            session,
            email=f"{who}@claim.example",
            password=PASSWORD,
            uscc=enterprise.uscc,
            enterprise_name=f"已在册企业 ({who})",
        )
        made[who] = result.claim
    session.commit()
    return {"enterprise": enterprise, **made}


def test_confirm_a_claim_links_the_user_and_refuse_does_not(auth, session, world, claims):
    client = world["clients"]["wang"]
    html = text(client.get("/review/account-claims"))
    assert "right@claim.example" in html and "已在册企业 (right)" in html
    assert claims["enterprise"].uscc in html
    right, wrong = claims["right"], claims["wrong"]
    response = client.post(
        f"/review/account-claims/{right.id}/decision",
        data={f"claim-{right.id}-decision": "confirm"},
    )
    assert response.status_code == 303
    # Refusing needs a comment.
    response = client.post(
        f"/review/account-claims/{wrong.id}/decision", data={f"claim-{wrong.id}-decision": "refuse"}
    )
    assert response.status_code == 422
    assert "This field is required." in field_error(response.text, f"claim-{wrong.id}-comment")
    response = client.post(
        f"/review/account-claims/{wrong.id}/decision",
        data={f"claim-{wrong.id}-decision": "refuse", f"claim-{wrong.id}-comment": "not them"},
    )
    assert response.status_code == 303
    session.expire_all()
    assert (right.state, wrong.state) == (ClaimState.CONFIRMED, ClaimState.REFUSED)
    html = text(client.get("/review/account-claims?lang=en"))
    assert "No claim is waiting." in html and "not them" in html and "Reviewer wang" in html
    # Deciding again is an invalid transition.
    response = client.post(
        f"/review/account-claims/{right.id}/decision",
        data={f"claim-{right.id}-decision": "refuse", f"claim-{right.id}-comment": "x"},
    )
    assert response.status_code == 409
    # The confirmed account sees its enterprise; the refused one does not.
    assert "已在册企业" in text(auth.client_of(right.user).get("/account"))
    assert claims["enterprise"].uscc not in text(auth.client_of(wrong.user).get("/account"))
    assert client.post("/review/account-claims/999/decision").status_code == 404
    assert session.get(AccountClaim, wrong.id).comment == "not them"


# --- output encoding and language ------------------------------------------------------------

HOSTILE = "<img src=x onerror=alert(1)>{{7*7}}"


def test_names_and_comments_render_literally_on_every_review_page(app, session, make, world):
    enterprise = make.enterprise(name=HOSTILE, founded_on=date(2015, 1, 1), verified=False)
    make.eligible_report(enterprise, 2025)
    owner = make.user("hostile@x.example", enterprise=enterprise, name=HOSTILE)
    application = make.application(enterprise, owner, submitted=True)
    accounts.sign_up(
        session,
        email="claimant@x.example",
        password=PASSWORD,
        uscc=enterprise.uscc,
        enterprise_name=HOSTILE,
    )
    session.commit()
    client = world["clients"]["wang"]
    client.post(page_of(application) + "/claim")
    decide(client, application, decision="request_changes", comment=HOSTILE)
    for url in [
        "/review?state=all",
        page_of(application),
        f"/review/enterprises?q={enterprise.uscc}",
        f"/review/enterprises/{enterprise.uscc}",
        "/review/account-claims",
    ]:
        html = client.get(url).get_data(as_text=True)
        assert "<img src=x" not in html, url
        assert "&lt;img src=x onerror=alert(1)&gt;{{7*7}}" in html, url


def test_pages_in_chinese_by_default_and_in_english(session, world):
    application = submitted(session, world)
    client = world["clients"]["wang"]
    for url in (
        "/review",
        page_of(application),
        f"/review/enterprises/{world['a'].uscc}",
        "/review/nominate",
    ):
        zh = client.get(url + "?lang=zh")
        assert zh.status_code == 200
        assert '<html lang="zh-Hans">' in zh.get_data(as_text=True)
        en = client.get(url + "?lang=en")
        assert en.status_code == 200
        assert '<html lang="en">' in en.get_data(as_text=True)
    assert "科技型中小企业" in text(client.get(page_of(application) + "?lang=zh"))
    assert "Technology-based SME" in text(client.get(page_of(application) + "?lang=en"))
