"""QUALITY.md U5 and U6 for every action of the web, found in ``app.url_map``: each POST
rule (the API's aside) asks first (U5: one of the confirmations'
:data:`~tests.web.test_confirmations.CASES`), or says what happens next (U6: posted as a
person does it, it leads to a page with one ``[data-next-step]`` block), or is set
aside in :data:`EXEMPT` with its reason. An action added to the registry with neither
fails here until it has one or the other, or a reason not to.

A rule may be in both lists: a form whose one choice cannot be undone asks first for
that choice (reject, uphold, disable, lower a quota) and says what follows the others.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from flask import Flask
from flask.testing import FlaskClient

from registry.accounts import operations as accounts
from registry.applications import attachments
from registry.applications import operations as apps
from registry.core import clock
from registry.core.web import is_api_path
from tests.applications.test_objections import DURING, in_notice, object_to
from tests.factories import ELIGIBLE_FIGURES, PASSWORD, new_uscc, thresholds_form, tier_form
from tests.fixtures.api import PDF
from tests.web import test_confirmations as confirmations
from tests.web.test_next_steps import PROFILE, TSME_CHECKS, follow, next_step

#: POST rules that neither ask first nor say what follows, and why.
EXEMPT = {
    # Signing in leads to the person's own start page (an admin's to an admin page),
    # which is what comes next; a failed sign-in answers on the form.
    "/login": "signing in: the start page is the next step",
    # Signing out ends the session: nothing follows but the home page.
    "/logout": "signing out: nothing follows",
    # A person's own password: the account page says it changed and that other sessions
    # were signed out; no one else acts and nothing waits.
    "/account/password": "one's own password: the change is the end of it",
}

#: Which page follows an action does not depend on the engine.
pytestmark = pytest.mark.sqlite_only(reason="the pages that follow do not depend on the engine")


@dataclass
class Context:
    """What a scenario builds on: the confirmations' people (an eligible enterprise, its
    user, reviewers, an admin), committed, and clients signed in as any of them."""

    app: Flask
    session: object
    make: object
    auth: object
    world: dict
    monkeypatch: pytest.MonkeyPatch

    def client(self, who: str | None = None) -> FlaskClient:
        if who is None:
            return self.app.test_client()
        return self.auth.client_of(self.world[who])


@dataclass
class Post:
    """A successful action: who posts what where, and the status of its answer (303 to
    the page that says what follows, or that page itself)."""

    client: FlaskClient
    url: str
    data: dict = field(default_factory=dict)
    status: int = 303


def _draft(c: Context):
    application = c.make.application(c.world["enterprise"], c.world["owner"])
    c.session.commit()
    return application


def _submitted(c: Context):
    application = c.make.application(c.world["enterprise"], c.world["owner"], submitted=True)
    c.session.commit()
    return application


def _claimed(c: Context):
    application = _submitted(c)
    apps.claim(c.session, application, user=c.world["reviewer"], via="web")
    c.session.commit()
    return application


def _nomination(c: Context):
    nomination = apps.create(
        c.session,
        c.world["enterprise"],
        "tech_sme",
        "promotion",
        user=c.world["reviewer"],
        via="web",
    )
    c.session.commit()
    return nomination


def object_(c: Context) -> Post:
    application = in_notice(c.session, c.world)
    prefix = f"objection-{application.id}-"
    data = {prefix + "name": "赵六", prefix + "contact": "zhao@example.com"}
    data[prefix + "grounds"] = "The R&D staff figure is wrong."
    return Post(c.client(), f"/notices/{application.id}/objections", data)


def sign_up(c: Context) -> Post:
    data = {
        "email": "new@example.com",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "uscc": new_uscc(),
        "enterprise_name": "赣江新材料有限公司",
    }
    return Post(c.client(), "/signup", data)


def save_profile(c: Context) -> Post:
    return Post(c.client("owner"), "/enterprise/profile", PROFILE)


def save_report(c: Context) -> Post:
    return Post(c.client("owner"), "/enterprise/reports/2025", ELIGIBLE_FIGURES)


def start(c: Context) -> Post:
    return Post(c.client("owner"), "/applications/new", {"target": "promotion:tech_sme"})


def submit(c: Context) -> Post:
    application = _draft(c)
    return Post(c.client("owner"), f"/applications/{application.id}/submit", {"declaration": "y"})


def add_file(c: Context) -> Post:
    application = _draft(c)
    data = {"file": (io.BytesIO(PDF), "report.pdf")}
    return Post(c.client("owner"), f"/applications/{application.id}/attachments", data)


def remove_file(c: Context) -> Post:
    application = _draft(c)
    file = attachments.add_attachment(
        c.session, application, PDF, "a.pdf", user=c.world["owner"], via="web"
    )
    c.session.commit()
    return Post(c.client("owner"), f"/attachments/{file.id}/delete")


def claim(c: Context) -> Post:
    application = _submitted(c)
    return Post(c.client("reviewer"), f"/review/applications/{application.id}/claim")


def approve(c: Context) -> Post:
    application = _claimed(c)
    data = {"decision": "approve", **TSME_CHECKS}
    return Post(c.client("reviewer"), f"/review/applications/{application.id}/decision", data)


def submit_nomination(c: Context) -> Post:
    nomination = _nomination(c)
    return Post(c.client("reviewer"), f"/review/applications/{nomination.id}/submission")


def nominate(c: Context) -> Post:
    data = {"uscc": c.world["enterprise"].uscc, "tier": "tech_sme"}
    return Post(c.client("reviewer"), "/review/nominate", data)


def verify(c: Context) -> Post:
    enterprise = c.make.enterprise(verified=False)
    c.session.commit()
    return Post(c.client("reviewer"), f"/review/enterprises/{enterprise.uscc}/verification")


def dismiss(c: Context) -> Post:
    objection = object_to(c.session, in_notice(c.session, c.world))
    prefix = f"resolve-{objection.id}-"
    data = {prefix + "outcome": "dismissed", prefix + "comment": "Checked: the figures hold."}
    return Post(c.client("second"), f"/review/objections/{objection.id}/resolution", data)


def decide_claim(c: Context) -> Post:
    enterprise = c.world["enterprise"]
    found = accounts.sign_up(
        c.session,
        email="claimant@example.com",
        password=PASSWORD,
        uscc=enterprise.uscc,
        enterprise_name=enterprise.name,
    ).claim
    c.session.commit()
    prefix = f"claim-{found.id}"
    data = {f"{prefix}-decision": "confirm", f"{prefix}-comment": "checked by phone"}
    return Post(c.client("reviewer"), f"/review/account-claims/{found.id}/decision", data)


def new_user(c: Context) -> Post:
    data = {"email": "li.na@example.com", "role": "reviewer"}
    data |= {"password": "Poyang-lake-2027", "confirm": "Poyang-lake-2027"}
    return Post(c.client("admin"), "/admin/users/new", data)


def change_role(c: Context) -> Post:
    data = {"action": "role", "role": "admin"}
    return Post(c.client("admin"), f"/admin/users/{c.world['target'].id}", data)


def tier_settings(c: Context) -> Post:
    data = tier_form(c.session, "navigator", notice_days="7")
    c.session.rollback()
    return Post(c.client("admin"), "/admin/tiers/navigator", data)


def thresholds(c: Context) -> Post:
    data = thresholds_form(c.session, "navigator", revenue_min="120000")
    c.session.rollback()
    return Post(c.client("admin"), "/admin/tiers/navigator/criteria", data)


def plan_period(c: Context) -> Post:
    data = {"plan_period_end": "2026-12-31", "reason": "规划延长一年"}
    return Post(c.client("admin"), "/admin/plan", data)


def new_token(c: Context) -> Post:
    data = {"email": c.world["target"].email, "scopes": ["registry:read"], "expires_days": "30"}
    # The token is shown on the page that answers, once: no redirect.
    return Post(c.client("admin"), "/admin/tokens", data, status=201)


def import_records(c: Context) -> Post:
    data = {"file": (io.BytesIO(f"uscc,name\n{new_uscc()},赣江导入企业\n".encode()), "a.csv")}
    return Post(c.client("admin"), "/admin/imports", data)


def add_sync_source(c: Context) -> Post:
    from tests.sync.pull_world import SYNC_KEY

    c.monkeypatch.setitem(c.app.config, "SYNC_SECRET_KEY", SYNC_KEY)
    data = {"name": "peer-a", "base_url": "http://peer.example", "token": "secret-token"}
    return Post(c.client("admin"), "/admin/sync", data)


#: U6: per POST rule, an action of it as a person does it.
NEXT_STEPS: dict[str, Callable[[Context], Post]] = {
    "/notices/<int:application_id>/objections": object_,
    "/signup": sign_up,
    "/enterprise/profile": save_profile,
    "/enterprise/reports/<int:year>": save_report,
    "/applications/new": start,
    "/applications/<int:application_id>/submit": submit,
    "/applications/<int:application_id>/attachments": add_file,
    "/attachments/<int:attachment_id>/delete": remove_file,
    "/review/applications/<int:application_id>/claim": claim,
    "/review/applications/<int:application_id>/decision": approve,
    "/review/applications/<int:application_id>/submission": submit_nomination,
    "/review/nominate": nominate,
    "/review/enterprises/<uscc>/verification": verify,
    "/review/objections/<int:objection_id>/resolution": dismiss,
    "/review/account-claims/<int:claim_id>/decision": decide_claim,
    "/admin/users/new": new_user,
    "/admin/users/<int:user_id>": change_role,
    "/admin/tiers/<code>": tier_settings,
    "/admin/tiers/<code>/criteria": thresholds,
    "/admin/plan": plan_period,
    "/admin/tokens": new_token,
    "/admin/imports": import_records,
    "/admin/sync": add_sync_source,
}
#: U5: per POST rule, the confirmations' case that asks first.
CONFIRMED: dict[str, Callable] = {
    "/applications/<int:application_id>/withdraw": confirmations.withdraw,
    "/review/applications/<int:application_id>/withdrawal": confirmations.withdraw_nomination,
    "/review/applications/<int:application_id>/decision": confirmations.reject,
    "/review/objections/<int:objection_id>/resolution": confirmations.uphold,
    "/review/enterprises/<uscc>/demotion": confirmations.demote,
    "/review/enterprises/<uscc>/revocation": confirmations.revoke,
    "/admin/users/<int:user_id>": confirmations.disable_user,
    "/admin/tokens/<int:token_id>/revoke": confirmations.revoke_token,
    "/admin/tiers/<code>": confirmations.lower_quota,
}


@pytest.fixture(autouse=True)
def during_a_notice():
    with clock.pinned(DURING):
        yield


@pytest.fixture
def context(app, session, make, auth, monkeypatch) -> Context:
    return Context(app, session, make, auth, confirmations.people(session, make), monkeypatch)


def web_posts(app: Flask) -> set[str]:
    """Every POST rule of the web (the API's answer JSON and follow API.md)."""
    return {
        rule.rule
        for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and not is_api_path(rule.rule)
    }


def rule_of(app: Flask, url: str) -> str:
    rule, _args = app.url_map.bind("localhost").match(url.split("?")[0], "POST", return_rule=True)
    return rule.rule


def test_every_action_asks_first_says_what_follows_or_is_set_aside(app):
    posts = web_posts(app)
    shown = set(NEXT_STEPS) | set(CONFIRMED)
    missing = posts - shown - set(EXEMPT)
    assert not missing, f"actions that neither ask first (U5) nor say what follows (U6): {missing}"
    assert not (shown | set(EXEMPT)) - posts, "rules listed here that the registry has not"
    assert not shown & set(EXEMPT)
    # The confirmations' cases are all here, so that each rule they show is counted.
    assert set(CONFIRMED.values()) == set(confirmations.CASES)


@pytest.mark.parametrize("rule", list(NEXT_STEPS))
def test_the_action_says_what_follows(app, context, rule):
    action = NEXT_STEPS[rule](context)
    assert rule_of(app, action.url) == rule
    response = action.client.post(action.url, data=action.data)
    if action.status == 303:
        response = follow(action.client, response)
        text, _url = next_step(response)
    else:
        text, _url = next_step(response, action.status)
    assert text.strip()


@pytest.mark.parametrize("rule", list(CONFIRMED))
def test_the_action_asks_first(app, context, rule):
    """That it asks, here; what it asks and that the confirmed post acts, in
    :mod:`tests.web.test_confirmations`."""
    case = CONFIRMED[rule](context.session, context.make, context.world)
    assert rule_of(app, case.url) == rule
    asked = context.client(case.who).post(case.url, data=case.data)
    assert asked.status_code == 200
    assert re.search(r'<section class="confirm[^"]*" data-confirm', asked.text)
