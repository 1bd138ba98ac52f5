"""``GET /api/v1/stats``: aggregate figures for any token with ``registry:read``; no
token, a bad token or a token without the scope is refused."""

from __future__ import annotations

import pytest

from registry.accounts.models import Role
from registry.ladder import operations as ladder
from tests.factories import TEST_ACTOR
from tests.fixtures.api import API, bearer, problem_of

pytestmark = pytest.mark.usefixtures("pinned_clock")


@pytest.fixture
def client(api_client):
    return api_client


@pytest.fixture
def world(api_world):
    return api_world


def test_stats_body(client, session, make, world):
    world.in_notice()  # enterprise a: a tech_sme slot reserved
    holder = make.enterprise(city_code="360400", industry_code=None)
    ladder.grant_tier(session, holder, "high_tech", actor=TEST_ACTOR, reason="x")
    session.commit()
    response = client.get(f"{API}/stats", headers=world.headers["owner"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert set(body) == {"as_of", "tiers", "by_city", "by_industry", "pipeline", "monthly"}
    assert body["as_of"] == "2026-03-04T03:00:00Z"
    assert body["tiers"][:2] == [
        {
            "code": "tech_sme",
            "quota": 5000,
            "holders": 0,
            "reserved": 1,
            "occupancy": 1,
            "remaining": 4999,
            "percent_of_quota": 0.02,
        },
        {
            "code": "high_tech",
            "quota": 3000,
            "holders": 1,
            "reserved": 0,
            "occupancy": 1,
            "remaining": 2999,
            "percent_of_quota": 0.03,
        },
    ]
    assert [t["code"] for t in body["tiers"]][2:] == ["champion", "navigator", "chain_leader"]
    assert body["by_city"] == [{"tier": "high_tech", "city_code": "360400", "holders": 1}]
    assert body["by_industry"] == [{"tier": "high_tech", "industry_code": None, "holders": 1}]
    assert len(body["pipeline"]) == 5 * 5
    assert body["pipeline"][4] == {"tier": "tech_sme", "state": "in_notice", "count": 1}
    assert sum(row["count"] for row in body["pipeline"]) == 1
    monthly = body["monthly"]
    assert len(monthly) == 24 * 5
    assert (monthly[0]["month"], monthly[-1]["month"]) == ("2024-04", "2026-03")
    assert monthly[-4] == {"month": "2026-03", "tier": "high_tech", "grants": 1, "lapses": 0}
    assert sum(row["grants"] + row["lapses"] for row in monthly) == 1


@pytest.mark.parametrize("role", [Role.ENTERPRISE, Role.REVIEWER, Role.ADMIN])
def test_every_role_reads_the_stats_with_registry_read(client, session, world, role, make):
    user = make.user(
        f"{role}@stats.example", role, enterprise=world.a if role == "enterprise" else None
    )
    response = client.get(f"{API}/stats", headers=bearer(session, user, "registry:read"))
    assert response.status_code == 200
    assert response.json["as_of"] == "2026-03-04T03:00:00Z"


def test_no_token_or_a_bad_one_is_401(client, session, world):
    missing = client.get(f"{API}/stats")
    problem_of(missing, 401, "unauthenticated")
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    bad = client.get(f"{API}/stats", headers={"Authorization": "Bearer ecr_not-a-token"})
    problem_of(bad, 401, "unauthenticated")
    assert "tiers" not in bad.json
    applying_only = bearer(session, world.owner, "workflow:apply")
    problem_of(client.get(f"{API}/stats", headers=applying_only), 403, "forbidden")


def test_the_stats_are_documented(client):
    document = client.get(f"{API}/openapi.json").json
    operation = document["paths"][f"{API}/stats"]["get"]
    assert set(operation["responses"]) >= {"200", "401"}
    ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    schemas = document["components"]["schemas"]
    stats = schemas[ref.rsplit("/", 1)[-1]]
    assert list(stats["properties"]) == [
        "as_of",
        "tiers",
        "by_city",
        "by_industry",
        "pipeline",
        "monthly",
    ]

    def item(name):
        return schemas[stats["properties"][name]["items"]["$ref"].rsplit("/", 1)[-1]]

    assert list(item("tiers")["properties"]) == [
        "code",
        "quota",
        "holders",
        "reserved",
        "occupancy",
        "remaining",
        "percent_of_quota",
    ]
    assert list(item("by_city")["properties"]) == ["tier", "city_code", "holders"]
    assert list(item("by_industry")["properties"]) == ["tier", "industry_code", "holders"]
    assert list(item("pipeline")["properties"]) == ["tier", "state", "count"]
    assert list(item("monthly")["properties"]) == ["month", "tier", "grants", "lapses"]
