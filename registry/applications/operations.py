"""The application state machine of PRODUCT.md §5: every transition checks who may make
it and from which state, changes the application, writes its audit and feed entries in
the caller's transaction, flushes and never commits. Any other (state, action) pair is
refused with ``invalid_transition`` and changes nothing.

The ladder is asked (never queried) for what it owns: a quota slot at final approval of
a promotion (``reserve_slot``), the grant at the end of the notice (``consume_slot``), a
renewal hold while a renewal is open, and the renewal itself (``renew_tier``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.accounts.models import Role, User
from registry.applications.models import (
    OPEN_STATES,
    WITHDRAWABLE,
    Application,
    Decision,
    Kind,
    State,
)
from registry.applications.queries import is_held, open_objection
from registry.applications.schemas import application_out  # noqa: F401  (feed type)
from registry.core import clock
from registry.core.audit import Actor, history, record_audit
from registry.core.changes import changed
from registry.core.db import is_postgres
from registry.core.errors import (
    ApplicationOpen,
    Banned,
    ConflictOfInterest,
    Forbidden,
    FourEyes,
    InvalidTransition,
    ManualChecksUnconfirmed,
    NominationOnly,
    NotEligible,
    NotFound,
    PrerequisiteNotMet,
    ValidationFailed,
)
from registry.core.models import AuditEntry
from registry.enterprises.models import Enterprise, Status
from registry.enterprises.signals import status_changed
from registry.ladder import dates, holds, locks
from registry.ladder import operations as ladder
from registry.ladder import queries as ladder_queries
from registry.ladder.models import Tier
from registry.ladder.signals import designation_withdrawn

REVIEWER_ROLES = (Role.REVIEWER, Role.ADMIN)


def actor_of(user: User, via: str) -> Actor:
    return Actor(user.id, user.display_name, via)


def is_reviewer(user: User) -> bool:
    return user.role in REVIEWER_ROLES


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


def _require_reviewer(application: Application, user: User) -> None:
    if not application.visible_to(user):
        raise NotFound("No such application.")
    if not is_reviewer(user):
        raise Forbidden("Only reviewers may do this.")


def lock_application(
    session: Session, application: Application, *, tier: bool = False
) -> Application:
    """Lock for a transition in the registry's order: the tier (when the transition may
    reserve or consume a slot), the enterprise, then the application, and re-read it so
    that concurrent transitions see each other (SQLite: the write lock is already held)."""
    if tier:
        locks.lock_tier(session, application.tier)
    locks.lock_enterprise(session, application.enterprise_id)
    stmt = (
        select(Application)
        .where(Application.id == application.id)
        .execution_options(populate_existing=True)
    )
    if is_postgres(session):
        stmt = stmt.with_for_update()
    return session.scalars(stmt).one()


def _has_submitted(session: Session, application: Application, user: User) -> bool:
    """Whether ``user`` submitted this application at any time (every submit is
    audited), not only the latest time."""
    submits = history("application", application.id).where(
        AuditEntry.action == "application.submit", AuditEntry.actor_id == user.id
    )
    return session.scalar(submits.limit(1)) is not None


def _transition(
    session: Session, application: Application, to: State, actor: Actor, action: str, **extra
) -> Application:
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


def _check_prerequisite(session: Session, enterprise: Enterprise, tier: Tier) -> None:
    if tier.prerequisite is None:
        return
    ranks = ladder_queries.tier_ranks(session)
    current = ranks.get(enterprise.tier) if enterprise.tier else None
    if current is None or current < ranks[tier.prerequisite]:
        raise PrerequisiteNotMet(
            "%(tier)s needs at least %(prerequisite)s.",
            tier=tier.code,
            prerequisite=tier.prerequisite,
        )


def _check_target(
    session: Session, enterprise: Enterprise, tier_code: str, kind: Kind, *, nomination: bool
) -> Tier:
    """What an application may aim at (create, edit): a known tier, one with
    ``self_apply`` unless it is a nomination, a promotion above the current rung, or a
    renewal of the rung held within its window."""
    tier = session.get(Tier, tier_code)
    if tier is None:
        raise ValidationFailed("Unknown tier %(tier)s.", tier=tier_code)
    if not nomination and not tier.self_apply:
        raise NominationOnly("%(tier)s is reached by nomination only.", tier=tier.code)
    ranks = ladder_queries.tier_ranks(session)
    current = ranks.get(enterprise.tier) if enterprise.tier else 0
    if kind == Kind.PROMOTION and ranks[tier.code] <= current:
        raise InvalidTransition("A promotion must be for a tier above the current one.")
    if kind == Kind.RENEWAL:
        if enterprise.tier != tier.code:
            raise InvalidTransition("A renewal is for the tier currently held.")
        holds.check_renewal_window(enterprise)
    return tier


def create(
    session: Session,
    enterprise: Enterprise,
    tier_code: str,
    kind: Kind | str,
    *,
    user: User,
    via: str,
) -> Application:
    """A draft: an enterprise's own application, or a reviewer's nomination."""
    kind = Kind(kind)
    nomination = is_reviewer(user)
    if not nomination and user.enterprise_id != enterprise.id:
        raise NotFound("No such enterprise.")
    tier = _check_target(session, enterprise, tier_code, kind, nomination=nomination)
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
        state=State.DRAFT,
        created_by=user.id,
        nominated_by=user.id if nomination else None,
    )
    session.add(application)
    session.flush()
    changed(session, application)
    record_audit(
        session,
        actor_of(user, via),
        "application.create",
        "application",
        application.id,
        {"state": [None, "draft"], "tier": [None, tier.code], "kind": [None, str(kind)]},
    )
    return application


def edit(
    session: Session,
    application: Application,
    tier_code: str,
    kind: Kind | str,
    *,
    user: User,
    via: str,
) -> Application:
    """The applicant side edits an application in draft or changes_requested. Tier and
    kind change in draft only, under the rules of :func:`create`: from the first
    submission on they are fixed (approvals and notice days were copied from the tier,
    a renewal holds its rung). Nothing is written when both stay as they are."""
    require_applicant_side(application, user)
    application = lock_application(session, application)
    require_state(application, State.DRAFT, State.CHANGES_REQUESTED)
    kind = Kind(kind)
    if (application.tier, application.kind) == (tier_code, kind):
        return application
    require_state(application, State.DRAFT)
    _check_target(session, application.enterprise, tier_code, kind, nomination=is_reviewer(user))
    changes = {"tier": [application.tier, tier_code], "kind": [str(application.kind), str(kind)]}
    application.tier, application.kind = tier_code, kind
    changed(session, application)
    record_audit(
        session, actor_of(user, via), "application.edit", "application", application.id, changes
    )
    session.flush()
    return application


def submit(
    session: Session, application: Application, *, user: User, via: str, declaration: bool = False
) -> Application:
    """draft → submitted, or changes_requested → in_review; stores the eligibility
    snapshot and refuses while an automatic check fails or is unknown."""
    require_applicant_side(application, user)
    application = lock_application(session, application)
    if application.nominated_by is None and not declaration:
        raise ValidationFailed(
            "The declaration must be accepted.",
            errors=[
                {
                    "field": "declaration",
                    "code": "required",
                    "message": "The declaration must be accepted.",
                }
            ],
        )
    enterprise = application.enterprise
    tier = session.get(Tier, application.tier)
    if application.kind == Kind.PROMOTION:
        # Before the evaluation, whose own `prerequisite` check would otherwise answer
        # not_eligible: the contract names prerequisite_not_met for this refusal.
        _check_prerequisite(session, enterprise, tier)
    now = clock.now()
    evaluation = ladder_queries.evaluate_enterprise(session, enterprise, tier.code, reference=now)
    if not evaluation.eligible:
        codes = [c.code for c in evaluation.checks if c.status in ("fail", "unknown")]
        raise NotEligible(
            "Not eligible: %(codes)s.",
            codes=", ".join(codes),
            errors=[{"field": code, "code": "not_eligible", "message": code} for code in codes],
        )
    require_state(application, State.DRAFT, State.CHANGES_REQUESTED)
    _check_not_banned(enterprise)
    application.eligibility = evaluation.to_dict()
    application.submitted_by = user.id
    application.submitted_at = now
    if application.state == State.DRAFT:
        application.approvals_required = tier.approvals_required
        application.notice_days = tier.notice_days
        if application.kind == Kind.RENEWAL:
            holds.hold_for_renewal(session, enterprise, application.id, actor=actor_of(user, via))
        return _transition(session, application, State.SUBMITTED, actor_of(user, via), "submit")
    return _transition(session, application, State.IN_REVIEW, actor_of(user, via), "submit")


def claim(session: Session, application: Application, *, user: User, via: str) -> Application:
    """Any reviewer takes the lead (submitted → in_review, or a takeover in review)."""
    _require_reviewer(application, user)
    application = lock_application(session, application)
    require_state(application, State.SUBMITTED, State.IN_REVIEW)
    before = application.claimed_by
    application.claimed_by = user.id
    return _transition(
        session,
        application,
        State.IN_REVIEW,
        actor_of(user, via),
        "claim",
        claimed_by=[before, user.id],
    )


def withdraw(session: Session, application: Application, *, user: User, via: str):
    """The applicant side takes an application back before the notice."""
    require_applicant_side(application, user)
    application = lock_application(session, application)
    require_state(application, *WITHDRAWABLE)
    actor = actor_of(user, via)
    holds.release_renewal_hold(session, application.id, actor=actor)
    return _transition(session, application, State.WITHDRAWN, actor, "withdraw")


def decide(
    session: Session,
    application: Application,
    decision: str,
    *,
    user: User,
    via: str,
    comment: str | None = None,
    manual_checks: dict | None = None,
    innovation_score: int | None = None,
) -> Application:
    """approve / reject / request_changes by a reviewer, with the four-eyes rules."""
    _require_reviewer(application, user)
    if decision not in ("approve", "reject", "request_changes"):
        raise ValidationFailed("Unknown decision %(decision)s.", decision=decision)
    comment = (comment or "").strip() or None
    if decision != "approve" and comment is None:
        raise ValidationFailed(
            "A comment is required.",
            errors=[{"field": "comment", "code": "required", "message": "A comment is required."}],
        )
    application = lock_application(
        session, application, tier=decision == "approve" and application.kind == Kind.PROMOTION
    )
    if decision == "approve":
        _check_manual_confirmations(application, manual_checks, innovation_score)
    require_state(application, State.IN_REVIEW)
    if user.enterprise_id == application.enterprise_id:
        raise ConflictOfInterest("You belong to this enterprise.")
    actor = actor_of(user, via)
    if decision == "approve":
        if user.id == application.created_by or _has_submitted(session, application, user):
            raise FourEyes("You created or submitted this application.")
        if any(d.reviewer_id == user.id for d in application.approvals()):
            raise FourEyes("You have already approved this application.")
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
    if decision == "reject":
        holds.release_renewal_hold(session, application.id, actor=actor)
        application.closed_reason = comment
        return _transition(session, application, State.REJECTED, actor, "reject")
    if decision == "request_changes":
        for earlier in application.approvals():
            earlier.void = True
        return _transition(session, application, State.CHANGES_REQUESTED, actor, "request_changes")
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


def _check_manual_confirmations(
    application: Application, confirmed: dict | None, innovation_score: int | None
) -> None:
    snapshot = application.eligibility or {}
    manual = [c["code"] for c in snapshot.get("checks", []) if c["status"] == "manual"]
    missing = [code for code in manual if (confirmed or {}).get(code) is not True]
    if missing:
        raise ManualChecksUnconfirmed(
            "Confirm the manual checks: %(codes)s.",
            codes=", ".join(missing),
            errors=[
                {"field": f"manual_checks.{c}", "code": "required", "message": c} for c in missing
            ],
        )
    if application.tier == "high_tech" and (innovation_score is None or innovation_score <= 70):
        raise ValidationFailed(
            "A high-tech approval needs an innovation score above 70.",
            errors=[
                {
                    "field": "innovation_score",
                    "code": "out_of_range",
                    "message": "Must be greater than 70.",
                }
            ],
        )


def _final_approval(session: Session, application: Application, actor: Actor) -> Application:
    enterprise = application.enterprise
    if application.kind == Kind.RENEWAL:
        ladder.renew_tier(
            session,
            enterprise,
            actor=actor,
            reason="renewal approved",
            application_id=application.id,
        )
        return _transition(session, application, State.GRANTED, actor, "approve")
    ranks = ladder_queries.tier_ranks(session)
    if enterprise.tier is not None and ranks[enterprise.tier] >= ranks[application.tier]:
        raise InvalidTransition(
            "%(uscc)s already holds %(tier)s or a higher tier.",
            uscc=enterprise.uscc,
            tier=application.tier,
        )
    _check_prerequisite(session, enterprise, session.get(Tier, application.tier))
    holds.reserve_slot(session, enterprise, application.tier, application.id, actor=actor)
    now = clock.now()
    application.notice_started_at = now
    application.notice_ends_at = dates.notice_ends_at(
        now, application.notice_days, ladder_queries.work_calendar(session)
    )
    return _transition(session, application, State.IN_NOTICE, actor, "approve")


def _notice_over(session: Session, application: Application, now: datetime) -> bool:
    """In notice, the notice ended, and no objection holds it: time to grant."""
    return (
        application.state == State.IN_NOTICE
        and application.notice_ends_at <= now
        and not is_held(session, application)
    )


def _grant_promotion(
    session: Session, application: Application, actor: Actor, effective_at: datetime, reason: str
) -> Application:
    ladder.consume_slot(
        session, application.id, actor=actor, reason=reason, effective_at=effective_at
    )
    return _transition(session, application, State.GRANTED, actor, "grant")


def end_notice(session: Session, application_id: int, now: datetime) -> Application | None:
    """``tick``: grant a promotion whose notice has ended with no objection open (its
    reserved slot is used); ``tier_since`` is the notice's end, whenever tick runs.
    None when not due, or while an objection holds it."""
    application = session.get(Application, application_id)
    if application is None or application.state != State.IN_NOTICE:
        return None
    # Tier, enterprise, application: the order revoke and demote lock in too.
    application = lock_application(session, application, tier=True)
    if not _notice_over(session, application, now):
        return None
    return _grant_promotion(
        session, application, Actor.system("tick"), application.notice_ends_at, "notice ended"
    )


def grant_after_dismissal(
    session: Session, application: Application, actor: Actor, now: datetime
) -> Application | None:
    """After an objection is dismissed: when the notice has ended and no other objection
    is open, the grant happens in the same transaction, effective at the later of
    ``notice_ends_at`` and now (PRODUCT.md §3a). None otherwise (tick grants after the
    end). The caller holds the locks of ``lock_application(..., tier=True)``."""
    if not _notice_over(session, application, now):
        return None
    effective_at = max(application.notice_ends_at, now)
    return _grant_promotion(session, application, actor, effective_at, "objections dismissed")


def reject_on_objection(
    session: Session, application: Application, actor: Actor, reason: str
) -> Application:
    """in_notice → rejected at once by an upheld objection, its slot released. The
    caller holds the locks of ``lock_application(..., tier=True)``."""
    require_state(application, State.IN_NOTICE)
    holds.release_slot(session, application.id, actor=actor)
    application.closed_reason = reason
    return _transition(session, application, State.REJECTED, actor, "reject")


def _ended_notices(session: Session, now: datetime, limit: int, *conditions) -> list[int]:
    return list(
        session.scalars(
            select(Application.id)
            .where(
                Application.state == State.IN_NOTICE,
                Application.notice_ends_at <= now,
                *conditions,
            )
            .order_by(Application.notice_ends_at, Application.id)
            .limit(limit)
        )
    )


def due_notices(session: Session, now: datetime, limit: int = 1000) -> list[int]:
    """Applications whose notice has ended with no objection open (held ones wait)."""
    return _ended_notices(session, now, limit, ~open_objection(Application.id))


def newly_held(session: Session, now: datetime, limit: int = 1000) -> list[int]:
    """Applications whose notice has ended while an objection is open, last changed
    before the end: their ``held`` has turned true by the passing of time alone."""
    return _ended_notices(
        session,
        now,
        limit,
        open_objection(Application.id),
        Application.updated_at < Application.notice_ends_at,
    )


def record_held(session: Session, application_id: int, now: datetime) -> Application | None:
    """``tick``: write the change of ``held`` to true (a new version and its feed entry)
    for an application :func:`newly_held` found, once. Not a state change: no audit
    entry. None when it no longer applies."""
    application = session.get(Application, application_id)
    if application is None or application.state != State.IN_NOTICE:
        return None
    application = lock_application(session, application)
    if not (
        application.state == State.IN_NOTICE
        and application.notice_ends_at <= now
        and application.updated_at < application.notice_ends_at
        and is_held(session, application)
    ):
        return None
    changed(session, application)
    session.flush()
    return application


def close_open_applications(session: Session, enterprise: Enterprise, reason: str, via: str) -> int:
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
        _transition(session, application, State.REJECTED, actor, "close")
        count += 1
    return count


@designation_withdrawn.connect
def _on_designation_withdrawn(enterprise, *, session, actor, reason, **_kw) -> None:
    close_open_applications(session, enterprise, reason, actor.via)


@status_changed.connect
def _on_status_changed(enterprise, *, session, actor, status, **_kw) -> None:
    if status != Status.ACTIVE:
        close_open_applications(session, enterprise, f"status:{status}", actor.via)
