"""Safe actions (QUALITY.md U5): an action that cannot be undone — withdraw an application or
a nomination, reject, uphold an objection, demote, revoke, disable a user, revoke an API
token, lower a quota — is asked first on a page of its own, with no script, saying what
will happen; the first POST changes nothing and the confirmed one acts."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from html import unescape

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from registry.accounts import tokens
from registry.accounts.models import ApiToken, Role, User
from registry.applications import operations as apps
from registry.applications.models import Application, Objection, ObjectionState, State
from registry.core import clock
from registry.enterprises.models import Enterprise
from registry.extensions import db
from registry.ladder import operations as ladder
from registry.ladder.models import Tier
from tests.applications.test_objections import DURING, in_notice, object_to
from tests.factories import PASSWORD, TEST_ACTOR, tier_form
from tests.fixtures.browser import sign_in

ENTERPRISE = "赣江甲科技有限公司"


@pytest.fixture(autouse=True)
def during_a_notice():
    with clock.pinned(DURING):
        yield


@pytest.fixture
def world(session, make) -> dict:
    return people(session, make)


def people(session, make) -> dict:
    """An enterprise eligible for tech_sme with its user, two reviewers and an admin, and
    a reviewer to act on (``target``); committed."""
    enterprise = make.enterprise(name=ENTERPRISE, founded_on=date(2015, 1, 1))
    for year in (2023, 2024, 2025):
        make.eligible_report(enterprise, year)
    user = make.user
    world = {
        "enterprise": enterprise,
        "owner": user(
            "owner@a.example", enterprise=enterprise, name="甲公司经办人", password=PASSWORD
        ),
        "reviewer": user("wang@review.example", Role.REVIEWER, name="王审核"),
        "second": user("li@review.example", Role.REVIEWER, name="李审核"),
        "admin": user("admin@example.com", Role.ADMIN, name="管理员"),
        "target": user("zhao@review.example", Role.REVIEWER, name="赵审核"),
    }
    session.commit()
    return world


@dataclass
class Case:
    """An action: who posts what where, the page it came from, words its question says
    (in English), and whether it was done."""

    who: str
    url: str
    data: dict
    back: str
    words: list[str]
    done: Callable[[], bool]
    #: Letters the Chinese page may show: data such as emails and registration numbers.
    data_text: list[str] = field(default_factory=list)


def fresh(model, key):
    """The row as the database has it now, not as the test's session remembers it."""
    db.session.expire_all()
    return db.session.get_one(model, key)


def state_of(application_id: int) -> State:
    """The application's state now. The read ends its transaction: on SQLite it would
    hold the lock that the next request needs."""
    state = fresh(Application, application_id).state
    db.session.rollback()
    return state


def withdraw(session, make, world) -> Case:
    application = make.application(world["enterprise"], world["owner"])
    session.commit()
    return Case(
        "owner",
        f"/applications/{application.id}/withdraw",
        {},
        f"/applications/{application.id}",
        [f"Withdraw application {application.id}?", ENTERPRISE, "cannot be reopened"],
        lambda: state_of(application.id) == State.WITHDRAWN,
    )


def withdraw_nomination(session, make, world) -> Case:
    nomination = apps.create(
        session, world["enterprise"], "navigator", "promotion", user=world["reviewer"], via="web"
    )
    session.commit()
    return Case(
        "second",
        f"/review/applications/{nomination.id}/withdrawal",
        {},
        f"/review/applications/{nomination.id}",
        [f"Withdraw application {nomination.id}?", "A new nomination can be made afterwards"],
        lambda: state_of(nomination.id) == State.WITHDRAWN,
    )


def reject(session, make, world) -> Case:
    application = make.application(world["enterprise"], world["owner"], submitted=True)
    apps.claim(session, application, user=world["reviewer"], via="web")
    session.commit()
    return Case(
        "reviewer",
        f"/review/applications/{application.id}/decision",
        {"decision": "reject", "comment": "营业收入与年报不符"},
        f"/review/applications/{application.id}",
        [f"Reject application {application.id}?", ENTERPRISE, "营业收入与年报不符"],
        lambda: state_of(application.id) == State.REJECTED,
        data_text=["营业收入与年报不符"],
    )


def uphold(session, make, world) -> Case:
    application = in_notice(session, world)
    objection = object_to(session, application)
    prefix = f"resolve-{objection.id}-"

    def done() -> bool:
        upheld = fresh(Objection, objection.id).state == ObjectionState.UPHELD
        return upheld and state_of(application.id) == State.REJECTED

    return Case(
        "second",
        f"/review/objections/{objection.id}/resolution",
        {prefix + "outcome": "upheld", prefix + "comment": "经税务部门核实"},
        "/review/objections",
        [f"Uphold the objection to application {application.id}?", "is rejected at once"],
        done,
    )


