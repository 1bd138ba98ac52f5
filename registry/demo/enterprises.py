"""Demo data: plausible Jiangxi enterprises, one annual report each, some on the ladder.

``flask registry demo --count N [--random-seed S]`` (``registry.demo.cli``) writes what
this module generates through the batch operations (``registry.demo.pipeline``), one
transaction per batch of ``BATCH_SIZE`` enterprises. The same seed and count give the
same data on the same day and registry state (every batch draws from its own generator
seeded with (seed, batch number), whatever process builds it; the ladder plan depends on
the tiers' current occupancy).

What is generated:

* USCCs: valid, ``91`` (market regulation, enterprise), 95 % with a Jiangxi area and 5 %
  from other provinces, unique and ascending within a run (``registry.demo.areas``).
  Codes already in the registry are replaced by fresh random ones before the batch is
  written (checked when the registry was not empty).
* Profile: name ``{江西|city|county}{字号}{行业词}{有限公司…}``, an English name for about a
  quarter (and every large firm), city from the USCC (as ``uscc.city_code`` derives it),
  county, industry (one of the seeded ones; 20 % null = other), founding date, legal
  representative, contact, phone, email, address, main products.
* One annual report for the latest completed year: sizes follow a log-normal
  distribution (median ~20 employees, a long tail of large firms); the figures obey
  API.md's rules (tech_staff, rd_staff ≤ employees; rd_expense ≤ total_cost;
  rd_domestic_expense ≤ rd_expense; hightech_income, revenue ≤ total_income; net_assets
  ≤ total_assets); money in integer 元, percentages with two decimals.
* The ladder (PRODUCT.md "Operation"): about 10 % of the enterprises, every tier below 80 % of its
  quota (the rule is in ``registry.demo.plan``).
  Holders are Jiangxi enterprises, spread over the batches; their figures fit their
  tier's criteria (tech_sme small with a score ≥ 60, high_tech R&D ≥ 5 %, champion,
  navigator and chain_leader large and in one of the plan's industries). ``tier_since``
  lies within the validity for 97 % of them; 3 % expired a little while ago and wait for
  ``tick`` to lapse them. Registration numbers are issued per tier and year without gaps,
  in ``tier_since`` order within each batch, by ``ladder.batch_operations.issue_designations``.
* Applications in every state, and the demo users who act on them, come afterwards
  through the real operations: ``registry.demo.applications`` (its grants and notices
  take slots that the ladder plan leaves free, see ``keep_room``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar

from registry.demo.areas import holders_in, layout, run_codes
from registry.demo.plan import DemoSpec
from registry.demo.words import (
    FORM_WEIGHTS,
    GIVEN,
    INDUSTRY_WORDS,
    LEGAL_FORMS,
    MAIL_HOSTS,
    MAIL_TLDS,
    MAIL_USERS,
    OTHER_INDUSTRY_SHARE,
    ROADS,
    SURNAMES,
    ZIHAO,
)
from registry.enterprises import uscc as uscc_codes
from registry.enterprises.batches import (
    EnterpriseBatch,
    ReportBatch,
    prepare_enterprises,
    prepare_reports,
)

T = TypeVar("T")

#: Share of designations whose validity has already run out (waiting for ``tick``).
EXPIRED_SHARE = 0.03

_EARLIEST = date(1990, 1, 1)  # no enterprise founded before
# status, merged_into, origin, source_version, verified and the ladder fields of a new,
# local, active enterprise off the ladder (ENTERPRISE_FIELDS order).
_PLAIN = ("active", None, "local", None, True, None, None, None, None, None)


@dataclass
class LadderRequest:
    """An enterprise of the batch (its row) to put on ``tier`` since ``since``."""

    row: int
    tier: str
    since: date


@dataclass
class DemoBatch:
    """Batch ``index`` of a run, prepared for the batch operations."""

    index: int
    enterprises: EnterpriseBatch
    reports: ReportBatch
    ladder: list[LadderRequest] = field(default_factory=list)

    def replace_uscc(self, row: int, code: str, known_cities: frozenset[str]) -> None:
        """Give row ``row`` another code, e.g. when its code is taken."""
        self.enterprises.replace(row, uscc=code, city_code=uscc_codes.city_code(code, known_cities))
        self.reports.replace_uscc(row, code)


@dataclass(frozen=True)
class _Profile:
    """Ranges of an enterprise's figures by its role (a tier, or None)."""

    employees: tuple[int, int] | None  # None: the log-normal population
    per_capita: tuple[float, float]  # revenue per employee, 元
    tech: tuple[float, float]  # tech_staff / employees
    rd: tuple[float, float]  # rd_expense / revenue
    hightech: tuple[float, float]  # hightech_income / total_income
    min_age: int  # years since founding, at least
    ip1: tuple[int, int]
    big: bool = False


