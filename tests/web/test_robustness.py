"""Odd input gets a clear answer, never a 500: huge ids and cursor numbers, NUL
characters, digits that are not ASCII, the last representable date."""

from __future__ import annotations

import pytest

from registry.accounts.models import Role
from registry.core.pagination import encode_cursor

HUGE = 10**20


@pytest.fixture
def admin_client(auth):
    return auth.signed_in_as_new(Role.ADMIN, email="root@example.com")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"/applications/{HUGE}"),
        ("get", f"/attachments/{HUGE}"),
        ("get", f"/review/applications/{HUGE}"),
        ("post", f"/review/applications/{HUGE}/claim"),
        ("post", f"/review/objections/{HUGE}/resolution"),
        ("post", f"/review/account-claims/{HUGE}/decision"),
        ("get", f"/admin/users/{HUGE}"),
        ("post", f"/notices/{HUGE}/objections"),
    ],
)
def test_huge_ids_are_not_found(admin_client, method, path):
    assert getattr(admin_client, method)(path).status_code == 404


@pytest.mark.parametrize("path", ["/notices", "/review", "/admin/users", "/admin/audit"])
def test_huge_numbers_in_a_cursor_are_refused(admin_client, path):
    response = admin_client.get(path, query_string={"after": encode_cursor(HUGE, HUGE)})
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("get", "/review/enterprises?q=%00", None),
        ("get", "/admin/users?q=a%00b", None),
        ("get", "/tiers/a%00b", None),  # a path looked up in the database
        ("get", "/exports/tiers/%00?format=csv", None),
        ("post", "/signup", {"email": "a@example.com", "enterprise_name": "甲\x00乙"}),
        ("post", "/login", {"email": "a\x00@example.com", "password": "x"}),
    ],
)
def test_a_nul_character_is_a_bad_request(admin_client, method, path, data):
    response = getattr(admin_client, method)(path, data=data)
    assert response.status_code == 400


def test_odd_audit_filters_are_answered(admin_client):
    for query in ("actor=²", f"actor={'9' * 30}", "until=9999-12-31", "since=0001-01-01"):
        assert admin_client.get(f"/admin/audit?{query}").status_code in (200, 422), query


def test_a_name_search_ending_before_the_surrogates(admin_client):
    response = admin_client.get("/review/enterprises", query_string={"q": "甲\ud7ff"})
    assert response.status_code in (200, 422)


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one(app, other_app):
    from flask import request

    behind = other_app(TRUSTED_PROXIES=1)

    @behind.get("/_address")
    def address():
        return f"{request.remote_addr} {request.scheme}"

    headers = {"X-Forwarded-For": "198.51.100.9, 203.0.113.5", "X-Forwarded-Proto": "https"}
    assert behind.test_client().get("/_address", headers=headers).text == "203.0.113.5 https"
    direct = other_app()
    direct.get("/_address")(address)
    assert direct.test_client().get("/_address", headers=headers).text == "127.0.0.1 http"
