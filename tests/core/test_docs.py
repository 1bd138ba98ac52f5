"""/api/docs: a public page with Swagger UI served from the registry's own files."""

from __future__ import annotations

import re

import pytest

from registry.accounts import tokens
from registry.accounts.models import Role
from tests.factories import PASSWORD, TEST_ACTOR


def test_the_docs_page_is_public_and_loads_only_local_files(client):
    response = client.get("/api/docs?lang=en")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.text
    assert "API documentation" in html
    assert (
        'href="/api/v1/openapi.json"' in html and 'data-openapi-url="/api/v1/openapi.json"' in html
    )
    assert 'id="swagger-ui"' in html
    # Scripts and stylesheets come from this origin only, and no script is inline.
    sources = re.findall(r"<script([^>]*)>", html)
    assert sources == [
        ' src="/api/docs/assets/swagger-ui-bundle.js" defer',
        ' src="/static/js/api-docs.js" defer',
    ]
    # The registry's corrections to Swagger UI's colours and phone layout come after it.
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', html) == [
        "/static/css/registry.css",
        "/api/docs/assets/swagger-ui.css",
        "/static/css/api-docs.css",
    ]
    assert "http://" not in html and "https://" not in html
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp


@pytest.mark.parametrize(
    ("asset", "mimetype", "starts"),
    [
        ("swagger-ui.css", "text/css", b".swagger-ui"),
        ("swagger-ui-bundle.js", "text/javascript", b""),
    ],
)
def test_the_assets_are_served_with_their_types(client, asset, mimetype, starts):
    with client.get(f"/api/docs/assets/{asset}") as response:  # a file: close it
        assert response.status_code == 200
        assert response.mimetype in (mimetype, "application/javascript")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert len(response.data) > 10_000 and response.data.startswith(starts)
        if asset.endswith(".js"):
            assert b"SwaggerUIBundle" in response.data


def test_the_starter_script_is_a_static_file(client):
    with client.get("/static/js/api-docs.js") as response:
        assert response.status_code == 200 and "javascript" in response.mimetype
        assert b"SwaggerUIBundle(" in response.data
        assert b'dom_id: "#swagger-ui"' in response.data


@pytest.mark.parametrize(
    "path",
    [
        "index.html",
        "swagger-initializer.js",
        "swagger-ui-bundle.js.map",
        "../__init__.py",
        "..%2F__init__.py",
        "%2E%2E/%2E%2E/registry/config.py",
        "etc/passwd",
        "Swagger-UI.css",
    ],
)
def test_nothing_else_is_served(client, path):
    response = client.get(f"/api/docs/assets/{path}")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json" and response.json["code"] == "not_found"


def test_the_docs_page_is_outside_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "/api/v1/tiers" in paths
    assert not [path for path in paths if "docs" in path]


def test_a_signed_in_user_and_a_bearer_token_change_nothing(app, session, client, auth, make):
    user = make.user("r@example.com", Role.REVIEWER, password=PASSWORD)
    _token, secret = tokens.create_token(session, user, "registry:read", actor=TEST_ACTOR)
    session.commit()
    bearer = client.get("/api/docs", headers={"Authorization": f"Bearer {secret}x"})
    assert bearer.status_code == 200  # not under /api/v1: no token is checked here
    assert auth.login(user.email)
    response = client.get("/api/docs")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
