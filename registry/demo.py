"""Demo data: plausible Jiangxi enterprises, one annual report each, some on the ladder.

``flask registry demo --count N [--random-seed S]`` (``registry/cli.py``) writes what
this module generates through the batch operations, one transaction per batch of
:data:`BATCH_SIZE` enterprises. Generation is pure Python with no database access, so
batches can be generated in worker processes while the command writes the previous one.
The same seed and count give the same data on the same day and registry state (every
batch draws from its own generator seeded with (seed, batch number), whatever process
builds it; the ladder plan depends on the tiers' current occupancy).

What is generated:

* USCCs: valid, ``91`` (market regulation, enterprise), 95 % with a Jiangxi area — a
  city (``360100``) or one of its counties (``360121``) — and 5 % from other provinces
  (city null). The j-th of an area's k enterprises draws its organisation-code base from
  the j-th of k equal slots of the 31⁸ possible bases, so the codes of a run never repeat
  and come out in ascending order: inserts into the code-ordered indexes are appends
  (enterprise ids follow code order). Codes already in the registry are replaced by
  fresh random ones before the batch is written (checked when the registry was not empty).
* Profile: name ``{江西|city|county}{字号}{行业词}{有限公司…}``, an English name for about a
  quarter (and every large firm), city from the USCC (as ``uscc.city_code`` derives it),
  county, industry (one of the seeded ones; 20 % null = other), founding date, legal
  representative, contact, phone, email, address, main products.
* One annual report for the latest completed year: sizes follow a log-normal
  distribution (median ~20 employees, a long tail of large firms); the figures obey
  API.md's rules (tech_staff, rd_staff ≤ employees; rd_expense ≤ total_cost;
  rd_domestic_expense ≤ rd_expense; hightech_income, revenue ≤ total_income; net_assets
  ≤ total_assets); money in integer 元, percentages with two decimals.
* The ladder (PRODUCT.md §9). The rule: 10 % of the enterprises, split over the tiers in
  proportion to their quotas, under two limits that win over the 10 %: every tier stays
  *below 80 % of its quota* after the run (counting its current holders, so a second run
  adds only what still fits), and when the run puts at least 5 enterprises on the ladder
  (N ≥ 50, so always when N ≥ 200) every tier with room gets at least one. With the
  seeded quotas (5000/3000/100/15/8): N = 300 → 17/10/1/1/1 (10 %), N = 1 000 000 →
  3999/2399/79/11/6 (0.65 %: the quotas cap it). See :func:`plan_ladder`.
  Holders are Jiangxi enterprises, spread over the batches; their figures fit their
  tier's criteria (tech_sme small with a score ≥ 60, high_tech R&D ≥ 5 %, champion,
  navigator and chain_leader large and in one of the plan's industries). ``tier_since``
  lies within the validity for 97 % of them; 3 % expired a little while ago and wait for
  ``tick`` to lapse them. Registration numbers are issued per tier and year without gaps,
  in ``tier_since`` order within each batch, by ``ladder.batch_operations.issue_designations``.
* Applications in every state, and the demo users who act on them, come afterwards
  through the real operations: ``registry.demo_applications`` (its grants and notices
  take slots that the ladder plan leaves free, see ``keep_room``).
"""

from __future__ import annotations

import contextlib
import functools
import math
import multiprocessing
import multiprocessing.pool
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from registry.core.audit import Actor
from registry.core.changes import append_entries
from registry.demo_words import (
    ELSEWHERE,
    ELSEWHERE_SHARE,
    FORM_WEIGHTS,
    GIVEN,
    INDUSTRY_WORDS,
    JIANGXI,
    LEGAL_FORMS,
    MAIL_HOSTS,
    MAIL_TLDS,
    MAIL_USERS,
    OTHER_INDUSTRY_SHARE,
    ROADS,
    SURNAMES,
    ZIHAO,
)
from registry.enterprises import batch_operations as enterprise_ops
from registry.enterprises import uscc as uscc_codes
from registry.enterprises.batches import (
    EnterpriseBatch,
    ReportBatch,
    prepare_enterprises,
    prepare_reports,
)
from registry.ladder import batch_operations as ladder

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
#: Share of designations whose validity has already run out (waiting for ``tick``).
EXPIRED_SHARE = 0.03

_EARLIEST = date(1990, 1, 1)  # no enterprise founded before
# status, merged_into, origin, source_version, verified and the ladder fields of a new,
# local, active enterprise off the ladder (ENTERPRISE_FIELDS order).
_PLAIN = ("active", None, "local", None, True, None, None, None, None, None)


