"""``GET /api/v1/reports`` and ``GET /api/v1/reports/{name}`` (API.md "Report"): the
shape of every report, titles and labels in the request's language, and who sees what
(PRODUCT.md §8): public reports for everyone, ``pipeline`` for reviewer and admin
tokens, ``coverage`` whole for them and with small cells withheld for everyone else."""

from __future__ import annotations

import pytest

from registry.accounts.models import Role
from registry.ladder import operations as ladder
from tests.factories import TEST_ACTOR
from tests.fixtures.api import API, bearer, problem_of

pytestmark = pytest.mark.usefixtures("pinned_clock")

NAMES = ["quota", "tier-by-city", "tier-by-industry", "pipeline", "moves", "progress", "coverage"]
SHAPE = {"name", "title", "as_of", "columns", "rows", "totals", "notes", "suppressed"}
EN = {"Accept-Language": "en"}


@pytest.fixture
def client(api_client):
    return api_client


@pytest.fixture
def holders(session, make):
    """Three electronic_info holders with 2025 reports, one giving 1000 of 1020 in
    revenue: the public sees that sum withheld."""
    for revenue in (1000, 10, 10):
        enterprise = make.enterprise()
        ladder.grant_tier(session, enterprise, "tech_sme", actor=TEST_ACTOR, reason="x")
        make.report(enterprise, 2025, revenue=revenue, rd_expense=5)
    session.commit()


def token(session, make, role: Role, scopes: str) -> dict[str, str]:
    enterprise = make.enterprise() if role == Role.ENTERPRISE else None
    return bearer(session, make.user(role=role, enterprise=enterprise), scopes)


def test_the_catalogue_in_order_in_the_requests_language(client):
    response = client.get(f"{API}/reports", headers=EN)
    assert response.status_code == 200
    data = response.json["data"]
    assert [(r["name"], r["public"]) for r in data] == [(n, n != "pipeline") for n in NAMES]
    assert data[0]["title"] == "Quotas and holders per tier"
    assert set(response.json) == {"data"}  # a fixed catalogue: no cursor
    zh = client.get(f"{API}/reports", headers={"Accept-Language": "zh"}).json["data"]
    assert zh[0]["title"] == "各层级名额与在册企业"


@pytest.mark.parametrize("name", [n for n in NAMES if n != "pipeline"])
def test_every_public_report_without_a_token_in_api_md_shape(client, name):
    response = client.get(f"{API}/reports/{name}", headers=EN)
    assert response.status_code == 200, response.json
    body = response.json
    extra = {"progress": {"projection"}, "coverage": {"by_tier", "plan_rd_intensity"}}
    assert set(body) == SHAPE | extra.get(name, set())
    assert body["name"] == name
    assert body["as_of"] == "2026-03-04T03:00:00Z"
    assert all(set(c) == {"key", "label", "type"} for c in body["columns"])
    keys = [c["key"] for c in body["columns"]]
    assert all(set(row) == set(keys) for row in body["rows"])
    assert body["totals"] is None or set(body["totals"]) == set(keys)


def test_labels_and_titles_follow_accept_language_and_keys_do_not(client):
    en = client.get(f"{API}/reports/tier-by-city", headers=EN).json
    zh = client.get(f"{API}/reports/tier-by-city", headers={"Accept-Language": "zh"}).json
    assert [c["key"] for c in en["columns"]] == [c["key"] for c in zh["columns"]]
    assert [c["key"] for c in en["columns"]] == [
        "city_code",
        "tech_sme",
        "high_tech",
        "champion",
        "navigator",
        "chain_leader",
        "total",
    ]
    assert [c["label"] for c in en["columns"]][:2] == ["City", "Technology-based SME"]
    assert [c["label"] for c in zh["columns"]][:2] == ["设区市", "科技型中小企业"]
    assert (en["title"], zh["title"]) == ("Holders per tier and city", "各层级在册企业（按设区市）")
    assert en["rows"][0] == zh["rows"][0]
    assert en["rows"][-1]["city_code"] == "unknown"


def test_quota_body(client, session, make):
    ladder.grant_tier(session, make.enterprise(), "champion", actor=TEST_ACTOR, reason="x")
    session.commit()
    body = client.get(f"{API}/reports/quota", headers=EN).json
    assert body["rows"][2] == {
        "tier": "champion",
        "quota": 100,
        "holders": 1,
        "reserved": 0,
        "occupancy": 1,
        "remaining": 99,
        "percent_of_quota": 1.0,
    }
    assert body["totals"]["holders"] == 1
    assert body["totals"]["percent_of_quota"] is None
    assert body["suppressed"] == []


