"""QUALITY.md U6: after sign-up, after each save and after each workflow action the page
the redirect leads to says what happens next and links to it, in one marked block
(``[data-next-step]``). After sign-up the account page lists the steps profile →
figures → self-check → apply, each with its link and whether it is done.
"""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from html import unescape

import pytest

from registry.accounts.models import Role
from registry.applications import operations as apps
from registry.applications.models import Application, State
from registry.core import clock
from registry.ladder import operations as ladder
from tests.factories import ELIGIBLE_FIGURES, PASSWORD, TEST_ACTOR, new_uscc
from tests.fixtures.api import PDF

NOW = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)  # Wed 2026-03-04 in Shanghai
LAST_NOTICE_DAY = "2026-03-18"  # ten working days after NOW
TSME_CHECKS = {"confirm_industry_allowed": "y", "confirm_clean_record": "y"}
PROFILE = {
    "name": "赣江新材料有限公司",
    "city_code": "360100",
    "industry_code": "new_materials",
    "founded_on": "2015-03-02",
    "contact_name": "李四",
    "contact_phone": "0791-88888888",
}


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.pinned(NOW):
        yield


def next_step(response, status: int = 200) -> tuple[str, str | None]:
    """The page's one next-step block (its text, tags removed) and its link, after
    following the redirect of ``response`` (or on a page answering ``status``)."""
    assert response.status_code == status, response.status_code
    html = response.get_data(as_text=True)
    blocks = re.findall(r"<section class=\"next-step\" data-next-step.*?</section>", html, re.S)
    assert len(blocks) == 1, blocks
    link = re.search(r'<a class="next-step__link" href="([^"]*)"', blocks[0])
    words = " ".join(unescape(re.sub(r"<[^>]+>", " ", blocks[0])).split())
    return words, unescape(link.group(1)) if link else None


def steps_of(response) -> dict[str, tuple[str, bool]]:
    """The account page's steps: key → (link, done), in order."""
    html = response.get_data(as_text=True)
    blocks = re.findall(r"<section class=\"next-step\" data-next-step.*?</section>", html, re.S)
    assert len(blocks) == 1, blocks
    items = re.findall(
        r'data-step="([a-z_]+)" data-done="(true|false)">\s*<a class="steps__link" href="([^"]+)"',
        blocks[0],
    )
    return {key: (unescape(url), done == "true") for key, done, url in items}


def follow(client, response):
    """The page a 303 leads to."""
    assert response.status_code == 303, response.get_data(as_text=True)
    return client.get(response.headers["Location"])


# --- the enterprise's steps ---------------------------------------------------------------------


def test_the_steps_from_sign_up_to_an_application(client, session):
    signup = {
        "email": "owner@example.com",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "uscc": new_uscc(),
        "enterprise_name": "赣江新材料有限公司",
    }
    account = follow(client, client.post("/signup?lang=en", data=signup))
    assert steps_of(account) == {
        "profile": ("/enterprise/profile", False),
        "figures": ("/enterprise/reports/2025", False),
        "self_check": ("/enterprise/eligibility", False),
        "apply": ("/applications/new", False),
    }
    assert 'aria-current="step"' in account.text  # the profile: the step to take now
    # The city comes from the USCC at sign-up; the rest is asked for.
    assert "still need: Industry, Founding date, Contact person, Phone." in account.text

    # Saved without a phone number: the profile is still the next step, and says why.
    partial = {**PROFILE, "contact_phone": ""}
    text, url = next_step(follow(client, client.post("/enterprise/profile", data=partial)))
    assert url == "/enterprise/profile" and "still need: Phone." in text

    # The profile complete: the page says the figures come next.
    text, url = next_step(follow(client, client.post("/enterprise/profile", data=PROFILE)))
    assert url == "/enterprise/reports/2025" and "annual reports" in text
    assert steps_of(client.get("/account"))["profile"] == ("/enterprise/profile", True)

    # The figures saved: they meet tech_sme's checks, so applying comes next.
    text, url = next_step(
        follow(client, client.post("/enterprise/reports/2025", data=ELIGIBLE_FIGURES))
    )
    assert url == "/applications/new"
    steps = steps_of(client.get("/account"))
    assert [done for _url, done in steps.values()] == [True, True, True, False]
    assert steps["figures"][0] == "/enterprise/reports"

    # Started, then submitted: the last step is done and links to the application.
    started = client.post("/applications/new", data={"target": "promotion:tech_sme"})
    application_url = started.headers["Location"]
    follow(client, started)
    account = client.get("/account")
    assert steps_of(account)["apply"] == (application_url, False)
    number = application_url.rsplit("/", 1)[1]
    assert f"Submit application {number}: Technology-based SME" in account.text
    upload = {"file": (io.BytesIO(PDF), "report.pdf")}
    follow(client, client.post(application_url + "/attachments", data=upload))
    follow(client, client.post(application_url + "/submit", data={"declaration": "y"}))
    account = client.get("/account")
    assert steps_of(account)["apply"] == (application_url, True)
    assert f"Application {number}: Technology-based SME" in account.text


