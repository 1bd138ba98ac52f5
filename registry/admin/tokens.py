"""Admin pages for API tokens (PRODUCT.md "Web pages", API.md "Authentication and rights"):
every token with its state and a revoke button (which asks first: a revoked token
cannot be used again), and a form that creates one.

A token is shown once, in the answer to the POST that created it: never through a
redirect, the session or a flash message, since only its digest may be stored. The
answer, like every private page, carries ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import cast

from flask import flash, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, SelectMultipleField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # not in types-WTForms 3.2
from wtforms.validators import InputRequired, Length, ValidationError

from registry.accounts import tokens as token_ops
from registry.accounts.checks import normalise_email
from registry.accounts.models import SCOPES, ApiToken, User
from registry.admin import next_steps as admin_next_steps
from registry.admin import questions
from registry.admin.forms import ROLE_LABELS, SCOPE_LABELS
from registry.admin.views import bp
from registry.core import access, clock
from registry.core.api import SCOPE_ROLES
from registry.core.audit import Actor
from registry.core.confirm import confirm_first
from registry.core.errors import DomainError, field_error
from registry.core.forms import REQUIRED, NumberField
from registry.core.web import form_page, nav_item, refuse, refuse_also, see_other, strip_text
from registry.extensions import db

nav_item("admin.tokens", _l("API tokens"), {"admin"}, order=63)


class TokenForm(FlaskForm):
    email = EmailField(
        _l("User's email"),
        validators=[InputRequired(REQUIRED), Length(max=254)],
        filters=[strip_text],
    )
    # Checkboxes drawn by the template; a value outside SCOPES is refused below.
    scopes = SelectMultipleField(
        _l("Scopes"),
        choices=[SelectChoice(scope, SCOPE_LABELS.get(scope, scope)) for scope in SCOPES],
        default=["registry:read"],
        validate_choice=False,
        validators=[InputRequired(REQUIRED)],
    )
    expires_days = NumberField(
        _l("Expires in (days)"),
        default=token_ops.DEFAULT_DAYS,
        validators=[InputRequired(REQUIRED)],
        message=_l("Enter a whole number from %(min)s to %(max)s.", min=1, max=token_ops.MAX_DAYS),
        minimum=1,
        maximum=token_ops.MAX_DAYS,
    )

    def validate_scopes(self, field: SelectMultipleField) -> None:
        if any(scope not in SCOPES for scope in field.data or []):
            raise ValidationError(_l("Choose among the listed scopes."))


def token_state(token: ApiToken) -> str:
    """``revoked``, ``expired``, ``disabled`` (its user is) or ``active``."""
    if token.revoked_at is not None:
        return "revoked"
    if clock.now() >= token.expires_at:
        return "expired"
    return "active" if token.user.active else "disabled"


def idle_scopes(token: ApiToken) -> list[str]:
    """The token's scopes that its user's role lacks: accepted, but they give nothing."""
    return [s for s in token.scopes.split() if str(token.user.role) not in SCOPE_ROLES[s]]


@bp.route("/tokens", methods=["GET", "POST"])
@access.admin
def tokens() -> ResponseReturnValue:
    form = TokenForm()
    if form.validate_on_submit():
        try:
            token, secret = _create(form)
        except DomainError as error:
            db.session.rollback()
            refuse(form, error, field="email")
        else:
            db.session.commit()
            admin_next_steps.after_new_token(token)
            html = render_template(
                "admin/token_created.html",
                token=token,
                secret=secret,
                idle=idle_scopes(token),
                roles=ROLE_LABELS,
            )
            return html, 201
    elif form.is_submitted():
        refuse_also(form, lambda: token_user(form.email.data or ""))
    return form_page(
        "admin/tokens.html",
        form,
        tokens=token_ops.tokens_of(db.session),
        state=token_state,
    )


def token_user(email: str) -> User:
    """The user a token is to be created for: a refusal of the ``email`` field when the
    address is not valid, is no user's, or is a disabled user's."""
    user = db.session.scalars(
        select(User).where(User.email == normalise_email(email))
    ).one_or_none()
    if user is None:
        raise field_error("email", "not_found", "No user has this email address.")
    if not user.active:
        raise field_error("email", "inconsistent", "%(email)s is disabled.", email=user.email)
    return user


def _create(form: TokenForm) -> tuple[ApiToken, str]:
    """The token the form describes, and the token itself (shown once)."""
    # A valid form has every field (each is required).
    return token_ops.create_token(
        db.session,
        token_user(cast(str, form.email.data)),
        cast(list[str], form.scopes.data),
        actor=Actor.of(current_user, "web"),
        expires_days=cast(int, form.expires_days.data),
    )


@bp.post("/tokens/<int:token_id>/revoke")
@access.admin
def revoke_token(token_id: int) -> ResponseReturnValue:
    token = db.get_or_404(ApiToken, token_id)
    # Asked first, unless it is revoked already (then nothing changes).
    was_revoked = token.revoked_at is not None
    token_ops.revoke_token(db.session, token, actor=Actor.of(current_user, "web"))
    if not was_revoked and (
        asked := confirm_first(db.session, lambda: questions.revoke_token(token, SCOPE_LABELS))
    ):
        return asked
    db.session.commit()
    flash(_("The token %(prefix)s… has been revoked.", prefix=token.prefix))
    if not was_revoked:
        admin_next_steps.after_token_revoked()
    return see_other(".tokens")
