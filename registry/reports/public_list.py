"""A tier's published list as people download it from its page (``/exports/tiers/<code>``).

The file speaks the page's language: column headers people read, the names of the city
and the industry beside their codes, and dates rather than instants — 认定日期 is the day
of grant and 有效期至 the last day of validity (the stored end is exclusive: a designation
of calendar year 2026 ends at 2027-01-01 00:00 Beijing time and is valid until
2026-12-31). The API's list and the ``export list`` command keep the API's field names
and values (API.md); cells go through the same writers, formulas neutralised, as every
download.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Connection

from registry.core.dbsession import DbSession
from registry.ladder import criteria_versions, dates, listing
from registry.ladder.labels import ROUTE_LABELS
from registry.reports import exports

#: The columns of the download, with their headers.
COLUMNS = (
    ("name", _l("Enterprise name")),
    ("name_en", _l("English name")),
    ("uscc", _l("USCC")),
    ("city_code", _l("City code")),
    ("city", _l("City")),
    ("industry_code", _l("Industry code")),
    ("industry", _l("Industry")),
    ("granted", _l("Granted on")),
    ("valid_until", _l("Valid until")),
    ("registration_number", _l("Registration no.")),
)
#: The champion rung's list adds the route of each grant and the little-giant flag.
ROUTE_COLUMNS = (("route", _l("Route")), ("little_giant", _l("Little giant")))


def header(tier: str) -> list[str]:
    """The column headers of ``tier``'s list in the current language."""
    extra = ROUTE_COLUMNS if tier == criteria_versions.ROUTED_TIER else ()
    return [str(label) for _name, label in (*COLUMNS, *extra)]


Names = tuple[dict[str, str], dict[str | None, str], dict[str, str]]


def area_names(session: DbSession, lang: str) -> Names:
    """City and industry names in ``lang`` by code (enterprises outside the plan's
    industries, no code, are "other industries", as on the page), and the words of the
    routes and of a little giant: read before the rows are streamed."""
    cities = {c.code: c.name(lang) for c in listing.cities(session)}
    industries: dict[str | None, str] = {i.code: i.name(lang) for i in listing.industries(session)}
    industries[None] = _("Other industries")
    words = {code: str(label) for code, label in ROUTE_LABELS.items()}
    words["little_giant"] = _("Yes")
    return cities, industries, words


def rows(
    connection: Connection,
    tier: str,
    filters: dict[str, str | None],
    names: Names,
) -> Iterator[list[Any]]:
    """The list's rows, filtered and searched as on the page (``city``, ``industry``,
    ``q``), each cell in the order of :data:`COLUMNS` (and :data:`ROUTE_COLUMNS` for the
    champion rung). A code the seed does not know
    (a mirrored record) keeps its code with an empty name."""
    cities, industries, words = names
    routed = tier == criteria_versions.ROUTED_TIER
    for row in exports.published_records(connection, tier, **filters):
        extra = [words.get(row.route or "", ""), words["little_giant"] if row.little_giant else ""]
        yield [
            row.name,
            row.name_en,
            row.uscc,
            row.city_code,
            cities.get(row.city_code or "", ""),
            row.industry_code,
            industries.get(row.industry_code, ""),
            row.tier_since,
            dates.last_day(row.tier_expires_at) if row.tier_expires_at else None,
            row.registration_number,
            *(extra if routed else []),
        ]
