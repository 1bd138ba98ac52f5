"""Ladder operations: every move of an enterprise between rungs, and the quota.

Each operation checks its rules, changes the rows, writes the tier event, the audit
entry and the feed entry in the caller's transaction, flushes, and never commits. An
operation that adds to a tier locks it first (:mod:`registry.ladder.locks`, which also
gives the lock order); the slots and renewal holds that applications ask for are in
:mod:`registry.ladder.holds`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import select

from registry.core import clock
from registry.core.audit import Actor, diff, record_audit
from registry.core.changes import changed
from registry.core.dbsession import DbSession
from registry.core.errors import InvalidTransition, ValidationFailed, required
from registry.enterprises.models import Enterprise, Status
from registry.enterprises.signals import status_changed
from registry.ladder import dates, queries
from registry.ladder.holds import (
    ensure_room,
    release_renewal_hold_of,
    release_reservation_of,
    reservation_for,
    reservation_of,
)
from registry.ladder.locks import lock_enterprise, lock_tier, locked_enterprise, locked_holder
from registry.ladder.models import (
    EventKind,
    RenewalHold,
    Reservation,
    Tier,
    TierEvent,
)
from registry.ladder.numbers import issue_registration_number
from registry.ladder.schemas import tier_event_out  # noqa: F401  (registers the feed type)
from registry.ladder.signals import designation_withdrawn

LADDER_FIELDS = ("tier", "tier_since", "tier_expires_at", "registration_number", "ban_until")
#: What a grant or renewal by an application records beside them: the champion rung's
#: route and the reviewers' little-giant confirmation (a :data:`Route`); a move's audit
#: entry names them too when they change.
ROUTE_FIELDS = ("tier_route", "little_giant")
Route = tuple[str | None, bool]
NO_ROUTE: Route = (None, False)


# --- the moves --------------------------------------------------------------------------


def _snapshot(enterprise: Enterprise) -> dict[str, Any]:
    return {name: getattr(enterprise, name) for name in LADDER_FIELDS + ROUTE_FIELDS}


def _record_move(
    session: DbSession,
    enterprise: Enterprise,
    before: dict[str, Any],
    event: TierEvent,
    actor: Actor,
    action: str,
) -> TierEvent:
    session.add(event)
    changed(session, enterprise)
    changed(session, event)
    record_audit(
        session,
        actor,
        action,
        "enterprise",
        enterprise.uscc,
        diff(before, _snapshot(enterprise)),
        reason=event.reason,
    )
    session.flush()
    return event


def _event(
    enterprise: Enterprise,
    kind: EventKind,
    from_tier: str | None,
    actor: Actor,
    reason: str,
    effective_at: datetime,
    application_id: int | None = None,
) -> TierEvent:
    return TierEvent(
        enterprise_id=enterprise.id,
        enterprise=enterprise,
        kind=kind,
        from_tier=from_tier,
        to_tier=enterprise.tier,
        effective_at=effective_at,
        recorded_at=clock.now(),
        tier_since=enterprise.tier_since,
        tier_expires_at=enterprise.tier_expires_at,
        registration_number=enterprise.registration_number,
        ban_until=None,
        actor_id=actor.user_id,
        actor_name=actor.name,
        reason=reason,
        application_id=application_id,
    )


def require_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise required("reason")
    return reason


def grant_tier(
    session: DbSession,
    enterprise: Enterprise,
    tier_code: str,
    *,
    actor: Actor,
    reason: str,
    since: date | None = None,
    number: str | None = None,
    application_id: int | None = None,
    effective_at: datetime | None = None,
    reservation: Reservation | None = None,
    route: Route = NO_ROUTE,
) -> TierEvent:
    """Put an enterprise on ``tier_code`` (a promotion, or recording an existing
    designation). The prerequisite rung is not checked here: applications check it at
    submission and final approval. Without a ``reservation`` the quota must have room.
    ``route``: the granting application's route and little-giant flag (none without one).
    """
    reason = require_reason(reason)
    tier = lock_tier(session, tier_code)
    enterprise = locked_enterprise(session, enterprise)
    if enterprise.status != Status.ACTIVE:
        raise InvalidTransition(
            "%(uscc)s is %(state)s and cannot be granted a tier.",
            uscc=enterprise.uscc,
            state=str(enterprise.status),
        )
    ranks = queries.tier_ranks(session)
    if enterprise.tier == tier.code:
        raise InvalidTransition(
            "%(uscc)s already holds %(tier)s.", uscc=enterprise.uscc, tier=tier.code
        )
    if enterprise.tier is not None and ranks[enterprise.tier] > tier.rank:
        raise InvalidTransition(
            "%(uscc)s holds the higher tier %(current)s; use demote.",
            uscc=enterprise.uscc,
            current=enterprise.tier,
        )
    now = clock.now()
    if since is not None and since > clock.today():
        raise ValidationFailed(
            "The designation cannot start in the future (%(since)s).", since=since.isoformat()
        )
    if effective_at is None:
        effective_at = dates.shanghai_midnight(since) if since else now
    since = since or dates.shanghai_date(effective_at)
    if reservation is None:
        if reservation_of(session, enterprise) is not None:
            raise InvalidTransition(
                "%(uscc)s has a promotion in notice; it is granted or rejected first.",
                uscc=enterprise.uscc,
            )
        ensure_room(session, tier)
    number = issue_registration_number(session, tier, since.year, number)
    before = _snapshot(enterprise)
    from_tier = enterprise.tier
    enterprise.tier = tier.code
    enterprise.tier_since = since
    enterprise.tier_expires_at = dates.expires_at(tier.validity_value, since)
    enterprise.registration_number = number
    enterprise.tier_route, enterprise.little_giant = route
    if reservation is not None:
        session.delete(reservation)
    event = _event(
        enterprise, EventKind.GRANT, from_tier, actor, reason, effective_at, application_id
    )
    return _record_move(session, enterprise, before, event, actor, "tier.grant")


def renew_tier(
    session: DbSession,
    enterprise: Enterprise,
    *,
    actor: Actor,
    reason: str,
    application_id: int | None = None,
    route: Route | None = None,
) -> TierEvent:
    """Extend the current designation by one validity period; since and number stay.
    ``route`` (a renewal application's) replaces the route and little-giant flag; None
    keeps them."""
    reason = require_reason(reason)
    enterprise = locked_holder(session, enterprise)
    tier = session.get_one(Tier, enterprise.tier)
    release_renewal_hold_of(session, enterprise, actor=actor)
    before = _snapshot(enterprise)
    enterprise.tier_expires_at = dates.renewed_expiry(
        tier.validity_value,
        cast(datetime, enterprise.tier_expires_at),  # a holder's
    )
    if route is not None:
        enterprise.tier_route, enterprise.little_giant = route
    event = _event(
        enterprise, EventKind.RENEW, enterprise.tier, actor, reason, clock.now(), application_id
    )
    return _record_move(session, enterprise, before, event, actor, "tier.renew")


def demote(
    session: DbSession, enterprise: Enterprise, to_tier: str, *, actor: Actor, reason: str
) -> TierEvent:
    """Move an enterprise down to ``to_tier``: a new number, since today, the earlier
    expiry of the current one and ``to_tier``'s validity from today."""
    reason = require_reason(reason)
    tier = lock_tier(session, to_tier)
    enterprise = locked_holder(session, enterprise)
    ranks = queries.tier_ranks(session)
    if tier.rank >= ranks[cast(str, enterprise.tier)]:  # a holder's
        raise InvalidTransition(
            "%(tier)s is not below the current tier %(current)s.",
            tier=tier.code,
            current=enterprise.tier,
        )
    ensure_room(session, tier)
    today = clock.today()
    before = _snapshot(enterprise)
    from_tier = enterprise.tier
    enterprise.tier = tier.code
    enterprise.tier_since = today
    enterprise.tier_expires_at = dates.demoted_expiry(
        enterprise.tier_expires_at, tier.validity_value, today
    )
    enterprise.registration_number = issue_registration_number(session, tier, today.year)
    _clear_route(enterprise)
    release_reservation_of(session, enterprise, actor)
    event = _event(enterprise, EventKind.DEMOTE, from_tier, actor, reason, clock.now())
    _record_move(session, enterprise, before, event, actor, "tier.demote")
    designation_withdrawn.send(enterprise, session=session, actor=actor, reason="demote")
    return event


def revoke(
    session: DbSession,
    enterprise: Enterprise,
    *,
    actor: Actor,
    reason: str,
    ban_until: date | None = None,
    cause: str = "revoke",
) -> TierEvent:
    """Take an enterprise off the ladder; until ``ban_until`` it may not apply.
    ``cause`` is what the enterprise's open applications are closed with."""
    reason = require_reason(reason)
    enterprise = locked_holder(session, enterprise)
    if ban_until is not None and ban_until <= clock.today():
        raise ValidationFailed("The ban must end after today.")
    before = _snapshot(enterprise)
    from_tier = enterprise.tier
    _clear_ladder_fields(enterprise)
    enterprise.ban_until = ban_until
    release_reservation_of(session, enterprise, actor)
    event = _event(enterprise, EventKind.REVOKE, from_tier, actor, reason, clock.now())
    event.ban_until = ban_until
    _record_move(session, enterprise, before, event, actor, "tier.revoke")
    designation_withdrawn.send(enterprise, session=session, actor=actor, reason=cause)
    return event


def _clear_ladder_fields(enterprise: Enterprise) -> None:
    enterprise.tier = None
    enterprise.tier_since = None
    enterprise.tier_expires_at = None
    enterprise.registration_number = None
    _clear_route(enterprise)


def _clear_route(enterprise: Enterprise) -> None:
    """A new rung (or none) drops the route and the "little giant" flag of the last
    grant (a grant by an application sets them: ``route``)."""
    enterprise.tier_route, enterprise.little_giant = NO_ROUTE


def lapse_designation(session: DbSession, enterprise_id: int, now: datetime) -> TierEvent | None:
    """Lapse one expired designation (``tick``). Returns None when there is nothing to
    do: already lapsed, not expired, or being processed by another server."""
    enterprise = lock_enterprise(session, enterprise_id, skip_locked=True)
    if enterprise is None or enterprise.tier is None:
        return None
    effective_at = cast(datetime, enterprise.tier_expires_at)  # a designation has an expiry
    if effective_at > now:
        return None
    if session.scalar(select(RenewalHold.id).where(RenewalHold.enterprise_id == enterprise.id)):
        return None  # a renewal submitted in its window is open
    actor = Actor.system("tick")
    before = _snapshot(enterprise)
    from_tier = enterprise.tier
    _clear_ladder_fields(enterprise)
    event = _event(enterprise, EventKind.LAPSE, from_tier, actor, "expired", effective_at)
    return _record_move(session, enterprise, before, event, actor, "tier.lapse")


def lapse_expired(session: DbSession, now: datetime) -> int:
    """Lapse every expired designation in the current transaction; returns how many.
    ``tick`` instead calls :func:`lapse_designation` one transaction per enterprise."""
    count, seen = 0, set()
    while ids := [i for i in queries.expired_enterprise_ids(session, now) if i not in seen]:
        seen.update(ids)  # a row another server holds is skipped, not waited for
        count += sum(lapse_designation(session, i, now) is not None for i in ids)
    return count


def set_quota(session: DbSession, tier_code: str, quota: int, *, actor: Actor, reason: str) -> Tier:
    """Change a tier's quota. Lowering it below occupancy is allowed (and audited): it
    blocks additions until occupancy is below the quota again; nobody is demoted."""
    reason = require_reason(reason)
    if quota < 0:
        raise ValidationFailed("A quota cannot be negative.")
    tier = lock_tier(session, tier_code)
    old = tier.quota
    tier.quota = quota
    tier.edited_at = clock.now()
    record_audit(
        session,
        actor,
        "tier_settings.update",
        "tier",
        tier.code,
        {"quota": [old, quota]},
        reason=reason,
    )
    session.flush()
    return tier


def consume_slot(
    session: DbSession,
    application_id: int,
    *,
    actor: Actor,
    reason: str,
    effective_at: datetime,
    route: Route = NO_ROUTE,
) -> TierEvent:
    """Grant the promotion that holds a reservation, using its slot (reserved by
    :func:`registry.ladder.holds.reserve_slot` when its notice began), with the
    application's ``route``."""
    # Look first, then lock in the fixed order (tier, enterprise, reservation), the
    # order revoke and demote use too, so that they cannot deadlock with this.
    found = reservation_for(session, application_id, lock=False)
    if found is not None:
        lock_tier(session, found.tier)
        lock_enterprise(session, found.enterprise_id)
    reservation = reservation_for(session, application_id) if found is not None else None
    if reservation is None:
        raise InvalidTransition("No slot is reserved for application %(id)s.", id=application_id)
    enterprise = session.get_one(Enterprise, reservation.enterprise_id)
    return grant_tier(
        session,
        enterprise,
        reservation.tier,
        actor=actor,
        reason=reason,
        application_id=application_id,
        effective_at=effective_at,
        reservation=reservation,
        route=route,
    )


# --- reactions to other domains ----------------------------------------------------------


@status_changed.connect
def _end_designation_on_status_change(
    enterprise: Enterprise, *, session: DbSession, actor: Actor, status: Status, **_kw: Any
) -> None:
    """A deregistered or merged enterprise leaves the ladder: a ``revoke`` by the system
    with reason ``status:<new status>``, releasing any reserved slot or renewal hold."""
    if status == Status.ACTIVE:
        return
    system = Actor.system(actor.via)
    if enterprise.tier is not None:
        revoke(
            session, enterprise, actor=system, reason=f"status:{status}", cause=f"status:{status}"
        )
    else:
        release_reservation_of(session, enterprise, system)
    release_renewal_hold_of(session, enterprise, actor=system)
