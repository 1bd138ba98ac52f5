"""Words for eligibility checks on pages (the check labels themselves come with the
evaluation: ``eligibility.label``)."""

from __future__ import annotations

from decimal import Decimal

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
