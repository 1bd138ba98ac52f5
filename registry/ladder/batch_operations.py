"""Batch operations of the ladder (bulk loads: ``demo``, designation imports).

They put many enterprises on the ladder in one transaction with the same rules as
:func:`registry.ladder.operations.grant_tier`: the quota lock, the quota checked for the
whole batch, registration numbers taken exactly as ``issue_registration_number`` takes
them, and one grant event, one audit entry and the feed entries per enterprise. They
flush and never commit; the command commits per batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select

from registry.core import clock
from registry.core.audit import Actor
from registry.core.changes import changed
from registry.core.dbsession import DbSession
from registry.core.errors import InvalidTransition, QuotaFull, ValidationFailed
from registry.enterprises.models import Enterprise, Status
from registry.ladder import dates, queries
from registry.ladder.batch_moves import Move, record_moves
from registry.ladder.locks import lock_tier, locked_enterprise
from registry.ladder.models import (
    EventKind,
    RegistrationCounter,
    RegistrationNumber,
    Reservation,
    Tier,
)
from registry.ladder.numbers import check_supplied_number, number_taken
from registry.ladder.operations import NO_ROUTE, require_reason


@dataclass(frozen=True)
class Designation:
    """The ladder fields a grant gives (computed by :func:`issue_designations`)."""

    tier: str
    tier_since: date
    tier_expires_at: datetime
    registration_number: str

    def fields(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "tier_since": self.tier_since,
            "tier_expires_at": self.tier_expires_at,
            "registration_number": self.registration_number,
        }


@dataclass(frozen=True)
class DesignationRequest:
    """One designation to issue: the tier, its start date, and a number already issued
    elsewhere (``None``: take the next one of the tier and year). ``held`` False: a
    designation that has ended already (a past one of a history, e.g. the demo's),
    which takes its number but no place in the quota now."""

    tier: str
    since: date
    number: str | None = None
    held: bool = True


@dataclass(frozen=True)
class GrantRecord:
    """An enterprise that now carries ``designation`` (its row already updated)."""

    enterprise_id: int
    uscc: str
    designation: Designation
    from_tier: str | None = None


def issue_designations(
    session: DbSession, requests: Sequence[DesignationRequest]
) -> list[Designation]:
    """Under the quota lock, check that every tier has room for its requests and issue
    their registration numbers (per tier and year, in the order given, recorded in
    ``registration_numbers`` and ``registration_counters`` as issue_registration_number
    records them). Returns the designations in request order; writes no enterprise.

    Tier rows are locked in code order, so two bulk loads cannot deadlock.
    """
    if not requests:
        return []
    today = clock.today()
    wanted = Counter(r.tier for r in requests if r.held)
    tiers: dict[str, Tier] = {}
    for code in sorted({r.tier for r in requests}):
        tier = lock_tier(session, code)
        occ = queries.occupancy(session, tier)
        if occ.occupancy + wanted[code] > tier.quota:
            raise QuotaFull(
                "The quota of %(tier)s is full (%(occupancy)s of %(quota)s).",
                tier=tier.code,
                occupancy=occ.occupancy,
                quota=tier.quota,
            )
        tiers[code] = tier
    for r in requests:
        if r.since > today:
            raise ValidationFailed(
                "The designation cannot start in the future (%(since)s).",
                since=r.since.isoformat(),
            )
    numbers = _issue_numbers(session, tiers, requests)
    return [
        Designation(
            r.tier, r.since, dates.expires_at(tiers[r.tier].validity_value, r.since), number
        )
        for r, number in zip(requests, numbers, strict=True)
    ]


def _issue_numbers(
    session: DbSession, tiers: dict[str, Tier], requests: Sequence[DesignationRequest]
) -> list[str]:
    groups = sorted({(r.tier, r.since.year) for r in requests})
    taken: dict[tuple[str, int], set[str]] = {
        (code, year): set(
            session.scalars(
                select(RegistrationNumber.number).where(
                    RegistrationNumber.tier == code, RegistrationNumber.year == year
                )
            )
        )
        for code, year in groups
    }
    # Supplied numbers first, so that the sequence skips them (issue_registration_number).
    for r in requests:
        if r.number is None:
            continue
        tier, year = tiers[r.tier], r.since.year
        check_supplied_number(tier, year, r.number)
        if r.number in taken[(r.tier, year)] or number_taken(session, r.number):
            raise ValidationFailed("Registration number %(number)s is taken.", number=r.number)
        taken[(r.tier, year)].add(r.number)
    counters: dict[tuple[str, int], RegistrationCounter] = {}
    numbers = []
    for r in requests:
        key = (r.tier, r.since.year)
        if r.number is not None:
            numbers.append(r.number)
            continue
        counter = counters.get(key) or session.get(RegistrationCounter, key)
        if counter is None:
            counter = RegistrationCounter(tier=r.tier, year=r.since.year, last_seq=0)
            session.add(counter)
        counters[key] = counter
        pattern = tiers[r.tier].registration_pattern
        seq = counter.last_seq
        while True:
            seq += 1
            number = pattern.format(year=r.since.year, seq=seq)
            if number not in taken[key]:
                break
        counter.last_seq = seq
        taken[key].add(number)
        numbers.append(number)
    now = clock.now()
    session.execute(
        insert(RegistrationNumber),
        [
            {"number": n, "tier": r.tier, "year": r.since.year, "issued_at": now}
            for r, n in zip(requests, numbers, strict=True)
        ],
    )
    session.flush()
    return numbers


def record_grants(
    session: DbSession,
    grants: Sequence[GrantRecord],
    *,
    actor: Actor,
    reason: str,
    feed: list[dict[str, Any]] | None = None,
) -> list[int]:
    """Write the grant event of each enterprise that now carries its designation (a row
    created or updated in this transaction with the designation's fields), with the
    event's feed entry and the ``tier.grant`` audit entry. Returns the event ids.

    The enterprise's own feed entry belongs to whoever wrote its row. ``feed``: a list
    to collect the feed entries in for the caller to write last (``append_entries``)
    instead of writing them here.
    """
    moves = [
        Move(
            g.enterprise_id,
            g.uscc,
            EventKind.GRANT,
            g.from_tier,
            g.designation.tier,
            dates.shanghai_midnight(g.designation.tier_since),
            g.designation.tier_since,
            g.designation.tier_expires_at,
            g.designation.registration_number,
        )
        for g in grants
    ]
    return record_moves(session, moves, actor=actor, reason=reason, feed=feed)


def bulk_grant(
    session: DbSession,
    grants: Sequence[tuple[Enterprise, DesignationRequest]],
    *,
    actor: Actor,
    reason: str,
) -> list[int]:
    """Put existing enterprises on the ladder in one go (a designations import) with
    grant_tier's rules for each — active, not already on that or a higher tier, no
    promotion in notice — the quota for the whole batch, numbers issued or checked, then
    the events, feed and audit entries. The prerequisite rung is not required. Locks in
    the fixed order: tiers, then enterprises (by id). Returns the event ids."""
    reason = require_reason(reason)
    if not grants:
        return []
    ranks = queries.tier_ranks(session)
    for code in sorted({request.tier for _, request in grants}):
        lock_tier(session, code)
    if len({enterprise.id for enterprise, _ in grants}) != len(grants):
        raise ValidationFailed("An enterprise appears twice in the designations.")
    ordered = sorted((e for e, _ in grants), key=lambda e: e.id)
    locked = {e.id: locked_enterprise(session, e) for e in ordered}
    in_notice = set(
        session.scalars(
            select(Reservation.enterprise_id).where(Reservation.enterprise_id.in_(locked))
        )
    )
    for enterprise, request in grants:
        enterprise = locked[enterprise.id]
        if enterprise.status != Status.ACTIVE:
            raise InvalidTransition(
                "%(uscc)s is %(state)s and cannot be granted a tier.",
                uscc=enterprise.uscc,
                state=str(enterprise.status),
            )
        if enterprise.tier is not None and ranks[enterprise.tier] >= ranks[request.tier]:
            raise InvalidTransition(
                "%(uscc)s already holds %(tier)s or a higher tier.",
                uscc=enterprise.uscc,
                tier=request.tier,
            )
        if enterprise.id in in_notice:
            raise InvalidTransition(
                "%(uscc)s has a promotion in notice; it is granted or rejected first.",
                uscc=enterprise.uscc,
            )
    designations = issue_designations(session, [request for _, request in grants])
    records = []
    for (enterprise, _), designation in zip(grants, designations, strict=True):
        enterprise = locked[enterprise.id]
        from_tier = enterprise.tier
        for name, value in designation.fields().items():
            setattr(enterprise, name, value)
        # A grant by import comes by no application: no route, no little-giant flag.
        enterprise.tier_route, enterprise.little_giant = NO_ROUTE
        changed(session, enterprise)
        records.append(GrantRecord(enterprise.id, enterprise.uscc, designation, from_tier))
    session.flush()
    return record_grants(session, records, actor=actor, reason=reason)
