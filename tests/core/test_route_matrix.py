"""QUALITY.md S3: every rule of ``app.url_map`` × every kind of caller → the status it
gets, as :data:`tests.fixtures.route_matrix.MATRIX` says.

A rule missing from the matrix, or an entry without its rule, fails
:func:`test_every_rule_is_in_the_matrix`. ``POST /logout`` runs last: it ends the
user's sessions.
"""

from __future__ import annotations

import itertools
from urllib.parse import urlsplit

import pytest

from tests.fixtures.api import ApiClient
from tests.fixtures.route_matrix import (
    ADMIN,
    ANONYMOUS,
    LOGIN,
    MATRIX,
    PUBLIC,
    Api,
    Page,
    rules,
)

pytestmark = pytest.mark.usefixtures("pinned_clock")


def test_every_rule_is_in_the_matrix(app):
    found = rules(app)
    missing = sorted(found - MATRIX.keys())
    stale = sorted(MATRIX.keys() - found)
    assert not missing, f"rules missing from MATRIX: {missing}"
    assert not stale, f"MATRIX entries without a rule: {stale}"


_addresses = itertools.count(1)


def _client(app, session, cookies: bool) -> ApiClient:
    """A test client with an address of its own."""
    client = ApiClient(app, app.response_class, use_cookies=cookies)
    client.session = session
    client.environ_base["REMOTE_ADDR"] = f"198.51.100.{next(_addresses) % 250 + 1}"
    return client


def _ask(client, method: str, path: str, entry, headers=None):
    kwargs = {"headers": {"Accept-Language": "en", **(headers or {})}}
    if isinstance(entry, Page) and entry.data is not None:
        kwargs["data"] = entry.data
    elif isinstance(entry, Api) and entry.multipart:
        kwargs["content_type"] = "multipart/form-data"
    elif isinstance(entry, Api) and entry.json is not None:
        kwargs["json"] = entry.json
    return client.open(path, method=method, **kwargs)


def _web_mismatch(response, expected) -> str | None:
    if expected == LOGIN:
        location = response.headers.get("Location", "")
        if response.status_code == 303 and urlsplit(location).path == "/login":
            return None
        return f"{response.status_code} {location}".strip()
    return None if response.status_code == expected else str(response.status_code)


def _api_mismatch(response, expected: int) -> str | None:
    status = response.status_code
    if status != expected:
        return f"{status} {response.get_data(as_text=True)[:120]}"
    if status >= 400:
        body = response.json or {}
        if response.mimetype != "application/problem+json":
            return f"{status} as {response.mimetype}"
        wanted = {401: "unauthenticated", 403: "forbidden"}.get(status)
        if wanted and body.get("code") != wanted:
            return f"{status} with code {body.get('code')}"
        if status == 401 and response.headers.get("WWW-Authenticate") != "Bearer":
            return "401 without WWW-Authenticate: Bearer"
    return None


def _table(app, kind) -> list[tuple[str, str, Page | Api]]:
    """The entries of one kind whose rule exists (the others fail the test above),
    ``POST /logout`` last."""
    found = rules(app)
    entries = [(m, r, e) for (m, r), e in MATRIX.items() if isinstance(e, kind)]
    return sorted(
        [(m, r, e) for m, r, e in entries if (m, r) in found], key=lambda x: x[1] == "/logout"
    )


def test_every_page_answers_each_role_as_the_matrix_says(app, session, matrix_world, auth):
    clients = {ANONYMOUS: _client(app, session, cookies=True)}
    for role, email in matrix_world["emails"].items():
        clients[role] = _client(app, session, cookies=True)
        signed_in = auth.login(email, client=clients[role])
        assert signed_in.status_code == 303, role
    mismatches = []
    for method, rule, entry in _table(app, Page):
        path = entry.path.format(**matrix_world["names"])
        for principal, client in clients.items():
            expected = getattr(entry, principal)
            with _ask(client, method, path, entry) as response:  # files: closed
                wrong = _web_mismatch(response, expected)
            if wrong is not None:
                mismatches.append(
                    f"{method} {rule} as {principal}: expected {expected}, got {wrong}"
                )
    assert not mismatches, "\n".join(mismatches)


def _api_expected(entry: Api, caller) -> int:
    """401 without a usable token (a web session is none); the route's answer for a
    public route or a (role, scope) it lets in; else 403."""
    if caller == "revoked":
        return 401
    if entry.allowed is not PUBLIC and caller in (None, "admin session"):
        return 401
    if entry.allowed is not PUBLIC and caller not in entry.allowed:
        return 403
    return entry.status


def test_every_api_route_answers_each_token_as_the_matrix_says(app, session, matrix_world, auth):
    # One client address per caller: anonymous calls are rate limited per address.
    callers = {None: (_client(app, session, cookies=False), {})}
    revoked = {"Authorization": f"Bearer {matrix_world['revoked']}"}
    callers["revoked"] = (_client(app, session, cookies=False), revoked)
    for caller, secret in matrix_world["secrets"].items():
        callers[caller] = (
            _client(app, session, cookies=False),
            {"Authorization": f"Bearer {secret}"},
        )
    # Only bearer tokens authenticate under /api/v1: an admin's web session is no one.
    signed_in = _client(app, session, cookies=True)
    assert auth.login(matrix_world["emails"][ADMIN], client=signed_in).status_code == 303
    callers["admin session"] = (signed_in, {})
    mismatches = []
    for method, rule, entry in _table(app, Api):
        path = entry.path.format(**matrix_world["names"])
        for caller, (asking, headers) in callers.items():
            expected = _api_expected(entry, caller)
            with _ask(asking, method, path, entry, headers) as response:
                wrong = _api_mismatch(response, expected)
            if wrong is not None:
                who = "no token" if caller is None else caller
                mismatches.append(f"{method} {rule} with {who}: expected {expected}, got {wrong}")
    assert not mismatches, "\n".join(mismatches)
