"""The application state machine of PRODUCT.md "Applications and review", the applicant's side of
it (create,
edit, submit, withdraw), the claim of a review and the rules every transition shares:
each checks who may make it and from which state, changes the application, writes its
audit and feed entries in the caller's transaction, flushes and never commits. Any
other (state, action) pair is refused with ``invalid_transition`` and changes nothing.
The reviewers' decisions are in :mod:`registry.applications.decisions`, the end of the
public notice in :mod:`registry.applications.notice_ends`.

The ladder is asked (never queried) for what it owns: whether the enterprise may climb
to a tier, a quota slot at final approval of a promotion, the grant at the end of the
notice, a renewal hold while a renewal is open, and the renewal itself.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from registry.accounts.models import User
from registry.applications.models import (
    OPEN_STATES,
    WITHDRAWABLE,
    Application,
    Kind,
    State,
)
from registry.applications.schemas import application_out  # noqa: F401  (feed type)
from registry.core import clock
from registry.core.audit import Actor, diff, record_audit
from registry.core.changes import changed
from registry.core.db import for_update
from registry.core.dbsession import DbSession
from registry.core.errors import (
    ApplicationOpen,
    Banned,
    Codes,
    Forbidden,
    InvalidTransition,
    NotEligible,
    NotFound,
    ValidationFailed,
    refusal,
)
from registry.enterprises.models import Enterprise, Status
from registry.enterprises.signals import status_changed
from registry.ladder import criteria_versions, holds, locks
from registry.ladder import queries as ladder_queries
from registry.ladder.climb import check_climb
from registry.ladder.signals import designation_withdrawn


def require_state(application: Application, *states: State) -> None:
    if application.state not in states:
        raise InvalidTransition(
            "Application %(id)s is %(state)s; this action is not possible now.",
            id=application.id,
            state=str(application.state),
        )


def require_applicant_side(application: Application, user: User) -> None:
    """The enterprise's users for its own application, any reviewer for a nomination.
    Others who can see it get 403; those who cannot, 404."""
    if not application.visible_to(user):
        raise NotFound("No such application.")
    if not application.applicant_side(user):
        raise Forbidden("Only the applicant side may do this.")


def require_reviewer(application: Application, user: User) -> None:
    """Any reviewer, for an application they can see (else 404, or 403 for others)."""
    if not application.visible_to(user):
        raise NotFound("No such application.")
    if not user.is_reviewer:
        raise Forbidden("Only reviewers may do this.")


def lock_application(
    session: DbSession, application: Application, *, tier: bool = False
) -> Application:
    """Lock for a transition in the registry's order: the tier (when the transition may
    reserve or consume a slot), the enterprise, then the application, and re-read it so
    that concurrent transitions see each other (SQLite: the write lock is already held)."""
    if tier:
        locks.lock_tier(session, application.tier)
    locks.lock_enterprise(session, application.enterprise_id)
    stmt = select(Application).where(Application.id == application.id)
    return session.scalars(for_update(session, stmt)).one()


def transition(
    session: DbSession, application: Application, to: State, actor: Actor, action: str, **extra: Any
) -> Application:
    """Move the application to ``to``, with its feed entry and the audit entry
    ``application.<action>`` (``extra`` adds to its changes); flushes."""
    before = str(application.state)
    application.state = to
    changed(session, application)
    record_audit(
        session,
        actor,
        f"application.{action}",
        "application",
        application.id,
        {"state": [before, str(to)], **extra},
    )
    session.flush()
    return application


def _check_not_banned(enterprise: Enterprise) -> None:
    if enterprise.ban_until is not None and enterprise.ban_until > clock.today():
        raise Banned(
            "%(uscc)s is banned from applying until %(day)s.",
            uscc=enterprise.uscc,
            day=enterprise.ban_until.isoformat(),
        )


def create(
    session: DbSession,
    enterprise: Enterprise,
    tier_code: str,
    kind: Kind | str,
    *,
    user: User,
    via: str,
    route: str | None = None,
) -> Application:
    """A draft: an enterprise's own application, or a reviewer's nomination. ``route``
    is the champion rung's (default ``srdi``); other tiers have none."""
    kind = Kind(kind)
    nomination = user.is_reviewer
    if not nomination and user.enterprise_id != enterprise.id:
        raise NotFound("No such enterprise.")
    route = criteria_versions.route_of(tier_code, route)
    tier = check_climb(session, enterprise, tier_code, kind, step="target", nomination=nomination)
    if enterprise.status != Status.ACTIVE:
        raise InvalidTransition("%(uscc)s is not active.", uscc=enterprise.uscc)
    _check_not_banned(enterprise)
    if session.scalar(
        select(Application.id).where(
            Application.enterprise_id == enterprise.id, Application.state.in_(OPEN_STATES)
        )
    ):
        raise ApplicationOpen("%(uscc)s already has an open application.", uscc=enterprise.uscc)
    application = Application(
        enterprise_id=enterprise.id,
        enterprise=enterprise,
        tier=tier.code,
        kind=kind,
        route=route,
        state=State.DRAFT,
        created_by=user.id,
        nominated_by=user.id if nomination else None,
    )
    session.add(application)
    session.flush()
    changed(session, application)
    record_audit(
        session,
        Actor.of(user, via),
        "application.create",
        "application",
        application.id,
        {
            "state": [None, "draft"],
            "tier": [None, tier.code],
            "kind": [None, str(kind)],
            **({"route": [None, route]} if route else {}),
        },
    )
    return application