def test_progress_carries_its_projection(client):
    body = client.get(f"{API}/reports/progress", headers=EN).json
    assert len(body["rows"]) == 24 * 5
    assert body["projection"][0] == {
        "tier": "tech_sme",
        "status": "not_at_this_pace",
        "month": None,
    }


def test_an_unknown_report_is_404(client, session, make):
    problem_of(client.get(f"{API}/reports/nothing", headers=EN), 404, "not_found")
    headers = token(session, make, Role.ADMIN, "registry:read")
    problem_of(client.get(f"{API}/reports/nothing", headers=headers), 404, "not_found")


def test_a_bad_token_is_401_on_a_public_report(client):
    headers = {"Authorization": "Bearer ecr_nothing", **EN}
    problem_of(client.get(f"{API}/reports/quota", headers=headers), 401, "unauthenticated")


@pytest.mark.parametrize(
    ("role", "scopes", "status"),
    [
        (Role.REVIEWER, "registry:read", 200),
        (Role.ADMIN, "registry:read", 200),
        # Reading the applications it counts is enough too (API.md, Resources).
        (Role.REVIEWER, "workflow:review", 200),
        (Role.REVIEWER, "changes:read", 403),
        (Role.ADMIN, "admin", 403),
        (Role.ENTERPRISE, "registry:read", 403),
        (Role.ENTERPRISE, "registry:read,workflow:apply", 403),
    ],
)
def test_pipeline_is_for_reviewer_and_admin_tokens(client, session, make, role, scopes, status):
    headers = token(session, make, role, scopes)
    response = client.get(f"{API}/reports/pipeline", headers=headers)
    if status == 200:
        assert response.status_code == 200
        assert [c["key"] for c in response.json["columns"]] == [
            "tier",
            "draft",
            "submitted",
            "in_review",
            "changes_requested",
            "in_notice",
            "total",
        ]
    else:
        problem_of(response, status, "forbidden")


def test_pipeline_without_a_token_is_401(client):
    response = client.get(f"{API}/reports/pipeline", headers=EN)
    problem_of(response, 401, "unauthenticated")
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_coverage_is_withheld_for_the_public_and_whole_for_reviewers(
    client, session, make, holders
):
    anonymous = client.get(f"{API}/reports/coverage", headers=EN).json
    electronic = anonymous["rows"][1]
    assert electronic["industry_code"] == "electronic_info"
    assert (electronic["reporting"], electronic["revenue"], electronic["rd_expense"]) == (
        3,
        None,
        15,
    )
    assert anonymous["suppressed"] == [
        {"row": 1, "key": "revenue"},
        {"row": 1, "key": "rd_intensity"},
    ]
    assert anonymous["totals"]["revenue"] is None  # it would reveal the one cell
    assert any("80 %" in note for note in anonymous["notes"])
    assert anonymous["plan_rd_intensity"] == 2
    assert anonymous["by_tier"][0] == {"tier": "tech_sme", "reporting": 3, "rd_intensity": None}

    for role, scopes, whole in (
        (Role.ENTERPRISE, "registry:read", False),
        (Role.REVIEWER, "workflow:review", False),  # not registry:read
        (Role.REVIEWER, "registry:read", True),
        (Role.ADMIN, "registry:read", True),
    ):
        body = client.get(
            f"{API}/reports/coverage", headers=token(session, make, role, scopes)
        ).json
        assert (body["rows"][1]["revenue"] == 1020) is whole, (role, scopes)
        assert (body["suppressed"] == []) is whole
    assert body["by_tier"][0] == {"tier": "tech_sme", "reporting": 3, "rd_intensity": 1.47}


def test_coverage_of_a_chosen_year(client, holders):
    body = client.get(f"{API}/reports/coverage?year=2024", headers=EN).json
    assert body["title"] == "Enterprises on the ladder in the plan's industries (2024)"
    assert {row["reporting"] for row in body["rows"]} == {0}


@pytest.mark.parametrize("year", ["twenty", "1989", "2026", "-1", ""])
@pytest.mark.parametrize("name", ["coverage", "quota"])
def test_coverage_of_a_year_reports_cannot_be_for_is_422(client, name, year):
    """Every report takes the documented ``year``; a blank one is not a year either
    (the pages' forms send it blank for "the default"; the API's callers omit it)."""
    response = client.get(f"{API}/reports/{name}?year={year}", headers=EN)
    body = problem_of(response, 422, "validation_failed")
    assert [e["field"] for e in body["errors"]] == ["year"]


def test_the_reports_are_in_the_openapi_document(client):
    paths = client.get(f"{API}/openapi.json").json["paths"]
    one = paths["/api/v1/reports/{name}"]["get"]
    assert "/api/v1/reports" in paths
    assert {p["name"] for p in one["parameters"]} >= {"name", "year"}
    assert {"200", "401", "403", "404", "422"} <= set(one["responses"])
