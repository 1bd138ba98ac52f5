"""What the confirmation page asks before the admin actions that cannot be undone
(QUALITY.md U5; the page itself is ``registry.core.confirm``): disable a user, revoke
an API token, lower a tier's quota. Built after the trial run was rolled back, so the
records read here hold their values from before the action.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import url_for
from flask_babel import LazyString
from flask_babel import gettext as _

from registry.accounts.models import ApiToken, User
from registry.core.confirm import Question
from registry.core.i18n import current_language
from registry.extensions import db
from registry.ladder import queries as ladder_queries
from registry.ladder.models import Tier


def disable_user(user: User) -> Question:
    """Disabling a user: signed out everywhere, tokens revoked."""
    return Question(
        title=_("Disable %(name)s (%(email)s)?", name=user.display_name, email=user.email),
        consequences=[
            _(
                "%(name)s can no longer sign in, and every session of the user ends at once.",
                name=user.display_name,
            ),
            _("The user's API tokens are revoked: every program that uses them is refused."),
        ],
        lasting=_(
            "The sessions that end and the tokens revoked cannot be restored, even if the "
            "user is enabled again later: the user would need new tokens."
        ),
        button=_("Disable the user"),
        cancel_url=url_for("admin.user", user_id=user.id),
    )


def revoke_token(token: ApiToken, scope_labels: Mapping[str, LazyString]) -> Question:
    """Revoking an API token for good."""
    scopes = [str(scope_labels.get(scope, scope)) for scope in token.scopes.split()]
    return Question(
        title=_(
            "Revoke the token %(prefix)s… of %(email)s?",
            prefix=token.prefix,
            email=token.user.email,
        ),
        consequences=[
            _("Every program that uses this token is refused from now on."),
            _(
                "It loses what the token allowed: %(scopes)s.",
                scopes=("; " if current_language() == "en" else "；").join(scopes),
            ),
        ],
        lasting=_(
            "A revoked token cannot be used again: a new token would have to be created "
            "and handed over."
        ),
        button=_("Revoke the token"),
        cancel_url=url_for("admin.tokens"),
    )


def lower_quota(tier: Tier, quota: int, other_changes: bool) -> Question:
    """Lowering a tier's quota (whatever else the settings form changes with it)."""
    name = tier.name(current_language())
    occupancy = ladder_queries.occupancy(db.session, tier).occupancy
    if occupancy >= quota:
        room = _(
            "Places taken now: %(occupancy)s. No enterprise can be added to %(tier)s until "
            "fewer than %(quota)s places are taken; nobody is demoted.",
            occupancy=occupancy,
            tier=name,
            quota=quota,
        )
    else:
        room = _(
            "Places taken now: %(occupancy)s. Places left after the change, for new holders "
            "and promotions: %(free)s.",
            occupancy=occupancy,
            free=quota - occupancy,
        )
    consequences = [room]
    if other_changes:
        consequences.append(_("Your other changes to the settings are saved with it."))
    return Question(
        title=_(
            "Lower the quota of %(tier)s from %(old)s to %(new)s?",
            tier=name,
            old=tier.quota,
            new=quota,
        ),
        consequences=consequences,
        lasting=_(
            "The lower quota applies at once and is recorded in the audit log; raising it "
            "again is a new change with its own reason."
        ),
        button=_("Lower the quota"),
        cancel_url=url_for("admin.tier", code=tier.code),
    )
