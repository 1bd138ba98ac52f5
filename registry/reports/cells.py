"""A report's cells as people read them: the codes of its key columns (tier, city,
industry, industry group, and the rows ``unknown`` and ``other``) as names in the
request's language, and the totals row. The API keeps the codes (keys never change);
the downloads and the pages show these.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from registry.core.dbsession import DbSession
from registry.ladder import listing, queries
from registry.reports.ladder_reports import OTHER, UNKNOWN
from registry.reports.models import PlanTarget
from registry.reports.report import Report

GROUP_NAMES = {
    "advantage": _l("Advantage industries"),
    "growth": _l("Growth industries"),
    "future": _l("Future industries"),
}


@dataclass(frozen=True)
class Names:
    """Names by code, in one language, of what a report's key columns hold."""

    tiers: dict[str, str]
    cities: dict[str, str]
    industries: dict[str, str]

    def text(self, key: str, value: Any) -> Any:
        """The cell of column ``key`` as people read it: a name for a code, else the
        value itself (numbers stay numbers; a code no name is known for stays)."""
        if value is None:
            return None
        if key == "tier":
            return self.tiers.get(value, value)
        if key == "city_code":
            return _("Unknown") if value == UNKNOWN else self.cities.get(value, value)
        if key == "industry_code":
            if value == OTHER:
                return _("Other industries")
            if value == UNKNOWN:
                return _("Industry not in this registry")
            return self.industries.get(value, value)
        if key == "group":
            return str(GROUP_NAMES[value]) if value in GROUP_NAMES else value
        return value


def names(session: DbSession, lang: str) -> Names:
    """The names of tiers, cities and industries in ``lang``; a target shared by several
    industries (TCM and biomedicine) is named after them."""
    industries = {i.code: i.name(lang) for i in listing.industries(session)}
    for target in session.scalars(select(PlanTarget)):
        shared = [industries.get(code, code) for code in target.industries]
        if len(shared) > 1:
            industries[target.code] = (
                _("%(first)s and %(second)s", first=shared[0], second=shared[1])
                if len(shared) == 2
                else ", ".join(shared)
            )
    return Names(
        tiers=queries.tier_names(session, lang),
        cities={c.code: c.name(lang) for c in listing.cities(session)},
        industries=industries,
    )


def table(report: Report, names: Names) -> tuple[list[str], list[list[Any]]]:
    """The report as a table people read: the column labels, then each row's cells
    (withheld ones None) and, when the report has totals, a last row of them led by
    the word "Total"."""
    keys = [c.key for c in report.columns]
    rows = [[names.text(key, row.get(key)) for key in keys] for row in report.rows]
    if report.totals is not None:
        totals = [report.totals.get(key) for key in keys]
        totals[0] = _("Total")
        rows.append(totals)
    return [c.label for c in report.columns], rows