# Holders' ranges keep them inside their tier's criteria (DOMAIN.md "Tier criteria",
# seeds/criteria.json).
PROFILES: dict[str | None, _Profile] = {
    None: _Profile(None, (1.5e5, 1.2e6), (0.0, 0.35), (0.0, 0.06), (0.0, 0.5), 0, (0, 0)),
    "tech_sme": _Profile(
        (20, 400), (2e5, 4.5e5), (0.25, 0.55), (0.052, 0.12), (0.3, 0.9), 2, (0, 2)
    ),
    "high_tech": _Profile(
        (40, 1500), (3e5, 1.2e6), (0.15, 0.5), (0.055, 0.12), (0.65, 0.95), 4, (1, 8)
    ),
    "champion": _Profile(
        (150, 3000), (4e5, 1.2e6), (0.15, 0.4), (0.04, 0.1), (0.6, 0.95), 8, (3, 30), True
    ),
    "navigator": _Profile(
        (2000, 15000), (6e5, 2e6), (0.12, 0.35), (0.035, 0.08), (0.5, 0.9), 12, (20, 200), True
    ),
    "chain_leader": _Profile(
        (6000, 40000), (1e6, 3e6), (0.12, 0.3), (0.032, 0.07), (0.5, 0.9), 15, (50, 500), True
    ),
}


def _since(rng: random.Random, validity: str | int, today: date) -> date:
    """A start date whose designation is still valid (97 %) or expired a little ago."""
    expired = rng.random() < EXPIRED_SHARE
    if validity == "calendar_year":
        if expired:
            return date(today.year - 1, 1, 1) + timedelta(days=rng.randrange(365))
        return date(today.year, 1, 1) + timedelta(days=rng.randrange(today.timetuple().tm_yday))
    span = 365 * int(validity)
    if expired:
        return today - timedelta(days=span + 5 + rng.randrange(200))
    return today - timedelta(days=rng.randrange(span - 5))


def _pick(seq: Sequence[T], u: float) -> T:
    return seq[int(u * len(seq))]


