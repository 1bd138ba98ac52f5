"""Words for eligibility checks on pages (the check labels themselves come with the
evaluation: ``eligibility.label``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from registry.enterprises.money import to_wan

STATUS_TEXT = {
    "pass": _l("Met"),
    "fail": _l("Not met"),
    "unknown": _l("Figures missing"),
    "manual": _l("Reviewer decides"),
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
    shown_actual = status != "manual" or check.get("actual") is not None
    actual = figure_text(check.get("actual"), check.get("unit")) if shown_actual else ""
    return CheckWords(_threshold(check), actual)


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
