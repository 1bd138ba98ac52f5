"""The demo's annual-report figures: one year's figures by an enterprise's role (a tier,
or None for the population), and the years before it for the enterprises on the ladder.

Sizes follow a log-normal distribution (median ~20 employees, a long tail of large
firms); the figures obey API.md's rules (tech_staff, rd_staff ≤ employees; rd_expense ≤
total_cost; rd_domestic_expense ≤ rd_expense; hightech_income, revenue ≤ total_income;
net_assets ≤ total_assets); money in integer 元, percentages with two decimals. A
holder's figures fit its tier's criteria in each of its years (DOMAIN.md "Tier
criteria", seeds/criteria.json): high_tech's three-year R&D ratio is over them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    """Ranges of an enterprise's figures by its role (a tier, or None)."""

    employees: tuple[int, int] | None  # None: the log-normal population
    per_capita: tuple[float, float]  # revenue per employee, 元
    tech: tuple[float, float]  # tech_staff / employees
    rd: tuple[float, float]  # rd_expense / revenue
    hightech: tuple[float, float]  # hightech_income / total_income
    min_age: int  # years since founding, at least
    ip1: tuple[int, int]
    big: bool = False


# Holders' ranges keep them inside their tier's criteria.
PROFILES: dict[str | None, Profile] = {
    None: Profile(None, (1.5e5, 1.2e6), (0.0, 0.35), (0.0, 0.06), (0.0, 0.5), 0, (0, 0)),
    "tech_sme": Profile(
        (20, 400), (2e5, 4.5e5), (0.25, 0.55), (0.052, 0.12), (0.3, 0.9), 2, (0, 2)
    ),
    "high_tech": Profile(
        (40, 1500), (3e5, 1.2e6), (0.15, 0.5), (0.055, 0.12), (0.65, 0.95), 4, (1, 8)
    ),
    "champion": Profile(
        (150, 3000), (4e5, 1.2e6), (0.15, 0.4), (0.04, 0.1), (0.6, 0.95), 8, (3, 30), True
    ),
    "navigator": Profile(
        (2000, 15000), (6e5, 2e6), (0.12, 0.35), (0.035, 0.08), (0.5, 0.9), 12, (20, 200), True
    ),
    "chain_leader": Profile(
        (6000, 40000), (1e6, 3e6), (0.12, 0.3), (0.032, 0.07), (0.5, 0.9), 15, (50, 500), True
    ),
}

#: Annual reports a current holder has: the latest completed year and those before.
HOLDER_REPORT_YEARS = 3
#: A year's growth over the year before, drawn from this range for the earlier years.
GROWTH = (-0.05, 0.3)

# Positions in REPORT_FIELDS order (registry.enterprises.batches).
_COUNTS = (1, 2, 3)  # employees, tech_staff, rd_staff
_NICHE = 7
_MONEY = range(9, 17)  # revenue … hightech_income
_TOTAL_ASSETS, _NET_ASSETS, _DEBT_RATIO = 11, 12, 18
_YEARS_IN_FIELD = 20


def figures(rng: random.Random, year: int, p: Profile, population: int, age: int) -> tuple:
    """One year's figures (REPORT_FIELDS order) for an enterprise of profile ``p``;
    ``population`` is its size when ``p`` is the population's, ``age`` its years."""
    R = rng.random
    lo, hi = p.per_capita
    if p.employees is None:
        employees = population
        ip1 = 0 if R() < 0.8 else 1 + int(R() * 3)
        ip2 = 0 if R() < 0.5 else 1 + int(R() * 6)
        rank = None
    else:
        employees = rng.randint(*p.employees)
        ip1, ip2 = rng.randint(*p.ip1), 2 + int(R() * 11)
        rank = 1 + int(R() * 3) if p.big and R() < 0.35 else None
    revenue = int(employees * (lo + (hi - lo) * R()))
    total_income = revenue + int(revenue * R() * 0.06)
    total_cost = int(total_income * (0.78 + 0.25 * R()))
    lo, hi = p.tech
    tech_staff = int(employees * (lo + (hi - lo) * R()))
    rd_staff = int(tech_staff * (0.3 + 0.6 * R()))
    lo, hi = p.rd
    rd_expense = min(int(revenue * (lo + (hi - lo) * R())), total_cost)
    rd_domestic = int(rd_expense * (0.7 + 0.3 * R()))
    lo, hi = p.hightech
    hightech = int(total_income * (lo + (hi - lo) * R()))
    total_assets = max(100_000, int(revenue * (0.4 + 1.4 * R())))
    net_assets = int(total_assets * ((0.4 if p.big else 0.2) + (0.45 if p.big else 0.65) * R()))
    if p is PROFILES["tech_sme"]:
        # Within the size limits (total assets ≤ 2 亿), and without a class-I right
        # enough class-II rights for a passing score.
        total_assets = min(total_assets, 190_000_000)
        net_assets = min(net_assets, total_assets)
        ip2 = ip2 if ip1 else max(ip2, 3)
    niche = min(age, 3 + int(R() * 18) if p.big else int(R() * 13))
    share = round(80 + 18 * R() if p.big else 55 + 45 * R(), 2)
    national = round(R() ** 4 * 12, 2) if p.big or R() < 0.3 else None
    return (
        year,
        employees,
        tech_staff,
        rd_staff,
        ip1,
        ip2,
        0 if R() < 0.85 else 1 + int(R() * 4),
        max(0, niche),
        rank,
        revenue,
        total_income,
        total_assets,
        net_assets,
        total_cost,
        rd_expense,
        rd_domestic,
        hightech,
        share,
        _debt_ratio(total_assets, net_assets),
        national,
        # The single-champion route's figures: years in the field beside a world rank.
        None if rank is None else max(3, age - int(R() * 3)),
        None if rank is None else round(70 + 25 * R(), 2),
    )


def earlier_years(rng: random.Random, latest: tuple, n: int) -> list[tuple]:
    """The ``n`` years before ``latest`` (figures in REPORT_FIELDS order), newest first:
    each year the one after shrunk by that year's growth. Sizes and money scale by one
    factor, so every part stays within its whole and every ratio (R&D, staff, high-tech
    income) stays where it was; rights and shares are kept, the niche and the years in
    the field are a year shorter."""
    years = []
    values = list(latest)
    for _ in range(n):
        factor = 1 / (1 + rng.uniform(*GROWTH))
        values[0] -= 1
        for i in _COUNTS:
            values[i] = int(values[i] * factor)
        values[1] = max(1, values[1])
        values[_NICHE] = max(0, values[_NICHE] - 1)
        if values[_YEARS_IN_FIELD] is not None:
            values[_YEARS_IN_FIELD] = max(0, values[_YEARS_IN_FIELD] - 1)
        for i in _MONEY:
            values[i] = int(values[i] * factor)
        values[_TOTAL_ASSETS] = max(1, values[_TOTAL_ASSETS])
        values[_DEBT_RATIO] = _debt_ratio(values[_TOTAL_ASSETS], values[_NET_ASSETS])
        years.append(tuple(values))
    return years


def _debt_ratio(total_assets: int, net_assets: int) -> float:
    return round((total_assets - net_assets) * 100 / total_assets, 2)
