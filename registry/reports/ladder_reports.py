"""The reports on the ladder as it stands and moves (PRODUCT.md §8, API.md "Report"):
``quota``, ``tier-by-city``, ``tier-by-industry``, ``pipeline`` and ``moves``.

Each is built from the statistics' queries (:mod:`registry.reports.stats`), so the
figures are those of ``GET /api/v1/stats`` laid out as a table: keys as API.md names
them, labels and titles in the request's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from registry.applications.models import OPEN_STATES, State
from registry.core import clock
from registry.core.dbsession import DbSession
from registry.enterprises.models import Enterprise
from registry.ladder import listing, queries
from registry.ladder.models import Tier
from registry.reports import stats
from registry.reports.columns import column, column_totals, tier_columns
from registry.reports.report import Column, Report

#: The row of holders whose city or industry code the seed does not know (a mirrored
#: record), or who give no city; and of holders outside the plan's industries.
UNKNOWN, OTHER = "unknown", "other"

TITLES = {
    "quota": _l("Quotas and holders per tier"),
    "tier-by-city": _l("Holders per tier and city"),
    "tier-by-industry": _l("Holders per tier and industry"),
    "pipeline": _l("Open applications per tier and state"),
    "moves": _l("Moves onto and off each tier per month"),
}
STATE_LABELS = {
    State.DRAFT: _l("Draft"),
    State.SUBMITTED: _l("Submitted"),
    State.IN_REVIEW: _l("In review"),
    State.CHANGES_REQUESTED: _l("Changes requested"),
    State.IN_NOTICE: _l("In notice"),
}


def _report(
    name: str,
    columns: list[Column],
    rows: list[dict[str, Any]],
    *notes: LazyString,
    as_of: datetime | None = None,
) -> Report:
    """Report ``name`` with its title, its table and the table's column totals: as of
    ``as_of``, or now."""
    return Report(
        name=name,
        title=str(TITLES[name]),
        as_of=as_of or clock.now(),
        columns=columns,
        rows=rows,
        totals=column_totals(columns, rows),
        notes=[str(note) for note in notes],
    )


def quota(session: DbSession) -> Report:
    """Per tier, by rank: its quota, holders, slots reserved for promotions in notice,
    occupancy, what remains and the percent of the quota taken (the home page's bars)."""
    columns = [
        column("tier", "string"),
        column("quota"),
        column("holders"),
        column("reserved"),
        column("occupancy"),
        column("remaining"),
        column("percent_of_quota", "percent"),
    ]
    rows = [
        {
            "tier": load.code,
            "quota": load.quota,
            "holders": load.holders,
            "reserved": load.reserved,
            "occupancy": load.occupancy,
            "remaining": load.remaining,
            "percent_of_quota": load.percent_of_quota,
        }
        for load in stats.tier_loads(session)
    ]
    return _report(
        "quota",
        columns,
        rows,
        _l(
            "An enterprise counts only on its current rung: these are the "
            "registry's counts, not the plan's statistical counts."
        ),
        _l("Occupied = holders + places reserved for promotions in their notice."),
    )


def _crosstab(
    key: str, row_keys: Sequence[str], counts: Iterable[stats.HolderCount], tiers: Sequence[Tier]
) -> list[dict[str, Any]]:
    """Rows of ``row_keys`` (in that order) × one column per tier, zeros included, with
    each row's ``total``; a count whose code is not among the rows goes to ``unknown``."""
    rows: dict[str, dict[str, Any]] = {
        code: {key: code, **{t.code: 0 for t in tiers}, "total": 0} for code in row_keys
    }
    for count in counts:
        row = rows[count.code if count.code in rows else UNKNOWN]
        row[count.tier] = row.get(count.tier, 0) + count.holders
        row["total"] += count.holders
    return list(rows.values())


def tier_by_city(session: DbSession) -> Report:
    """Holders per city (the 11 by code, then ``unknown``: none given, or a code the seed
    does not know) and tier, with row and column totals."""
    tiers = queries.tiers(session)
    columns = [column("city_code", "string"), *tier_columns(tiers), column("total")]
    cities = [c.code for c in listing.cities(session)]
    rows = _crosstab(
        "city_code", [*cities, UNKNOWN], stats.holders_by(session, Enterprise.city_code), tiers
    )
    return _report(
        "tier-by-city",
        columns,
        rows,
        _l("Unknown: holders who give no city, or a city not in this registry."),
    )


def tier_by_industry(session: DbSession) -> Report:
    """Holders per industry (the plan's 15 in their groups' order, then ``other`` for
    none, ``unknown`` for a code the seed does not know) and tier, with totals."""
    tiers = queries.tiers(session)
    columns = [
        column("industry_code", "string"),
        column("group", "string"),
        *tier_columns(tiers),
        column("total"),
    ]
    industries = listing.industries(session)
    counts = [
        stats.HolderCount(c.tier, OTHER if c.code is None else c.code, c.holders)
        for c in stats.holders_by(session, Enterprise.industry_code)
    ]
    rows = _crosstab(
        "industry_code", [*(i.code for i in industries), OTHER, UNKNOWN], counts, tiers
    )
    groups: dict[str, str | None] = {i.code: i.group for i in industries}
    rows = [
        {"industry_code": r["industry_code"], "group": groups.get(r["industry_code"]), **r}
        for r in rows
    ]
    return _report(
        "tier-by-industry",
        columns,
        rows,
        _l(
            "Other: holders outside the plan's industries. Unknown: an industry "
            "not in this registry."
        ),
    )


def pipeline(session: DbSession) -> Report:
    """Open applications per tier (rows) and state (draft, submitted, in review, changes
    requested, in notice), with totals; closed applications are history."""
    states = [str(s) for s in OPEN_STATES]
    columns = [
        column("tier", "string"),
        *(Column(str(s), str(STATE_LABELS[s]), "integer") for s in OPEN_STATES),
        column("total"),
    ]
    rows: dict[str, dict[str, Any]] = {}
    for count in stats.pipeline(session):
        row = rows.setdefault(count.tier, {"tier": count.tier, **dict.fromkeys(states, 0)})
        row[count.state] = count.count
    for row in rows.values():
        row["total"] = sum(row[s] for s in states)
    return _report("pipeline", columns, list(rows.values()))


def moves(session: DbSession) -> Report:
    """Per month (Beijing time; the 23 complete months before the current one, then the
    current one, oldest first) and tier: the moves onto it, off it, and the net change."""
    columns = [
        column("month", "month"),
        column("tier", "string"),
        column("moved_on"),
        column("moved_off"),
        column("net"),
    ]
    as_of = clock.now()
    rows = [
        {
            "month": flow.month,
            "tier": flow.tier,
            "moved_on": flow.grants,
            "moved_off": flow.lapses,
            "net": flow.grants - flow.lapses,
        }
        for flow in stats.monthly(session, as_of)
    ]
    return _report(
        "moves",
        columns,
        rows,
        _l(
            "Moved on: a designation, or a demotion onto the tier. Moved off: an "
            "expiry, a revocation, a demotion from the tier or a promotion to a "
            "higher one. A renewal is no move. The current month is not complete."
        ),
        as_of=as_of,
    )