# --- the plan -----------------------------------------------------------------------------------


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
        """Where each batch starts, and the count at the end (sizes ramp up, module doc)."""
        starts, size = [0], min(RAMP_FIRST, self.batch_size)
        while starts[-1] < self.count:
            starts.append(min(self.count, starts[-1] + int(size)))
            size = min(self.batch_size, size * RAMP)
        return tuple(starts)

    @property
    def batches(self) -> int:
        return len(self.starts) - 1


# --- USCCs ---------------------------------------------------------------------------------

_BASES = 31**8
_HALF = 31**4
_PAIRS = tuple(a + b for a in uscc_codes.ALPHABET for b in uscc_codes.ALPHABET)


def org_base(x: int) -> str:
    """The 8-character organisation-code base numbered ``x`` (0 … 31⁸−1), in code order."""
    hi, lo = divmod(x, _HALF)
    a, b = divmod(hi, 961)
    c, d = divmod(lo, 961)
    return _PAIRS[a] + _PAIRS[b] + _PAIRS[c] + _PAIRS[d]


def area_counts(count: int, known_cities: frozenset[str]) -> list[tuple[_Area, int]]:
    """How many of the run's enterprises each area gets (weights, largest remainders),
    in code order."""
    areas, weights = _areas(known_cities)
    total = sum(weights)
    exact = [count * w / total for w in weights]
    counts = [int(x) for x in exact]
    for i in sorted(range(len(areas)), key=lambda i: counts[i] - exact[i])[: count - sum(counts)]:
        counts[i] += 1
    return sorted(
        ((a, n) for a, n in zip(areas, counts, strict=True) if n), key=lambda p: p[0].code
    )


def _codes(
    rng: random.Random, areas: list[tuple[_Area, int]], start: int, n: int
) -> Iterator[tuple[_Area, str]]:
    """The codes of the run's positions ``start`` … ``start + n − 1``: the run's codes in
    ascending order. The j-th of an area's k enterprises draws its base from the j-th of k
    equal slots of the base range, so codes never repeat in a run and come out sorted
    (which keeps the inserts into the code-ordered indexes appends)."""
    offset = 0
    for area, k in areas:
        if offset + k > start and offset < start + n:
            for j in range(max(0, start - offset), min(k, start + n - offset)):
                low = j * _BASES // k
                high = (j + 1) * _BASES // k
                yield (
                    area,
                    uscc_codes.make_uscc(
                        area.code, org_base(low + int(rng.random() * (high - low)))
                    ),
                )
        offset += k


@functools.lru_cache(maxsize=8)
def _layout(spec: DemoSpec) -> tuple[list[tuple[_Area, int]], list[int]]:
    """The run's areas with their counts (code order), and the number of rows that may
    hold a tier (a Jiangxi city, or every row when none is known) before each batch."""
    areas = area_counts(spec.count, spec.known_cities)
    eligible = {a.code for a, _ in areas if a.city_code} or {a.code for a, _ in areas}
    boundaries = spec.starts
    before = []
    for boundary in boundaries:
        offset = seen = 0
        for area, k in areas:
            if area.code in eligible:
                seen += max(0, min(k, boundary - offset))
            offset += k
        before.append(seen)
    return areas, before


