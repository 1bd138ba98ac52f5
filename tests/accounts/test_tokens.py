"""API tokens: created once-shown, stored as digests, scoped, expiring, revocable; the
bearer check of /api/v1 (API.md "Authentication and rights")."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from registry.accounts import tokens
from registry.accounts.models import ApiToken, Role
from registry.core import clock
from registry.core.errors import ValidationFailed
from tests.factories import TEST_ACTOR

NOW = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def reviewer(session, make):
    user = make.user("machine@peer.example", Role.REVIEWER)
    session.commit()
    return user


def test_a_token_is_shown_once_and_stored_as_its_digest(session, reviewer):
    token, secret = tokens.create_token(
        session, reviewer, "registry:read,changes:read", actor=TEST_ACTOR
    )
    assert secret.startswith("ecr_") and len(secret) >= 4 + 43  # ≥ 256 random bits
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (token.prefix, token.digest) and secret.startswith(token.prefix)
    assert token.scope_set == {"registry:read", "changes:read"}
    assert token.expires_at - token.created_at == timedelta(days=90)


@pytest.mark.parametrize(
    ("scopes", "days"), [("nope", 90), ("", 90), ("registry:read", 0), ("registry:read", 366)]
)
def test_refused_token_requests(session, reviewer, scopes, days):
    with pytest.raises(ValidationFailed):
        tokens.create_token(session, reviewer, scopes, actor=TEST_ACTOR, expires_days=days)


def _get(client, secret, path="/api/v1/tiers"):
    return client.get(path, headers={"Authorization": f"Bearer {secret}"})


def test_tokens_stop_working_when_expired_revoked_or_the_user_is_disabled(
    client, session, reviewer
):
    with clock.pinned(NOW):
        token, secret = tokens.create_token(
            session, reviewer, "registry:read", actor=TEST_ACTOR, expires_days=1
        )
    session.commit()
    with clock.pinned(NOW + timedelta(hours=23)):
        assert _get(client, secret).status_code == 200
    with clock.pinned(NOW + timedelta(days=1)):
        expired = _get(client, secret)
    assert expired.status_code == 401 and expired.headers["WWW-Authenticate"] == "Bearer"
    assert expired.mimetype == "application/problem+json"
    assert expired.json["code"] == "unauthenticated"
    _token, second = tokens.create_token(session, reviewer, "registry:read", actor=TEST_ACTOR)
    session.commit()
    assert _get(client, second).status_code == 200
    session.get(type(reviewer), reviewer.id).active = False
    session.commit()
    assert _get(client, second).status_code == 401
    session.get(type(reviewer), reviewer.id).active = True
    tokens.revoke_token(session, session.get(ApiToken, _token.id), actor=TEST_ACTOR)
    session.commit()
    assert _get(client, second).status_code == 401


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer ", "Basic ecr_x", "Bearer ecr_unknown", "ecr_x"]
)
def test_malformed_or_unknown_tokens_are_401_even_on_public_routes(client, header):
    response = client.get("/api/v1/tiers", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json["request_id"] == response.headers["X-Request-ID"]


def test_last_used_is_written_at_most_once_a_minute(client, session, reviewer):
    token, secret = tokens.create_token(session, reviewer, "registry:read", actor=TEST_ACTOR)
    session.commit()
    for offset in (0, 30, 59, 61):
        with clock.pinned(NOW + timedelta(seconds=offset)):
            assert _get(client, secret).status_code == 200
        session.expire_all()
        seen = session.get(ApiToken, token.id).last_used_at
        session.rollback()  # no transaction left open against the next request
        assert seen == NOW + timedelta(seconds=0 if offset < 61 else 61)


def test_token_create_prints_the_token_and_nothing_else(runner, session, reviewer):
    result = runner.invoke(
        args=[
            "registry",
            "token",
            "create",
            "Machine@Peer.example",
            "--scopes",
            "registry:read,changes:read",
            "--expires-days",
            "30",
        ]
    )
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert result.stdout == secret + "\n" and secret.startswith("ecr_")
    stored = session.scalars(select(ApiToken)).one()
    assert stored.digest == tokens.digest(secret)
    assert stored.scopes == "registry:read changes:read"
    failed = runner.invoke(
        args=["registry", "token", "create", "nobody@example.com", "--scopes", "registry:read"]
    )
    assert failed.exit_code == 1 and failed.stdout == ""
    assert session.scalar(select(ApiToken.id).where(ApiToken.id != stored.id)) is None


# --- the lookup kept a second per worker (API.md: refused at once here, within 1 s elsewhere)


def test_a_known_token_costs_no_query(app, client, session, reviewer):
    from sqlalchemy import event

    from registry.extensions import db

    _token, secret = tokens.create_token(session, reviewer, "registry:read", actor=TEST_ACTOR)
    session.commit()
    assert _get(client, secret, "/api/v1/tiers").status_code == 200  # looked up
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert _get(client, secret, "/api/v1/tiers").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert statements  # the route itself reads the tier
    assert not [s for s in statements if "api_tokens" in s or "FROM users" in s], statements


def test_a_change_made_elsewhere_is_seen_within_a_second(client, session, reviewer, monkeypatch):
    from sqlalchemy import text

    from registry.accounts import token_cache

    now = [1000.0]
    monkeypatch.setattr(token_cache, "_monotonic", lambda: now[0])
    token, secret = tokens.create_token(session, reviewer, "registry:read", actor=TEST_ACTOR)
    session.commit()
    assert _get(client, secret).status_code == 200
    # Another server revokes it: a write this process's sessions never see.
    session.execute(
        text("UPDATE api_tokens SET revoked_at = :at WHERE id = :id"),
        {"at": clock.now().isoformat(" "), "id": token.id},
    )
    session.commit()
    now[0] += 0.9
    assert _get(client, secret).status_code == 200  # still within the second
    now[0] += 0.2
    assert _get(client, secret).status_code == 401


def test_a_change_made_here_is_refused_at_once(client, session, reviewer, monkeypatch):
    from registry.accounts import token_cache

    monkeypatch.setattr(token_cache, "_monotonic", lambda: 1000.0)  # entries never age
    token, secret = tokens.create_token(session, reviewer, "registry:read", actor=TEST_ACTOR)
    session.commit()
    assert _get(client, secret).status_code == 200
    tokens.revoke_token(session, session.get(ApiToken, token.id), actor=TEST_ACTOR)
    session.commit()
    assert _get(client, secret).status_code == 401
    _token, second = tokens.create_token(session, reviewer, "registry:read", actor=TEST_ACTOR)
    session.commit()
    assert _get(client, second).status_code == 200
    session.get(type(reviewer), reviewer.id).active = False
    session.commit()
    assert _get(client, second).status_code == 401
    # A rolled-back change empties nothing, and a known token still expires on time.
    session.get(type(reviewer), reviewer.id).active = True
    session.commit()
    _token, third = tokens.create_token(
        session, reviewer, "registry:read", actor=TEST_ACTOR, expires_days=1
    )
    session.commit()
    assert _get(client, third).status_code == 200
    with clock.pinned(clock.now() + timedelta(days=1)):
        assert _get(client, third).status_code == 401
