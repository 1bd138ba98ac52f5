"""The published list of a tier (PRODUCT.md "Web pages"): the enterprises holding it, in USCC
order, one keyset page at a time.

The query walks the ``(tier, uscc)`` index from the cursor and stops after one page,
so a deep page costs what the first does. City and industry filters are checked on the
rows of that walk: a tier holds about its quota, while a city or an industry may hold a
large share of a million records. SQLite's statistics (after ``ANALYZE``) average over
every enterprise, most of them off the ladder, and can make the city index look the
better choice; comparing ``column || ''`` keeps the planner off those indexes.
"""

from __future__ import annotations

from sqlalchemy import Row, select

from registry.core.dbsession import DbSession
from registry.enterprises.models import City, Enterprise, Industry

#: The industry filter value for enterprises outside the plan's industries (null).
OTHER_INDUSTRY = "none"

LISTED_COLUMNS = (
    Enterprise.uscc,
    Enterprise.name,
    Enterprise.name_en,
    Enterprise.city_code,
    Enterprise.industry_code,
    Enterprise.tier_since,
    Enterprise.tier_expires_at,
    Enterprise.registration_number,
)


def published_rows(
    session: DbSession,
    tier_code: str,
    *,
    limit: int,
    after: str | None = None,
    city: str | None = None,
    industry: str | None = None,
) -> list[Row]:
    """Up to ``limit`` holders of ``tier_code`` whose USCC sorts after ``after``.

    ``industry`` may be :data:`OTHER_INDUSTRY` for enterprises without one. Rows carry
    the columns of :data:`LISTED_COLUMNS`; callers ask for one row more than a page to
    learn whether another page follows.
    """
    stmt = select(*LISTED_COLUMNS).where(Enterprise.tier == tier_code)
    if after is not None:
        stmt = stmt.where(Enterprise.uscc > after)
    if city:
        stmt = stmt.where(Enterprise.city_code.concat("") == city)
    if industry == OTHER_INDUSTRY:
        stmt = stmt.where(Enterprise.industry_code.is_(None))
    elif industry:
        stmt = stmt.where(Enterprise.industry_code.concat("") == industry)
    return list(session.execute(stmt.order_by(Enterprise.uscc).limit(limit)))


def cities(session: DbSession) -> list[City]:
    """The seeded cities in code order (GB/T 2260 order, as the province lists them)."""
    return list(session.scalars(select(City).order_by(City.code)))


def industries(session: DbSession) -> list[Industry]:
    """The plan's industries in their seeded order."""
    return list(session.scalars(select(Industry).order_by(Industry.position, Industry.code)))
