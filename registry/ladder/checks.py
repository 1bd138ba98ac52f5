"""The building blocks of the tier rules: the types an evaluation is made of, exact
arithmetic over figures and thresholds, and the generic check constructors.

Pure Python: no Flask and no database. Comparisons are exact: figures and thresholds
become :class:`~fractions.Fraction`, so ``rd / revenue ≥ 5 %`` is decided as
``rd × 100 ≥ revenue × 5`` and never in floating point. The per-tier rules are in
:mod:`registry.ladder.criteria`.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal, Protocol

Status = Literal["pass", "fail", "unknown", "manual"]
Unit = Literal["person", "CNY", "percent", "days", "years", "points", "count"]
# Percent figures may arrive as Decimal (database), float (JSON) or int.
Number = int | Decimal | float
Shown = int | float | None
Bands = Sequence[Sequence[Any]]  # [[bound, points], ...] as in the seed

_COMPARE: dict[str, Callable[[Fraction, Fraction], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
}


class Report(Protocol):
    """One annual report as the rules read it; every figure may be ``None``.

    Counts and money are integers (money in 元); ``main_business_share``, ``debt_ratio``
    and ``national_market_share`` are percentages 0–100.
    """

    @property
    def year(self) -> int: ...
    @property
    def employees(self) -> int | None: ...
    @property
    def tech_staff(self) -> int | None: ...
    @property
    def rd_staff(self) -> int | None: ...
    @property
    def ip_class1(self) -> int | None: ...
    @property
    def ip_class2(self) -> int | None: ...
    @property
    def ip_transfers(self) -> int | None: ...
    @property
    def niche_years(self) -> int | None: ...
    @property
    def global_market_rank(self) -> int | None: ...
    @property
    def revenue(self) -> int | None: ...
    @property
    def total_income(self) -> int | None: ...
    @property
    def total_assets(self) -> int | None: ...
    @property
    def net_assets(self) -> int | None: ...
    @property
    def total_cost(self) -> int | None: ...
    @property
    def rd_expense(self) -> int | None: ...
    @property
    def rd_domestic_expense(self) -> int | None: ...
    @property
    def hightech_income(self) -> int | None: ...
    @property
    def main_business_share(self) -> Number | None: ...
    @property
    def debt_ratio(self) -> Number | None: ...
    @property
    def national_market_share(self) -> Number | None: ...
    @property
    def years_in_field(self) -> int | None: ...
    @property
    def product_revenue_share(self) -> Number | None: ...


@dataclass(frozen=True)
class Subject:
    """The enterprise facts the rules need besides its reports."""

    founded_on: date | None
    industry_group: str | None  # "advantage" / "growth" / "future"; None = other
    current_rank: int | None  # rank of its current rung; None = off the ladder


@dataclass(frozen=True)
class TierRule:
    """A tier as the rules see it: ``criteria`` is the version of its thresholds in force
    (``seeds/criteria.json``), effective from ``criteria_version``; ``route`` is the
    champion rung's route (``srdi`` / ``single_champion``), None for the other tiers."""

    code: str
    rank: int
    prerequisite_code: str | None
    prerequisite_rank: int | None
    criteria: Mapping[str, Any]
    criteria_version: date | None = None
    route: str | None = None


@dataclass(frozen=True)
class Check:
    """One line of the checklist; ``required`` and ``actual`` are display values
    (``actual`` as the rule reads it: :func:`as_read`)."""

    code: str
    label: str
    status: Status
    operator: str | None
    required: Shown
    actual: Shown
    unit: Unit | None
    alternative: str | None = None


@dataclass(frozen=True)
class ScorePart:
    """One item of a score; ``points`` is None when its figures are missing."""

    code: str
    points: int | None
    max: int


@dataclass(frozen=True)
class Score:
    """A points score; ``total`` is None unless every part could be computed."""

    total: int | None
    pass_mark: int
    parts: tuple[ScorePart, ...]


@dataclass(frozen=True)
class Facts:
    """What one tier's rules read: the reports in range and the enterprise context."""

    tier: TierRule
    subject: Subject
    latest: Report | None  # the report of the greatest year in range
    window: tuple[Report, ...]  # reports of years latest−2 … latest that exist
    today: date  # the reference date in Asia/Shanghai
    label: Callable[[str], str]

    @property
    def criteria(self) -> Mapping[str, Any]:
        return self.tier.criteria

    def figure(self, name: str) -> Fraction | None:
        """A figure of the latest report."""
        return figure(self.latest, name)

    def threshold(self, key: str) -> Fraction:
        """A threshold of this tier's criteria, exact."""
        return exact(self.criteria[key])


@dataclass(frozen=True)
class Outcome:
    """The result of one tier's rules, before the verdict is assembled."""

    checks: tuple[Check, ...]
    score: Score | None = None
    info: dict[str, Any] = field(default_factory=dict)


# --- exact arithmetic --------------------------------------------------------------


def exact(value: Number | str) -> Fraction:
    """A figure or threshold as an exact fraction (a float through its shortest repr)."""
    if isinstance(value, float):
        # Fraction(0.1) would be the binary approximation, not the 0.1 that was meant.
        return Fraction(repr(value))
    return Fraction(value)


