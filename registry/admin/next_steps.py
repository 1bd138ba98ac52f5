"""What happens next after an admin's save (QUALITY.md U6): what the change means for the
people it touches and where to go from here, flashed by the view that saved so that the
page after its redirect shows it (``registry.core.next_step``).
"""

from __future__ import annotations

from flask import url_for
from flask_babel import gettext as _
from flask_login import current_user

from registry.accounts.models import ApiToken, User
from registry.admin.forms import ROLE_LABELS
from registry.core.clock import SHANGHAI
from registry.core.i18n import current_language
from registry.core.next_step import flash_next_step
from registry.ladder.models import Tier


def _back_to_users() -> tuple[str, str]:
    return url_for("admin.users"), _("Back to the users")


def after_new_user(user: User) -> None:
    """An admin created a user with a password."""
    flash_next_step(
        _(
            "Give %(email)s the password through a safe channel: the user can sign in now "
            "and change it on the account page.",
            email=user.email,
        ),
        *_back_to_users(),
    )


def after_user_action(user: User, action: str) -> None:
    """An admin changed a user's role, enabled or disabled the user, or reset the password
    (the actions of the user page)."""
    name = user.display_name
    if action == "role":
        text = _(
            "%(name)s signs in again and then finds the pages of the role %(role)s.",
            name=name,
            role=ROLE_LABELS[user.role],
        )
    elif action == "enable":
        text = _(
            "%(name)s can sign in again with the same password. The tokens revoked when the "
            "user was disabled stay revoked: create new ones if the user needs the API.",
            name=name,
        )
    elif action == "disable":
        text = _(
            "%(name)s can no longer sign in and the user's API tokens have been revoked. "
            "Enabling the user on this page lets the user sign in again; tokens would have "
            "to be created anew.",
            name=name,
        )
    elif user.id == current_user.id:
        text = _("Sign in with the new password from now on; your other sessions have ended.")
    else:
        text = _(
            "Give the new password to %(name)s through a safe channel: the user signs in "
            "with it and may change it on the account page.",
            name=name,
        )
    flash_next_step(text, *_back_to_users())


def after_tier_settings(tier: Tier) -> None:
    """An admin saved a tier's settings."""
    flash_next_step(
        _(
            "Applications submitted from now on follow the new settings; those already "
            "submitted keep the approvals and the notice length they were submitted with."
        ),
        url_for("ladder.tier_list", code=tier.code),
        _("The published list of %(tier)s", tier=tier.name(current_language())),
    )


def after_thresholds(tier: Tier) -> None:
    """An admin saved a tier's thresholds: a criteria version effective today."""
    flash_next_step(
        _(
            "Self-checks and submissions from today are judged by the new version; "
            "applications already submitted keep the version they were judged by."
        ),
        url_for("admin.tier", code=tier.code),
        _("The versions of %(tier)s", tier=tier.name(current_language())),
    )


def after_new_token(token: ApiToken) -> None:
    """An admin created an API token (shown once, on the page that answers)."""
    flash_next_step(
        _(
            "Once its user has the token, it works until %(day)s (Beijing time); create a "
            "new one before then to keep the program working.",
            day=token.expires_at.astimezone(SHANGHAI).date().isoformat(),
        ),
        url_for("admin.tokens"),
        _("Back to the API tokens"),
    )


def after_token_revoked() -> None:
    """An admin revoked an API token."""
    flash_next_step(
        _(
            "Programs that used the token are refused from now on. If one still needs access, "
            "create a new token and hand it over."
        ),
        url_for("admin.tokens", _anchor="create-title"),
        _("Create a token"),
    )


def after_plan_period() -> None:
    """An admin saved the last day of the plan's period."""
    flash_next_step(
        _(
            "The home page and the reports name the new period from now on; the quotas "
            "have not changed."
        ),
        url_for("ladder.home"),
        _("The home page"),
    )
