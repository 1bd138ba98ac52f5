"""QUALITY.md U6 for the reviewers' enterprise actions and the admins' saves: after
verifying, demoting or revoking an enterprise, deciding on an account claim, and after
each admin save, the page the redirect leads to says what happens next and links to it
(``[data-next-step]``). The actions that ask first are posted with ``confirm=1``.
"""

from __future__ import annotations

import io
from datetime import date

import pytest

from registry.accounts import operations as accounts
from registry.accounts import tokens
from registry.accounts.models import ApiToken, Role
from registry.applications import operations as apps
from registry.ladder import operations as ladder
from tests.factories import PASSWORD, TEST_ACTOR, new_uscc, tier_form
from tests.web.test_next_steps import fixed_clock, follow, next_step

__all__ = ["fixed_clock"]  # the clock of those tests, pinned here too (autouse)

NEW_PASSWORD = "Poyang-lake-2027"


@pytest.fixture
def reviewer(auth, session, make):
    wang = make.user("wang@review.example", Role.REVIEWER, name="Reviewer Wang")
    session.commit()
    return auth.client_of(wang)


@pytest.fixture
def admin(auth, session, make):
    ada = make.user("admin@example.com", Role.ADMIN, password=PASSWORD, name="Ada Admin")
    session.commit()
    return auth.client_of(ada)


# --- the reviewers' enterprise actions -----------------------------------------------------------


def test_after_verifying_its_application_can_be_approved(session, make, reviewer):
    enterprise = make.enterprise(verified=False, founded_on=date(2015, 1, 1))
    for year in (2023, 2024, 2025):
        make.eligible_report(enterprise, year)
    owner = make.user("owner@a.example", enterprise=enterprise)
    application = apps.create(session, enterprise, "tech_sme", "promotion", user=owner, via="web")
    apps.submit(session, application, user=owner, via="web", declaration=True)
    session.commit()
    verified = reviewer.post(f"/review/enterprises/{enterprise.uscc}/verification")
    text, url = next_step(follow(reviewer, verified))
    assert "Its application in review can now get its final approval." in text
    assert url == f"/review/applications/{application.id}"


def test_after_verifying_an_enterprise_without_an_application(session, make, reviewer):
    enterprise = make.enterprise(verified=False)
    session.commit()
    with_lang = reviewer.post(f"/review/enterprises/{enterprise.uscc}/verification?lang=zh")
    text, url = next_step(follow(reviewer, with_lang))
    assert "终审" in text and url == "/review"


def confirmed_on_a_holder(session, make, reviewer, action: str, data: dict, **fields):
    """The reviewer's confirmed ``action`` on a new high_tech holder: the enterprise,
    and the next step shown after it (its text and link)."""
    enterprise = make.enterprise(**fields)
    ladder.grant_tier(session, enterprise, "high_tech", actor=TEST_ACTOR, reason="granted")
    session.commit()
    done = reviewer.post(
        f"/review/enterprises/{enterprise.uscc}/{action}", data={**data, "confirm": "1"}
    )
    return enterprise, next_step(follow(reviewer, done))


def test_after_a_demotion_the_published_list_shows_it(session, make, reviewer):
    data = {"demote-to_tier": "tech_sme", "demote-reason": "R&D fell"}
    enterprise, (text, url) = confirmed_on_a_holder(
        session, make, reviewer, "demotion", data, name="赣江甲科技有限公司"
    )
    session.refresh(enterprise)
    assert "The published lists show the change now" in text
    assert "赣江甲科技有限公司" in text and enterprise.registration_number in text
    assert url == "/tiers/tech_sme"


def test_after_a_revocation_it_is_off_the_lists_until_the_ban_ends(session, make, reviewer):
    data = {"revoke-reason": "fraud", "revoke-ban_until": "2027-01-01"}
    names = {"name": "赣江甲科技有限公司", "name_en": "Ganjiang A Tech"}
    _, (text, url) = confirmed_on_a_holder(session, make, reviewer, "revocation", data, **names)
    assert "Ganjiang A Tech is off the published lists from now on." in text
    assert "It may apply again from 2027-01-01." in text
    assert url == "/tiers/high_tech"


@pytest.fixture
def claim(session, make):
    enterprise = make.enterprise(name="已在册企业")
    session.commit()
    claimed = accounts.sign_up(
        session,
        email="claimant@example.com",
        password=PASSWORD,
        uscc=enterprise.uscc,
        enterprise_name="已在册企业",
    ).claim
    session.commit()
    return claimed, enterprise


