"""What happens next after each step of an application's workflow (QUALITY.md U6): who
acts now, by when, and the link to where it happens, flashed by the view that acted so
that the page after its redirect shows it (``registry.core.next_step``).

The enterprise hears what to do with its draft and that the reviewers take it from
there once submitted; a reviewer hears what is left to do or who acts next (a second
reviewer, the public during the notice, the enterprise after a request for changes);
someone who objected hears how the objection is dealt with and until when. A reviewer
who verified, demoted or revoked an enterprise, or decided on an account claim, hears
what that changed and where to see it.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from registry.accounts.models import AccountClaim, ClaimState, User
from registry.applications.models import (
    OPEN_STATES,
    Application,
    Objection,
    ObjectionState,
    State,
)
from registry.core.i18n import current_language
from registry.core.next_step import flash_next_step
from registry.enterprises.models import Enterprise
from registry.extensions import db
from registry.ladder import dates
from registry.ladder.models import Tier, TierEvent


def _last_day(application: Application) -> str:
    """The notice's last day, as the notice page names it (not the instant it ends)."""
    return dates.last_day(cast(datetime, application.notice_ends_at)).isoformat()


def _tier_list(application: Application) -> tuple[str, str]:
    """The link to the published list of the application's tier, and its label."""
    return _list_of(application.tier)


def _list_of(code: str) -> tuple[str, str]:
    """The link to the published list of the tier ``code``, and its label."""
    tier = db.session.get_one(Tier, code)
    return (
        url_for("ladder.tier_list", code=tier.code),
        _("The published list of %(tier)s", tier=tier.name(current_language())),
    )


def _open_queue() -> tuple[str, str]:
    """The link to the reviewers' queue, for what waits in it."""
    return url_for("review.queue"), _("Open the queue")


def _back_to_queue() -> tuple[str, str]:
    """The link to the reviewers' queue, for a reviewer done with the page."""
    return url_for("review.queue"), _("Back to the queue")


def _to_submission(application: Application) -> tuple[str, str]:
    """The link to the submission at the bottom of the applicant's page."""
    return (
        url_for("applications.detail", application_id=application.id, _anchor="submit-title"),
        _("Go to the submission"),
    )


def _name(enterprise: Enterprise) -> str:
    """The enterprise's name as the page's language has it (its English name, if any)."""
    if current_language() == "en" and enterprise.name_en:
        return enterprise.name_en
    return enterprise.name


# --- the applicant side -------------------------------------------------------------------------


def after_start(application: Application) -> None:
    """A draft was started (an enterprise's application, or a reviewer's nomination)."""
    if application.nominated_by is not None:
        flash_next_step(
            _(
                "Add the attachments the nomination needs, then submit it: it then waits "
                "in the queue for a reviewer to claim it."
            ),
            url_for("review.application", application_id=application.id, _anchor="actions-title"),
            _("Go to the actions"),
        )
        return
    flash_next_step(
        _(
            "The application is a draft. Check the figures and the eligibility on this page, "
            "add the attachments, then submit it at the bottom of the page."
        ),
        *_to_submission(application),
    )


def after_files(application: Application) -> None:
    """An attachment was added or removed."""
    flash_next_step(
        _("Once every attachment is here, submit the application at the bottom of this page."),
        *_to_submission(application),
    )


def after_submit(application: Application) -> None:
    """The application (or nomination) went to the reviewers."""
    if application.nominated_by is not None:
        flash_next_step(
            _("The nomination waits in the queue until a reviewer claims it and decides on it."),
            *_open_queue(),
        )
        return
    flash_next_step(
        _(
            "A reviewer will take up the application and decide on it. You will see the "
            "decision here, and any changes asked of you at the top of this page."
        ),
        url_for("applications.detail", application_id=application.id, _anchor="timeline-title"),
        _("See the history of the application"),
    )


def after_withdraw(application: Application) -> None:
    """The application (or nomination) was withdrawn: it is closed for good."""
    if application.nominated_by is not None:
        flash_next_step(
            _("The nomination is closed. Nothing more is needed."),
            *_back_to_queue(),
        )
        return
    flash_next_step(
        _("The application is closed. You can start a new one whenever you are ready."),
        url_for("applications.new"),
        _("Start a new application"),
    )


# --- the reviewers --------------------------------------------------------------------------------


def after_claim(application: Application) -> None:
    """A reviewer took up the review."""
    flash_next_step(
        _(
            "You lead this review: check the figures, the attachments and the checks to "
            "confirm, then record your decision."
        ),
        url_for("review.application", application_id=application.id, _anchor="decision-title"),
        _("Go to the decision"),
    )