def holder(session, world) -> Enterprise:
    enterprise = world["enterprise"]
    ladder.grant_tier(session, enterprise, "high_tech", actor=TEST_ACTOR, reason="granted")
    session.commit()
    return enterprise


def designation(session, world, action: str, data: dict, words: list[str], tier_after):
    """A reviewer's ``action`` on the designation of the enterprise granted high_tech:
    the question says ``words`` and the registration number; done when the enterprise
    holds ``tier_after``."""
    enterprise = holder(session, world)
    number = enterprise.registration_number
    return Case(
        "reviewer",
        f"/review/enterprises/{enterprise.uscc}/{action}",
        data,
        f"/review/enterprises/{enterprise.uscc}",
        [*words, number],
        lambda: fresh(Enterprise, enterprise.id).tier == tier_after,
        data_text=[number],
    )


def demote(session, make, world) -> Case:
    data = {"demote-to_tier": "tech_sme", "demote-reason": "研发投入下降"}
    words = [f"Demote {ENTERPRISE} to Technology-based SME?", "cannot be undone"]
    return designation(session, world, "demotion", data, words, "tech_sme")


def revoke(session, make, world) -> Case:
    data = {"revoke-reason": "提供虚假材料", "revoke-ban_until": "2027-01-01"}
    words = [f"Revoke the designation of {ENTERPRISE}?", "until 2027-01-01"]
    return designation(session, world, "revocation", data, words, None)


def disable_user(session, make, world) -> Case:
    target = world["target"]
    return Case(
        "admin",
        f"/admin/users/{target.id}",
        {"action": "disable"},
        f"/admin/users/{target.id}",
        ["Disable 赵审核 (zhao@review.example)?", "every session of the user ends"],
        lambda: not fresh(User, target.id).active,
        data_text=[target.email],
    )


def revoke_token(session, make, world) -> Case:
    token, _secret = tokens.create_token(
        session, world["target"], "registry:read", actor=TEST_ACTOR
    )
    session.commit()
    return Case(
        "admin",
        f"/admin/tokens/{token.id}/revoke",
        {},
        "/admin/tokens",
        [f"Revoke the token {token.prefix}… of zhao@review.example?", "Read the registry"],
        lambda: fresh(ApiToken, token.id).revoked_at is not None,
        data_text=[token.prefix, world["target"].email],
    )


def lower_quota(session, make, world) -> Case:
    holder(session, world)
    data = tier_form(session, "high_tech", quota="1")
    session.rollback()
    return Case(
        "admin",
        "/admin/tiers/high_tech",
        data,
        "/admin/tiers/high_tech",
        ["Lower the quota of High-tech enterprise from", "to 1?", "Places taken now: 1."],
        lambda: fresh(Tier, "high_tech").quota == 1,
    )


CASES = [
    withdraw,
    withdraw_nomination,
    reject,
    uphold,
    demote,
    revoke,
    disable_user,
    revoke_token,
    lower_quota,
]


def everything(session) -> dict[str, list]:
    """Every row of every table; the test's transaction is ended after reading, so that
    the requests that follow may write."""
    rows = {
        table.name: sorted(map(repr, session.execute(select(table)).all()))
        for table in db.metadata.sorted_tables
    }
    session.rollback()
    return rows


def question(response) -> str:
    """The confirmation section of a page, as text with its markup."""
    found = re.search(
        r'<section class="confirm[^"]*" data-confirm.*?</section>', response.text, re.S
    )
    assert found, response.text
    return unescape(found.group(0))


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.__name__)
def test_the_first_post_asks_and_changes_nothing_the_confirmed_one_acts(
    auth, session, make, world, case
):
    action = case(session, make, world)
    client = auth.client_of(world[action.who])
    before = everything(session)

    asked = client.post(action.url, data=action.data)

    assert asked.status_code == 200
    shown = question(asked)
    for words in action.words:
        assert words in shown
    assert re.search(r'<p class="confirm__lasting"><strong>[^<]+</strong>', shown)
    assert f'action="{action.url}"' in shown
    for name, value in action.data.items():
        assert f'<input type="hidden" name="{name}" value="{value}">' in shown
    assert '<input type="hidden" name="confirm" value="1">' in shown
    assert f'href="{action.back}"' in shown and "<script" not in asked.text
    assert everything(session) == before
    assert not action.done()

    acted = client.post(action.url, data={**action.data, "confirm": "1"})

    assert acted.status_code == 303
    assert action.done()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.__name__)
