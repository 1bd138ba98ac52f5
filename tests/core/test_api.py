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
