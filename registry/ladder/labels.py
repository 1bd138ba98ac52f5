"""Words for eligibility checks on pages (the check labels themselves come with the
evaluation: ``eligibility.label``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import SQLAlchemyError

from registry.core.web import name_codes
from registry.enterprises.money import to_wan
from registry.extensions import db
from registry.ladder import eligibility
from registry.ladder.models import Tier

STATUS_TEXT = {
    "pass": _l("Met"),
    "fail": _l("Not met"),
    "unknown": _l("Figures missing"),
    "manual": _l("Reviewer decides"),
}
#: The champion rung's routes (DOMAIN.md "Tier criteria").
ROUTE_LABELS = {
    "srdi": _l("Specialised and innovative SME"),
    "single_champion": _l("Manufacturing single champion"),
}
#: The thresholds an admin edits on the web (``criteria_versions.editable_thresholds``
#: paths): what each one is, and its unit (money in 万元 on the page, 元 when stored).
THRESHOLD_LABELS: dict[str, tuple[Any, str]] = {
    "employees_max": (_l("Most employees"), "person"),
    "revenue_max": (_l("Highest annual revenue"), "CNY"),
    "total_assets_max": (_l("Highest total assets"), "CNY"),
    "pass_mark": (_l("Pass mark of the evaluation score"), "points"),
    "ip_class1_points": (_l("Points for class I intellectual property"), "points"),
    "registered_days": (_l("Fewest days since registration"), "days"),
    "tech_staff_ratio_min": (_l("Lowest technical staff share of employees"), "percent"),
    "rd_domestic_ratio_min": (_l("Lowest domestic share of R&D expense"), "percent"),
    "hightech_income_ratio_min": (_l("Lowest high-tech income share of total income"), "percent"),
    "innovation_score_min_exclusive": (_l("Innovation score to exceed"), "points"),
    "niche_years_min": (_l("Fewest years in the niche market"), "years"),
    "rd_expense_min": (_l("Lowest R&D expense"), "CNY"),
    "rd_revenue_ratio_min": (_l("Lowest R&D expense to revenue"), "percent"),
    "revenue_min": (_l("Lowest revenue"), "CNY"),
    "equity_financing_alternative": (
        _l("Lowest new equity financing in two years, instead of revenue"),
        "CNY",
    ),
    "srdi_pass_mark": (_l("Pass mark of the SRDI score"), "points"),
    "single_champion.years_in_field_min": (
        _l("Single champion: fewest years in the product's field"),
        "years",
    ),
    "single_champion.new_product_years_min": (
        _l("Single champion: fewest years for a new product"),
        "years",
    ),
    "single_champion.global_rank_max": (
        _l("Single champion: the world market rank to reach (top N)"),
        "count",
    ),
    "single_champion.product_revenue_share_min": (
        _l("Single champion: lowest product share of main-business revenue"),
        "percent",
    ),
    "single_champion.main_revenue_avg_min": (
        _l("Single champion: lowest average main-business revenue"),
        "CNY",
    ),
    "single_champion.main_revenue_avg_srdi_min": (
        _l("Single champion: lowest average main-business revenue of an SRDI enterprise"),
        "CNY",
    ),
    "revenue_min_by_group.advantage": (_l("Lowest revenue, advantage industries"), "CNY"),
    "revenue_min_by_group.growth": (_l("Lowest revenue, growth industries"), "CNY"),
    "revenue_min_by_group.future": (_l("Lowest revenue, future industries"), "CNY"),
}
OPERATORS = {">=": "≥", "<=": "≤", ">": ">"}
UNITS = {
    "person": _l("persons"),
    "CNY": _l("× 10,000 yuan"),
    "days": _l("days"),
    "years": _l("years"),
    "points": _l("points"),
}


def figure_text(value: int | float | None, unit: str | None) -> str:
    """A check's required or actual value with its unit (money in 万元, as entered)."""
    if value is None:
        return "—"
    if unit == "CNY":
        return f"{to_wan(value)} {UNITS[unit]}"
    number = format(Decimal(str(value)), ",f")
    if unit == "percent":
        return f"{number}%"
    return f"{number} {UNITS[unit]}" if unit in UNITS else number


@dataclass(frozen=True)
class CheckWords:
    """What a check asks (``required``) and what the enterprise has (``actual``), as a
    person reads them in the page's language."""

    required: str
    actual: str


