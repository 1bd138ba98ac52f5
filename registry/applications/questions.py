"""What the confirmation page asks before the applications' and reviewers' actions that
cannot be undone (QUALITY.md U5; the page itself is ``registry.core.confirm``): withdraw
an application, reject one, uphold an objection, demote or revoke a designation.

Each question names what is acted on and says what is lost, in the page's language.
They are built after the trial run was rolled back, so records read here hold their
values from before the action.
"""

from __future__ import annotations

from datetime import date

from flask import url_for
from flask_babel import gettext as _

from registry.applications import queries
from registry.applications.models import Application, Objection
from registry.core.confirm import Question
from registry.core.i18n import current_language
from registry.enterprises.models import Enterprise
from registry.extensions import db
from registry.ladder import queries as ladder_queries


def _tier_name(code: str | None) -> str:
    names = ladder_queries.tier_names(db.session, current_language())
    return names.get(code or "", code or "")


def _name(enterprise: Enterprise) -> str:
    """The enterprise's name as the page's language has it (its English name, if any)."""
    if current_language() == "en" and enterprise.name_en:
        return enterprise.name_en
    return enterprise.name


def _facts(application: Application) -> dict[str, object]:
    """What names an application in a question: its id, its enterprise and its tier."""
    return {
        "id": application.id,
        "enterprise": _name(application.enterprise),
        "tier": _tier_name(application.tier),
    }


def _comment_seen(comment: str | None) -> list[str]:
    if not comment:
        return []
    return [_("The enterprise will read your comment: “%(comment)s”", comment=comment)]


def withdraw(application: Application, cancel_url: str) -> Question:
    """Withdrawing an application or a nomination (the applicant side)."""
    facts = _facts(application)
    if application.nominated_by is None:
        again = _("You can start a new application afterwards; it begins again as a draft.")
    else:
        again = _("A new nomination can be made afterwards; it begins again as a draft.")
    return Question(
        title=_("Withdraw application %(id)s?", id=application.id),
        consequences=[
            _(
                "Application %(id)s of %(enterprise)s for %(tier)s ends now: no reviewer "
                "will examine it and it cannot be granted.",
                **facts,
            ),
            again,
        ],
        lasting=_("A withdrawn application cannot be reopened."),
        button=_("Withdraw the application"),
        cancel_url=cancel_url,
    )


def reject(application: Application, comment: str | None) -> Question:
    """A reviewer's decision to reject."""
    return Question(
        title=_("Reject application %(id)s?", id=application.id),
        consequences=[
            _(
                "Application %(id)s of %(enterprise)s for %(tier)s ends as rejected and "
                "will not be granted.",
                **_facts(application),
            ),
            *_comment_seen(comment),
        ],
        lasting=_(
            "A rejected application cannot be reopened: the enterprise would have to start "
            "a new one."
        ),
        button=_("Reject the application"),
        cancel_url=url_for("review.application", application_id=application.id),
    )


def uphold(objection: Objection, comment: str | None) -> Question:
    """Upholding an objection during the public notice."""
    application = objection.application
    return Question(
        title=_("Uphold the objection to application %(id)s?", id=application.id),
        consequences=[
            _(
                "Application %(id)s of %(enterprise)s for %(tier)s is rejected at once and "
                "will not be granted.",
                **_facts(application),
            ),
            *_comment_seen(comment),
        ],
        lasting=_(
            "An upheld objection cannot be dismissed afterwards, and the rejected "
            "application cannot be reopened."
        ),
        button=_("Uphold the objection"),
        cancel_url=url_for("notices.objections"),
    )


def _loses(enterprise: Enterprise) -> str:
    return _(
        "%(enterprise)s loses %(tier)s (registration number %(number)s) today.",
        enterprise=_name(enterprise),
        tier=_tier_name(enterprise.tier),
        number=enterprise.registration_number or "—",
    )


def _open_applications_closed(enterprise: Enterprise) -> list[str]:
    open_ones = [a for a in queries.applications_of(db.session, enterprise.id) if a.is_open]
    return [
        _(
            "Its open application %(id)s for %(tier)s is closed as rejected.",
            id=application.id,
            tier=_tier_name(application.tier),
        )
        for application in open_ones
    ]


def demote(enterprise: Enterprise, to_tier: str) -> Question:
    """Moving an enterprise down the ladder."""
    return Question(
        title=_(
            "Demote %(enterprise)s to %(tier)s?",
            enterprise=_name(enterprise),
            tier=_tier_name(to_tier),
        ),
        consequences=[
            _loses(enterprise),
            _(
                "From today it holds %(tier)s under a new registration number.",
                tier=_tier_name(to_tier),
            ),
            *_open_applications_closed(enterprise),
        ],
        lasting=_(
            "A demotion cannot be undone: moving up again takes a new application or nomination."
        ),
        button=_("Demote the enterprise"),
        cancel_url=url_for("review.enterprise", uscc=enterprise.uscc),
    )


def revoke(enterprise: Enterprise, ban_until: date | None) -> Question:
    """Taking an enterprise off the ladder."""
    ban = (
        [_("It cannot apply again until %(date)s.", date=ban_until.isoformat())]
        if ban_until
        else []
    )
    return Question(
        title=_("Revoke the designation of %(enterprise)s?", enterprise=_name(enterprise)),
        consequences=[
            _loses(enterprise),
            _("It leaves the ladder and the published list."),
            *ban,
            *_open_applications_closed(enterprise),
        ],
        lasting=_(
            "A revocation cannot be undone: coming back onto the ladder takes a new "
            "application or nomination."
        ),
        button=_("Revoke the designation"),
        cancel_url=url_for("review.enterprise", uscc=enterprise.uscc),
    )
