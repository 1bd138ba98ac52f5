"""The columns the reports share: their labels in the request's language, one column
per tier, and the totals row."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l

from registry.core.i18n import current_language
from registry.ladder.models import Tier
from registry.reports.report import Column, ColumnType

LABELS = {
    "tier": _l("Tier"),
    "quota": _l("Quota"),
    "holders": _l("Holders"),
    "reserved": _l("Reserved for promotions in notice"),
    "occupancy": _l("Occupied"),
    "remaining": _l("Remaining"),
    "percent_of_quota": _l("Percent of quota"),
    "city_code": _l("City"),
    "industry_code": _l("Industry"),
    "group": _l("Industry group"),
    "total": _l("Total"),
    "month": _l("Month"),
    "moved_on": _l("Moved on"),
    "moved_off": _l("Moved off"),
    "net": _l("Net change"),
    "target": _l("Target (quota)"),
}


def column(key: str, type_: ColumnType = "integer") -> Column:
    """A column labelled with :data:`LABELS` in the request's language."""
    return Column(key, str(LABELS[key]), type_)


def tier_columns(tiers: Sequence[Tier]) -> list[Column]:
    """One integer column per tier, keyed by its code, labelled with its name."""
    lang = current_language()
    return [Column(tier.code, tier.name(lang), "integer") for tier in tiers]


def column_totals(columns: Sequence[Column], rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Each integer or decimal column's sum over ``rows``; None for the others (text,
    months, and percents, which do not add up)."""
    rows = list(rows)
    return {
        c.key: sum(row[c.key] for row in rows) if c.type in ("integer", "decimal") else None
        for c in columns
    }