def check_words(
    check: Mapping[str, Any],
    *,
    tier: str,
    score: Mapping[str, Any] | None,
    rank_names: Mapping[int, str],
    criteria: Mapping[str, Any] | None = None,
) -> CheckWords:
    """The words of one check of an evaluation (the API's Eligibility shape: a stored
    snapshot or :meth:`Evaluation.to_dict`), for the self-check and the reviewers' page.

    Figure checks read as their threshold and the figure. The rules that are not a
    comparison of two figures say what they are (DOMAIN.md "Tier criteria"): the
    prerequisite names the rung it needs and the one held rather than rank numbers, and
    the rules passed by a score or another route say which route the evaluation took.
    ``tier`` is the evaluated tier's code, ``rank_names`` names the rungs by rank;
    ``criteria`` (the tier's thresholds) adds the amount of an alternative route where
    the check itself does not carry it.
    """
    code, status = check["code"], check["status"]
    if code == "prerequisite":
        return _prerequisite_words(check, rank_names)
    if code == "tsme_score":
        return _tsme_score_words(check, score)
    if code == "srdi_score":
        return _srdi_score_words(check, score)
    if code == "revenue_min" and tier == "champion":
        return _champion_revenue_words(check, criteria)
    route = (criteria or {}).get("single_champion") or {}
    if code == "global_market_rank":
        return _rank_words(check)
    if code == "years_in_field":
        return _years_in_field_words(check, route)
    if code == "main_revenue_avg":
        return _main_revenue_words(check, route)
    shown_actual = status != "manual" or check.get("actual") is not None
    actual = figure_text(check.get("actual"), check.get("unit")) if shown_actual else ""
    return CheckWords(_threshold(check), actual)


def evaluation_words(
    evaluation: eligibility.Evaluation, *, tier: str, rank_names: Mapping[int, str]
) -> dict[str, CheckWords]:
    """The words of each check of an evaluation made now, by check code: the self-check
    and the enterprise's own application page say a rule alike."""
    shape = evaluation.to_dict()
    return {
        check["code"]: check_words(
            check,
            tier=tier,
            score=shape["score"],
            rank_names=rank_names,
            criteria=evaluation.criteria,
        )
        for check in shape["checks"]
    }


def _threshold(check: Mapping[str, Any]) -> str:
    if check.get("required") is None:
        return ""
    operator = OPERATORS.get(check.get("operator") or "", check.get("operator") or "")
    return f"{operator} {figure_text(check['required'], check.get('unit'))}".strip()


def _champion_revenue_words(
    check: Mapping[str, Any], criteria: Mapping[str, Any] | None
) -> CheckWords:
    # DOMAIN.md: revenue ≥ the threshold, or (manual) equity financing in two years.
    required = _threshold(check)
    equity = (criteria or {}).get("equity_financing_alternative")
    if equity is None:
        required = _("%(revenue)s, or new equity financing in two years", revenue=required)
    else:
        required = _(
            "%(revenue)s, or new equity financing of at least %(equity)s in two years",
            revenue=required,
            equity=figure_text(equity, "CNY"),
        )
    figure = figure_text(check.get("actual"), "CNY")
    if check["status"] == "pass":
        return CheckWords(required, _("%(figure)s: met by revenue", figure=figure))
    if check["status"] == "manual":
        return CheckWords(
            required,
            _(
                "%(figure)s, below the threshold: the reviewer checks the equity financing",
                figure=figure,
            ),
        )
    return CheckWords(required, figure)


def _rank_words(check: Mapping[str, Any]) -> CheckWords:
    # 制造业单项冠军: the product's world market rank; the reviewer confirms a rank that meets it.
    required = _("Among the top %(rank)s in the world", rank=check.get("required"))
    rank = check.get("actual")
    if rank is None:
        return CheckWords(required, "")
    if check["status"] == "manual":
        return CheckWords(required, _("Rank %(rank)s: the reviewer confirms it", rank=rank))
    return CheckWords(required, _("Rank %(rank)s", rank=rank))


def _years_in_field_words(check: Mapping[str, Any], route: Mapping[str, Any]) -> CheckWords:
    # At least the years for any product, or fewer (from a lower bound) for a new product.
    required = _(
        "At least %(years)s years, or %(new)s years for a new product",
        years=check.get("required"),
        new=route.get("new_product_years_min", "—"),
    )
    figure = figure_text(check.get("actual"), "years")
    if check["status"] == "manual" and check.get("alternative") == "new_product":
        return CheckWords(
            required, _("%(figure)s: the reviewer checks it is a new product", figure=figure)
        )
    if check["status"] == "manual":
        return CheckWords(required, _("%(figure)s: the reviewer confirms it", figure=figure))
    return CheckWords(required, "" if check.get("actual") is None else figure)


