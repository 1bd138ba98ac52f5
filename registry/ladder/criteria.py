"""The tier rules of DOMAIN.md §2, applied to an enterprise's annual reports.

Pure Python: no Flask and no database. Thresholds are data (``seeds/criteria.json``,
handed in as ``TierRule.criteria``); this module holds only the logic. Comparisons are
exact: figures and thresholds become :class:`~fractions.Fraction`, so
``rd / revenue ≥ 5 %`` is decided as ``rd × 100 ≥ revenue × 5`` and never in floating
point. :mod:`registry.ladder.eligibility` runs these rules and is the public entry point.
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


@dataclass(frozen=True)
class Subject:
    """The enterprise facts the rules need besides its reports."""

    founded_on: date | None
    industry_group: str | None  # "advantage" / "growth" / "future"; None = other
    current_rank: int | None  # rank of its current rung; None = off the ladder


@dataclass(frozen=True)
class TierRule:
    """A tier as the rules see it; ``criteria`` is its entry in ``seeds/criteria.json``."""

    code: str
    rank: int
    prerequisite_code: str | None
    prerequisite_rank: int | None
    criteria: Mapping[str, Any]


@dataclass(frozen=True)
class Check:
    """One line of the checklist; ``required`` and ``actual`` are display values."""

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


def band_points(value: Fraction | None, bands: Bands) -> int | None:
    """Points of the best band whose lower bound ``value`` reaches (bound included)."""
    if value is None:
        return None
    return max((points for bound, points in bands if value >= exact(bound)), default=0)


def below_points(value: Fraction | None, bands: Bands) -> int | None:
    """Points of the best band whose upper bound ``value`` stays under (bound excluded)."""
    if value is None:
        return None
    return max((points for bound, points in bands if value < exact(bound)), default=0)


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
    return Check(code, facts.label(code), status, op, shown(required), shown(actual), unit)


def at_least(facts: Facts, code: str, actual: Fraction | None, key: str, unit: Unit) -> Check:
    return compared(facts, code, ">=", actual, facts.threshold(key), unit)


def at_most(facts: Facts, code: str, actual: Fraction | None, key: str, unit: Unit) -> Check:
    return compared(facts, code, "<=", actual, facts.threshold(key), unit)


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


def prerequisite(facts: Facts) -> Check:
    """The current rung ranks at least the prerequisite's; off the ladder fails."""
    need, have = facts.tier.prerequisite_rank, facts.subject.current_rank
    if need is None:
        status: Status = "pass"
    else:
        status = "fail" if have is None or have < need else "pass"
    return Check("prerequisite", facts.label("prerequisite"), status, ">=", need, have, None)


def latest_rd_revenue(facts: Facts) -> Check:
    """R&D / revenue of the latest year against ``rd_revenue_ratio_min``."""
    ratio = percent(facts.figure("rd_expense"), facts.figure("revenue"))
    return at_least(facts, "rd_revenue_ratio", ratio, "rd_revenue_ratio_min", "percent")


# --- tiers -------------------------------------------------------------------------


def tech_sme(facts: Facts) -> Outcome:
    c, fig = facts.criteria, facts.figure
    staff = band_points(percent(fig("tech_staff"), fig("employees")), c["staff_bands"])
    rd_max = max(band_max(c["rd_revenue_bands"]), band_max(c["rd_cost_bands"]))
    rd_routes = [
        band_points(percent(fig("rd_expense"), fig("revenue")), c["rd_revenue_bands"]),
        band_points(percent(fig("rd_expense"), fig("total_cost")), c["rd_cost_bands"]),
    ]
    ip_max = max(c["ip_class1_points"], band_max(c["ip_class2_points"]))
    parts = (
        ScorePart("staff", staff, band_max(c["staff_bands"])),
        ScorePart("rd", best_of(rd_routes, rd_max), rd_max),
        ScorePart("ip", _tsme_ip_points(facts), ip_max),
    )
    score = None if facts.latest is None else score_of(parts, c["pass_mark"])
    checks = (
        at_most(facts, "employees_max", fig("employees"), "employees_max", "person"),
        at_most(facts, "revenue_max", fig("revenue"), "revenue_max", "CNY"),
        at_most(facts, "total_assets_max", fig("total_assets"), "total_assets_max", "CNY"),
        manual(facts, "industry_allowed"),
        manual(facts, "clean_record"),
        _tsme_score_check(facts, score, c["pass_mark"]),
    )
    return Outcome(checks, score)


def _tsme_ip_points(facts: Facts) -> int | None:
    # Class-II items count only when there is no class-I item.
    class1 = facts.figure("ip_class1")
    if class1 is None:
        return None
    if class1 >= 1:
        return int(facts.criteria["ip_class1_points"])
    return band_points(facts.figure("ip_class2"), facts.criteria["ip_class2_points"])


def _tsme_score_check(facts: Facts, score: Score | None, pass_mark: int) -> Check:
    # Passing needs score ≥ pass mark AND staff points > 0; otherwise only the direct
    # pass remains, which a reviewer judges.
    staff = score.parts[0].points if score else None
    if score is None:
        status: Status = "unknown"
    elif staff == 0:
        status = "manual"  # the score route is closed whatever else is missing
    elif score.total is None:
        status = "unknown"
    else:
        status = "pass" if score.total >= pass_mark else "manual"
    actual = score.total if score else None
    alternative = "direct_pass" if status == "manual" else None
    label = facts.label("tsme_score")
    return Check("tsme_score", label, status, ">=", pass_mark, actual, "points", alternative)


