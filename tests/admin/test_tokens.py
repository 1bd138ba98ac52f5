"""Admin pages for API tokens: the list, creation shown once, revocation (status and body)."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from registry.accounts import operations as accounts
from registry.accounts import tokens
from registry.accounts.models import ApiToken, Role
from registry.core import clock
from registry.core.models import AuditEntry
from registry.extensions import db
from tests.conftest import make_app
from tests.factories import PASSWORD, TEST_ACTOR
from tests.pages import field_error

PAGE = "/admin/tokens"


def secret_on(html: str) -> str:
    return re.search(r'id="token" value="(ecr_[^"]+)"', html).group(1)


def token_count(session) -> int:
    return session.scalar(select(func.count()).select_from(ApiToken))


@pytest.fixture
def admin(session, make):
    user = make.user("admin@example.com", Role.ADMIN, password=PASSWORD, name="Ada Admin")
    session.commit()
    return user


@pytest.fixture
def reviewer(session, make):
    user = make.user("reviewer@example.com", Role.REVIEWER, password=PASSWORD, name="Rui Reviewer")
    session.commit()
    return user


@pytest.fixture
def admin_client(auth, admin):
    return auth.signed_in(admin.email)


def create(client, email="reviewer@example.com", scopes=("registry:read",), days="90"):
    return client.post(
        f"{PAGE}?lang=en", data={"email": email, "scopes": list(scopes), "expires_days": days}
    )


# --- access ---------------------------------------------------------------------------------


def test_the_pages_are_for_admins_only(app, session, make, admin, reviewer, admin_client, auth):
    enterprise_user = make.user(
        "e@example.com", Role.ENTERPRISE, password=PASSWORD, enterprise=make.enterprise()
    )
    token, _secret = tokens.create_token(session, reviewer, "registry:read", actor=TEST_ACTOR)
    session.commit()
    response = admin_client.get(PAGE)
    assert response.status_code == 200 and "reviewer@example.com" in response.text
    assert response.headers["Cache-Control"] == "no-store"

    for who in (reviewer.email, enterprise_user.email):
        client = auth.signed_in(who)
        denied = client.get(PAGE)
        assert denied.status_code == 403 and token.prefix not in denied.text
        assert create(client).status_code == 403
        assert client.post(f"{PAGE}/{token.id}/revoke").status_code == 403

    anonymous = app.test_client()
    assert anonymous.get(PAGE).headers["Location"].startswith("/login?next=/admin/tokens")
    for response in (create(anonymous), anonymous.post(f"{PAGE}/{token.id}/revoke")):
        assert response.status_code == 303
        assert response.headers["Location"].startswith("/login")
    assert token_count(session) == 1
    assert db.session.get(ApiToken, token.id).revoked_at is None


def test_navigation_shows_the_page_to_admins_only(admin_client, reviewer, auth):
    html = admin_client.get("/admin/users?lang=en").text
    assert f'href="{PAGE}"' in html and "API tokens" in html
    assert f'href="{PAGE}"' not in auth.signed_in(reviewer.email).get("/account").text


@pytest.mark.parametrize(("lang", "html_lang"), [("zh", "zh-Hans"), ("en", "en")])
def test_the_page_in_both_languages(admin_client, lang, html_lang):
    response = admin_client.get(f"{PAGE}?lang={lang}")
    assert response.status_code == 200 and f'<html lang="{html_lang}">' in response.text


# --- create ---------------------------------------------------------------------------------


def test_a_created_token_is_shown_once_and_only_its_digest_is_kept(
    app, session, admin, admin_client, reviewer
):
    form = admin_client.get(f"{PAGE}?lang=en").text
    assert "No token has been created yet." in form
    assert 'value="90"' in form  # default expiry
    assert re.search(r'value="registry:read" checked', form)

    response = create(admin_client, scopes=("registry:read", "changes:read"), days="30")
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    assert "Location" not in response.headers
    secret = secret_on(response.text)
    assert secret.startswith("ecr_") and response.text.count(secret) == 1
    assert "It will not be shown again" in response.text
    assert "reviewer@example.com" in response.text and "changes:read" in response.text

    token = session.scalars(select(ApiToken)).one()
    assert token.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(token.prefix) and len(token.prefix) < len(secret)
    assert token.user_id == reviewer.id and token.scopes == "registry:read changes:read"
    assert token.created_by == admin.id
    assert token.expires_at - token.created_at == timedelta(days=30)
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "token.create")).one()
    assert entry.actor_id == admin.id and entry.via == "web" and secret not in str(entry.changes)

    # Kept nowhere: not in the session cookie, not on the list, not in a later page.
    with admin_client.session_transaction() as web_session:
        assert secret not in repr(dict(web_session))
    listing = admin_client.get(f"{PAGE}?lang=en")
    assert secret not in listing.text and f"{token.prefix}…" in listing.text
    assert "Active" in listing.text and "changes:read" in listing.text

    # The token works on the API.
    api = app.test_client().get("/api/v1/tiers", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200


def test_the_list_shows_every_token_and_never_a_secret(session, admin, admin_client, reviewer):
    _token, first = tokens.create_token(session, reviewer, "registry:read", actor=TEST_ACTOR)
    expired, second = tokens.create_token(session, admin, "admin", actor=TEST_ACTOR, expires_days=1)
    session.commit()
    with clock.pinned(clock.now() + timedelta(days=2)):
        html = admin_client.get(f"{PAGE}?lang=en").text
    assert first not in html and second not in html
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)[1:]
    assert len(rows) == 2
    assert "admin@example.com" in rows[0] and "Expired" in rows[0]
    assert "reviewer@example.com" in rows[1] and "Active" in rows[1]
    assert f"/admin/tokens/{expired.id}/revoke" in rows[0]


def test_a_disabled_users_token_is_marked(session, admin, admin_client, reviewer):
    """A token whose user is inactive by other means than the admin's page (the account
    row changed directly) is refused and marked so."""
    tokens.create_token(session, reviewer, "registry:read", actor=TEST_ACTOR)
    reviewer.active = False
    session.commit()
    assert "User disabled" in admin_client.get(f"{PAGE}?lang=en").text


def test_disabling_a_user_revokes_its_tokens_and_enabling_revives_none(
    app, session, admin, admin_client, reviewer
):
    token, secret = tokens.create_token(session, reviewer, "registry:read", actor=TEST_ACTOR)
    session.commit()
    bearer = {"Authorization": f"Bearer {secret}"}
    api = app.test_client()
    assert api.get("/api/v1/tiers", headers=bearer).status_code == 200
    users = f"/admin/users/{reviewer.id}"
    assert admin_client.post(users, data={"action": "disable", "confirm": "1"}).status_code == 303
    assert api.get("/api/v1/tiers", headers=bearer).status_code == 401
    assert admin_client.post(users, data={"action": "enable"}).status_code == 303
    session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    refused = api.get("/api/v1/tiers", headers=bearer)
    assert refused.status_code == 401 and refused.json["code"] == "unauthenticated"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "token.revoke")).one()
    assert entry.actor_id == admin.id and entry.object_id == str(token.id)
    html = admin_client.get(f"{PAGE}?lang=en").text
    assert "Revoked" in html and f"/admin/tokens/{token.id}/revoke" not in html


def test_a_scope_the_role_lacks_is_accepted_and_named(session, admin_client, reviewer):
    response = create(admin_client, scopes=("registry:read", "workflow:apply"))
    assert response.status_code == 201
    assert re.search(
        r"so they give nothing:\s*<span class=\"code\" translate=\"no\">workflow:apply</span>",
        response.text,
    )
    assert session.scalars(select(ApiToken)).one().scopes == "registry:read workflow:apply"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"scopes": ()}, "scopes", "This field is required."),
        ({"scopes": ("registry:read", "root")}, "scopes", "Choose among the listed scopes."),
        ({"days": "0"}, "expires_days", "Enter a whole number from 1 to 365."),
        ({"days": "366"}, "expires_days", "Enter a whole number from 1 to 365."),
        ({"days": "ninety"}, "expires_days", "Enter a whole number from 1 to 365."),
        ({"days": ""}, "expires_days", "This field is required."),
        ({"email": "nobody@example.com"}, "email", "No user has this email address."),
        ({"email": "not an email"}, "email", "Enter a valid email address."),
        ({"email": ""}, "email", "This field is required."),
    ],
)
def test_invalid_values_are_refused_with_field_errors(
    session, admin_client, reviewer, data, field, message
):
    response = create(admin_client, **data)
    assert response.status_code == 422
    assert message in field_error(response.text, field)
    assert 'id="token"' not in response.text and "ecr_" not in response.text
    assert token_count(session) == 0


def test_every_token_fault_is_shown_at_once(session, admin_client, reviewer):
    """U2: the user's email, checked by the registry, comes with the form's own faults."""
    response = create(admin_client, email="Nobody@Example.com", scopes=(), days="0")
    assert response.status_code == 422
    page = response.text
    assert field_error(page, "email") == "No user has this email address."
    assert field_error(page, "scopes") == "This field is required."
    assert field_error(page, "expires_days") == "Enter a whole number from 1 to 365."
    assert 'value="Nobody@Example.com"' in page
    accounts.update_user(session, reviewer, actor=TEST_ACTOR, active=False)
    session.commit()
    response = create(admin_client, days="ninety")
    assert "reviewer@example.com is disabled." in field_error(response.text, "email")
    assert "whole number" in field_error(response.text, "expires_days")
    assert token_count(session) == 0


def test_a_disabled_user_gets_no_token(session, admin_client, reviewer):
    accounts.update_user(session, reviewer, actor=TEST_ACTOR, active=False)
    session.commit()
    response = create(admin_client)
    assert response.status_code == 422
    assert "reviewer@example.com is disabled." in field_error(response.text, "email")
    assert token_count(session) == 0


# --- revoke ---------------------------------------------------------------------------------


def test_a_revoked_token_is_refused_by_the_api(app, session, admin, admin_client, reviewer):
    token, secret = tokens.create_token(session, reviewer, "registry:read", actor=TEST_ACTOR)
    session.commit()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert app.test_client().get("/api/v1/tiers", headers=bearer).status_code == 200

    response = admin_client.post(  # the message in English
        f"{PAGE}/{token.id}/revoke?lang=en", data={"confirm": "1"}
    )
    assert response.status_code == 303 and response.headers["Location"] == PAGE
    session.expire_all()
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "token.revoke")).one()
    assert entry.actor_id == admin.id and entry.object_id == str(token.id)

    html = admin_client.get(f"{PAGE}?lang=en").text
    assert f"The token {token.prefix}… has been revoked." in html
    assert "Revoked" in html and f"/admin/tokens/{token.id}/revoke" not in html

    refused = app.test_client().get("/api/v1/tiers", headers=bearer)
    assert refused.status_code == 401 and refused.json["code"] == "unauthenticated"
    assert refused.headers["WWW-Authenticate"] == "Bearer"


def test_revoking_an_unknown_token_is_404(admin_client):
    assert admin_client.post(f"{PAGE}/999/revoke").status_code == 404
    assert admin_client.post(f"{PAGE}/99999999999/revoke").status_code == 404
    assert admin_client.get(f"{PAGE}/1/revoke").status_code == 405


def test_the_forms_carry_a_working_csrf_token(database_url, session, admin, reviewer):
    token, _secret = tokens.create_token(session, reviewer, "registry:read", actor=TEST_ACTOR)
    session.commit()
    revoke = f"{PAGE}/{token.id}/revoke"
    protected = make_app(database_url, WTF_CSRF_ENABLED=True)
    session.close()  # the other app writes: hold no transaction open here

    def csrf(html: str) -> str:
        return re.search(r'name="csrf_token"[^>]* value="([^"]+)"', html).group(1)

    try:
        client = protected.test_client()
        login = {"email": "admin@example.com", "password": PASSWORD}
        login["csrf_token"] = csrf(client.get("/login").text)
        assert client.post("/login", data=login).status_code == 303
        assert client.post(revoke).status_code == 400
        assert create(client).status_code == 400
        page = client.get(PAGE).text
        asked = client.post(revoke, data={"csrf_token": csrf(page)})
        assert asked.status_code == 200 and "data-confirm" in asked.text
        confirmed = {"csrf_token": csrf(asked.text), "confirm": "1"}
        assert client.post(revoke, data=confirmed).status_code == 303
        form = {"email": "reviewer@example.com", "scopes": "registry:read", "expires_days": "7"}
        created = client.post(PAGE, data={**form, "csrf_token": csrf(page)})
        assert created.status_code == 201 and secret_on(created.text)
    finally:
        with protected.app_context():
            db.engine.dispose()
