"""Demo data: plausible Jiangxi enterprises with their annual reports, some on the ladder.

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
* Annual reports (``registry.demo.figures``): the current holders of a tier one for
  each of the last three completed years, every other enterprise one for the latest.
* The ladder (PRODUCT.md "Operation"): about 10 % of the enterprises, every tier below 80 % of its
  quota (the rule is in ``registry.demo.plan``).
  Holders are Jiangxi enterprises, spread over the batches; their figures fit their
  tier's criteria (tech_sme small with a score ≥ 60, high_tech R&D ≥ 5 %, champion,
  navigator and chain_leader large and in one of the plan's industries). Each has a
  history over the last 24 months (``registry.demo.history``): grants, renewals,
  promotions and demotions, and other Jiangxi enterprises that held a tier and left it
  by a lapse or a revocation, never more holders at any time than the tier has now.
  Registration numbers are issued per tier and year without gaps, in ``tier_since``
  order within each batch, by ``ladder.batch_operations.issue_designations``.
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

from registry.demo import figures as annual
from registry.demo import history
from registry.demo.areas import holders_in, layout, run_codes
from registry.demo.figures import HOLDER_REPORT_YEARS, PROFILES
from registry.demo.history import Story
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

_EARLIEST = date(1990, 1, 1)  # no enterprise founded before
# status, merged_into, origin, source_version, verified and the ladder fields of a new,
# local, active enterprise off the ladder (ENTERPRISE_FIELDS order).
_PLAIN = ("active", None, "local", None, True, None, None, None, None, None)


@dataclass
class DemoBatch:
    """Batch ``index`` of a run, prepared for the batch operations: report ``i`` is row
    ``i``'s latest, ``earlier`` the indexes of the earlier reports of a row, and
    ``ladder`` the ladder history of a row, by row."""

    index: int
    enterprises: EnterpriseBatch
    reports: ReportBatch
    ladder: dict[int, Story] = field(default_factory=dict)
    earlier: dict[int, list[int]] = field(default_factory=dict)

    def replace_uscc(self, row: int, code: str, known_cities: frozenset[str]) -> None:
        """Give row ``row`` another code, e.g. when its code is taken."""
        self.enterprises.replace(row, uscc=code, city_code=uscc_codes.city_code(code, known_cities))
        for report in (row, *self.earlier.get(row, ())):
            self.reports.replace_uscc(report, code)


def _pick(seq: Sequence[T], u: float) -> T:
    return seq[int(u * len(seq))]


def generate(spec: DemoSpec, index: int) -> DemoBatch:
    """Batch ``index`` of the run: enterprises, reports and ladder histories, prepared
    (validated and rendered) for the batch operations. Deterministic in (spec, index)."""
    rng = random.Random(spec.seed * 100_003 + index)  # nosec B311 # demo data, repeatable
    R = rng.random
    start = spec.starts[index]
    n = spec.starts[index + 1] - start

    areas, _ = layout(spec)
    codes = list(run_codes(rng, areas, start, n))
    eligible = [row for row, (area, _) in enumerate(codes) if area.city_code] or range(n)
    # The current holders' histories come first: in a tiny batch the others are dropped.
    stories = history.stories(spec, holders_in(spec, index), rng)
    rows = rng.sample(eligible, min(len(eligible), len(stories)))
    ladder = dict(zip(rows, stories[: len(rows)], strict=True))

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
    first_report = date(year - HOLDER_REPORT_YEARS + 1, 1, 1)
    enterprises, reports, earlier_reports = [], [], []
    for row, (area, code) in enumerate(codes):
        story = ladder.get(row)
        # Figures of the tier held now, or of the highest one held before.
        role = None if story is None else story.tier or story.top
        top = None if story is None else story.top
        profile = PROFILES[role]
        industry = industry_col[row]
        if industry is None and top not in (None, "tech_sme", "high_tech"):
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

        latest = year_end
        if story is not None:
            latest = min(latest, story.first_since) - timedelta(days=365 * profile.min_age)
            if story.tier is not None:  # founded before its first report's year
                latest = min(latest, first_report)
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
        figures = annual.figures(rng, year, profile, employees[row], year - founded_on.year)
        reports.append((code, figures))
        if story is not None and story.tier is not None:
            for values in annual.earlier_years(rng, figures, HOLDER_REPORT_YEARS - 1):
                earlier_reports.append((row, (code, values)))
    earlier: dict[int, list[int]] = {}
    for i, (row, _) in enumerate(earlier_reports, start=n):
        earlier.setdefault(row, []).append(i)
    return DemoBatch(
        index,
        prepare_enterprises(enterprises, spec.at),
        prepare_reports(reports + [report for _, report in earlier_reports], spec.at),
        ladder,
        earlier,
    )
