"""The ladder in the REST API: tiers and published lists (public), with the API's
wire conventions — envelopes, cursors, problem details, headers."""

from __future__ import annotations

import pytest

from registry.ladder import operations as ladder
from tests.factories import TEST_ACTOR


def test_tiers_with_their_occupancy(client, session, make):
    ladder.grant_tier(session, make.enterprise(), "tech_sme", actor=TEST_ACTOR, reason="x")
    session.commit()
    response = client.get("/api/v1/tiers", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert (body["next_cursor"], body["has_more"]) == (None, False)
    assert [t["code"] for t in body["data"]] == [
        "tech_sme",
        "high_tech",
        "champion",
        "navigator",
        "chain_leader",
    ]
    assert body["data"][0] == {
        "code": "tech_sme",
        "rank": 1,
        "name": "Technology-based SME",
        "quota": 5000,
        "holders": 1,
        "reserved": 0,
        "occupancy": 1,
        "remaining": 4999,
        "validity": "calendar_year",
        "notice_days": 10,
        "approvals_required": 1,
        "self_apply": True,
        "prerequisite": None,
    }
    assert body["data"][2]["validity"] == 3 and body["data"][2]["prerequisite"] == "tech_sme"
    assert client.get("/api/v1/tiers").json["data"][0]["name"] == "科技型中小企业"


def test_published_list_pages_by_cursor_with_a_link_header(client, session, make):
    codes = []
    for _ in range(3):
        enterprise = make.enterprise(area="360400", city_code="360400")
        ladder.grant_tier(session, enterprise, "tech_sme", actor=TEST_ACTOR, reason="x")
        codes.append(enterprise.uscc)
    session.commit()
    first = client.get("/api/v1/tiers/tech_sme/enterprises?limit=2")
    assert first.status_code == 200
    assert [row["uscc"] for row in first.json["data"]] == sorted(codes)[:2]
    assert first.json["has_more"] is True
    link = first.headers["Link"]
    assert link.endswith('>; rel="next"') and "after=" in link
    second = client.get(
        "/api/v1/tiers/tech_sme/enterprises",
        query_string={"limit": 2, "after": first.json["next_cursor"]},
    )
    assert [row["uscc"] for row in second.json["data"]] == sorted(codes)[2:]
    assert second.json == {**second.json, "next_cursor": None, "has_more": False}
    assert "Link" not in second.headers
    row = second.json["data"][0]
    assert set(row) == {
        "uscc",
        "name",
        "name_en",
        "city_code",
        "industry_code",
        "tier_since",
        "tier_expires_at",
        "registration_number",
        "route",
        "little_giant",
    }
    assert (row["route"], row["little_giant"]) == (None, False)  # the champion rung's only
    assert row["tier_expires_at"].endswith("Z")
    assert client.get("/api/v1/tiers/tech_sme/enterprises?city=360400").json["data"]
    assert client.get("/api/v1/tiers/tech_sme/enterprises?city=360100").json["data"] == []


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ("limit=501", "limit", "out_of_range"),
        ("limit=0", "limit", "out_of_range"),
        ("limit=x", "limit", "invalid_type"),
        ("city=999999", "city", "invalid_choice"),
        ("after=@@@", "after", "invalid_cursor"),
    ],
)
def test_bad_list_parameters_are_422_problems(client, query, field, code):
    response = client.get(
        f"/api/v1/tiers/tech_sme/enterprises?{query}", headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.json
    assert set(problem) == {"type", "title", "status", "detail", "code", "errors", "request_id"}
    assert problem["status"] == 422 and problem["type"].endswith(problem["code"])
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [(field, code)]


def test_problems_for_unknown_things_and_methods(client):
    missing = client.get("/api/v1/tiers/nope/enterprises", headers={"Accept-Language": "en"})
    assert missing.status_code == 404 and missing.json["code"] == "not_found"
    assert missing.json["detail"] == "No tier nope."
    assert client.get("/api/v1/nowhere").json["code"] == "not_found"
    wrong = client.delete("/api/v1/tiers")
    assert wrong.status_code == 405 and wrong.json["code"] == "method_not_allowed"
    assert "GET" in wrong.headers["Allow"]
    assert wrong.mimetype == "application/problem+json"
    assert client.get("/nowhere").mimetype == "text/html"  # pages keep their HTML errors


def test_an_unknown_tier_is_404_before_any_other_refusal(client):
    for query in ("", "?city=999999", "?after=%25%25", "?industry=x&after=abc"):
        answer = client.get(f"/api/v1/tiers/nope/enterprises{query}")
        assert answer.status_code == 404 and answer.json["code"] == "not_found", query
    empty = client.get("/api/v1/tiers/chain_leader/enterprises")
    assert empty.status_code == 200 and empty.json["data"] == []


def test_the_openapi_document_lists_the_routes(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["info"]["title"] == "Enterprise Cultivation Registry"
    assert {"/api/v1/tiers", "/api/v1/tiers/{code}/enterprises"} <= set(document["paths"])


def test_the_published_list_equals_its_output_schema(client, session, make):
    from registry.ladder import listing
    from registry.ladder.api import PublishedOut

    odd = make.enterprise(name='引号"与\\反斜杠 <b>{{7*7}}</b>', name_en="Tab\tand\nnewline")
    plain = make.enterprise(name="江西赣江新材料有限公司", city_code=None, industry_code=None)
    ladder.grant_tier(session, odd, "champion", actor=TEST_ACTOR, reason="x", route=("srdi", True))
    ladder.grant_tier(session, plain, "champion", actor=TEST_ACTOR, reason="x")
    session.commit()
    expected = [
        PublishedOut().dump(row._asdict())
        for row in listing.published_rows(session, "champion", limit=10)
    ]
    session.rollback()
    body = client.get("/api/v1/tiers/champion/enterprises").get_json()
    assert body == {"data": expected, "next_cursor": None, "has_more": False}
    assert {(e["route"], e["little_giant"]) for e in body["data"]} == {
        ("srdi", True),
        (None, False),
    }
