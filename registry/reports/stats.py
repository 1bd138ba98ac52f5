"""Read side of the registry's statistics (``GET /api/v1/stats`` and the reports built
on them): quota occupancy per tier, holders by city and by industry, the applications
under way, the monthly moves on and off each tier, and the holders at past instants.

Every query stays on an index or on a small table: holders are grouped from the
holders' own index of enterprises (partial: only the few thousand on the ladder, never
the million, with their city and industry), the pipeline from the ``(state, …)`` index
of applications, and the monthly moves and the holders at past month ends from tier
events effective since (the ``effective_at`` index).

It reads the ladder, enterprises and applications, and only the reports read it: a
report across domains, outside each of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, case, func, literal, select
from sqlalchemy.orm import InstrumentedAttribute

from registry.applications.models import OPEN_STATES, Application
from registry.core import clock
from registry.core.dbsession import DbSession
from registry.enterprises.models import Enterprise
from registry.ladder import dates, queries
from registry.ladder.models import TierEvent

#: How many civil months ``monthly`` covers: the current one and the 23 before it.
MONTHS = 24


@dataclass(frozen=True)
class TierLoad:
    """A tier's quota and how much of it is taken (the figures of
    :class:`registry.ladder.queries.Occupancy`)."""

    code: str
    quota: int
    holders: int
    reserved: int
    occupancy: int
    remaining: int
    percent_of_quota: float


@dataclass(frozen=True)
class HolderCount:
    """Holders of ``tier`` whose city (or industry) is ``code`` (None: not given)."""

    tier: str
    code: str | None
    holders: int


@dataclass(frozen=True)
class PipelineCount:
    tier: str
    state: str
    count: int


@dataclass(frozen=True)
class MonthFlow:
    """Moves onto (``grants``) and off (``lapses``) ``tier`` in ``month`` (YYYY-MM)."""

    month: str
    tier: str
    grants: int
    lapses: int


@dataclass(frozen=True)
class Stats:
    as_of: datetime
    tiers: list[TierLoad]
    by_city: list[HolderCount]
    by_industry: list[HolderCount]
    pipeline: list[PipelineCount]
    monthly: list[MonthFlow]


def registry_stats(session: DbSession) -> Stats:
    """Every figure of the statistics, as of :func:`registry.core.clock.now`."""
    as_of = clock.now()
    return Stats(
        as_of=as_of,
        tiers=tier_loads(session),
        by_city=holders_by(session, Enterprise.city_code),
        by_industry=holders_by(session, Enterprise.industry_code),
        pipeline=pipeline(session),
        monthly=monthly(session, as_of),
    )


def tier_loads(session: DbSession) -> list[TierLoad]:
    """Each tier's occupancy as the home page shows it (holders with the tier stored,
    plus slots reserved for promotions in notice), lowest rung first.

    ``percent_of_quota`` is capped at 100: a quota lowered below the occupancy is full,
    as ``remaining`` (never negative) says too.
    """
    return [
        TierLoad(
            code=tier.code,
            quota=occ.quota,
            holders=occ.holders,
            reserved=occ.reserved,
            occupancy=occ.occupancy,
            remaining=occ.remaining,
            percent_of_quota=min(100.0, occ.percent),
        )
        for tier, occ in queries.ladder_overview(session)
    ]


def holders_by(session: DbSession, column: InstrumentedAttribute) -> list[HolderCount]:
    """Holders per tier and value of ``column`` (an enterprise's city or industry code),
    for the groups that have any; ordered by tier rank, then code, a missing code last.
    Holders are counted as in :func:`tier_loads` (the stored tier)."""
    ranks = queries.tier_ranks(session)
    rows = session.execute(
        select(Enterprise.tier, column, func.count())
        .where(Enterprise.tier.is_not(None))
        .group_by(Enterprise.tier, column)
    ).all()
    counts = [HolderCount(tier, code, n) for tier, code, n in rows]
    return sorted(counts, key=lambda c: (ranks.get(c.tier, 0), c.code is None, c.code or ""))


def pipeline(session: DbSession) -> list[PipelineCount]:
    """Applications per tier and open state — ``draft``, ``submitted``, ``in_review``,
    ``changes_requested``, ``in_notice`` (``OPEN_STATES``; closed ones are history) —
    every tier × state, zeros included, by tier rank then the states' workflow order."""
    found = {
        (tier, str(state)): n
        for tier, state, n in session.execute(
            select(Application.tier, Application.state, func.count())
            .where(Application.state.in_(OPEN_STATES))
            .group_by(Application.tier, Application.state)
        )
    }
    return [
        PipelineCount(tier.code, str(state), found.get((tier.code, str(state)), 0))
        for tier in queries.tiers(session)
        for state in OPEN_STATES
    ]


def monthly(session: DbSession, now: datetime, months: int = MONTHS) -> list[MonthFlow]:
    """Moves onto and off each tier per Asia/Shanghai civil month, for the month of
    ``now`` and the ``months - 1`` before it, every month × tier (zeros included), oldest
    month first, then by tier rank.

    A tier event counts in the month of its ``effective_at`` (when the move took effect:
    a designation's start, the expiry instant of a lapse), not of its recording.
    ``grants`` of a tier are the events that put an enterprise onto it: a ``grant``
    (first designation or promotion from a lower tier) and a ``demote`` from a higher
    tier into it. ``lapses`` of a tier are the events that took an enterprise off it:
    ``lapse`` (expiry), ``revoke`` (including a deregistration or merger), ``demote`` to
    a lower tier, and a ``grant`` promoting it to a higher tier. A ``renew`` leaves the
    enterprise where it is and counts as neither. So for each tier, grants − lapses
    over a period is the change in its holders.
    """
    firsts = _month_starts(dates.shanghai_date(now), months)
    bounds = [dates.shanghai_midnight(first) for first in firsts]
    grants: Counter[tuple[int, str]] = Counter()
    lapses: Counter[tuple[int, str]] = Counter()
    for (month, from_tier, to_tier), n in _moves_between(session, bounds).items():
        if to_tier is not None:
            grants[month, to_tier] += n
        if from_tier is not None:
            lapses[month, from_tier] += n
    tiers = queries.tiers(session)
    return [
        MonthFlow(f"{first:%Y-%m}", tier.code, grants[i, tier.code], lapses[i, tier.code])
        for i, first in enumerate(firsts[:-1])
        for tier in tiers
    ]


def holders_at(session: DbSession, points: Sequence[datetime]) -> list[dict[str, int]]:
    """Holders of each tier at each of ``points`` (ascending instants): the replay of
    the tier events effective before the point, by tier code (tiers without any left out).

    The replay of every event is the stored tier (the ladder keeps it so), so the holders
    at a point are today's minus the moves that took effect since: only the events from
    the first point on are read (the ``effective_at`` index), however long the ledger.
    """
    holders: Counter[str] = Counter(
        {
            tier: n
            for tier, n in session.execute(
                select(Enterprise.tier, func.count())
                .where(Enterprise.tier.is_not(None))
                .group_by(Enterprise.tier)
            )
            if tier is not None
        }
    )
    # Net moves per tier in [points[i], points[i + 1]), the last from points[-1] on.
    later: list[Counter[str]] = [Counter() for _ in points]
    for (i, from_tier, to_tier), n in _moves_between(session, [*points, None]).items():
        if to_tier is not None:
            later[i][to_tier] += n
        if from_tier is not None:
            later[i][from_tier] -= n
    found: list[dict[str, int]] = []
    for net in reversed(later):
        holders.subtract(net)
        found.append({tier: n for tier, n in holders.items() if n})
    return found[::-1]


def _moves_between(
    session: DbSession, bounds: Sequence[datetime | None]
) -> Counter[tuple[int, str | None, str | None]]:
    """The moves (tier events that change the tier: not renewals) effective in each
    period ``[bounds[i], bounds[i + 1])``, counted by (i, from tier, to tier); a last
    bound of None leaves the last period open."""
    *starts, end = bounds
    conditions = [
        TierEvent.effective_at >= starts[0],
        TierEvent.from_tier.is_distinct_from(TierEvent.to_tier),
    ]
    if end is not None:
        conditions.append(TierEvent.effective_at < end)
    # The period an event falls in, computed by the database so that only one row per
    # (period, from, to) comes back.
    period = _period(starts, 0, len(starts) - 1)
    moves = (
        select(period, TierEvent.from_tier, TierEvent.to_tier, func.count())
        .where(*conditions)
        .group_by(period, TierEvent.from_tier, TierEvent.to_tier)
    )
    return Counter({(i, f, t): n for i, f, t, n in session.execute(moves)})


def _period(starts: Sequence[datetime | None], first: int, last: int) -> ColumnElement[int]:
    """The index of the period ``[starts[i], starts[i + 1])`` an event effective at or
    after ``starts[first]`` falls in, among ``first`` … ``last`` (the last one open).
    Halving the range at each step, it compares an event with about log2(n) bounds
    instead of up to n (24 months: 5, not 23 in a CASE that tries them in turn)."""
    if first == last:
        return literal(first)
    middle = (first + last + 1) // 2
    return case(
        (TierEvent.effective_at < starts[middle], _period(starts, first, middle - 1)),
        else_=_period(starts, middle, last),
    )


def _month_starts(today: date, months: int) -> list[date]:
    """The first days of the ``months`` months ending with ``today``'s, oldest first,
    followed by the first day of the next month (the end of the last one)."""
    index = dates.month_index(today)
    return [dates.month_first_day(i) for i in range(index - months + 1, index + 2)]
