"""A reviewer's decisions on an application in review (PRODUCT.md "Applications and review"):
approve, reject or request changes, one function each, under the four-eyes rules. The last approval
required puts a promotion in its public notice, with a quota slot the ladder reserves,
or renews the designation. Flushes, never commits.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from registry.accounts.models import User
from registry.applications.models import Application, Decision, Kind, State
from registry.applications.operations import (
    lock_application,
    require_reviewer,
    require_state,
    transition,
)
from registry.core import clock
from registry.core.audit import Actor, history, record_audit
from registry.core.changes import changed
from registry.core.dbsession import DbSession
from registry.core.errors import (
    CalendarNotCovered,
    Codes,
    ConflictOfInterest,
    EnterpriseUnverified,
    FourEyes,
    ManualChecksUnconfirmed,
    ValidationFailed,
    refusal,
    required,
)
from registry.core.models import AuditEntry
from registry.ladder import dates, holds
from registry.ladder import operations as ladder
from registry.ladder import queries as ladder_queries
from registry.ladder.climb import check_climb


def _has_submitted(session: DbSession, application: Application, user: User) -> bool:
    """Whether ``user`` submitted this application at any time (every submit is
    audited), not only the latest time."""
    submits = history("application", application.id).where(
        AuditEntry.action == "application.submit", AuditEntry.actor_id == user.id
    )
    return session.scalar(submits.limit(1)) is not None


def _comment(comment: str | None) -> str | None:
    return (comment or "").strip() or None


def _required_comment(comment: str | None) -> str:
    comment = _comment(comment)
    if comment is None:
        raise required("comment")
    return comment


def _require_open_review(application: Application, user: User) -> None:
    """In review, and the reviewer is not one of the enterprise's own users."""
    require_state(application, State.IN_REVIEW)
    if user.enterprise_id == application.enterprise_id:
        raise ConflictOfInterest("You belong to this enterprise.")


def _require_verified_for_final(application: Application) -> None:
    """The approval that would be the last one required waits until a reviewer has
    verified the enterprise (PRODUCT.md "Applications and review", verified first);
    earlier approvals may be given meanwhile. Like the quota and the prerequisite, a
    condition of the final approval: checked after the four-eyes rules (API.md's order
    puts ``quota_full`` there too), before anything is recorded."""
    final = len(application.approvals()) + 1 >= (application.approvals_required or 1)
    if final and not application.enterprise.verified:
        raise EnterpriseUnverified(
            "The enterprise %(uscc)s is not verified yet: a reviewer verifies it before "
            "the final approval.",
            uscc=application.enterprise.uscc,
        )


def _record_decision(
    session: DbSession,
    application: Application,
    user: User,
    decision: str,
    comment: str | None,
    manual_checks: dict[str, Any] | None,
    innovation_score: int | None,
) -> None:
    session.add(
        Decision(
            application=application,
            reviewer_id=user.id,
            reviewer_name=user.display_name,
            decision=decision,
            comment=comment,
            manual_checks=manual_checks,
            innovation_score=innovation_score,
            at=clock.now(),
        )
    )
    session.flush()
    session.refresh(application, ["decisions"])


def approve(
    session: DbSession,
    application: Application,
    *,
    user: User,
    via: str,
    comment: str | None = None,
    manual_checks: dict[str, Any] | None = None,
    innovation_score: int | None = None,
) -> Application:
    """A reviewer's approval, under the four-eyes rules, confirming each manual check of
    the snapshot. The last approval required puts a promotion in its notice (a quota
    slot reserved) or renews the designation."""
    require_reviewer(application, user)
    comment = _comment(comment)
    application = lock_application(session, application, tier=application.kind == Kind.PROMOTION)
    _check_manual_confirmations(application, manual_checks, innovation_score)
    _require_open_review(application, user)
    if user.id == application.created_by or _has_submitted(session, application, user):
        raise FourEyes("You created or submitted this application.")
    if any(d.reviewer_id == user.id for d in application.approvals()):
        raise FourEyes("You have already approved this application.")
    _require_verified_for_final(application)
    actor = Actor.of(user, via)
    _record_decision(
        session, application, user, "approve", comment, manual_checks, innovation_score
    )
    if len(application.approvals()) < (application.approvals_required or 1):
        changed(session, application)
        record_audit(
            session,
            actor,
            "application.approve",
            "application",
            application.id,
            {"approvals": [len(application.approvals()) - 1, len(application.approvals())]},
        )
        session.flush()
        return application
    return _final_approval(session, application, actor)


def reject(
    session: DbSession,
    application: Application,
    *,
    user: User,
    via: str,
    comment: str | None = None,
    manual_checks: dict[str, Any] | None = None,
    innovation_score: int | None = None,
) -> Application:
    """A reviewer rejects an application in review, with a comment (its closing
    reason); a renewal's hold is released. ``manual_checks`` and ``innovation_score``
    are recorded with the decision as given."""
    require_reviewer(application, user)
    comment = _required_comment(comment)
    application = lock_application(session, application)
    _require_open_review(application, user)
    actor = Actor.of(user, via)
    _record_decision(session, application, user, "reject", comment, manual_checks, innovation_score)
    holds.release_renewal_hold(session, application.id, actor=actor)
    application.closed_reason = comment
    return transition(session, application, State.REJECTED, actor, "reject")