def holders_in(spec: DemoSpec, index: int) -> dict[str, int]:
    """Holders per tier in batch ``index``: each tier's total spread over the batches in
    proportion to the rows that may hold a tier (enterprises of a Jiangxi city)."""
    _, before = _layout(spec)
    total, lo, hi = before[-1], before[index], before[index + 1]
    plan = {code: (hi * k // total - lo * k // total) if total else 0 for code, k in spec.plan}
    return {code: k for code, k in plan.items() if k}


# --- one batch ----------------------------------------------------------------------------------


@dataclass
class LadderRequest:
    """An enterprise of the batch (its row) to put on ``tier`` since ``since``."""

    row: int
    tier: str
    since: date


@dataclass
class DemoBatch:
    index: int
    enterprises: EnterpriseBatch
    reports: ReportBatch
    ladder: list[LadderRequest] = field(default_factory=list)

    def replace_uscc(self, row: int, code: str, known_cities: frozenset[str]) -> None:
        """Give row ``row`` another code, e.g. when its code is taken."""
        self.enterprises.replace(row, uscc=code, city_code=uscc_codes.city_code(code, known_cities))
        self.reports.replace_uscc(row, code)


@dataclass(frozen=True)
class _Area:
    code: str
    city_code: str | None
    city_zh: str  # as in an address (南昌市)
    pinyin: str
    phone: str
    counties: tuple[str, ...]  # county names to draw from
    prefixes: tuple[str, ...]  # name prefixes to draw from


def _areas(known_cities: frozenset[str]) -> tuple[list[_Area], list[float]]:
    areas: list[_Area] = []
    weights: list[float] = []
    total = sum(city[4] for city in JIANGXI)
    for code, short, pinyin, phone, weight, counties in JIANGXI:
        city = code if code in known_cities else None  # uscc.city_code of codes in this area
        names = tuple(name for _, name in counties)
        share = (1 - ELSEWHERE_SHARE) * weight / total
        # Registered at the city (60 %) or at one of its counties (40 %).
        areas.append(_Area(code, city, short + "市", pinyin, phone, names, ("江西", short, short)))
        weights.append(share * 0.6)
        for county_code, county in counties:
            county_short = county[:-1] if len(county) > 2 else county
            prefixes = ("江西", short, county_short)
            areas.append(_Area(county_code, city, short + "市", pinyin, phone, (county,), prefixes))
            weights.append(share * 0.4 / len(counties))
    for code, city, district, pinyin, phone in ELSEWHERE:
        areas.append(_Area(code, None, city, pinyin, phone, (district,), (city[:-1],)))
        weights.append(ELSEWHERE_SHARE / len(ELSEWHERE))
    return areas, weights


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


# Holders' ranges keep them inside their tier's criteria (DOMAIN.md §2, seeds/criteria.json).
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


def _pick(seq: Sequence, u: float):
    return seq[int(u * len(seq))]


def generate(spec: DemoSpec, index: int) -> DemoBatch:
    """Batch ``index`` of the run: enterprises, reports and ladder requests, prepared
    (validated and rendered) for the batch operations. Deterministic in (spec, index)."""
    rng = random.Random(spec.seed * 100_003 + index)
    R = rng.random
    start = spec.starts[index]
    n = spec.starts[index + 1] - start
    validity = {t.code: t.validity for t in spec.tiers}

    areas, _ = _layout(spec)
    codes = list(_codes(rng, areas, start, n))
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


# --- running batches ------------------------------------------------------------------------------


@contextlib.contextmanager
def worker_pool(workers: int) -> Iterator[multiprocessing.pool.Pool | None]:
    """Processes that generate batches (fork; start it before opening a database
    connection, so that no connection is copied into a worker). 0 → none."""
    if workers <= 0:
        yield None
        return
    pool = multiprocessing.get_context("fork").Pool(workers)
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()


def batches(
    spec: DemoSpec, pool: multiprocessing.pool.Pool | None = None, ahead: int = 1
) -> Iterator[DemoBatch]:
    """The run's batches in order, generated here or by ``pool``'s workers, at most
    ``ahead`` batches ahead of the one being consumed (which bounds memory)."""
    if pool is None:
        for index in range(spec.batches):
            yield generate(spec, index)
        return
    pending: list = []
    for index in range(spec.batches):
        pending.append(pool.apply_async(generate, (spec, index)))
        if len(pending) > ahead:
            yield pending.pop(0).get()
    while pending:
        yield pending.pop(0).get()


def replace_taken(
    batch: DemoBatch,
    spec: DemoSpec,
    taken: Callable[[Iterable[str]], set[str]],
    rng: random.Random,
) -> int:
    """Give every row whose code is already in the registry a fresh random one in the
    same area (checked again, and against the batch). Returns how many were replaced."""
    replaced = 0
    codes = batch.enterprises.usccs
    clashes = taken(codes)
    while clashes:
        in_batch = set(batch.enterprises.usccs)
        fresh = []
        for row, code in enumerate(batch.enterprises.usccs):
            if code in clashes:
                new = code
                while new in in_batch:
                    new = uscc_codes.random_uscc(rng, code[2:8])
                in_batch.add(new)
                batch.replace_uscc(row, new, spec.known_cities)
                fresh.append(new)
                replaced += 1
        clashes = taken(fresh)
    return replaced


def write_batch(session, batch, actor: Actor) -> None:
    """One batch of ``demo`` in the current transaction: its designations, enterprises,
    reports and grant events, each with its audit entries; the feed entries last, so
    that on PostgreSQL the feed counter is locked only for the COMMIT (API.md, "How the
    order is kept"). The caller commits."""
    requests = [ladder.DesignationRequest(r.tier, r.since) for r in batch.ladder]
    designations = ladder.issue_designations(session, requests)
    for request, designation in zip(batch.ladder, designations, strict=True):
        batch.enterprises.replace(request.row, **designation.fields())
    feed: list[dict] = []
    ids = enterprise_ops.bulk_create_enterprises(session, batch.enterprises, actor=actor, feed=feed)
    codes = batch.enterprises.usccs
    enterprise_ops.bulk_create_reports(
        session, batch.reports, actor=actor, ids=dict(zip(codes, ids, strict=True)), feed=feed
    )
    grants = [
        ladder.GrantRecord(ids[r.row], codes[r.row], designation)
        for r, designation in zip(batch.ladder, designations, strict=True)
    ]
    ladder.record_grants(session, grants, actor=actor, reason="demo data", feed=feed)
    append_entries(session, feed)
