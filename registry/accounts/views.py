"""Signing in and out, signing up, the account page and the password change."""

from __future__ import annotations

from datetime import timedelta
from typing import cast
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_time
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from registry.accounts import checks, operations, sessions
from registry.accounts.forms import LoginForm, PasswordChangeForm, SignUpForm
from registry.accounts.models import User
from registry.applications import journey
from registry.core import access, clock
from registry.core.errors import DomainError, Throttled
from registry.core.expired_forms import keeps_typed_values
from registry.core.i18n import current_language
from registry.core.web import form_page, nav_item, refuse, refuse_also, see_other
from registry.extensions import db

bp = Blueprint("accounts", __name__)

nav_item("accounts.login", _l("Sign in"), {"anonymous"}, order=90)
nav_item("accounts.signup", _l("Register an enterprise"), {"anonymous"}, order=91)


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another host (open redirect)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _home_of(user: User) -> str:
    """Where a user lands after signing in when no page was asked for."""
    if user.is_admin:
        return url_for("admin.users")
    if user.is_reviewer:
        return url_for("review.queue")
    return url_for("accounts.account")


@bp.route("/login", methods=["GET", "POST"])
@keeps_typed_values
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(_home_of(current_user), 303)
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = operations.authenticate(
                db.session,
                cast(str, form.email.data),
                cast(str, form.password.data),
                client_address=request.remote_addr,
            )
        except Throttled as error:
            db.session.commit()
            # Not a mistake in the form, so not in its error summary: say when to come back.
            until = clock.now() + timedelta(seconds=error.retry_after)
            lockout = _(
                "Too many wrong passwords for this account. Try again after %(time)s "
                "(in %(minutes)s minutes).",
                time=format_time(until, "short"),
                minutes=max(1, (error.retry_after + 59) // 60),
            )
            html, _status = form_page("accounts/login.html", form, lockout=lockout)
            return html, 429, {"Retry-After": str(error.retry_after)}
        db.session.commit()  # the failure count is kept whatever the outcome
        if user is None:
            form.form_errors.append(_("The email or the password is not correct."))
        else:
            sessions.start_session(user)
            target = _safe_next(request.args.get("next")) or _home_of(user)
            return redirect(target, 303)
    return form_page("accounts/login.html", form, 422 if request.method == "POST" else None)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out everywhere: every web session of this user ends (S6)."""
    if current_user.is_authenticated:
        operations.end_web_sessions(db.session, current_user._get_current_object())
        db.session.commit()
    sessions.end_session()
    flash(_("You have signed out."))
    return see_other("ladder.home")


@bp.route("/signup", methods=["GET", "POST"])
@keeps_typed_values
def signup() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(_home_of(current_user), 303)
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            result = operations.sign_up(
                db.session,
                email=cast(str, form.email.data),
                password=cast(str, form.password.data),
                uscc=cast(str, form.uscc.data),
                enterprise_name=cast(str, form.enterprise_name.data),
                locale=current_language(),
            )
        except DomainError as error:
            db.session.rollback()
            refuse(form, error)
        else:
            db.session.commit()
            sessions.start_session(result.user)
            if result.claim is None:
                flash(_("Your account and your enterprise are registered. Complete the profile."))
            else:
                flash(
                    _(
                        "This enterprise is already in the registry. A reviewer will confirm "
                        "that your account belongs to it; until then you cannot see its data."
                    )
                )
            return see_other("accounts.account")
    elif form.is_submitted():
        refuse_also(
            form,
            lambda: checks.check_sign_up(
                db.session,
                email=form.email.data or "",
                password=form.password.data or "",
                uscc=form.uscc.data or "",
                enterprise_name=form.enterprise_name.data or "",
            ),
        )
    return form_page("accounts/signup.html", form)


@bp.get("/account")
@access.signed_in
def account() -> ResponseReturnValue:
    from registry.enterprises.models import Enterprise

    user = current_user
    enterprise = db.session.get(Enterprise, user.enterprise_id) if user.enterprise_id else None
    claim = operations.pending_claim(db.session, user) if enterprise is None else None
    return form_page(
        "accounts/account.html",
        PasswordChangeForm(),
        enterprise=enterprise,
        claim=claim,
        # The way from sign-up to an application, step by step (QUALITY.md U6).
        steps=journey.steps(db.session, enterprise) if enterprise else None,
    )[0]


@bp.route("/account/password", methods=["GET", "POST"])
@access.signed_in
def change_password() -> ResponseReturnValue:
    form = PasswordChangeForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            operations.change_password(
                db.session,
                user,
                cast(str, form.current_password.data),
                cast(str, form.new_password.data),
                client_address=request.remote_addr,
            )
        except DomainError as error:
            # A refusal changes nothing but the failure count, which must be kept.
            db.session.commit()
            refuse(form, error)
            return form_page("accounts/password.html", form, error.status)
        db.session.commit()
        # Every other session ends; this one continues under the new version.
        sessions.start_session(user)
        flash(_("Your password has been changed. Other sessions have been signed out."))
        return see_other("accounts.account")
    if form.is_submitted():
        refuse_also(
            form,
            lambda: operations.check_password_change(
                db.session,
                current_user._get_current_object(),
                form.current_password.data or "",
                form.new_password.data or "",
                client_address=request.remote_addr,
            ),
        )
        db.session.commit()  # a wrong current password is counted, as above
    return form_page("accounts/password.html", form)