def test_the_steps_in_chinese(auth, session, make):
    enterprise = make.enterprise(name="赣江甲科技有限公司", founded_on=date(2015, 1, 1))
    make.eligible_report(enterprise, 2025)
    user = make.user("owner@a.example", enterprise=enterprise)
    session.commit()
    page = auth.client_of(user, lang="zh").get("/account")
    html = page.get_data(as_text=True)
    assert "办理步骤" in html and "填报 2025 年度报告" in html and "已完成" in html
    block = re.search(r"<section class=\"next-step\".*?</section>", html, re.S).group(0)
    assert not re.search(r"[A-Za-z]{3,} [A-Za-z]{3,} [A-Za-z]{3,}", block)


def test_a_claim_waiting_for_a_reviewer_says_so(client, session, make):
    existing = make.enterprise(name="抚河乙制造有限公司")
    session.commit()
    signup = {
        "email": "claimant@example.com",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "uscc": existing.uscc,
        "enterprise_name": "抚河乙制造有限公司",
    }
    text, url = next_step(follow(client, client.post("/signup?lang=en", data=signup)))
    assert "A reviewer checks that your account belongs to the enterprise" in text
    assert url is None  # nothing to open until then


# --- the enterprise's application ----------------------------------------------------------------


@pytest.fixture
def world(auth, session, make):
    """An enterprise eligible for tech_sme with its signed-in user, and two reviewers
    with theirs."""
    a = make.enterprise(name="赣江甲科技有限公司", founded_on=date(2015, 1, 1))
    for year in (2023, 2024, 2025):
        make.eligible_report(a, year)
    owner = make.user("owner@a.example", enterprise=a)
    wang = make.user("wang@review.example", Role.REVIEWER, name="Reviewer Wang")
    li = make.user("li@review.example", Role.REVIEWER, name="Reviewer Li")
    session.commit()
    return {
        "a": a,
        "owner": owner,
        "wang": wang,
        "li": li,
        "owner_client": auth.client_of(owner),
        "wang_client": auth.client_of(wang),
        "li_client": auth.client_of(li),
    }


def draft(session, world, tier="tech_sme") -> Application:
    application = apps.create(
        session, world["a"], tier, "promotion", user=world["owner"], via="web"
    )
    session.commit()
    return application


def submitted(session, world, tier="tech_sme") -> Application:
    application = draft(session, world, tier)
    apps.submit(session, application, user=world["owner"], via="web", declaration=True)
    session.commit()
    return application


def claimed(session, world, tier="tech_sme") -> Application:
    application = submitted(session, world, tier)
    apps.claim(session, application, user=world["wang"], via="web")
    session.commit()
    return application


def test_after_starting_an_application(session, world):
    client = world["owner_client"]
    response = client.post("/applications/new", data={"target": "promotion:tech_sme"})
    page = follow(client, response)
    text, url = next_step(page)
    assert "The application is a draft" in text
    assert url == response.headers["Location"] + "#submit-title"
    assert 'id="submit-title"' in page.text


def test_after_adding_and_removing_a_file(session, world):
    application = draft(session, world)
    client = world["owner_client"]
    path = f"/applications/{application.id}"
    response = client.post(path + "/attachments", data={"file": (io.BytesIO(PDF), "report.pdf")})
    text, url = next_step(follow(client, response))
    assert url == path + "#submit-title" and "submit the application" in text
    attachment_id = re.search(r'action="/attachments/(\d+)/delete"', client.get(path).text)
    response = client.post(f"/attachments/{attachment_id.group(1)}/delete")
    assert next_step(follow(client, response))[1] == path + "#submit-title"


def test_after_submitting_the_reviewers_act(session, world):
    application = draft(session, world)
    client = world["owner_client"]
    path = f"/applications/{application.id}"
    page = follow(client, client.post(path + "/submit", data={"declaration": "y"}))
    text, url = next_step(page)
    assert "A reviewer will take up the application" in text
    assert url == path + "#timeline-title" and 'id="timeline-title"' in page.text


def test_after_withdrawing_a_new_application_may_start(session, world):
    application = submitted(session, world)
    client = world["owner_client"]
    response = client.post(f"/applications/{application.id}/withdraw", data={"confirm": "1"})
    text, url = next_step(follow(client, response))
    assert url == "/applications/new" and "The application is closed" in text


