"""The published list of a tier (PRODUCT.md "Web pages"): the enterprises holding it, in USCC
order, one keyset page at a time.

The query walks the ``(tier, uscc)`` index from the cursor (forwards, or backwards for
the page before) and stops after one page, so a deep page costs what the first does.
City, industry and search filters are checked on the rows of that walk: a tier holds
about its quota, while a city or an industry may hold a large share of a million
records. SQLite's statistics (after ``ANALYZE``) average over every enterprise, most of
them off the ladder, and can make the city index look the better choice; comparing
``column || ''`` keeps the planner off those indexes. For the same reason the number of
holders matching the filters may be counted: the count reads one tier's rows, at most
its quota, never the whole register.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    Select,
    bindparam,
    func,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.types import NullType

from registry.core.dbsession import DbSession
from registry.core.prepared import Prepared
from registry.enterprises.models import City, Enterprise, Industry
from registry.enterprises.queries import uscc_prefix, uscc_starts_with

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
    # The champion rung's route and the reviewer-confirmed "little giant" flag (null and
    # false on the other rungs).
    Enterprise.tier_route.label("route"),
    Enterprise.little_giant,
)


def search_condition(q: str) -> ColumnElement[bool]:
    """SQL: an enterprise found by ``q``: a part of its name (in either language, whatever
    the case of its letters), or the start of its USCC (typed in any case, with spaces)."""
    found = [
        Enterprise.name.icontains(q, autoescape=True),
        Enterprise.name_en.icontains(q, autoescape=True),
    ]
    prefix = uscc_prefix(q)
    if prefix:
        found.append(uscc_starts_with(prefix))
    return or_(*found)


def _filtered(
    stmt: Select,
    tier_code: str | ColumnElement[str],
    city: str | ColumnElement[str] | None,
    industry: str | ColumnElement[str] | None,
    q: str | None,
) -> Select:
    """``stmt`` with the filters; the values may be bound parameters (a prepared
    statement's), ``industry`` then :data:`OTHER_INDUSTRY` itself or a parameter."""
    stmt = stmt.where(Enterprise.tier == tier_code)
    if isinstance(city, ColumnElement) or city:
        stmt = stmt.where(Enterprise.city_code.concat("") == city)
    if isinstance(industry, str) and industry == OTHER_INDUSTRY:
        stmt = stmt.where(Enterprise.industry_code.is_(None))
    elif isinstance(industry, ColumnElement) or industry:
        stmt = stmt.where(Enterprise.industry_code.concat("") == industry)
    if q:
        stmt = stmt.where(search_condition(q))
    return stmt


def published_rows(
    session: DbSession,
    tier_code: str,
    *,
    limit: int,
    after: str | None = None,
    before: str | None = None,
    city: str | None = None,
    industry: str | None = None,
    q: str | None = None,
) -> list[Row]:
    """Up to ``limit`` holders of ``tier_code`` whose USCC sorts after ``after``, in USCC
    order; or, given ``before``, those whose USCC sorts before it, nearest first (the walk
    back to the previous page: the caller turns them round).

    ``industry`` may be :data:`OTHER_INDUSTRY` for enterprises without one; ``q`` searches
    (:func:`search_condition`). Rows carry the columns of :data:`LISTED_COLUMNS`; callers
    ask for one row more than a page to learn whether another page follows.
    """
    stmt = _filtered(select(*LISTED_COLUMNS), tier_code, city, industry, q)
    if before is not None:
        stmt = stmt.where(Enterprise.uscc < before).order_by(Enterprise.uscc.desc())
    else:
        if after is not None:
            stmt = stmt.where(Enterprise.uscc > after)
        stmt = stmt.order_by(Enterprise.uscc)
    return list(session.connection().execute(stmt.limit(limit)).all())


#: :data:`LISTED_COLUMNS` as the driver returns them (dates and instants as SQLite stores
#: them, or typed from PostgreSQL), for :func:`published_page`.
STORED_COLUMNS = tuple(
    type_coerce(column, NullType()).label(column.key) for column in LISTED_COLUMNS
)


def published_page(
    session: DbSession,
    tier_code: str,
    *,
    limit: int,
    after: str | None = None,
    city: str | None = None,
    industry: str | None = None,
) -> list[tuple]:
    """:func:`published_rows` without search or a walk back, as the API pages through
    them: rows of :data:`STORED_COLUMNS` (tuples) from a prepared statement."""
    values: dict[str, Any] = dict(
        tier=tier_code, after=after, limit=limit, city=city, industry=industry
    )
    kind = industry if industry in (None, OTHER_INDUSTRY) else "code"
    shape = (city is not None, kind, after is not None)
    return _PUBLISHED.rows(session.get_bind(), shape, values)


def _published_statement(city: bool, industry: str | None, after: bool) -> Select:
    stmt = _filtered(
        select(*STORED_COLUMNS),
        bindparam("tier"),
        bindparam("city") if city else None,
        bindparam("industry") if industry == "code" else industry,
        None,
    )
    if after:
        stmt = stmt.where(Enterprise.uscc > bindparam("after"))
    return stmt.order_by(Enterprise.uscc).limit(bindparam("limit", type_=Integer))


_PUBLISHED = Prepared(_published_statement)


def published_count(
    session: DbSession,
    tier_code: str,
    *,
    city: str | None = None,
    industry: str | None = None,
    q: str | None = None,
) -> int:
    """How many holders of ``tier_code`` the filters of :func:`published_rows` keep."""
    stmt = _filtered(select(func.count()).select_from(Enterprise), tier_code, city, industry, q)
    return session.scalar(stmt) or 0


def cities(session: DbSession) -> list[City]:
    """The seeded cities in code order (GB/T 2260 order, as the province lists them)."""
    return list(session.scalars(select(City).order_by(City.code)))


def industries(session: DbSession) -> list[Industry]:
    """The plan's industries in their seeded order."""
    return list(session.scalars(select(Industry).order_by(Industry.position, Industry.code)))