def after_decision(application: Application) -> None:
    """A reviewer recorded a decision; the application's new state says who acts next."""
    if application.state == State.IN_NOTICE:
        flash_next_step(
            _(
                "The public notice runs until the end of %(day)s (Beijing time). Anyone may "
                "object until then and a reviewer decides on each objection; unless one is "
                "upheld, the tier is granted when the notice ends.",
                day=_last_day(application),
            ),
            url_for("notices.index"),
            _("Open the public notice"),
        )
    elif application.state == State.IN_REVIEW:
        flash_next_step(
            _(
                "Another reviewer must approve too (%(count)s of %(required)s approvals so "
                "far): the application waits in the queue until then.",
                count=len(application.approvals()),
                required=application.approvals_required or 1,
            ),
            *_open_queue(),
        )
    elif application.state == State.GRANTED:
        flash_next_step(
            _("The designation is renewed: the published list of its tier shows it."),
            *_tier_list(application),
        )
    elif application.state == State.CHANGES_REQUESTED:
        flash_next_step(
            _(
                "The enterprise sees your comment at the top of its application, makes the "
                "changes and submits again; the application then comes back to the queue."
            ),
            *_back_to_queue(),
        )
    else:
        flash_next_step(
            _("The enterprise sees the decision and your comment. Nothing more is needed."),
            *_back_to_queue(),
        )


# --- the public notice --------------------------------------------------------------------------


def after_objection(application: Application) -> None:
    """Someone objected to an application in notice."""
    flash_next_step(
        _(
            "A reviewer examines your objection. If it is upheld, the application is "
            "rejected; otherwise the tier may be granted after the last day of the notice, "
            "%(day)s. Enterprises granted a tier appear on its published list.",
            day=_last_day(application),
        ),
        *_tier_list(application),
    )


def after_resolution(objection: Objection, application: Application) -> None:
    """A reviewer upheld or dismissed an objection."""
    if application.state == State.GRANTED:  # the last open objection, after the notice
        flash_next_step(
            _("The tier is granted: the enterprise now appears on the published list."),
            *_tier_list(application),
        )
        return
    if objection.state == ObjectionState.UPHELD:
        text = _("The application is rejected and its place in the quota is free again.")
    else:
        text = _(
            "The application stays in public notice until the end of %(day)s; the tier is "
            "granted then unless another objection is upheld.",
            day=_last_day(application),
        )
    flash_next_step(text, url_for("notices.objections"), _("Back to the objections"))


# --- the reviewers' enterprise actions -----------------------------------------------------------


def after_verification(enterprise: Enterprise) -> None:
    """A reviewer verified an enterprise: its final approvals are no longer held back."""
    waiting = db.session.scalars(
        select(Application).where(
            Application.enterprise_id == enterprise.id, Application.state.in_(OPEN_STATES)
        )
    ).first()
    if waiting is not None and waiting.state in (State.SUBMITTED, State.IN_REVIEW):
        flash_next_step(
            _("Its application in review can now get its final approval."),
            url_for("review.application", application_id=waiting.id),
            _("Open its application"),
        )
        return
    flash_next_step(
        _(
            "Nothing more is needed: the final approval of its future applications is no "
            "longer held back."
        ),
        *_back_to_queue(),
    )


def after_demotion(enterprise: Enterprise) -> None:
    """A reviewer demoted an enterprise: the published lists show it at once."""
    flash_next_step(
        _(
            "The published lists show the change now: %(enterprise)s is listed under "
            "%(tier)s with the registration number %(number)s.",
            enterprise=_name(enterprise),
            tier=db.session.get_one(Tier, enterprise.tier).name(current_language()),
            number=enterprise.registration_number,
        ),
        *_list_of(cast(str, enterprise.tier)),
    )


def after_revocation(enterprise: Enterprise, event: TierEvent) -> None:
    """A reviewer revoked a designation: off the published lists at once."""
    if enterprise.ban_until is not None:
        again = _("It may apply again from %(day)s.", day=enterprise.ban_until.isoformat())
    else:
        again = _("It may apply again whenever it is ready.")
    flash_next_step(
        _(
            "%(enterprise)s is off the published lists from now on. %(again)s",
            enterprise=_name(enterprise),
            again=again,
        ),
        *_list_of(cast(str, event.from_tier)),
    )


def after_claim_decision(claim: AccountClaim) -> None:
    """A reviewer confirmed or refused an account's claim to an enterprise."""
    user = db.session.get_one(User, claim.user_id)
    enterprise = db.session.get_one(Enterprise, claim.enterprise_id)
    if claim.state == ClaimState.CONFIRMED:
        flash_next_step(
            _(
                "%(email)s now sees %(enterprise)s on the account page and can keep its "
                "profile and figures and apply for it.",
                email=user.email,
                enterprise=_name(enterprise),
            ),
            url_for("review.enterprise", uscc=enterprise.uscc),
            _("Open the enterprise"),
        )
        return
    flash_next_step(
        _(
            "%(email)s stays without an enterprise and sees none of the data of %(enterprise)s.",
            email=user.email,
            enterprise=_name(enterprise),
        ),
        url_for("review.claims", _anchor="pending-title"),
        _("The claims waiting for a decision"),
    )
