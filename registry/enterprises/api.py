"""Enterprises in the REST API (API.md): the list, one record with its ``ETag``, full
replacement (PUT, which also creates) and JSON Merge Patch. What lies under one
enterprise is in :mod:`registry.enterprises.api_annual_reports` (annual reports) and
:mod:`registry.ladder.api_enterprise` (eligibility, tier events, demotions,
revocations). Every change goes through the operations the web pages use; responses are
the feed's representations, so the API shows what the feed does.

Rights (API.md's table): reading needs ``registry:read``, writing ``registry:write``.
An enterprise's users see and change only their own enterprise and its reports (another
one is 404 with nothing of it in the body, QUALITY.md S1), never its ``status`` and
never create an enterprise (403). Reviewers and admins see everything and write any
local record; a mirrored one is 409 ``read_only_origin``. Demotions and revocations need
``workflow:review``.

Writes check, in API.md's order: 401 → 403 → 413/415 → 404 → 400 → 428 → 412 → 422 →
409; the version check is part of the write itself (``registry.core.preconditions``).
"""

from __future__ import annotations

import functools
import heapq
import itertools
from datetime import datetime
from typing import Any

from flask import Response, request, url_for
from sqlalchemy import (
    ColumnElement,
    Row,
    false,
    literal,
    or_,
    select,
    tuple_,
    type_coerce,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.types import NullType

from registry.core import clock
from registry.core.api import (
    API_PREFIX,
    ApiBlueprint,
    View,
    api_actor,
    caller,
    documented,
    loads,
    requires,
)
from registry.core.api_lists import (
    bad_cursor,
    list_schema,
    page_cursor,
    raw_list_body,
)
from registry.core.errors import (
    Forbidden,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
    field_error,
    found,
    refusal,
)
from registry.core.pagination import page_of
from registry.core.preconditions import conditional_write, tagged
from registry.core.schemas import stored_datetime, stored_rfc3339
from registry.enterprises import api_schemas as schemas
from registry.enterprises import operations, queries
from registry.enterprises.api_schemas import normalised_uscc
from registry.enterprises.batches import ENTERPRISE_FIELDS
from registry.enterprises.feed_json import enterprise_data
from registry.enterprises.models import City, Enterprise, Industry, Status
from registry.enterprises.schemas import EnterpriseOut
from registry.extensions import db

blp = ApiBlueprint(
    "enterprises_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Enterprises.",
)

#: The filter value for "no tier" and "none of the plan's industries".
NONE = "none"
#: Filters walked as the leading column of an ``(x, uscc)`` index when the list is
#: ordered by USCC: the first one given drives the query.
WALKED = {
    "tier": Enterprise.tier,
    "city": Enterprise.city_code,
    "industry": Enterprise.industry_code,
}
NOT_VISIBLE = (404, "No such enterprise (or not the caller's)")
WRITE_ERRORS = (
    (403, "An enterprise's users never create an enterprise"),
    NOT_VISIBLE,
    (409, "read_only_origin: the record is mirrored from a sync source"),
    (412, "If-Match names another version, or If-None-Match: * and the record exists"),
    (422, "The body is not valid"),
    (428, "Neither If-Match nor If-None-Match: *"),
)


def visible_enterprise(code: str | None) -> Enterprise | None:
    """The enterprise with this code if the caller may see it (an enterprise's users:
    their own only)."""
    if code is None:
        return None
    enterprise = db.session.scalars(select(Enterprise).where(Enterprise.uscc == code)).first()
    user = caller()
    if enterprise is None or not (user.is_reviewer or enterprise.id == user.enterprise_id):
        return None
    return enterprise


def _visible_or_404(raw: str) -> Enterprise:
    # The same answer for an unknown code and another enterprise's (S1).
    return found(visible_enterprise(normalised_uscc(raw)), "No such enterprise.")


#: The route's ``uscc`` → ``enterprise`` (404 first: before the body).
with_enterprise = loads("uscc", "enterprise", _visible_or_404)


def known_tier(field: str, code: str) -> str:
    """``code`` if it names a tier, else 422 on ``field``."""
    if code not in queries.tier_codes(db.session):
        raise field_error(field, "invalid_choice", "Unknown tier %(tier)s.", tier=code)
    return code


# --- the list -----------------------------------------------------------------------------


#: The column of the codes each filter accepts, and whether it accepts "none" too.
KNOWN = {
    "tier": (queries.TIER_CODE, True),
    "city": (City.code, False),
    "industry": (Industry.code, True),
}


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


def _one_of(
    column: InstrumentedAttribute[str | None], values: list[str], *, walked: bool
) -> ColumnElement[bool]:
    """SQL: ``column`` holds one of ``values`` (``none``: null). A column that is not
    the one walked is compared as ``column || ''``, which keeps the planner on the
    walked index (see ``registry.ladder.listing``)."""
    target = column if walked else column.concat("")
    codes = [v for v in values if v != NONE]
    parts = [target.in_(codes)] if codes else []
    if NONE in values:
        parts.append(target.is_(None))
    return or_(*parts)


def _list_conditions(args: dict, filters: dict[str, list[str]], walked: str | None) -> list:
    user = caller()
    conditions = []
    if not user.is_reviewer:
        own = user.enterprise_id
        conditions.append(Enterprise.id == own if own else false())
    for name, values in filters.items():
        if name != walked:
            conditions.append(_one_of(WALKED[name], values, walked=False))
    if args.get("status"):
        conditions.append(Enterprise.status.in_([Status(s) for s in args["status"]]))
    text = (args.get("q") or "").strip()
    if text:
        prefix = queries.uscc_prefix(text)
        conditions.append(
            queries.uscc_starts_with(prefix)
            if prefix
            else queries.name_starts_with(db.session, text)
        )
    return conditions


def _start(raw: str | None, updated_after: datetime | None) -> ColumnElement[bool] | None:
    """SQL: where the page starts, as one range of the index walked: after the cursor
    ``raw`` in the list's order, and after ``updated_after`` (exclusive) when given."""
    if updated_after is None:
        values = page_cursor(raw, str)
        return None if values is None else Enterprise.uscc > values[0]
    values = page_cursor(raw, str, str)
    if values is None:
        return Enterprise.updated_at > updated_after
    try:
        at = datetime.fromisoformat(values[0])
    except ValueError:
        raise bad_cursor() from None
    if at.tzinfo is None:
        raise bad_cursor()
    if at <= updated_after:
        # Every row after updated_after is after the cursor too.
        return Enterprise.updated_at > updated_after
    # Every row after the cursor is after updated_after too; one condition keeps the
    # walk on the (updated_at, uscc) index starting at the cursor.
    after = (literal(at, Enterprise.updated_at.type), literal(values[1]))
    return tuple_(Enterprise.updated_at, Enterprise.uscc) > tuple_(*after)


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
    conditions = _list_conditions(args, filters, walked)
    start = _start(args["after"], args.get("updated_after"))
    if start is not None:
        conditions.append(start)
    key = (Enterprise.updated_at, Enterprise.uscc) if by_update else (Enterprise.uscc,)
    stmt = LISTED.where(*conditions).order_by(*key).limit(args["limit"] + 1)
    # One walk of the index per value of the driving filter, merged: each stops after a
    # page, so a deep page costs what the first does however many values are asked for.
    walks = [stmt]
    if walked:
        column = WALKED[walked]
        walks = [stmt.where(_one_of(column, [value], walked=True)) for value in filters[walked]]

    def sort_key(row: Row) -> tuple:
        # Stored timestamps order as their instants: SQLite's fixed-width UTC text, or
        # PostgreSQL's datetimes.
        return (row.updated_at, row.uscc) if by_update else (row.uscc,)

    def cursor_for(row: Row) -> tuple:
        if by_update:
            return (stored_datetime(row.updated_at).isoformat(), row.uscc)
        return (row.uscc,)

    connection = db.session.connection()
    merged = heapq.merge(*(connection.execute(walk).all() for walk in walks), key=sort_key)
    rows = list(itertools.islice(merged, args["limit"] + 1))
    page = page_of(rows, args["limit"], cursor_for)
    return raw_list_body([_listed_json(row) for row in page.items], page.next_cursor)


#: The columns of a listed enterprise: the feed serializer's values, then version and
#: the two timestamps, as the driver returns them (no type conversion: the serializer
#: reads SQLite's stored text as it is). Core rows, not ORM objects, and one JSON text
#: each (the feed's serializer, equal to the output schema's dump:
#: tests/enterprises/test_api_list.py).
LISTED = select(
    *(
        type_coerce(Enterprise.__table__.c[name], NullType()).label(name)
        for name in (*ENTERPRISE_FIELDS, "version", "created_at", "updated_at")
    )
)


def _listed_json(row: Row) -> str:
    return enterprise_data(row[:-3], stored_rfc3339(row[-2]), stored_rfc3339(row[-1]), row[-3])


# --- one enterprise -----------------------------------------------------------------------


def enterprise_write(view: View) -> View:
    """PUT and PATCH: who may (403), the record (422 ``invalid_uscc`` on PUT, 404), then
    the body's JSON and the preconditions (400, 428, 412) before the body is validated."""

    @functools.wraps(view)
    def wrapped(*args: Any, uscc: str, **kwargs: Any) -> Any:
        user = caller()
        put = request.method == "PUT"
        if put and not user.is_reviewer and request.if_none_match.star_tag:
            raise Forbidden("An enterprise's users do not create enterprises.")
        code = queries.valid_uscc(uscc) if put else normalised_uscc(uscc)
        enterprise = visible_enterprise(code)
        if enterprise is None and not (put and user.is_reviewer):
            raise NotFound("No such enterprise.")
        conditional_write(db.session, enterprise)
        return view(*args, code=code, enterprise=enterprise, **kwargs)

    return wrapped


def _stored(enterprise: Enterprise) -> dict:
    """The writable members as stored: what a merge patch applies to (the status only
    for reviewers, who may change it)."""
    doc = {name: getattr(enterprise, name) for name in operations.PROFILE_FIELDS}
    if caller().is_reviewer:
        doc.update(status=str(enterprise.status), merged_into=enterprise.merged_into)
    return doc


def _value_errors(sent: dict) -> list[dict]:
    """What the schema cannot know: the seeded cities and industries, today."""
    errors = []
    for name, column in (("city_code", City.code), ("industry_code", Industry.code)):
        if sent.get(name) is not None and queries.unknown_codes(db.session, column, [sent[name]]):
            errors.append(refusal(name, "invalid_choice", "Unknown code."))
    if sent.get("founded_on") is not None and sent["founded_on"] > clock.today():
        errors.append(refusal("founded_on", "out_of_range", "In the future."))
    return errors


def _save(
    code: str, enterprise: Enterprise | None, doc: dict[str, Any], sent: dict[str, Any]
) -> tuple[Enterprise, int, dict[str, str]]:
    """Create (``enterprise`` None) or replace with ``doc``; ``sent`` is the body."""
    errors = _value_errors(sent)
    status, merged_into = schemas.status_change(code, doc, sent, errors)
    if errors:
        raise ValidationFailed("Some values sent are not valid.", errors=errors)
    if enterprise is not None:
        operations.replace_enterprise(
            db.session, enterprise, doc, actor=api_actor(), status=status, merged_into=merged_into
        )
        db.session.commit()
        return tagged(enterprise)
    try:
        enterprise = operations.register_enterprise(
            db.session,
            code,
            doc,
            actor=api_actor(),
            status=status or Status.ACTIVE,
            merged_into=merged_into,
        )
        db.session.commit()
    except IntegrityError:
        # Another request created it since this one looked (PostgreSQL).
        db.session.rollback()
        raise PreconditionFailed("The record exists already (If-None-Match).") from None
    return tagged(enterprise, 201, Location=url_for(".get_enterprise", uscc=code))


@blp.get("/enterprises/<uscc>")
@requires("registry:read")
@with_enterprise
@blp.response(200, EnterpriseOut)
@documented(blp, NOT_VISIBLE)
def get_enterprise(enterprise: Enterprise) -> tuple[Enterprise, int, dict[str, str]]:
    """One enterprise, with its version as a strong ``ETag``."""
    return tagged(enterprise)


@blp.put("/enterprises/<uscc>")
@requires("registry:write")
@enterprise_write
@blp.arguments(schemas.EnterpriseIn)
@blp.response(200, EnterpriseOut)
@blp.alt_response(201, schema=EnterpriseOut, description="Created", success=True)
@documented(blp, *WRITE_ERRORS, conditional=True)
def put_enterprise(
    body: dict[str, Any], code: str, enterprise: Enterprise | None
) -> tuple[Enterprise, int, dict[str, str]]:
    """Full replacement (``If-Match``), or creation by a reviewer (``If-None-Match: *``).
    A replacement equal to the stored record changes nothing."""
    return _save(code, enterprise, body, body)


@blp.patch("/enterprises/<uscc>")
@requires("registry:write")
@enterprise_write
@blp.arguments(schemas.EnterprisePatch)
@blp.response(200, EnterpriseOut)
@documented(blp, *WRITE_ERRORS[1:], conditional=True)
def patch_enterprise(
    patch: dict[str, Any], code: str, enterprise: Enterprise
) -> tuple[Enterprise, int, dict[str, str]]:
    """JSON Merge Patch (``If-Match`` required): members sent replace the stored ones,
    null clears an optional one."""
    return _save(code, enterprise, {**_stored(enterprise), **patch}, patch)