def figure(report: Report | None, name: str) -> Fraction | None:
    """One figure of a report, or None when there is no report or no figure."""
    value = None if report is None else getattr(report, name)
    return None if value is None else exact(value)


def total(reports: Sequence[Report], name: str) -> Fraction | None:
    """A figure summed over reports; None when a report lacks it (missing is never zero)."""
    values = [getattr(report, name) for report in reports]
    if not values or any(value is None for value in values):
        return None
    return sum((exact(value) for value in values), Fraction(0))


def percent(part: Fraction | None, base: Fraction | None) -> Fraction | None:
    """``part / base`` in percent; None for a missing figure or a zero base."""
    if part is None or base is None or base == 0:
        return None
    return part * 100 / base


def shown(value: Fraction | int | None) -> Shown:
    """Display form: whole numbers stay integers, others round half up to 2 decimals."""
    if value is None:
        return None
    value = Fraction(value)
    if value.denominator == 1:
        return int(value)
    hundredths = math.floor(value * 100 + Fraction(1, 2))
    return hundredths // 100 if hundredths % 100 == 0 else hundredths / 100


def as_read(value: Fraction | int | None, op: str | None) -> Shown:
    """A figure as a rule reads it: to 2 decimals, rounded toward the side where the rule
    fails (DOMAIN.md "Tier criteria"), so that a figure just short of a threshold never
    shows as reaching it: against "≥ 3 %" 2.99999997 % shows 2.99, against "≤ 50 %"
    50.004 % shows 50.01. Whole numbers stay integers; without a comparison the figure
    rounds half up (:func:`shown`). For display only: the verdict is the exact comparison.
    """
    if value is None or op not in _FAILING_SIDE:
        return shown(value)
    value = Fraction(value)
    if value.denominator == 1:
        return int(value)
    hundredths = _FAILING_SIDE[op](value * 100)
    return hundredths // 100 if hundredths % 100 == 0 else hundredths / 100


# A "≥"/">" rule fails below its bound, so figures round down; a "≤" rule fails above.
_FAILING_SIDE: dict[str, Callable[[Fraction], int]] = {
    ">=": math.floor,
    ">": math.floor,
    "<=": math.ceil,
}


def band_points(value: Fraction | None, bands: Bands) -> int | None:
    """Points of the best band whose lower bound ``value`` reaches (bound included)."""
    if value is None:
        return None
    return max((points for bound, points in bands if value >= exact(bound)), default=0)


def below_points(value: Fraction | None, bands: Bands) -> int | None:
    """Points of the best band whose upper bound ``value`` does not exceed (bound
    included: "50 %以下" includes 50 %)."""
    if value is None:
        return None
    return max((points for bound, points in bands if value <= exact(bound)), default=0)


def band_max(bands: Bands) -> int:
    return max(points for _, points in bands)


def best_of(routes: Sequence[int | None], maximum: int) -> int | None:
    """The better of several scoring routes.

    Known only when every route is known, or when a known route already earns the
    maximum (a missing figure elsewhere could not beat it).
    """
    known = [points for points in routes if points is not None]
    if len(known) == len(routes) or maximum in known:
        return max(known, default=None)
    return None


def score_of(parts: tuple[ScorePart, ...], pass_mark: int) -> Score:
    points = [part.points for part in parts]
    whole = None if None in points else sum(p for p in points if p is not None)
    return Score(total=whole, pass_mark=pass_mark, parts=parts)


# --- checks ------------------------------------------------------------------------


def compared(
    facts: Facts,
    code: str,
    op: str,
    actual: Fraction | None,
    required: Fraction | None,
    unit: Unit | None,
) -> Check:
    """A figure check: ``unknown`` when the figure or the threshold is not known."""
    if actual is None or required is None:
        status: Status = "unknown"
    else:
        status = "pass" if _COMPARE[op](actual, required) else "fail"
    shown_actual = as_read(actual, op)
    return Check(code, facts.label(code), status, op, shown(required), shown_actual, unit)


def at_least(facts: Facts, code: str, actual: Fraction | None, key: str, unit: Unit) -> Check:
    return compared(facts, code, ">=", actual, facts.threshold(key), unit)


def at_most(facts: Facts, code: str, actual: Fraction | None, key: str, unit: Unit) -> Check:
    return compared(facts, code, "<=", actual, facts.threshold(key), unit)


def confirmed(check: Check, alternative: str | None = None) -> Check:
    """A figure check that passes but whose figure a reviewer must confirm (a recorded
    rank, a declared number of years): ``manual`` instead of ``pass``."""
    if check.status != "pass":
        return check
    return replace(check, status="manual", alternative=alternative)


def manual(
    facts: Facts,
    code: str,
    op: str | None = None,
    required: int | None = None,
    unit: Unit | None = None,
    alternative: str | None = None,
) -> Check:
    """A check only a reviewer can settle; a threshold is shown when the rule has one."""
    return Check(code, facts.label(code), "manual", op, required, None, unit, alternative)


def or_alternative(check: Check, alternative: str) -> Check:
    """A failed figure check that an alternative route may still satisfy goes to review."""
    if check.status != "fail":
        return check
    return replace(check, status="manual", alternative=alternative)
