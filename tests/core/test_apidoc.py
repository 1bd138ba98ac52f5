"""The OpenAPI document tells the truth about problems (registry.core.apidoc): each
operation lists the problem answers it can give, all as ``application/problem+json``
with the shared ``Problem`` schema, and its bearer-token requirement. Also the answers
schemathesis (QUALITY.md S13) found undocumented or wrong: a NUL in a query string, a
huge id on a path that serves two methods, the request id of an early refusal, a user id
beyond the integer column (a 500 on PostgreSQL)."""

from __future__ import annotations

import re

import pytest

from registry.accounts import tokens
from registry.accounts.models import Role
from registry.core.apidoc import PROBLEM_TYPE
from registry.core.web import digits_up_to
from tests.factories import TEST_ACTOR

API = "/api/v1"
METHODS = ("get", "put", "post", "patch", "delete")
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
#: Public routes with one part behind a token: the ``pipeline`` report (API.md).
PARTLY_PUBLIC = {("get", f"{API}/reports/{{name}}")}


@pytest.fixture
def document(client) -> dict:
    return client.get(f"{API}/openapi.json").json


def operations(document: dict):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


@pytest.fixture
def admin_headers(session, make) -> dict[str, str]:
    admin = make.user("root@example.com", Role.ADMIN)
    session.commit()
    _row, secret = tokens.create_token(
        session, admin, "registry:read,workflow:review", actor=TEST_ACTOR
    )
    session.commit()
    return {"Authorization": f"Bearer {secret}", "Accept-Language": "en"}


def test_every_problem_answer_is_a_problem_and_there_is_no_catch_all(document):
    assert document["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer"}
    }
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {
        "type",
        "title",
        "status",
        "detail",
        "code",
        "errors",
        "request_id",
    }
    for method, path, operation in operations(document):
        assert "default" not in operation["responses"], (method, path)
        for status, answer in operation["responses"].items():
            if int(status) >= 400:
                assert answer["content"] == {PROBLEM_TYPE: {"schema": PROBLEM_REF}}, (
                    method,
                    path,
                    status,
                )


def test_each_operation_lists_the_problems_the_shared_checks_give(document):
    for method, path, operation in operations(document):
        statuses = {int(s) for s in operation["responses"]}
        where = (method, path, sorted(statuses))
        assert {400, 401, 429, 500} <= statuses, where
        needs_token = operation["security"] == [{"bearerAuth": []}]
        assert needs_token or operation["security"] == [{}, {"bearerAuth": []}], where
        assert (403 in statuses) == (needs_token or (method, path) in PARTLY_PUBLIC), where
        if method in ("post", "put", "patch"):
            assert {413, 415, 422} <= statuses, where
        if method == "post":
            assert 409 in statuses, where
        if method in ("put", "patch"):
            assert {409, 412, 422, 428} <= statuses, where
        # Only a write can find the database busy (tests/core/test_busy.py).
        assert (503 in statuses) == (method != "get"), where


def test_public_routes_take_an_optional_token(document):
    public = {
        f"{method.upper()} {path}"
        for method, path, operation in operations(document)
        if operation["security"] != [{"bearerAuth": []}]
    }
    assert public == {
        f"GET {API}/tiers",
        f"GET {API}/tiers/{{code}}/enterprises",
        f"GET {API}/notices",
        f"POST {API}/notices/{{application_id}}/objections",
        f"GET {API}/reports",
        f"GET {API}/reports/{{name}}",
    }


def test_an_operation_keeps_its_own_description_and_gains_the_shared_one(document):
    create = document["paths"][f"{API}/applications"]["post"]["responses"]
    assert create["403"]["description"].startswith("nomination_only")
    assert "forbidden: the token's scopes" in create["403"]["description"]


def test_a_patch_of_an_application_documents_its_if_match(document):
    patch = document["paths"][f"{API}/applications/{{application_id}}"]["patch"]
    (if_match,) = [p for p in patch["parameters"] if p["name"] == "If-Match"]
    assert (if_match["in"], if_match["required"]) == ("header", True)


def test_a_download_documents_the_types_it_sends(document):
    answer = document["paths"][f"{API}/attachments/{{attachment_id}}"]["get"]["responses"]["200"]
    assert sorted(answer["content"]) == [
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "image/jpeg",
        "image/png",
    ]


def test_query_text_is_documented_without_nul(document):
    parameters = document["paths"][f"{API}/enterprises"]["get"]["parameters"]
    q = next(p for p in parameters if p["name"] == "q")
    assert q["schema"]["pattern"] == "^[^\\u0000]*$"
    assert re.fullmatch(q["schema"]["pattern"], "赣江") and not re.fullmatch(
        q["schema"]["pattern"], "a\x00b"
    )


@pytest.mark.parametrize(
    ("path", "query"),
    [
        (f"{API}/enterprises", {"q": "a\x00b"}),
        (f"{API}/tiers/a%00b/enterprises", None),  # a path looked up in the database
    ],
)
def test_a_nul_in_the_query_or_path_is_a_problem_with_its_request_id(
    client, admin_headers, path, query
):
    response = client.get(path, query_string=query, headers=admin_headers)
    assert response.status_code == 400 and response.mimetype == PROBLEM_TYPE
    body = response.json
    assert body["code"] == "bad_request"
    assert body["request_id"] and body["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"{API}/attachments/2147483648"),
        ("delete", f"{API}/attachments/99999999999999999999"),
        ("get", f"{API}/applications/2147483648/attachments"),
        ("patch", f"{API}/applications/2147483648"),
    ],
)
def test_a_huge_id_on_a_path_of_two_methods_is_not_found(client, admin_headers, method, path):
    # Not 405: the rule for the other method has the same path.
    response = getattr(client, method)(path, headers=admin_headers)
    assert response.status_code == 404 and response.json["code"] == "not_found"


@pytest.mark.parametrize("path", [f"{API}/applications", f"{API}/applications/counts"])
def test_a_user_id_beyond_the_column_is_refused(client, admin_headers, path):
    def claimed_by(value: str):
        return client.get(path, query_string={"claimed_by": value}, headers=admin_headers)

    # Schemathesis' case: an 18-digit id reached PostgreSQL's int4 column (500).
    assert claimed_by("927331177743518").status_code == 422
    beyond = claimed_by("2147483648")
    assert beyond.status_code == 422
    assert [(e["field"], e["code"]) for e in beyond.json["errors"]] == [
        ("claimed_by", "out_of_range")
    ]
    assert claimed_by("2147483647").status_code == 200


def test_digits_up_to_matches_exactly_the_numbers_in_range():
    for limit in (0, 7, 10, 109, 1000, 12345):
        pattern = re.compile(digits_up_to(limit))
        assert [n for n in range(20000) if pattern.fullmatch(str(n))] == list(range(limit + 1))
    pattern = re.compile(digits_up_to(2**31 - 1))
    assert pattern.fullmatch("2147483647") and pattern.fullmatch("0002147483647")
    assert not any(pattern.fullmatch(v) for v in ("2147483648", "9999999999", "21474836470"))