def high_tech(facts: Facts) -> Outcome:
    c, fig, window = facts.criteria, facts.figure, facts.window
    founded = facts.subject.founded_on
    age = None if founded is None else Fraction((facts.today - founded).days)
    staff_ratio = percent(fig("tech_staff"), fig("employees"))
    domestic = percent(total(window, "rd_domestic_expense"), total(window, "rd_expense"))
    hightech = percent(fig("hightech_income"), fig("total_income"))
    checks = (
        at_least(facts, "registered_days", age, "registered_days", "days"),
        _core_ip(facts),
        manual(facts, "tech_field"),
        at_least(facts, "tech_staff_ratio", staff_ratio, "tech_staff_ratio_min", "percent"),
        _three_year_rd_revenue(facts),
        at_least(facts, "rd_domestic_ratio", domestic, "rd_domestic_ratio_min", "percent"),
        at_least(facts, "hightech_income_ratio", hightech, "hightech_income_ratio_min", "percent"),
        manual(facts, "innovation_score", ">", c["innovation_score_min_exclusive"], "points"),
        manual(facts, "no_major_accident"),
    )
    return Outcome(checks)


def _core_ip(facts: Facts) -> Check:
    # Owning one class-I or one class-II item suffices, so one known count ≥ 1 decides
    # even when the other is missing; `actual` is then the count that is known.
    counts = [facts.figure("ip_class1"), facts.figure("ip_class2")]
    known = [count for count in counts if count is not None]
    decided = len(known) == len(counts) or any(count >= 1 for count in known)
    owned = sum(known, Fraction(0)) if decided else None
    return compared(facts, "core_ip", ">=", owned, Fraction(1), "count")


def _three_year_rd_revenue(facts: Facts) -> Check:
    # The threshold depends on the last year's revenue; the ratio is over the window.
    last_revenue = facts.figure("revenue")
    required = None
    if last_revenue is not None:
        for limit, minimum in facts.criteria["rd_revenue_tiers"]:
            if limit is None or last_revenue <= exact(limit):
                required = exact(minimum)
                break
    ratio = percent(total(facts.window, "rd_expense"), total(facts.window, "revenue"))
    return compared(facts, "rd_revenue_ratio", ">=", ratio, required, "percent")


def champion(facts: Facts) -> Outcome:
    c, fig = facts.criteria, facts.figure
    revenue = at_least(facts, "revenue_min", fig("revenue"), "revenue_min", "CNY")
    checks = (
        prerequisite(facts),
        at_least(facts, "niche_years", fig("niche_years"), "niche_years_min", "years"),
        at_least(facts, "rd_expense_min", fig("rd_expense"), "rd_expense_min", "CNY"),
        latest_rd_revenue(facts),
        or_alternative(revenue, "equity_financing"),
        manual(facts, "srdi_score", ">=", c["srdi_pass_mark"], "points", "direct_route"),
    )
    score = None if facts.latest is None else _srdi_from_figures(facts)
    rank = None if facts.latest is None else facts.latest.global_market_rank
    return Outcome(checks, score, {"global_market_rank": rank})


def _srdi_from_figures(facts: Facts) -> Score:
    """The SRDI items that recorded figures decide (30 of 100 points), for information.

    Growth, net margin, digitalisation, quality, product field, the provincial items,
    IP quality and the R&D institution are never recorded as figures, so they are left
    out rather than guessed; the ``srdi_score`` check stays ``manual`` whatever this says.
    """
    bands, fig = facts.criteria["srdi_bands"], facts.figure
    rd_max = max(band_max(bands["rd_expense"]), band_max(bands["rd_revenue"]))
    rd_routes = [
        band_points(fig("rd_expense"), bands["rd_expense"]),
        band_points(percent(fig("rd_expense"), fig("revenue")), bands["rd_revenue"]),
    ]
    points = {
        "main_business_share": band_points(
            fig("main_business_share"), bands["main_business_share"]
        ),
        "niche_years": band_points(fig("niche_years"), bands["niche_years"]),
        "debt_ratio": below_points(fig("debt_ratio"), bands["debt_ratio_below"]),
        "rd_investment": best_of(rd_routes, rd_max),
        "rd_staff_ratio": band_points(
            percent(fig("rd_staff"), fig("employees")), bands["rd_staff_ratio"]
        ),
    }
    maxima = {
        "main_business_share": band_max(bands["main_business_share"]),
        "niche_years": band_max(bands["niche_years"]),
        "debt_ratio": band_max(bands["debt_ratio_below"]),
        "rd_investment": rd_max,
        "rd_staff_ratio": band_max(bands["rd_staff_ratio"]),
    }
    parts = tuple(ScorePart(code, points[code], maxima[code]) for code in points)
    return score_of(parts, facts.criteria["srdi_pass_mark"])


def navigator(facts: Facts) -> Outcome:
    checks = (
        prerequisite(facts),
        at_least(facts, "revenue_min", facts.figure("revenue"), "revenue_min", "CNY"),
        latest_rd_revenue(facts),
        manual(facts, "chain_leadership"),
    )
    return Outcome(checks)


def chain_leader(facts: Facts) -> Outcome:
    # The revenue bar depends on the industry's group; "other" industries have none.
    by_group = facts.criteria["revenue_min_by_group"]
    group = facts.subject.industry_group
    required = exact(by_group[group]) if group in by_group else None
    checks = (
        prerequisite(facts),
        compared(facts, "revenue_min", ">=", facts.figure("revenue"), required, "CNY"),
        latest_rd_revenue(facts),
        manual(facts, "chain_leadership"),
        manual(facts, "chain_chief_endorsement"),
    )
    return Outcome(checks)


RULES: dict[str, Callable[[Facts], Outcome]] = {
    "tech_sme": tech_sme,
    "high_tech": high_tech,
    "champion": champion,
    "navigator": navigator,
    "chain_leader": chain_leader,
}
