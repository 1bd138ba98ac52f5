"""``GET /enterprises`` (API.md): the list clients page through, by USCC or, with
``updated_after``, by (updated_at, uscc). Filters ``tier``, ``city`` and ``industry``
(repeating one ORs its values; ``none``: no tier, none of the plan's industries),
``status`` and ``q`` (a USCC prefix, or else a name prefix). Enterprise callers see only
their own.

The hot path of the API (QUALITY.md P1): its statements are prepared
(:mod:`registry.core.prepared`), one per shape of the request, and each listed
enterprise is written by the feed's serializer from the stored values, equal to the
output schema's dump (tests/enterprises/test_serializer_properties.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    bindparam,
    literal_column,
    or_,
    select,
    tuple_,
    type_coerce,
    union_all,
)
from sqlalchemy.types import NullType

from registry.core.api import caller_columns, documented, requires
from registry.core.api_lists import bad_cursor, list_schema, page_cursor, raw_list_body
from registry.core.errors import ValidationFailed, refusal
from registry.core.pagination import page_of
from registry.core.prepared import Prepared
from registry.core.schemas import stored_datetime, stored_rfc3339
from registry.enterprises import api_schemas as schemas
from registry.enterprises import queries
from registry.enterprises.api import blp
from registry.enterprises.batches import ENTERPRISE_FIELDS
from registry.enterprises.feed_json import enterprise_json
from registry.enterprises.models import City, Enterprise, Industry, Status
from registry.enterprises.schemas import EnterpriseOut
from registry.extensions import db

#: The filter value for "no tier" and "none of the plan's industries".
NONE = "none"
#: Filters walked as the leading column of an ``(x, uscc)`` index when the list is
#: ordered by USCC: the first one given drives the query.
WALKED = {
    "tier": Enterprise.tier,
    "city": Enterprise.city_code,
    "industry": Enterprise.industry_code,
}
#: The column of the codes each filter accepts, and whether it accepts "none" too.
KNOWN = {
    "tier": (queries.TIER_CODE, True),
    "city": (City.code, False),
    "industry": (Industry.code, True),
}
#: The columns of a listed enterprise: the feed serializer's values, then version and
#: the two timestamps, as the driver returns them (the serializer reads SQLite's stored
#: text as it is).
COLUMNS = (*ENTERPRISE_FIELDS, "version", "created_at", "updated_at")
LISTED = select(
    *(type_coerce(Enterprise.__table__.c[name], NullType()).label(name) for name in COLUMNS)
)
USCC, UPDATED = 0, len(COLUMNS) - 1  # positions in a listed row


@blp.get("/enterprises")
@requires("registry:read")
@blp.arguments(schemas.EnterpriseListArgs, location="query")
@blp.response(200, list_schema(EnterpriseOut, "EnterpriseList"))
@documented(blp, (422, "A filter value or the cursor is not valid"))
def list_enterprises(args: dict[str, Any]) -> Response:
    """Enterprises by USCC, or with ``updated_after`` by (updated_at, uscc). Repeating a
    filter ORs its values. Enterprise callers see only their own."""
    by_update = args.get("updated_after") is not None
    filters = _filter_values(args)
    walked = None if by_update else next(iter(filters), None)
    shape, values = _shape_and_values(args, filters, walked)
    values["limit"] = args["limit"] + 1
    # One walk of the index per value of the driving filter, each stopping after a page,
    # so a deep page costs what the first does however many values are asked for; the
    # walks are one statement (one consistent read), their rows merged by it.
    walks = filters[walked] if walked else []
    values.update((f"walk{i}", value) for i, value in enumerate(walks) if value != NONE)
    shape = (walked, tuple(value == NONE for value in walks), *shape)
    rows = _LIST.rows(db.engine, shape, values)

    def cursor_for(row: tuple) -> tuple:
        if by_update:
            return (stored_datetime(row[UPDATED]).isoformat(), row[USCC])
        return (row[USCC],)

    page = page_of(rows, args["limit"], cursor_for)
    return raw_list_body([_listed_json(row) for row in page.items], page.next_cursor)


def _listed_json(row: tuple) -> bytes:
    return enterprise_json(row[:-3], stored_rfc3339(row[-2]), stored_rfc3339(row[-1]), row[-3])


def _filter_values(args: dict) -> dict[str, list[str]]:
    """The tier, city and industry filters, each value checked (unknown → 422)."""
    filters = {name: list(dict.fromkeys(args[name])) for name in WALKED if args.get(name)}
    errors = []
    for name, values in filters.items():
        column, none_too = KNOWN[name]
        errors += [
            refusal(name, "invalid_choice", "Unknown %(name)s %(value)r.", name=name, value=value)
            for value in queries.unknown_codes(
                db.session, column, [v for v in values if not (none_too and v == NONE)]
            )
        ]
    if errors:
        raise ValidationFailed("Some values sent are not valid.", errors=errors)
    return filters


def _shape_and_values(
    args: dict, filters: dict[str, list[str]], walked: str | None
) -> tuple[tuple, dict[str, Any]]:
    """The request's shape (what :func:`_statement` builds from, after the walked filter)
    and the values its statement binds."""
    values: dict[str, Any] = {}
    user = caller_columns()
    own = not user.is_reviewer
    if own:
        values["own"] = user.enterprise_id  # none: the statement finds nothing
    others = []
    for name, codes in filters.items():
        if name != walked:
            named = [code for code in codes if code != NONE]
            values.update((f"{name}{i}", code) for i, code in enumerate(named))
            others.append((name, len(named), NONE in codes))
    statuses = args.get("status") or []
    values.update((f"status{i}", Status(status)) for i, status in enumerate(statuses))
    search = None
    text = (args.get("q") or "").strip()
    if text:
        prefix = queries.uscc_prefix(text)
        if prefix:
            search = "uscc"
            values["low"], values["high"] = queries.uscc_bounds(prefix)
        else:
            values["like"] = queries.like_prefix(text)
            bounds = queries.name_bounds(db.session, text)
            search = "name" if bounds is None else "name_range"
            if bounds is not None:
                values["low"], values["high"] = bounds
    start = _start(args["after"], args.get("updated_after"), values)
    by_update = args.get("updated_after") is not None
    return (by_update, own, tuple(others), len(statuses), search, start), values


def _start(raw: str | None, updated_after: datetime | None, values: dict[str, Any]) -> str | None:
    """Where the page starts, as one range of the index walked: after the cursor ``raw``
    in the list's order (``"after"``), and after ``updated_after`` (exclusive) when
    given (``"updated"``, or ``"pair"`` from the cursor's (updated_at, uscc))."""
    if updated_after is None:
        cursor = page_cursor(raw, str)
        if cursor is None:
            return None
        values["after"] = cursor[0]
        return "after"
    cursor = page_cursor(raw, str, str)
    values["updated_after"] = updated_after
    if cursor is None:
        return "updated"
    try:
        at = datetime.fromisoformat(cursor[0])
    except ValueError:
        raise bad_cursor() from None
    if at.tzinfo is None:
        raise bad_cursor()
    if at <= updated_after:
        # Every row after updated_after is after the cursor too.
        return "updated"
    # Every row after the cursor is after updated_after too; one condition keeps the
    # walk on the (updated_at, uscc) index starting at the cursor.
    values["at"], values["at_uscc"] = at, cursor[1]
    return "pair"


def _statement(
    walked: str | None,
    walks: tuple[bool, ...],
    by_update: bool,
    own: bool,
    others: tuple[tuple[str, int, bool], ...],
    statuses: int,
    search: str | None,
    start: str | None,
) -> Select | CompoundSelect:
    """The list's SELECT for one shape, its values bound by name (:func:`_shape_and_values`):
    with a ``walked`` filter, one walk of its index per value (``walks``: whether each is
    ``none``), ``UNION ALL`` of the walks in the list's order."""
    conditions: list[ColumnElement[bool]] = []
    if own:
        conditions.append(Enterprise.id == bindparam("own"))
    for name, count, none_too in others:
        # Compared as ``column || ''``, which keeps the planner on the walked index (see
        # ``registry.ladder.listing``).
        target = WALKED[name].concat("")
        parts = [target.in_([bindparam(f"{name}{i}") for i in range(count)])] if count else []
        conditions.append(or_(*parts, *([target.is_(None)] if none_too else [])))
    if statuses:
        status = Enterprise.status
        conditions.append(
            status.in_([bindparam(f"status{i}", type_=status.type) for i in range(statuses)])
        )
    bounds: tuple[Any, Any] = (bindparam("low"), bindparam("high"))
    if search == "uscc":
        conditions.append(queries.uscc_between(*bounds))
    elif search is not None:
        ranged = bounds if search == "name_range" else None
        conditions.append(queries.name_like(bindparam("like"), ranged))
    conditions += _start_conditions(start)
    key = (Enterprise.updated_at, Enterprise.uscc) if by_update else (Enterprise.uscc,)
    limit = bindparam("limit", type_=Integer)
    stmt = LISTED.where(*conditions).order_by(*key).limit(limit)
    if walked is None:
        return stmt
    column = WALKED[walked]
    each = [
        stmt.where(column.is_(None) if none else column == bindparam(f"walk{i}"))
        for i, none in enumerate(walks)
    ]
    if len(each) == 1:
        return each[0]
    merged = union_all(*(walk.subquery(f"walk{i}").select() for i, walk in enumerate(each)))
    return merged.order_by(literal_column("uscc")).limit(limit)


def _start_conditions(start: str | None) -> list[ColumnElement[bool]]:
    updated_at = Enterprise.updated_at
    if start == "after":
        return [Enterprise.uscc > bindparam("after")]
    if start == "updated":
        return [updated_at > bindparam("updated_after", type_=updated_at.type)]
    if start == "pair":
        at = bindparam("at", type_=updated_at.type)
        return [tuple_(updated_at, Enterprise.uscc) > tuple_(at, bindparam("at_uscc"))]
    return []


_LIST = Prepared(_statement)
