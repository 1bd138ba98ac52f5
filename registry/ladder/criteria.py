"""The tier rules of DOMAIN.md "Tier criteria", applied to an enterprise's annual reports.

Pure Python: no Flask and no database. Thresholds are data (``seeds/criteria.json``,
handed in as ``TierRule.criteria``); this module holds only the logic. Comparisons are
exact: figures and thresholds become :class:`~fractions.Fraction`, so
``rd / revenue ≥ 5 %`` is decided as ``rd × 100 ≥ revenue × 5`` and never in floating
point. :mod:`registry.ladder.eligibility` runs these rules and is the public entry point.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import replace
from fractions import Fraction
from typing import Any

from registry.ladder.checks import (
    Check,
    Facts,
    Outcome,
    Score,
    ScorePart,
    Status,
    at_least,
    at_most,
    band_max,
    band_points,
    below_points,
    best_of,
    compared,
    confirmed,
    exact,
    manual,
    or_alternative,
    percent,
    score_of,
    total,
)


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
    """The third rung by its route: 专精特新 (``srdi``, the default) or 制造业单项冠军
    (``single_champion``). ``global_market_rank`` is shown to reviewers on both."""
    rank = None if facts.latest is None else facts.latest.global_market_rank
    if facts.tier.route == "single_champion":
        return Outcome(_single_champion(facts), None, {"global_market_rank": rank})
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
    return Outcome(checks, score, {"global_market_rank": rank})


def _single_champion(facts: Facts) -> tuple[Check, ...]:
    """Route ``single_champion``, thresholds under ``criteria["single_champion"]``: the
    recorded rank and years pass to the reviewer to confirm; a new product's shorter
    field years are an alternative the reviewer judges; the product's revenue share and
    the average main-business revenue are checked where the version sets them."""
    c, fig = facts.criteria["single_champion"], facts.figure
    rank = compared(
        facts,
        "global_market_rank",
        "<=",
        fig("global_market_rank"),
        exact(c["global_rank_max"]),
        "count",
    )
    checks = [
        prerequisite(facts),
        manual(facts, "manufacturing"),
        confirmed(rank),
        _years_in_field(facts, c),
    ]
    if c.get("product_revenue_share_min") is not None:
        share = fig("product_revenue_share")
        required = exact(c["product_revenue_share_min"])
        checks.append(compared(facts, "product_revenue_share", ">=", share, required, "percent"))
    if c.get("main_revenue_avg_min") is not None:
        checks.append(_main_revenue_average(facts, c))
    return tuple(checks)


def _years_in_field(facts: Facts, c: Mapping[str, Any]) -> Check:
    years = facts.figure("years_in_field")
    check = compared(facts, "years_in_field", ">=", years, exact(c["years_in_field_min"]), "years")
    if check.status == "fail" and years is not None and years >= exact(c["new_product_years_min"]):
        return replace(check, status="manual", alternative="new_product")
    return confirmed(check)


def _main_revenue_average(facts: Facts, c: Mapping[str, Any]) -> Check:
    """Main-business revenue (revenue × main-business share) averaged over the years
    latest−2 … latest on file; from the lower bar for a 专精特新 enterprise up to the
    full bar, that alternative goes to the reviewer."""
    per_year = [
        None
        if r.revenue is None or r.main_business_share is None
        else exact(r.revenue) * exact(r.main_business_share) / 100
        for r in facts.window
    ]
    known = [v for v in per_year if v is not None]
    average = (
        sum(known, Fraction(0)) / len(known) if known and len(known) == len(per_year) else None
    )
    check = compared(
        facts, "main_revenue_avg", ">=", average, exact(c["main_revenue_avg_min"]), "CNY"
    )
    if average is not None:  # shown in whole 元, rounded toward failing (as_read's side)
        check = replace(check, actual=math.floor(average))
    lower = c.get("main_revenue_avg_srdi_min")
    if (
        check.status == "fail"
        and lower is not None
        and average is not None
        and average >= exact(lower)
    ):
        return replace(check, status="manual", alternative="srdi_enterprise")
    return check


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
