"""The API's shared plumbing: marshmallow messages as API.md field errors, request body
checks (413, 415) and problem details."""

from __future__ import annotations

import pytest

from registry.core.api import body_problem
from registry.core.problems import field_errors, problem


def test_field_errors_carry_api_codes_and_dotted_names():
    messages = {
        "json": {
            "name": ["Missing data for required field."],
            "tier": ["Unknown field."],
            "figures": {"revenue": ["Not a valid integer."]},
            "kind": ["Must be one of: promotion, renewal."],
        },
        "query": {"limit": ["Must be greater than or equal to 1 and less than or equal to 500."]},
    }
    assert sorted((e["field"], e["code"]) for e in field_errors(messages)) == [
        ("figures.revenue", "invalid_type"),
        ("kind", "invalid_choice"),
        ("limit", "out_of_range"),
        ("name", "required"),
        ("tier", "unknown_field"),
    ]


@pytest.mark.parametrize(
    ("headers", "data", "accepts", "status"),
    [
        ({"Content-Type": "application/json"}, b"{}", "json", None),
        ({"Content-Type": "application/merge-patch+json"}, b"{}", "json", None),
        ({"Content-Type": "text/plain"}, b"{}", "json", 415),
        ({}, b"", "json", None),  # an action without input
        ({"Content-Type": "text/plain"}, b"", "json", None),
        ({"Content-Type": "application/json"}, b" " * (1024 * 1024 + 1), "json", 413),
        ({"Content-Type": "application/json"}, b"{}", "multipart", 415),
    ],
)
def test_body_checks(app, headers, data, accepts, status):
    with app.test_request_context("/api/v1/x", method="POST", headers=headers, data=data):
        refused = body_problem(accepts)
        assert (refused.status_code if refused is not None else None) == status
        if refused is not None:
            assert refused.mimetype == "application/problem+json"


def test_a_problem_has_every_member_and_a_stable_type(app, monkeypatch):
    monkeypatch.setitem(app.config, "PROBLEM_TYPE_BASE", "https://example.org/problems/")
    with app.test_request_context("/api/v1/x", headers={"Accept-Language": "en"}):
        body = problem(409, "quota_full", "The tier is full.").json
    assert body == {
        "type": "https://example.org/problems/quota_full",
        "title": "Conflict",
        "status": 409,
        "detail": "The tier is full.",
        "code": "quota_full",
        "errors": [],
        "request_id": None,
    }


LIST = "/api/v1/tiers/tech_sme/enterprises"


@pytest.fixture
def holders(session, make) -> list[str]:
    """Three holders of tech_sme: a published list of two pages at ``limit=2``."""
    from registry.ladder import operations as ladder
    from tests.factories import TEST_ACTOR

    codes = []
    for _ in range(3):
        enterprise = make.enterprise()
        ladder.grant_tier(session, enterprise, "tech_sme", actor=TEST_ACTOR, reason="x")
        codes.append(enterprise.uscc)
    session.commit()
    return sorted(codes)


def _next_link(response) -> str:
    link = response.headers["Link"]
    assert link.endswith('>; rel="next"')
    return link[1 : link.index(">")]


def test_next_links_are_relative_and_never_name_the_host_the_client_sent(client, holders):
    """A ``Link: rel="next"`` built from the Host header would send a client following
    it to whatever host that header named."""
    first = client.get(f"{LIST}?limit=2", headers={"Host": "evil.example"})
    assert first.status_code == 200
    target = _next_link(first)
    assert target.startswith(f"{LIST}?") and "evil" not in first.headers["Link"]
    assert f"after={first.json['next_cursor']}" in target and "limit=2" in target
    second = client.get(target)
    assert [row["uscc"] for row in second.json["data"]] == holders[2:]


@pytest.mark.parametrize("external", ["https://registry.example.gov.cn", "https://r.example/ecr/"])
def test_next_links_are_built_on_the_external_url_when_it_is_set(holders, external, other_app):
    app = other_app(EXTERNAL_URL=external)
    response = app.test_client().get(f"{LIST}?limit=2", headers={"Host": "evil.example"})
    target = _next_link(response)
    assert target.startswith(external.rstrip("/") + f"{LIST}?limit=2&after=")


def test_the_external_url_comes_from_the_environment(monkeypatch, tmp_path):
    from registry.config import from_environment

    assert "EXTERNAL_URL" not in from_environment(str(tmp_path))
    monkeypatch.setenv("EXTERNAL_URL", "https://registry.example.gov.cn")
    assert from_environment(str(tmp_path))["EXTERNAL_URL"] == "https://registry.example.gov.cn"
