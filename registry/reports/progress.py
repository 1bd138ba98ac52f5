"""The ``progress`` report (PRODUCT.md §8, API.md "Report"): each tier's holders at the
ends of the last 23 months and now, beside its target (the quota), and when the target
is reached at the pace of the last 6 complete months.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from registry.core import clock
from registry.core.dbsession import DbSession
from registry.ladder import dates, queries
from registry.ladder.models import Tier
from registry.reports import stats
from registry.reports.columns import column
from registry.reports.report import Report

TITLE = _l("Holders over time beside the targets")
#: Points of the report: the ends of the 23 months before the current one, then now.
POINTS = 24
#: Complete months whose mean net change sets the projection's pace.
PACE = 6
REACHED, PROJECTED, NOT_AT_THIS_PACE = "reached", "projected", "not_at_this_pace"


@dataclass(frozen=True)
class Projection:
    """When ``tier`` reaches its target at the recent pace: already (``reached``), in
    ``month`` (``projected``), or never while the pace is not above zero."""

    tier: str
    status: str
    month: str | None


def progress(session: DbSession) -> Report:
    """Rows per (point, tier), oldest point first, tiers by rank: the holders at the end
    of each of the 23 months before the current one (Beijing time), then at ``as_of``
    (labelled with the current month), with the tier's quota as its ``target``. Holders
    at a point are the replay of the tier events effective before it."""
    as_of = clock.now()
    current = dates.month_index(dates.shanghai_date(as_of))
    # A month ends when the next begins: the ends of months current-23 … current-1.
    ends = [
        dates.shanghai_midnight(dates.month_first_day(i))
        for i in range(current - POINTS + 2, current + 1)
    ]
    holders = stats.holders_at(session, [*ends, as_of])
    months = [dates.month_text(i) for i in range(current - POINTS + 1, current + 1)]
    tiers = queries.tiers(session)
    rows = [
        {
            "month": month,
            "tier": tier.code,
            "holders": at.get(tier.code, 0),
            "target": tier.quota,
        }
        for month, at in zip(months, holders, strict=True)
        for tier in tiers
    ]
    projection = [
        project(tier, [at.get(tier.code, 0) for at in holders], current) for tier in tiers
    ]
    return Report(
        name="progress",
        title=str(TITLE),
        as_of=as_of,
        columns=[
            column("month", "month"),
            column("tier", "string"),
            column("holders"),
            column("target"),
        ],
        rows=rows,
        totals=None,
        notes=[
            str(
                _l(
                    "Holders at the end of each month (Beijing time); the last row of each "
                    "tier is today's."
                )
            ),
            str(METHOD),
        ],
        extra={"projection": [_projection_out(p) for p in projection]},
    )


METHOD = _l(
    "Projection: at the mean net monthly change of the 6 complete months before this "
    "one, the first month in which the holders reach the target; not at this pace when "
    "that mean is zero or less."
)


def project(tier: Tier, holders: list[int], current: int) -> Projection:
    """``tier``'s projection from its holders at the :data:`POINTS` points (the last is
    now) in month ``current`` (``dates.month_index``): ``reached`` when holders ≥ target
    now; else, with the mean net change of the :data:`PACE` complete months before the
    current one, ``not_at_this_pace`` when it is ≤ 0, or ``projected`` with the first
    month ``current + k`` where holders + mean × k ≥ target."""
    now, target = holders[-1], tier.quota
    if now >= target:
        return Projection(tier.code, REACHED, None)
    # The net of the last PACE complete months: holders at the end of the last one
    # (holders[-2]) minus holders at the end of the month before them.
    change = holders[-2] - holders[-2 - PACE]
    if change <= 0:
        return Projection(tier.code, NOT_AT_THIS_PACE, None)
    # k = ⌈(target − now) ÷ (change ÷ PACE)⌉, in integers (no rounding of the mean).
    months = -(-(target - now) * PACE // change)
    return Projection(tier.code, PROJECTED, dates.month_text(current + months))


def _projection_out(projection: Projection) -> dict[str, Any]:
    return {"tier": projection.tier, "status": projection.status, "month": projection.month}
