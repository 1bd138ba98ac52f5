"""QUALITY.md S13: schemathesis over ``/api/v1/openapi.json`` with every default check,
authenticated as an admin (a token with every scope) → no failures.

Every phase of ``st run`` (examples, coverage, fuzzing, stateful) runs through
schemathesis' engine against the WSGI app (no network), over a world in which the ids
it draws often exist: enterprises with reports, one holding a tier, applications
submitted, in notice and in draft with an attachment, an objection, an account claim.
Half of the path parameters (and of the ETags, tiers and USCCs in bodies) are drawn
from that world, so GETs and actions reach real records as well as missing ones.

``positive_data_acceptance`` accepts 409/412/422/428 besides its defaults: a request
that fits the document may still be refused by a business rule (a state transition, a
stale or missing precondition, an eligibility check), and the document lists those
problems for each operation. The API limits are off (RATELIMIT_ENABLED), the clock is
pinned.

The short form (``make test``) runs on SQLite only with a small budget (P8); the long
form (``make test-long``, marked slow) on both engines with ``HYPOTHESIS_EXAMPLES``.
Generation is deterministic (derandomized, no example database, no schemathesis
cache), so a failure repeats.
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import date

import pytest
import schemathesis
from schemathesis import engine
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events
from schemathesis.transport.wsgi import WSGITransport

from registry.accounts import tokens
from registry.accounts.models import AccountClaim, ClaimState, Role
from registry.applications import attachments, objections
from registry.applications import operations as apps
from registry.core import clock
from registry.ladder import operations as ladder_ops
from tests.factories import TEST_ACTOR
from tests.fixtures.api import NOW, PDF, World
from tests.fixtures.route_matrix import SCOPES

#: Hypothesis warns when a generated case is too large to print (long query strings);
#: the suite's warnings-as-errors would make that a failed case.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Generating overly large repr:hypothesis.errors.HypothesisWarning"
)
DOCUMENT = "/api/v1/openapi.json"
EVERY_SCOPE = ",".join(SCOPES)
#: A well-formed request: schemathesis' defaults and the business-rule refusals
#: (409 state, 412 stale precondition, 422 a rule such as not_eligible, 428 none sent).
POSITIVE = ["2xx", "3xx", "401", "403", "404", "409", "429", "412", "422", "428"]
#: A malformed one: the defaults (but 5xx) and 412, which API.md orders before the
#: body's 422: a stale If-Match is refused before the body is read.
NEGATIVE = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428", "429", "412"]
#: A required header left out: the defaults, and 428 for a missing If-Match.
MISSING_HEADER = ["400", "401", "403", "406", "415", "422", "428"]
SHORT_EXAMPLES = 8
LONG_EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "100"))
#: Where schemathesis draws from the world's values (``build_world``), half the time.
BINDINGS = {
    "path.uscc": "usccs",
    "path.application_id": "application_ids",
    "path.attachment_id": "attachment_ids",
    "path.objection_id": "objection_ids",
    "path.claim_id": "claim_ids",
    "path.code": "tiers",
    "path.year": "years",
    "header.If-Match": "etags",
    "header.If-None-Match": "etags",
    "body.enterprise_uscc": "usccs",
    "body.tier": "tiers",
    "body.to_tier": "tiers",
}


def build_world(session, make) -> dict:
    """Records for the fuzzer to find: the admin token's secret, and the values it
    draws parameters and some body members from."""
    world = World(session, make)  # A and B with reports and users, two reviewers
    admin = make.user("admin@registry.example", Role.ADMIN, name="Admin Zhao")
    in_notice = world.in_notice()  # A's
    submitted = world.draft(enterprise=world.b, user=world.other)
    apps.submit(session, submitted, user=world.other, via="web", declaration=True)
    c = make.enterprise(name="抚州丙科技有限公司", founded_on=date(2016, 6, 1))
    make.eligible_report(c, 2025)
    c_owner = make.user("owner@c.example", enterprise=c)
    draft = world.draft(enterprise=c, user=c_owner)
    attachment = attachments.add_attachment(
        session, draft, PDF, "plan.pdf", user=c_owner, via="web"
    )
    holder = make.enterprise(name="景德镇丁高新有限公司")
    ladder_ops.grant_tier(session, holder, "high_tech", actor=TEST_ACTOR, reason="seeded")
    objection = objections.file_objection(
        session,
        in_notice,
        name="Citizen Wu",
        contact="wu@example.org",
        grounds="The figures look high.",
        client_address="192.0.2.1",
    )
    claimant = make.user("claimant@example.org")
    claim = AccountClaim(
        user_id=claimant.id,
        enterprise_id=world.b.id,
        stated_name=world.b.name,
        state=ClaimState.PENDING,
    )
    session.add(claim)
    session.commit()
    _row, secret = tokens.create_token(session, admin, EVERY_SCOPE, actor=TEST_ACTOR)
    session.commit()
    values = {
        "usccs": [world.a.uscc, world.b.uscc, c.uscc, holder.uscc],
        "application_ids": [draft.id, submitted.id, in_notice.id],
        "attachment_ids": [attachment.id],
        "objection_ids": [objection.id],
        "claim_ids": [claim.id],
        "tiers": ["tech_sme", "high_tech", "champion"],
        "years": [2024, 2025],
        # The records' versions are small: a made-up ETag sometimes matches.
        "etags": ['"1"', '"2"', '"3"', "*"],
    }
    return {"secret": secret, "values": values}


def fuzz_config(world: dict, max_examples: int) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": 20260304,
            "workers": 1,
            # Nothing carried over from an earlier run: the same cases every time.
            "cache": {"enabled": False},
            "headers": {"Authorization": f"Bearer {world['secret']}", "Accept-Language": "en"},
            "generation": {
                "max-examples": max_examples,
                "deterministic": True,
                "database": "none",
            },
            "checks": {
                "positive_data_acceptance": {"expected-statuses": POSITIVE},
                "negative_data_rejection": {"expected-statuses": NEGATIVE},
                "missing_required_header": {"expected-statuses": MISSING_HEADER},
            },
            "dictionaries": {name: {"values": v} for name, v in world["values"].items()},
            "parameters": {
                where: {"dictionary": dictionary, "probability": 0.5}
                for where, dictionary in BINDINGS.items()
            },
        }
    )


class Run:
    """What one run found: the failed checks, and the statuses each operation gave."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.statuses: dict[str, set[int]] = defaultdict(set)

    def record(self, recorder) -> None:
        for case_id, interaction in recorder.interactions.items():
            if interaction.response is not None:
                label = recorder.cases[case_id].value.operation.label
                self.statuses[label].add(interaction.response.status_code)
        for case_id, checks in recorder.checks.items():
            interaction = recorder.interactions.get(case_id)
            status = (
                interaction.response.status_code if interaction and interaction.response else "?"
            )
            for check in checks:
                if check.failure_info is not None:
                    failure = check.failure_info.failure
                    # Cut short: generated query strings can be long.
                    self.failures.append(
                        f"{check.name} → {status}: {failure.title}\n{failure.message[:800]}\n"
                        f"{check.failure_info.code_sample[:800]}"
                    )


