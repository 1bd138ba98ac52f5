"""The demo's ladder plan and run parameters: how many of the new enterprises each tier
receives, and the picklable :class:`DemoSpec` every batch is generated from.

The rule (PRODUCT.md "Operation"): 10 % of the enterprises, split over the tiers in proportion to
their quotas, under two limits that win over the 10 %: every tier stays *below 80 % of
its quota* after the run (counting its current holders, so a second run adds only what
still fits), and when the run puts at least 5 enterprises on the ladder (N ≥ 50, so
always when N ≥ 200) every tier with room gets at least one. With the seeded quotas
(5000/3000/100/15/8): N = 300 → 17/10/1/1/1 (10 %), N = 1 000 000 → 3999/2399/79/11/6
(0.65 %: the quotas cap it).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

#: Enterprises per transaction. Part of the data's identity: with another batch size the
#: same seed gives other data.
BATCH_SIZE = 25_000
#: The first batches are smaller, each RAMP times the one before, from RAMP_FIRST: the
#: command starts writing after a short wait for the first batch, and a worker building
#: the next batch keeps ahead of the writer (generating a row costs ~0.8× writing it).
RAMP_FIRST = 2_000
RAMP = 1.25
#: Share of the enterprises put on the ladder, before the quota limits (module doc).
LADDER_SHARE = 0.10
#: A tier stays strictly below this share of its quota.
QUOTA_CEILING = 0.8


@dataclass(frozen=True)
class TierRoom:
    """What the plan needs to know about a tier: its quota and current occupancy."""

    code: str
    rank: int
    quota: int
    occupancy: int
    validity: str | int


def tier_ceiling(quota: int) -> int:
    """The largest number of holders that stays strictly below 80 % of ``quota``."""
    return max(0, math.ceil(quota * QUOTA_CEILING) - 1)


def plan_ladder(count: int, tiers: Sequence[TierRoom]) -> dict[str, int]:
    """How many of ``count`` new enterprises each tier receives (module doc).

    10 % of ``count`` split in proportion to the quotas (largest remainders), at least one
    per tier when that share is ≥ 5, and never so many that a tier reaches 80 % of its
    quota with its current occupancy. The quota rule wins over the 10 %.
    """
    target = round(count * LADDER_SHARE)
    room = {t.code: max(0, tier_ceiling(t.quota) - t.occupancy) for t in tiers}
    plan = dict.fromkeys(room, 0)
    if target >= len(tiers):
        for code in plan:
            plan[code] = min(1, room[code])
    weights = {t.code: t.quota for t in tiers if room[t.code] > plan[t.code]}
    left = target - sum(plan.values())
    while left > 0 and weights:
        total = sum(weights.values())
        shares = {code: left * w / total for code, w in weights.items()}
        grants = {code: min(int(s), room[code] - plan[code]) for code, s in shares.items()}
        if not any(grants.values()):  # all shares < 1: largest remainders get one each
            for code in sorted(shares, key=lambda c: -shares[c])[:left]:
                grants[code] = 1
        for code, n in grants.items():
            plan[code] += n
            left -= n
        weights = {code: w for code, w in weights.items() if room[code] > plan[code]}
    return plan


@dataclass(frozen=True)
class DemoSpec:
    """Everything a batch needs, picklable: the run's parameters and reference data."""

    seed: int
    count: int
    at: datetime
    today: date
    report_year: int
    known_cities: frozenset[str]
    industries: tuple[str, ...]
    tiers: tuple[TierRoom, ...]
    plan: tuple[tuple[str, int], ...]
    batch_size: int = BATCH_SIZE

    @functools.cached_property
    def starts(self) -> tuple[int, ...]:
        """Where each batch starts, and the count at the end (sizes ramp up from RAMP_FIRST)."""
        starts = [0]
        size: float = min(RAMP_FIRST, self.batch_size)
        while starts[-1] < self.count:
            starts.append(min(self.count, starts[-1] + int(size)))
            size = min(self.batch_size, size * RAMP)
        return tuple(starts)

    @property
    def batches(self) -> int:
        return len(self.starts) - 1
