"""The ladder under one enterprise in the REST API: eligibility, tier events,
demotions and revocations."""

from __future__ import annotations

import pytest

from registry.ladder import operations as ladder_ops
from registry.ladder import queries as ladder_queries
from tests.factories import TEST_ACTOR, new_uscc
from tests.fixtures.api import API, NOW, problem_of, refused_fields
from tests.fixtures.enterprises_api import World, reload

pytestmark = pytest.mark.usefixtures("pinned_clock")


@pytest.fixture
def client(api_client):
    return api_client


@pytest.fixture
def world(enterprises_world) -> World:
    return enterprises_world


# --- eligibility ----------------------------------------------------------------------------------


def test_eligibility_as_the_ladder_evaluates_it(client, session, make, world):
    for year in (2023, 2024, 2025):
        make.eligible_report(world.a, year)
    session.commit()
    path = f"{API}/enterprises/{world.a.uscc}/eligibility"
    response = client.get(f"{path}?tier=tech_sme", headers=world.headers["owner"])
    assert response.status_code == 200, response.json
    body = response.json
    expected = ladder_queries.evaluate_enterprise(
        session, reload(session, world.a), "tech_sme", reference=NOW, lang="en"
    ).to_dict()
    assert body == expected
    assert (body["tier"], body["year"], body["evaluated_at"]) == (
        "tech_sme",
        2025,
        "2026-03-04T03:00:00Z",
    )
    assert body["eligible"] is True and body["score"]["total"] >= body["score"]["pass_mark"]
    assert {
        "code",
        "label",
        "status",
        "operator",
        "required",
        "actual",
        "unit",
        "alternative",
    } == set(body["checks"][0])
    earlier = client.get(f"{path}?tier=champion&year=2024", headers=world.headers["wang"]).json
    for tier in ("high_tech", "navigator", "chain_leader"):
        assert client.get(f"{path}?tier={tier}", headers=world.headers["wang"]).status_code == 200
    assert (earlier["tier"], earlier["year"]) == ("champion", 2024)
    unknown = client.get(f"{path}?tier=gold", headers=world.headers["owner"])
    assert refused_fields(unknown) == [("tier", "invalid_choice")]
    assert refused_fields(client.get(path, headers=world.headers["owner"])) == [
        ("tier", "required")
    ]


# --- tier events, demotions and revocations -------------------------------------------------------


def test_a_reviewer_demotes_and_the_enterprise_sees_the_event(client, session, world):
    ladder_ops.grant_tier(session, world.a, "champion", actor=TEST_ACTOR, reason="grant")
    session.commit()
    path = f"{API}/enterprises/{world.a.uscc}"
    demoted = client.post(
        f"{path}/demotions",
        json={"to_tier": "tech_sme", "reason": "figures fell"},
        headers=world.headers["wang"],
    )
    assert demoted.status_code == 201, demoted.json
    event = demoted.json
    assert (event["kind"], event["from_tier"], event["to_tier"]) == (
        "demote",
        "champion",
        "tech_sme",
    )
    assert event["enterprise_uscc"] == world.a.uscc and event["reason"] == "figures fell"
    assert event["actor"] == {"id": world.wang.id, "name": "Reviewer Wang"}
    assert event["tier_since"] == "2026-03-04" and event["registration_number"]
    stored = reload(session, world.a)
    assert (stored.tier, stored.version) == ("tech_sme", 3)

    mine = client.get(f"{path}/tier-events", headers=world.headers["owner"]).json
    assert [e["kind"] for e in mine["data"]] == ["grant", "demote"]
    assert mine["data"][0]["actor"] == {"id": None, "name": "test"}
    assert mine["data"][1]["actor"] is None  # a reviewer's identity: not for the enterprise
    reviewers = client.get(f"{path}/tier-events?limit=1", headers=world.headers["wang"])
    assert reviewers.json["data"][0]["id"] == mine["data"][0]["id"]
    link = reviewers.headers["Link"]
    following = client.get(link[1 : link.index(">")], headers=world.headers["wang"]).json
    assert (following["data"], following["next_cursor"]) == ([event], None)


def test_demotion_refusals(client, session, world):
    path = f"{API}/enterprises/{world.a.uscc}/demotions"
    wang = world.headers["wang"]
    body = {"to_tier": "tech_sme", "reason": "x"}
    problem_of(client.post(path, json=body, headers=world.headers["owner"]), 403, "forbidden")
    problem_of(client.post(path, json=body, headers=wang), 409, "not_on_ladder")
    ladder_ops.grant_tier(session, world.a, "high_tech", actor=TEST_ACTOR, reason="grant")
    session.commit()
    higher = client.post(path, json={**body, "to_tier": "champion"}, headers=wang)
    problem_of(higher, 409, "invalid_transition")
    unknown = client.post(path, json={**body, "to_tier": "gold"}, headers=wang)
    assert refused_fields(unknown) == [("to_tier", "invalid_choice")]
    assert refused_fields(client.post(path, json={"to_tier": "tech_sme"}, headers=wang)) == [
        ("reason", "required")
    ]
    missing = client.post(f"{API}/enterprises/{new_uscc()}/demotions", json=body, headers=wang)
    problem_of(missing, 404, "not_found")
    assert reload(session, world.a).tier == "high_tech"


def test_a_reviewer_revokes_with_a_ban(client, session, world):
    ladder_ops.grant_tier(session, world.a, "high_tech", actor=TEST_ACTOR, reason="grant")
    session.commit()
    path = f"{API}/enterprises/{world.a.uscc}/revocations"
    wang = world.headers["wang"]
    past = client.post(path, json={"reason": "fraud", "ban_until": "2026-03-04"}, headers=wang)
    assert refused_fields(past) == [("ban_until", "out_of_range")]
    revoked = client.post(path, json={"reason": "fraud", "ban_until": "2028-01-01"}, headers=wang)
    assert revoked.status_code == 201, revoked.json
    event = revoked.json
    assert (event["kind"], event["from_tier"], event["to_tier"]) == ("revoke", "high_tech", None)
    assert (event["ban_until"], event["tier_since"], event["registration_number"]) == (
        "2028-01-01",
        None,
        None,
    )
    stored = reload(session, world.a)
    assert (stored.tier, str(stored.ban_until)) == (None, "2028-01-01")
    again = client.post(path, json={"reason": "again"}, headers=wang)
    problem_of(again, 409, "not_on_ladder")
