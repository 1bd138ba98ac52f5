"""API.md: every route under ``/api/v1`` is in the OpenAPI document, and every path in
the document exists — with the same methods. (``/api/v1/openapi.json`` is the document
itself; ``/api/docs``, ``/healthz`` and ``/readyz`` are outside ``/api/v1``.)"""

from __future__ import annotations

import re

API = "/api/v1"
DOCUMENT = f"{API}/openapi.json"
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}


def openapi_path(rule: str) -> str:
    """``/enterprises/<uscc>/annual-reports/<int:year>`` → ``…/{uscc}/…/{year}``."""
    return re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule)


def test_the_rule_syntax_becomes_openapi_syntax():
    assert openapi_path(f"{API}/enterprises/<uscc>/annual-reports/<int:year>") == (
        f"{API}/enterprises/{{uscc}}/annual-reports/{{year}}"
    )
    assert openapi_path("/a/<path:filename>") == "/a/{filename}"


def test_the_document_has_every_api_route_and_nothing_else(app, client):
    served: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API + "/") and rule.rule != DOCUMENT:
            methods = {m.lower() for m in rule.methods} & HTTP_METHODS
            served.setdefault(openapi_path(rule.rule), set()).update(methods)
    response = client.get(DOCUMENT)
    assert response.status_code == 200 and response.mimetype == "application/json"
    documented = {
        path: set(operations) & HTTP_METHODS for path, operations in response.json["paths"].items()
    }
    assert sorted(set(served) - set(documented)) == [], "routes missing from the document"
    assert sorted(set(documented) - set(served)) == [], "documented paths without a route"
    differing = {
        path: {"routes": sorted(served[path]), "document": sorted(documented[path])}
        for path in served
        if served[path] != documented[path]
    }
    assert differing == {}
    assert served  # the comparison compared something
