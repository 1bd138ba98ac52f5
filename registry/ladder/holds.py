"""What the ladder keeps for open applications: a quota slot reserved for a promotion in
its notice, and a renewal hold that keeps a designation from lapsing while its renewal
is open. Applications ask for these; the moves in :mod:`registry.ladder.operations`
use and release them. Flushes, never commits.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from registry.core import clock
from registry.core.audit import Actor, record_audit
from registry.core.db import for_update
from registry.core.dbsession import DbSession
from registry.core.errors import InvalidTransition, QuotaFull, RenewalWindowClosed
from registry.enterprises.models import Enterprise
from registry.ladder import dates, queries
from registry.ladder.locks import lock_tier, locked_holder
from registry.ladder.models import RenewalHold, Reservation, Tier

RENEWAL_WINDOW = timedelta(days=90)


# --- quota slots -----------------------------------------------------------------------


def ensure_room(session: DbSession, tier: Tier) -> None:
    """Refuse (``quota_full``) unless one more holder fits in the tier's quota; the
    caller holds the tier's lock."""
    occ = queries.occupancy(session, tier)
    if occ.occupancy + 1 > tier.quota:
        raise QuotaFull(
            "The quota of %(tier)s is full (%(occupancy)s of %(quota)s).",
            tier=tier.code,
            occupancy=occ.occupancy,
            quota=tier.quota,
        )


def reserve_slot(
    session: DbSession,
    enterprise: Enterprise,
    tier_code: str,
    application_id: int,
    *,
    actor: Actor,
) -> Reservation:
    """Hold a slot of ``tier_code`` for a promotion entering its notice."""
    tier = lock_tier(session, tier_code)
    ensure_room(session, tier)
    reservation = Reservation(
        tier=tier.code,
        enterprise_id=enterprise.id,
        application_id=application_id,
        created_at=clock.now(),
    )
    session.add(reservation)
    session.flush()
    record_audit(
        session,
        actor,
        "reservation.create",
        "reservation",
        reservation.id,
        {"tier": [None, tier.code], "application_id": [None, application_id]},
    )
    return reservation


def reservation_for(
    session: DbSession, application_id: int, *, lock: bool = True
) -> Reservation | None:
    """The slot reserved for an application, re-read and (with ``lock``) locked."""
    stmt = select(Reservation).where(Reservation.application_id == application_id)
    return session.scalars(for_update(session, stmt, lock=lock)).one_or_none()


def reservation_of(session: DbSession, enterprise: Enterprise) -> Reservation | None:
    """The enterprise's reservation, locked (taken after the enterprise's own lock)."""
    stmt = select(Reservation).where(Reservation.enterprise_id == enterprise.id)
    return session.scalars(for_update(session, stmt)).one_or_none()


def _delete_reservation(session: DbSession, reservation: Reservation, actor: Actor) -> None:
    record_audit(
        session,
        actor,
        "reservation.release",
        "reservation",
        reservation.id,
        {"tier": [reservation.tier, None], "application_id": [reservation.application_id, None]},
    )
    session.delete(reservation)
    session.flush()


def release_slot(session: DbSession, application_id: int, *, actor: Actor) -> bool:
    """Give back the slot held for an application (rejected, withdrawn). Returns whether
    there was one."""
    reservation = reservation_for(session, application_id)
    if reservation is None:
        return False
    _delete_reservation(session, reservation, actor)
    return True


def release_reservation_of(session: DbSession, enterprise: Enterprise, actor: Actor) -> None:
    """Give back the slot reserved for the enterprise, if any (it left its rung)."""
    reservation = reservation_of(session, enterprise)
    if reservation is not None:
        _delete_reservation(session, reservation, actor)


# --- renewal holds ---------------------------------------------------------------------


def check_renewal_window(enterprise: Enterprise) -> None:
    """A renewal is possible in the 90 days before ``tier_expires_at`` (else 409)."""
    now = clock.now()
    expires = enterprise.tier_expires_at
    if expires is None or not expires - RENEWAL_WINDOW <= now < expires:
        raise RenewalWindowClosed(
            "A renewal is possible in the 90 days before %(expiry)s.",
            expiry=dates.shanghai_date(expires).isoformat() if expires else "-",
        )


def hold_for_renewal(
    session: DbSession, enterprise: Enterprise, application_id: int, *, actor: Actor
) -> RenewalHold:
    """Keep the current designation from lapsing while a renewal application submitted
    in the 90 days before its expiry is open (released by :func:`release_renewal_hold`,
    consumed by :func:`registry.ladder.operations.renew_tier`)."""
    check_renewal_window(enterprise)  # a lapsed designation: the window is closed
    enterprise = locked_holder(session, enterprise)
    check_renewal_window(enterprise)
    now = clock.now()
    if session.scalar(select(RenewalHold.id).where(RenewalHold.enterprise_id == enterprise.id)):
        raise InvalidTransition("%(uscc)s already has a renewal open.", uscc=enterprise.uscc)
    hold = RenewalHold(enterprise_id=enterprise.id, application_id=application_id, created_at=now)
    session.add(hold)
    session.flush()
    record_audit(
        session,
        actor,
        "renewal_hold.create",
        "renewal_hold",
        hold.id,
        {"application_id": [None, application_id]},
    )
    return hold


def release_renewal_hold(session: DbSession, application_id: int, *, actor: Actor) -> bool:
    """End the hold of a renewal that was withdrawn or rejected; returns whether there
    was one. A designation past its expiry then lapses at the next ``tick``."""
    hold = session.scalars(
        select(RenewalHold).where(RenewalHold.application_id == application_id)
    ).one_or_none()
    if hold is None:
        return False
    record_audit(
        session,
        actor,
        "renewal_hold.release",
        "renewal_hold",
        hold.id,
        {"application_id": [application_id, None]},
    )
    session.delete(hold)
    session.flush()
    return True


def release_renewal_hold_of(session: DbSession, enterprise: Enterprise, *, actor: Actor) -> None:
    """End the enterprise's renewal hold, if any (renewed, or off the ladder)."""
    hold = session.scalars(
        select(RenewalHold).where(RenewalHold.enterprise_id == enterprise.id)
    ).one_or_none()
    if hold is not None:
        release_renewal_hold(session, hold.application_id, actor=actor)