def test_the_question_is_asked_in_chinese(auth, session, make, world, case):
    action = case(session, make, world)
    client = auth.client_of(world[action.who], lang="zh")
    asked = client.post(action.url, data=action.data)
    assert asked.status_code == 200 and '<html lang="zh-Hans">' in asked.text
    shown = re.sub(r"<[^>]+>", " ", question(asked))  # what a person reads
    for data in action.data_text:
        shown = shown.replace(data, "")
    assert "吗？" in shown  # a question, asked in Chinese
    # No English word, but "API" (API 令牌: the registry's Chinese term for a token).
    assert not set(re.findall(r"[A-Za-z]{2,}", shown)) - {"API"}


@pytest.mark.parametrize(
    ("case", "data", "status"),
    [
        (demote, {"demote-to_tier": "tech_sme", "demote-reason": ""}, 422),
        (demote, {"demote-to_tier": "champion", "demote-reason": "x"}, 409),
        (revoke, {"revoke-reason": "x", "revoke-ban_until": "2026-03-01"}, 422),
        (reject, {"decision": "reject", "comment": " "}, 422),
        (uphold, None, 422),
        (lower_quota, {"quota": "-1"}, 422),
    ],
    ids=[
        "demote-no-reason",
        "demote-upwards",
        "revoke-past-ban",
        "reject-no-comment",
        "uphold-no-comment",
        "quota-negative",
    ],
)
def test_a_request_that_would_be_refused_is_refused_before_any_question(
    auth, session, make, world, case, data, status
):
    action = case(session, make, world)
    if data is None:  # the comment left blank
        data = {
            name: "" if name.endswith("comment") else value for name, value in action.data.items()
        }
    else:
        data = {**action.data, **data}
    client = auth.client_of(world[action.who])
    before = everything(session)
    response = client.post(action.url, data=data)
    assert response.status_code == status
    assert "data-confirm" not in response.text
    assert everything(session) == before


def test_a_closed_application_is_not_asked_about(auth, session, make, world):
    action = withdraw(session, make, world)
    client = auth.client_of(world["owner"])
    assert client.post(action.url, data={"confirm": "1"}).status_code == 303
    again = client.post(action.url)
    assert again.status_code == 409 and "data-confirm" not in again.text


@pytest.mark.parametrize(
    ("case", "data"),
    [
        (reject, {"decision": "request_changes"}),
        (lower_quota, {"quota": "5000"}),
    ],
    ids=["request-changes", "raise-quota"],
)
def test_actions_that_can_be_undone_are_not_asked(auth, session, make, world, case, data):
    action = case(session, make, world)
    client = auth.client_of(world[action.who])
    response = client.post(action.url, data={**action.data, **data})
    assert response.status_code == 303


def test_a_revoked_token_is_not_asked_about_again(auth, session, make, world):
    action = revoke_token(session, make, world)
    client = auth.client_of(world["admin"])
    assert client.post(action.url, data={"confirm": "1"}).status_code == 303
    assert client.post(action.url).status_code == 303


# --- in a browser ---------------------------------------------------------------------------


@pytest.mark.browser
def test_withdrawing_on_a_phone_without_javascript(new_page, session, make, world):
    application_id = make.application(world["enterprise"], world["owner"]).id
    session.commit()
    page = new_page(width=375, javascript=False)
    sign_in(page, "owner@a.example")
    detail = f"/applications/{application_id}"
    withdraw_button = page.locator(f'form[action="{detail}/withdraw"] button[type=submit]')

    # Asked, then cancelled: back on the application, still a draft.
    page.goto(detail)
    withdraw_button.click()
    confirm = page.locator("section.confirm[data-confirm]")
    expect(confirm).to_be_visible()
    expect(confirm.locator("h1")).to_contain_text(f"撤回申请 {application_id}")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
    assert page.evaluate("window.innerWidth") == 375
    confirm.locator("a.button").click()
    page.wait_for_url(f"**{detail}")
    assert state_of(application_id) == State.DRAFT

    # Asked again and confirmed: withdrawn.
    withdraw_button.click()
    confirm.locator("button[type=submit]").click()
    page.wait_for_url(f"**{detail}")
    expect(page.locator(".flash")).to_be_visible()
    assert state_of(application_id) == State.WITHDRAWN


@pytest.mark.browser
def test_a_long_email_in_the_question_does_not_widen_a_phone_page(new_page, session, make, world):
    email = "zhao.xiaoming.provincial-science-department@innovation-services.jiangxi.gov.cn"
    target_id = make.user(email, Role.REVIEWER, name="赵晓明").id
    make.user("root@example.com", Role.ADMIN, password=PASSWORD)
    session.commit()
    page = new_page(width=375, javascript=False)
    sign_in(page, "root@example.com")
    page.goto(f"/admin/users/{target_id}")
    page.locator("button[name=action][value=disable]").click()
    expect(page.locator("section.confirm[data-confirm] h1")).to_contain_text(email)
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 375