def request_changes(
    session: DbSession,
    application: Application,
    *,
    user: User,
    via: str,
    comment: str | None = None,
    manual_checks: dict[str, Any] | None = None,
    innovation_score: int | None = None,
) -> Application:
    """A reviewer sends an application in review back to the applicant side, with a
    comment; the approvals given so far no longer count. ``manual_checks`` and
    ``innovation_score`` are recorded with the decision as given."""
    require_reviewer(application, user)
    comment = _required_comment(comment)
    application = lock_application(session, application)
    _require_open_review(application, user)
    actor = Actor.of(user, via)
    _record_decision(
        session, application, user, "request_changes", comment, manual_checks, innovation_score
    )
    for earlier in application.approvals():
        earlier.void = True
    return transition(session, application, State.CHANGES_REQUESTED, actor, "request_changes")


DECISIONS = {"approve": approve, "reject": reject, "request_changes": request_changes}


def decide(
    session: DbSession,
    application: Application,
    decision: str,
    *,
    user: User,
    via: str,
    comment: str | None = None,
    manual_checks: dict[str, Any] | None = None,
    innovation_score: int | None = None,
) -> Application:
    """The decision named ``decision`` (``approve``, ``reject``, ``request_changes``:
    the review form's and the API's field), by a reviewer."""
    require_reviewer(application, user)
    if decision not in DECISIONS:
        raise ValidationFailed("Unknown decision %(decision)s.", decision=decision)
    return DECISIONS[decision](
        session,
        application,
        user=user,
        via=via,
        comment=comment,
        manual_checks=manual_checks,
        innovation_score=innovation_score,
    )


#: The reviewer's confirmation, beside the manual checks, that an enterprise on the SRDI
#: route is a 专精特新"小巨人" enterprise (DOMAIN.md: such enterprises meet that route).
LITTLE_GIANT = "little_giant"


def _check_manual_confirmations(
    application: Application, confirmed: dict[str, Any] | None, innovation_score: int | None
) -> None:
    snapshot = application.eligibility or {}
    manual = [c["code"] for c in snapshot.get("checks", []) if c["status"] == "manual"]
    missing = [code for code in manual if (confirmed or {}).get(code) is not True]
    if missing:
        raise ManualChecksUnconfirmed(
            "Confirm the manual checks: %(checks)s.",
            checks=Codes(missing),
            errors=[
                refusal(f"manual_checks.{c}", "required", "Confirm this check to approve.")
                for c in missing
            ],
        )
    if application.tier == "high_tech" and (innovation_score is None or innovation_score <= 70):
        raise ValidationFailed(
            "A high-tech approval needs an innovation score above 70.",
            errors=[refusal("innovation_score", "out_of_range", "Must be greater than 70.")],
        )


def _final_approval(session: DbSession, application: Application, actor: Actor) -> Application:
    enterprise = application.enterprise
    if application.kind == Kind.RENEWAL:
        ladder.renew_tier(
            session,
            enterprise,
            actor=actor,
            reason="renewal approved",
            application_id=application.id,
            route=route_of(application),
        )
        return transition(session, application, State.GRANTED, actor, "approve")
    check_climb(session, enterprise, application.tier, application.kind, step="approve")
    now = clock.now()
    notice_days = cast(int, application.notice_days)  # copied from the tier at submission
    calendar = ladder_queries.work_calendar(session)
    _check_calendar_covers(
        calendar, dates.notice_days(dates.shanghai_date(now), notice_days, calendar)
    )
    holds.reserve_slot(session, enterprise, application.tier, application.id, actor=actor)
    application.notice_started_at = now
    application.notice_ends_at = dates.notice_ends_at(now, notice_days, calendar)
    return transition(session, application, State.IN_NOTICE, actor, "approve")


def route_of(application: Application) -> ladder.Route:
    """What the grant or renewal an application brings records: its route and, for the
    SRDI route, whether every approving reviewer confirmed it a 专精特新"小巨人"
    enterprise (``manual_checks.little_giant``)."""
    approvals = application.approvals()
    little_giant = (
        application.route == "srdi"
        and bool(approvals)
        and all((d.manual_checks or {}).get(LITTLE_GIANT) is True for d in approvals)
    )
    return application.route, little_giant


def _check_calendar_covers(calendar: dates.WorkCalendar, days: list[date]) -> None:
    """A notice is counted in working days of the seeded calendar only (PRODUCT.md §3a):
    one that would reach a year the seed does not cover is refused, never counted
    Monday to Friday."""
    if missing := calendar.missing_years(days[0].year, days[-1].year):
        raise CalendarNotCovered(
            "The working-day calendar does not cover %(years)s, which this notice would"
            " reach: an administrator adds that year's schedule (seeds/calendar.json,"
            " then seed) before the approval.",
            years=", ".join(str(year) for year in missing),
        )