def edit(
    session: DbSession,
    application: Application,
    tier_code: str,
    kind: Kind | str,
    *,
    user: User,
    via: str,
    route: str | None = None,
) -> Application:
    """The applicant side edits an application in draft or changes_requested. Tier, kind
    and route change in draft only, under the rules of :func:`create`: from the first
    submission on they are fixed (approvals and notice days were copied from the tier,
    a renewal holds its rung, the snapshot was judged by the route). ``route`` None
    keeps the current one where the tier has routes. Nothing is written when all stay
    as they are."""
    require_applicant_side(application, user)
    application = lock_application(session, application)
    require_state(application, State.DRAFT, State.CHANGES_REQUESTED)
    kind = Kind(kind)
    route = criteria_versions.route_of(tier_code, route or application.route)
    if (application.tier, application.kind, application.route) == (tier_code, kind, route):
        return application
    require_state(application, State.DRAFT)
    check_climb(
        session,
        application.enterprise,
        tier_code,
        kind,
        step="target",
        nomination=user.is_reviewer,
    )
    changes = diff(
        {"tier": application.tier, "kind": str(application.kind), "route": application.route},
        {"tier": tier_code, "kind": str(kind), "route": route},
    )
    application.tier, application.kind, application.route = tier_code, kind, route
    changed(session, application)
    record_audit(
        session, Actor.of(user, via), "application.edit", "application", application.id, changes
    )
    session.flush()
    return application


def submit(
    session: DbSession, application: Application, *, user: User, via: str, declaration: bool = False
) -> Application:
    """draft → submitted, or changes_requested → in_review; stores the eligibility
    snapshot and refuses while an automatic check fails or is unknown."""
    require_applicant_side(application, user)
    application = lock_application(session, application)
    if application.nominated_by is None and not declaration:
        raise ValidationFailed(
            "Accept the declaration to submit.",
            errors=[refusal("declaration", "required", "Accept the declaration to submit.")],
        )
    enterprise = application.enterprise
    # Before the evaluation, whose own `prerequisite` check would otherwise answer
    # not_eligible: the contract names prerequisite_not_met for this refusal.
    tier = check_climb(session, enterprise, application.tier, application.kind, step="submit")
    now = clock.now()
    evaluation = ladder_queries.evaluate_enterprise(
        session, enterprise, tier.code, reference=now, route=application.route
    )
    if not evaluation.eligible:
        codes = [c.code for c in evaluation.checks if c.status in ("fail", "unknown")]
        raise NotEligible(
            "Not eligible: %(checks)s.",
            checks=Codes(codes),
            errors=[refusal(code, "not_eligible", code) for code in codes],
        )
    require_state(application, State.DRAFT, State.CHANGES_REQUESTED)
    _check_not_banned(enterprise)
    application.eligibility = evaluation.to_dict()
    application.criteria = dict(evaluation.criteria)
    application.submitted_by = user.id
    application.submitted_at = now
    if application.state == State.DRAFT:
        application.approvals_required = tier.approvals_required
        application.notice_days = tier.notice_days
        if application.kind == Kind.RENEWAL:
            holds.hold_for_renewal(session, enterprise, application.id, actor=Actor.of(user, via))
        return transition(session, application, State.SUBMITTED, Actor.of(user, via), "submit")
    return transition(session, application, State.IN_REVIEW, Actor.of(user, via), "submit")


def claim(session: DbSession, application: Application, *, user: User, via: str) -> Application:
    """Any reviewer takes the lead (submitted → in_review, or a takeover in review)."""
    require_reviewer(application, user)
    application = lock_application(session, application)
    require_state(application, State.SUBMITTED, State.IN_REVIEW)
    before = application.claimed_by
    application.claimed_by = user.id
    return transition(
        session,
        application,
        State.IN_REVIEW,
        Actor.of(user, via),
        "claim",
        claimed_by=[before, user.id],
    )


def withdraw(session: DbSession, application: Application, *, user: User, via: str) -> Application:
    """The applicant side takes an application back before the notice."""
    require_applicant_side(application, user)
    application = lock_application(session, application)
    require_state(application, *WITHDRAWABLE)
    actor = Actor.of(user, via)
    holds.release_renewal_hold(session, application.id, actor=actor)
    return transition(session, application, State.WITHDRAWN, actor, "withdraw")


def close_open_applications(
    session: DbSession, enterprise: Enterprise, reason: str, via: str
) -> int:
    """Reject an enterprise's open applications (system), releasing what they hold."""
    actor = Actor.system(via)
    count = 0
    for application in session.scalars(
        select(Application).where(
            Application.enterprise_id == enterprise.id, Application.state.in_(OPEN_STATES)
        )
    ):
        holds.release_slot(session, application.id, actor=actor)
        holds.release_renewal_hold(session, application.id, actor=actor)
        application.closed_reason = reason
        transition(session, application, State.REJECTED, actor, "close")
        count += 1
    return count


@designation_withdrawn.connect
def _on_designation_withdrawn(
    enterprise: Enterprise, *, session: DbSession, actor: Actor, reason: str, **_kw: Any
) -> None:
    close_open_applications(session, enterprise, reason, actor.via)


@status_changed.connect
def _on_status_changed(
    enterprise: Enterprise, *, session: DbSession, actor: Actor, status: Status, **_kw: Any
) -> None:
    if status != Status.ACTIVE:
        close_open_applications(session, enterprise, f"status:{status}", actor.via)