def run_schemathesis(app, world: dict, max_examples: int) -> Run:
    schema = schemathesis.openapi.from_wsgi(DOCUMENT, app, config=fuzz_config(world, max_examples))
    run = Run()
    for event in engine.from_schema(schema).execute():
        if isinstance(event, (events.ScenarioFinished, events.FuzzScenarioFinished)):
            run.record(event.recorder)
        elif isinstance(event, events.NonFatalError):
            run.failures.append(f"error in {event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            run.failures.append(f"fatal: {event.exception!r}")
    operations = {
        f"{method.upper()} {path}"
        for path, item in schema.raw_schema["paths"].items()
        for method in item
        if method in ("get", "put", "post", "patch", "delete")
    }
    assert set(run.statuses) >= operations, "operations schemathesis did not call"
    return run


@pytest.fixture
def in_process_probes(monkeypatch):
    """schemathesis 4.32.5 sends ``ignored_auth``'s probes (the request again without
    the token) with the engine's network settings and no session; its WSGI transport
    drops those settings only along with a session, and werkzeug refuses them."""
    send = WSGITransport.send

    def send_in_process(self, case, *, session=None, **kwargs):
        if session is None:
            for name in ("max_redirects", "verify", "cert", "proxies"):
                kwargs.pop(name, None)
        return send(self, case, session=session, **kwargs)

    monkeypatch.setattr(WSGITransport, "send", send_in_process)


@pytest.fixture
def world(app, session, make, monkeypatch, in_process_probes):
    monkeypatch.setitem(app.config, "RATELIMIT_ENABLED", False)
    # Long-polls of /changes wait at most a second here (S13).
    monkeypatch.setitem(app.config, "FEED_WAIT_CAP_SECONDS", 1.0)
    # The engine calls the app from threads of its own: the clock is pinned by config.
    monkeypatch.setitem(app.config, "REGISTRY_FAKE_NOW", NOW.isoformat())
    with clock.pinned(NOW):
        built = build_world(session, make)
    session.remove()
    return built


def check(run: Run) -> None:
    assert not run.failures, "\n\n".join(run.failures)
    # The world is found: every read answers 2xx for some input.
    unread = sorted(
        label
        for label, statuses in run.statuses.items()
        if label.startswith("GET ") and not any(200 <= s < 300 for s in statuses)
    )
    assert unread == []


@pytest.mark.sqlite_only(reason="the short form runs on SQLite only (P8)")
def test_the_api_conforms_to_its_document(app, world):
    check(run_schemathesis(app, world, SHORT_EXAMPLES))


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_the_api_conforms_to_its_document_with_more_examples(app, world):
    check(run_schemathesis(app, world, LONG_EXAMPLES))