# --- the reviewers ----------------------------------------------------------------------------


def decide(client, application, **data):
    return client.post(f"/review/applications/{application.id}/decision", data=data)


def test_after_claiming_the_decision_is_next(session, world):
    application = submitted(session, world)
    client = world["wang_client"]
    page = follow(client, client.post(f"/review/applications/{application.id}/claim"))
    text, url = next_step(page)
    assert "You lead this review" in text
    assert url == f"/review/applications/{application.id}#decision-title"
    assert 'id="decision-title"' in page.text


def test_after_the_final_approval_the_notice_runs_until_its_last_day(session, world):
    application = claimed(session, world)
    client = world["wang_client"]
    response = decide(client, application, decision="approve", **TSME_CHECKS)
    text, url = next_step(follow(client, response))
    assert f"The public notice runs until the end of {LAST_NOTICE_DAY}" in text
    assert url == "/notices"


def test_after_a_first_of_two_approvals_a_second_reviewer_acts(session, world):
    ladder.grant_tier(session, world["a"], "tech_sme", actor=TEST_ACTOR, reason="held")
    session.commit()
    application = claimed(session, world, tier="champion")
    client = world["wang_client"]
    response = decide(client, application, decision="approve", confirm_srdi_score="y")
    text, url = next_step(follow(client, response))
    assert "Another reviewer must approve too (1 of 2 approvals so far)" in text
    assert url == "/review"


@pytest.mark.parametrize(
    ("decision", "words"),
    [
        ("request_changes", "makes the changes and submits again"),
        ("reject", "The enterprise sees the decision and your comment"),
    ],
)
def test_after_a_request_for_changes_or_a_rejection(session, world, decision, words):
    application = claimed(session, world)
    client = world["wang_client"]
    response = decide(
        client, application, decision=decision, comment="The figures differ.", confirm="1"
    )
    text, url = next_step(follow(client, response))
    assert words in text and url == "/review"


def test_after_a_nomination_is_started_submitted_or_withdrawn(session, world, make):
    target = make.enterprise(name="抚河乙制造有限公司", founded_on=date(2015, 1, 1))
    make.eligible_report(target, 2025)
    session.commit()
    client = world["wang_client"]
    response = client.post("/review/nominate", data={"uscc": target.uscc, "tier": "tech_sme"})
    text, url = next_step(follow(client, response))
    path = response.headers["Location"]
    assert url == path + "#actions-title" and "submit it" in text
    text, url = next_step(follow(client, client.post(path + "/submission")))
    assert url == "/review" and "The nomination waits in the queue" in text
    text, url = next_step(follow(client, client.post(path + "/withdrawal", data={"confirm": "1"})))
    assert url == "/review" and "The nomination is closed" in text


# --- the public notice --------------------------------------------------------------------------


def in_notice(session, world) -> Application:
    application = claimed(session, world)
    response = decide(world["wang_client"], application, decision="approve", **TSME_CHECKS)
    assert response.status_code == 303
    session.expire_all()
    assert application.state == State.IN_NOTICE
    return application


def test_after_an_objection_is_filed(client, session, world):
    application = in_notice(session, world)
    prefix = f"objection-{application.id}-"
    data = {prefix + "name": "赵六", prefix + "contact": "zhao@example.com"}
    data[prefix + "grounds"] = "The R&D staff figure is wrong."
    response = client.post(f"/notices/{application.id}/objections?lang=en", data=data)
    text, url = next_step(follow(client, response))
    assert "A reviewer examines your objection" in text and LAST_NOTICE_DAY in text
    assert url == "/tiers/tech_sme"


def test_after_an_objection_is_dismissed_during_the_notice(client, session, world):
    application = in_notice(session, world)
    prefix = f"objection-{application.id}-"
    data = {prefix + "name": "赵六", prefix + "contact": "zhao@example.com"}
    data[prefix + "grounds"] = "Not an SME."
    client.post(f"/notices/{application.id}/objections?lang=en", data=data)
    li = world["li_client"]
    objection_id = re.search(
        r'action="/review/objections/(\d+)/resolution"', li.get("/review/objections").text
    )
    response = li.post(
        f"/review/objections/{objection_id.group(1)}/resolution",
        data={
            f"resolve-{objection_id.group(1)}-outcome": "dismissed",
            f"resolve-{objection_id.group(1)}-comment": "Checked: the figures hold.",
        },
    )
    text, url = next_step(follow(li, response))
    assert f"stays in public notice until the end of {LAST_NOTICE_DAY}" in text
    assert url == "/review/objections"
