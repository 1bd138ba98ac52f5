"""Shared fixtures of the applications API tests: an enterprise eligible for tech_sme
with its user, a second enterprise with its own user, two reviewers, and a bearer
token for each. The test modules declare the fixtures from the plain functions here:

    _client = pytest.fixture(name="client")(api_client)
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask.testing import FlaskClient

from registry.accounts import operations as accounts
from registry.accounts import tokens
from registry.accounts.models import Role
from registry.applications import decisions
from registry.applications import operations as apps
from registry.applications.models import Application
from registry.core import clock
from tests.factories import TEST_ACTOR

NOW = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)  # Wed 2026-03-04 in Shanghai
API = "/api/v1"
ENTERPRISE_SCOPES = "registry:read,workflow:apply"
REVIEWER_SCOPES = "registry:read,workflow:review"
TSME_CHECKS = {"industry_allowed": True, "clean_record": True}
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def pinned_clock():
    """(autouse) Every test runs at :data:`NOW` unless it pins another time."""
    with clock.pinned(NOW):
        yield


class ApiClient(FlaskClient):
    """A test client that ends the test's own transaction before each request: on
    SQLite a read by the test holds the write lock (BEGIN IMMEDIATE) until it ends."""

    session = None

    def open(self, *args, **kwargs):
        self.session.rollback()
        return super().open(*args, **kwargs)


def api_client(app, session) -> ApiClient:
    api_client = ApiClient(app, app.response_class, use_cookies=False)
    api_client.session = session
    return api_client


def bearer(session, user, scopes: str) -> dict[str, str]:
    _row, secret = tokens.create_token(session, user, scopes, actor=TEST_ACTOR)
    session.commit()
    return {"Authorization": f"Bearer {secret}", "Accept-Language": "en"}


class World:
    """Who is who; ``headers[name]`` sends that user's token."""

    def __init__(self, session, make) -> None:
        self.session = session
        self.a = make.enterprise(name="赣江甲科技有限公司", founded_on=date(2015, 1, 1))
        self.b = make.enterprise(name="赣州乙科技有限公司", founded_on=date(2015, 1, 1))
        for enterprise in (self.a, self.b):
            for year in (2023, 2024, 2025):
                make.eligible_report(enterprise, year)
        self.owner = self.user("owner@a.example", enterprise=self.a, name="甲公司经办人")
        self.other = self.user("owner@b.example", enterprise=self.b, name="乙公司经办人")
        self.wang = self.user("wang@review.example", Role.REVIEWER, name="Reviewer Wang")
        self.li = self.user("li@review.example", Role.REVIEWER, name="Reviewer Li")
        session.commit()
        self.headers = {
            "owner": bearer(session, self.owner, ENTERPRISE_SCOPES),
            "other": bearer(session, self.other, ENTERPRISE_SCOPES),
            "wang": bearer(session, self.wang, REVIEWER_SCOPES),
            "li": bearer(session, self.li, REVIEWER_SCOPES),
        }

    def user(self, email, role=Role.ENTERPRISE, enterprise=None, name=""):
        return accounts.create_user(
            self.session, email, role=role, actor=TEST_ACTOR, enterprise=enterprise, name=name
        )

    def draft(self, tier="tech_sme", enterprise=None, user=None) -> Application:
        application = apps.create(
            self.session,
            enterprise or self.a,
            tier,
            "promotion",
            user=user or self.owner,
            via="web",
        )
        self.session.commit()
        return application

    def submitted(self, tier="tech_sme") -> Application:
        application = self.draft(tier)
        apps.submit(self.session, application, user=self.owner, via="web", declaration=True)
        self.session.commit()
        return application

    def in_review(self) -> Application:
        application = self.submitted()
        apps.claim(self.session, application, user=self.wang, via="web")
        self.session.commit()
        return application

    def in_notice(self) -> Application:
        application = self.in_review()
        decisions.decide(
            self.session,
            application,
            "approve",
            user=self.wang,
            via="web",
            manual_checks=TSME_CHECKS,
        )
        self.session.commit()
        return application


def new_world(app, session, make) -> World:
    return World(session, make)


def problem_of(response, status: int, code: str) -> dict:
    """The body of a problem answer, checked for its status and code."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert (body["status"], body["code"]) == (status, code), body
    return body


def field_codes(response) -> list[tuple[str, str]]:
    return sorted((e["field"], e["code"]) for e in response.json["errors"])


def refused_fields(response, code: str = "validation_failed") -> list[tuple[str, str]]:
    """The (field, code) pairs of a 422 problem, checked for its code."""
    problem_of(response, 422, code)
    return field_codes(response)