def generate(spec: DemoSpec, index: int) -> DemoBatch:
    """Batch ``index`` of the run: enterprises, reports and ladder requests, prepared
    (validated and rendered) for the batch operations. Deterministic in (spec, index)."""
    rng = random.Random(spec.seed * 100_003 + index)  # nosec B311 # demo data, repeatable
    R = rng.random
    start = spec.starts[index]
    n = spec.starts[index + 1] - start
    validity = {t.code: t.validity for t in spec.tiers}

    areas, _ = layout(spec)
    codes = list(run_codes(rng, areas, start, n))
    eligible = [row for row, (area, _) in enumerate(codes) if area.city_code] or range(n)
    roles: list[str | None] = [None] * n
    holders = holders_in(spec, index)
    positions = rng.sample(eligible, min(len(eligible), sum(holders.values())))
    for code, k in holders.items():
        for pos in positions[:k]:
            roles[pos] = code
        positions = positions[k:]

    # Categorical columns drawn in one go (random.choices runs in C).
    choices = rng.choices
    industries = list(spec.industries)
    industry_col = [
        None
        if u < OTHER_INDUSTRY_SHARE
        else _pick(industries, (u - OTHER_INDUSTRY_SHARE) / (1 - OTHER_INDUSTRY_SHARE))
        for u in (R() for _ in range(n))
    ]
    z1s, z2s = choices(ZIHAO, k=n), choices(ZIHAO, k=n)
    forms = choices(LEGAL_FORMS, cum_weights=FORM_WEIGHTS, k=n)
    people = [
        a + b for a, b in zip(choices(SURNAMES, k=2 * n), choices(GIVEN, k=2 * n), strict=True)
    ]
    seconds = choices(GIVEN, k=2 * n)
    roads = choices(ROADS, k=n)
    employees = [max(1, min(120_000, round(math.exp(rng.gauss(3.0, 1.5))))) for _ in range(n)]

    year = spec.report_year
    year_end = date(year, 12, 31)
    stamp_today = spec.today
    enterprises, reports, ladder = [], [], []
    for row, (area, code) in enumerate(codes):
        role = roles[row]
        profile = PROFILES[role]
        industry = industry_col[row]
        if industry is None and role not in (None, "tech_sme", "high_tech"):
            # Only tech_sme and high_tech may be held by an enterprise of another industry.
            industry = _pick(industries, R())
        words, products = INDUSTRY_WORDS.get(industry, INDUSTRY_WORDS[None])
        word_zh, word_en = _pick(words, R())
        z1, z2 = z1s[row], z2s[row]
        form = LEGAL_FORMS[2 + (R() < 0.5)] if profile.big else forms[row]
        prefix = _pick(area.prefixes, R())
        name = f"{prefix}{z1[0]}{z2[0]}{word_zh}{form[0]}"
        name_en = None
        if profile.big or R() < 0.25:
            place = "Jiangxi" if prefix == "江西" else area.pinyin
            name_en = f"{place} {z1[1:]}{z2[1:].lower()} {word_en} {form[1]}"
        county = _pick(area.counties, R())

        since = None
        if role is not None:
            since = _since(rng, validity[role], stamp_today)
            ladder.append(LadderRequest(row, role, since))
        latest = min(year_end, since or year_end) - timedelta(days=365 * profile.min_age)
        founded_on = max(_EARLIEST, latest - timedelta(days=int(R() ** 1.7 * 10950 + R() * 180)))

        legal = people[2 * row] + (seconds[2 * row] if R() < 0.7 else "")
        if R() < 0.3:
            contact = legal
        else:
            contact = people[2 * row + 1] + (seconds[2 * row + 1] if R() < 0.7 else "")
        if R() < 0.55:
            phone = f"1{_pick('3456789', R())}{int(R() * 1e9):09d}"
        else:
            phone = f"{area.phone}-{2 + int(R() * 7)}{int(R() * 1e7):07d}"
        slug = (z1[1:] + z2[1:]).lower()
        if R() < 0.5:
            email = f"{_pick(MAIL_USERS, R())}@{slug}{_pick(MAIL_TLDS, R())}"
        else:
            email = f"{slug}{100 + int(R() * 9900)}@{_pick(MAIL_HOSTS, R())}"
        address = f"{area.city_zh}{county}{roads[row]}{1 + int(R() * 2999)}号"
        first = _pick(products, R())
        second = _pick(products, R()) if R() < 0.5 else first
        main_products = first if second == first else f"{first}、{second}"

        enterprises.append(
            (code, name, name_en, area.city_code, county, industry, founded_on, legal, contact)
            + (phone, email, address, main_products)
            + _PLAIN
        )
        age = year - founded_on.year
        reports.append((code, _figures(rng, year, profile, employees[row], age)))
    return DemoBatch(
        index,
        prepare_enterprises(enterprises, spec.at),
        prepare_reports(reports, spec.at),
        sorted(ladder, key=lambda r: (r.since, r.row)),
    )


def _figures(rng: random.Random, year: int, p: _Profile, population: int, age: int) -> tuple:
    """One year's figures (REPORT_FIELDS order) for an enterprise of profile ``p``."""
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
        round((total_assets - net_assets) * 100 / total_assets, 2),
        national,
    )
