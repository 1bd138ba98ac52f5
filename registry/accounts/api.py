"""Bearer authentication for ``/api/v1`` (API.md): only tokens authenticate there —
session cookies are ignored, so the API is exempt from CSRF. A request without a token
reaches the public routes only; a token that is sent must be valid (else 401 with
``WWW-Authenticate: Bearer``) even on a public route."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, Response, g, request
from flask_babel import gettext
from sqlalchemy import update

from registry.accounts import token_cache, tokens
from registry.accounts.models import ApiToken
from registry.core import clock
from registry.core.api import API_PREFIX
from registry.core.db import write_at_once
from registry.core.problems import problem
from registry.extensions import db


def authenticate_bearer() -> Response | None:
    if not (request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")):
        return None
    g.api_user, g.api_scopes, g.api_token = None, frozenset(), None
    g.pop("api_user_in_session", None)  # (a test's requests may share one app context)
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _, raw = header.partition(" ")
    raw, now = raw.strip(), clock.now()
    token = token_cache.lookup(db.session, raw, now) if scheme.lower() == "bearer" else None
    if token is None:
        return problem(
            401, detail=gettext("The bearer token is missing, malformed, expired or revoked.")
        )
    # The user's columns, shared by the worker's requests: registry.core.api.caller
    # gives operations the user in the request's session.
    g.api_user, g.api_scopes, g.api_token = token.user, token.scopes, token
    if tokens.needs_touch(token.last_used_at, now):
        # End the lookup's transaction first: on SQLite a write request's transaction
        # holds the write lock, which the touch's own connection would wait for.
        db.session.rollback()
        if _touch(token.id, now):
            token_cache.touched(raw, now)
    return None


def _touch(token_id: int, now: datetime) -> bool:
    """``last_used_at``, in a short write transaction of its own (the request itself may
    be a read, which takes no write lock on SQLite) — or not at all while another
    writer holds the lock: no request, a read least of all, waits for this bookkeeping.
    A later request of the token writes it instead. Whether it was written."""
    return write_at_once(
        db.engine, update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now)
    )


def init_app(app: Flask) -> None:
    app.before_request(authenticate_bearer)