@pytest.mark.parametrize(
    ("decision", "words", "link"),
    [
        ("confirm", "claimant@example.com now sees 已在册企业", "/review/enterprises/{uscc}"),
        ("refuse", "stays without an enterprise", "/review/account-claims#pending-title"),
    ],
)
def test_after_an_account_claim_decision(reviewer, claim, decision, words, link):
    claim, enterprise = claim
    prefix = f"claim-{claim.id}"
    decided = reviewer.post(
        f"/review/account-claims/{claim.id}/decision",
        data={f"{prefix}-decision": decision, f"{prefix}-comment": "checked by phone"},
    )
    text, url = next_step(follow(reviewer, decided))
    assert words in text
    assert url == link.format(uscc=enterprise.uscc)


# --- the admins' saves ---------------------------------------------------------------------------


def test_after_creating_a_user(admin):
    form = {
        "email": "li.na@example.com",
        "role": "reviewer",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    }
    text, url = next_step(follow(admin, admin.post("/admin/users/new", data=form)))
    assert "Give li.na@example.com the password through a safe channel" in text
    assert url == "/admin/users"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"action": "role", "role": "admin"}, "finds the pages of the role Administrator"),
        ({"action": "disable", "confirm": "1"}, "can no longer sign in"),
        ({"action": "enable"}, "can sign in again with the same password"),
        (
            {"action": "password", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
            "Give the new password to Rui Reviewer through a safe channel",
        ),
    ],
)
def test_after_each_action_on_a_user(session, make, admin, data, words):
    rui = make.user("rui@example.com", Role.REVIEWER, password=PASSWORD, name="Rui Reviewer")
    if data["action"] == "enable":
        accounts.update_user(session, rui, actor=TEST_ACTOR, active=False)
    session.commit()
    text, url = next_step(follow(admin, admin.post(f"/admin/users/{rui.id}", data=data)))
    assert words in text and url == "/admin/users"


def test_after_saving_tier_settings(session, admin):
    form = tier_form(session, "navigator", notice_days="7")
    text, url = next_step(follow(admin, admin.post("/admin/tiers/navigator", data=form)))
    assert "Applications submitted from now on follow the new settings" in text
    assert url == "/tiers/navigator"


def test_after_creating_and_revoking_a_token(session, make, admin):
    make.user("rui@example.com", Role.REVIEWER, password=PASSWORD)
    session.commit()
    created = admin.post(
        "/admin/tokens",
        data={"email": "rui@example.com", "scopes": ["registry:read"], "expires_days": "30"},
    )
    assert created.status_code == 201  # the token is shown on this page, once
    text, url = next_step(created, 201)
    assert "it works until 2026-04-03 (Beijing time)" in text and url == "/admin/tokens"
    token = session.query(ApiToken).one()
    revoked = admin.post(f"/admin/tokens/{token.id}/revoke", data={"confirm": "1"})
    text, url = next_step(follow(admin, revoked))
    assert "refused from now on" in text and url == "/admin/tokens#create-title"


def test_no_next_step_after_revoking_a_revoked_token(session, make, admin):
    rui = make.user("rui@example.com", Role.REVIEWER, password=PASSWORD)
    token, _secret = tokens.create_token(session, rui, "registry:read", actor=TEST_ACTOR)
    tokens.revoke_token(session, token, actor=TEST_ACTOR)
    session.commit()
    page = follow(admin, admin.post(f"/admin/tokens/{token.id}/revoke"))
    assert "data-next-step" not in page.text


def test_after_adding_a_sync_source(app, admin, monkeypatch):
    from tests.sync.pull_world import SYNC_KEY

    monkeypatch.setitem(app.config, "SYNC_SECRET_KEY", SYNC_KEY)
    form = {"name": "peer-a", "base_url": "http://peer.example", "token": "secret-token"}
    text, url = next_step(follow(admin, admin.post("/admin/sync", data=form)))
    assert "once a pull of peer-a runs on the server" in text
    assert url == "/admin/sync#sources-title"


def test_after_an_import(session, admin):
    good = f"uscc,name\n{new_uscc()},赣江导入企业\n".encode()
    imported = admin.post("/admin/imports", data={"file": (io.BytesIO(good), "good.csv")})
    text, url = next_step(follow(admin, imported))
    assert "The records are in the registry now" in text and url == "/admin/audit"
    bad = b"uscc,name\nnonsense,A\n"
    refused = admin.post("/admin/imports", data={"file": (io.BytesIO(bad), "bad.csv")})
    text, url = next_step(follow(admin, refused))
    assert "Correct the rows the error report names" in text
    assert url.startswith("/admin/imports/") and url.endswith("/report")