def _main_revenue_words(check: Mapping[str, Any], route: Mapping[str, Any]) -> CheckWords:
    # The full bar, or the lower one for a provincial or national SRDI enterprise.
    lower = route.get("main_revenue_avg_srdi_min")
    required = _threshold(check)
    if lower is not None:
        required = _(
            "%(amount)s, or %(lower)s for a provincial or national SRDI enterprise",
            amount=required,
            lower=figure_text(lower, "CNY"),
        )
    figure = figure_text(check.get("actual"), "CNY")
    if check["status"] == "manual":
        return CheckWords(
            required, _("%(figure)s: the reviewer checks the SRDI recognition", figure=figure)
        )
    return CheckWords(required, "" if check.get("actual") is None else figure)


def _prerequisite_words(check: Mapping[str, Any], rank_names: Mapping[int, str]) -> CheckWords:
    need, have = check.get("required"), check.get("actual")
    if need is None:
        return CheckWords(_("No prerequisite rung"), "")
    required = _("Holds %(tier)s or a higher rung", tier=rank_names.get(need, str(need)))
    held = rank_names.get(have, str(have)) if have is not None else None
    if check["status"] == "pass":
        actual = _("Yes: holds %(tier)s", tier=held)
    elif held is None:
        actual = _("No: off the ladder")
    else:
        actual = _("No: holds %(tier)s", tier=held)
    return CheckWords(required, actual)


def _staff_points(score: Mapping[str, Any] | None) -> int | None:
    parts = (score or {}).get("parts") or []
    return next((p.get("points") for p in parts if p.get("code") == "staff"), None)


def _tsme_score_words(check: Mapping[str, Any], score: Mapping[str, Any] | None) -> CheckWords:
    # DOMAIN.md: score ≥ pass mark and staff points > 0, or a direct pass (manual).
    mark, total = check.get("required"), check.get("actual")
    required = _(
        "At least %(mark)s of 100 points with technical staff points above 0, or a direct pass",
        mark=mark,
    )
    status = check["status"]
    if status == "pass":
        actual = _("%(total)s points: met by the score", total=total)
    elif status == "manual" and _staff_points(score) == 0:
        actual = _(
            "No technical staff points, so not by the score: the reviewer judges the direct pass"
        )
    elif status == "manual":
        actual = _(
            "%(total)s points, below %(mark)s: the reviewer judges the direct pass",
            total=total,
            mark=mark,
        )
    else:
        actual = "" if total is None else _("%(total)s points", total=total)
    return CheckWords(required, actual)


def _srdi_score_words(check: Mapping[str, Any], score: Mapping[str, Any] | None) -> CheckWords:
    # Always manual in this version: most SRDI items are never recorded as figures, so
    # the points the figures give are information, not the score (DOMAIN.md).
    required = _(
        "An SRDI score of at least %(mark)s of 100, or a direct route", mark=check.get("required")
    )
    parts = (score or {}).get("parts") or []
    total = (score or {}).get("total")
    if total is None:
        return CheckWords(required, _("The reviewer judges the score or the direct route"))
    return CheckWords(
        required,
        _(
            "The reviewer judges the score or the direct route; the recorded figures give "
            "%(points)s of the %(max)s points they can decide",
            points=total,
            max=sum(p.get("max") or 0 for p in parts),
        ),
    )


# --- codes in refusals ---------------------------------------------------------------


def _tier_name(code: str, lang: str) -> str | None:
    """A tier's name for its code in a refusal ("The quota of %(tier)s is full …"); None
    for a code of no tier (an unknown one a request sent)."""
    try:
        with db.session.no_autoflush:  # the refused operation's changes are not written
            tier = db.session.get(Tier, code)
    except (RuntimeError, SQLAlchemyError):  # outside an app context; a failed transaction
        return None
    return None if tier is None else tier.name(lang)


def _check_label(code: str, lang: str) -> str | None:
    """An eligibility check's label for its code in a refusal (the checks to confirm)."""
    return eligibility.label(code, lang) if code in eligibility.LABELS else None


name_codes(("tier", "current", "prerequisite"), _tier_name)
name_codes(("checks",), _check_label)
