"""The words a chart writes for the codes in a report's rows: tier, city and industry
names in the page's language (data, from the seeded tables), and the few groupings the
plan makes that are not rows of those tables (the industry groups, TCM with
biomedicine, other and unknown)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from registry.core.dbsession import DbSession
from registry.enterprises import queries as enterprise_queries
from registry.ladder import queries as ladder_queries

#: The plan's three industry groups, in its order.
GROUPS = {
    "advantage": _l("Advantage industries"),
    "growth": _l("Growth industries"),
    "future": _l("Future industries"),
}
#: Rows of the reports that are not a seeded industry.
OTHER_INDUSTRIES = {
    "tcm_biomedicine": _l("Chinese medicine and biomedicine"),
    "other": _l("No emerging industry"),
    "unknown": _l("Industry not on the list"),
}
#: The heading of the rows outside the plan's groups (other, unknown).
OTHER_GROUP = _l("Other")
UNKNOWN_CITY = _l("City not on the list")


@dataclass(frozen=True)
class Names:
    """Names by code, each in the page's language; ``tiers`` in rank order."""

    tiers: Mapping[str, str]
    cities: Mapping[str, str]
    industries: Mapping[str, str]

    def tier(self, code: str) -> str:
        return self.tiers.get(code, code)

    def scope(self, column: str) -> str:
        """The rungs a chart of one column shows: a tier's name, or all of them for the
        ``total`` column."""
        return _("all rungs") if column == "total" else self.tier(column)

    def city(self, code: str | None) -> str:
        name = self.cities.get(code or "")
        return name if name is not None else str(UNKNOWN_CITY)

    def industry(self, code: str | None) -> str:
        if code is not None and code in self.industries:
            return self.industries[code]
        return str(OTHER_INDUSTRIES[code if code in OTHER_INDUSTRIES else "unknown"])

    @staticmethod
    def group(code: str | None) -> str:
        return str(GROUPS[code]) if code in GROUPS else str(OTHER_GROUP)


def chart_names(session: DbSession, lang: str) -> Names:
    """The names of every tier, city and industry in ``lang``, for a page's charts."""
    return Names(
        tiers=ladder_queries.tier_names(session, lang),
        cities={city.code: city.name(lang) for city in enterprise_queries.cities(session)},
        industries={i.code: i.name(lang) for i in enterprise_queries.industries(session)},
    )
