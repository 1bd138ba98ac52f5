"""Who is signed in: web sessions and their version.

Sessions are Flask's signed cookies carrying ``"<user id>:<session version>"``
(``User.get_id``); the loader accepts a cookie only while that version is the user's
current one and the user is active, so bumping the version ends every web session of
the user on every server at once (QUALITY.md S6). There is no "remember me" cookie,
and the session cookie is the only one the registry sets (the language and the CSRF
token live in it): it is ``Secure`` whenever the request came over HTTPS.

Which pages a role may open is ``registry.core.access``.
"""

from __future__ import annotations

import secrets

from flask import Flask, Request, flash, g, has_request_context, redirect, request, session, url_for
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import lazy_gettext as _l
from flask_login import login_user, logout_user
from werkzeug import Response as WerkzeugResponse

from registry.accounts.models import User
from registry.core.web import is_api_path
from registry.extensions import db, login_manager

#: What a new session keeps from the anonymous one before it: the chosen language.
_KEPT_ON_LOGIN = ("lang",)


def _load_user(session_id: str) -> User | None:
    user_id, _, version = session_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_version != int(version):
        return None
    return user


def _unauthorized() -> WerkzeugResponse:
    # A replayed or ended session lands here too: sign in again, then come back. The
    # login page says why the visitor is there.
    target = request.full_path if request.method == "GET" else None
    flash(str(login_manager.login_message))
    return redirect(url_for("accounts.login", next=target), 303)


class SessionCookie(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, marked ``Secure`` for every request that came over
    HTTPS whatever ``SESSION_COOKIE_SECURE`` says (QUALITY.md S11). ``request.is_secure``
    believes ``X-Forwarded-Proto`` only behind ``TRUSTED_PROXIES`` (ProxyFix); the
    setting, on in production, covers TLS that ends at a proxy the registry cannot see."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        # The API authenticates by bearer token alone and ignores cookies (API.md):
        # nothing is read from or written to a session there.
        if is_api_path(request.path):
            return self.make_null_session(app)
        return super().open_session(app, request)

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)


def init_app(app: Flask) -> None:
    app.session_interface = SessionCookie()
    login_manager.init_app(app)
    login_manager.session_protection = None  # the session version does this job
    login_manager.user_loader(_load_user)
    login_manager.unauthorized_handler(_unauthorized)
    login_manager.login_message = _l("Please sign in to see this page.")

    @app.before_request
    def _forget_loaded_user() -> None:
        # Flask-Login keeps the user on ``g``; requests that share an app context (a
        # test client inside a test's context) must each load it afresh.
        g.pop("_login_user", None)


def start_session(user: User) -> None:
    """A fresh session for ``user``: nothing of the session before it survives except
    the language, and it gets a new random id (no session fixation)."""
    kept = {key: session[key] for key in _KEPT_ON_LOGIN if key in session}
    session.clear()
    session.update(kept)
    session["sid"] = secrets.token_urlsafe(16)
    login_user(user)


def end_session() -> None:
    kept = {key: session[key] for key in _KEPT_ON_LOGIN if key in session}
    logout_user()
    session.clear()
    session.update(kept)
