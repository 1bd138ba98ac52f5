"""The ladder in the REST API: tiers with their occupancy, and each tier's published
list (both public, API.md)."""

from __future__ import annotations

from typing import Any

import orjson
from flask import Response
from marshmallow import Schema, fields, validate

from registry.core.api import (
    API_PREFIX,
    ApiBlueprint,
)
from registry.core.api_lists import (
    PageArgs,
    list_body,
    list_schema,
    raw_list_body,
)
from registry.core.errors import NotFound, ValidationFailed, refusal
from registry.core.i18n import current_language
from registry.core.pagination import InvalidCursor, decode_cursor, page_of
from registry.core.schemas import Timestamp, iso_date, stored_rfc3339
from registry.enterprises import queries as queries_e
from registry.enterprises.models import City, Industry
from registry.extensions import db
from registry.ladder import listing, queries
from registry.ladder.models import Tier

blp = ApiBlueprint("tiers_api", __name__, url_prefix=API_PREFIX, description="The ladder (public).")


class TierOut(Schema):
    code = fields.String()
    rank = fields.Integer()
    name = fields.String()
    quota = fields.Integer()
    holders = fields.Integer()
    reserved = fields.Integer()
    occupancy = fields.Integer()
    remaining = fields.Integer()
    validity = fields.Raw(metadata={"description": '"calendar_year" or a number of years'})
    notice_days = fields.Integer()
    approvals_required = fields.Integer()
    self_apply = fields.Boolean()
    prerequisite = fields.String(allow_none=True)


class PublishedOut(Schema):
    uscc = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    city_code = fields.String(allow_none=True)
    industry_code = fields.String(allow_none=True)
    tier_since = fields.Date(allow_none=True)
    tier_expires_at = Timestamp(allow_none=True)
    registration_number = fields.String(allow_none=True)
    route = fields.String(
        allow_none=True,
        metadata={"description": "champion: the route of the grant (srdi, single_champion)"},
    )
    little_giant = fields.Boolean(
        metadata={
            "description": 'Reviewers confirmed a 专精特新"小巨人" enterprise (champion, srdi)'
        }
    )


class PublishedArgs(PageArgs):
    city = fields.String(validate=validate.Length(max=6))
    industry = fields.String(validate=validate.Length(max=40))


def _tier_out(tier: Tier, occupancy: queries.Occupancy, lang: str) -> dict:
    return {
        "code": tier.code,
        "rank": tier.rank,
        "name": tier.name(lang),
        "quota": occupancy.quota,
        "holders": occupancy.holders,
        "reserved": occupancy.reserved,
        "occupancy": occupancy.occupancy,
        "remaining": occupancy.remaining,
        "validity": tier.validity_value,
        "notice_days": tier.notice_days,
        "approvals_required": tier.approvals_required,
        "self_apply": tier.self_apply,
        "prerequisite": tier.prerequisite,
    }


@blp.get("/tiers")
@blp.response(200, list_schema(TierOut, "TierList"))
def list_tiers() -> dict[str, Any]:
    """The five rungs with quota and occupancy, lowest first (one page)."""
    lang = current_language()
    overview = queries.ladder_overview(db.session)
    return list_body([_tier_out(tier, occ, lang) for tier, occ in overview], None)


@blp.get("/tiers/<code>/enterprises")
@blp.arguments(PublishedArgs, location="query")
@blp.response(200, list_schema(PublishedOut, "PublishedList"))
@blp.alt_response(404, description="No such tier")
@blp.alt_response(422, description="A filter value or the cursor is not valid")
def published_list(args: dict[str, Any], code: str) -> Response:
    """A tier's published list, ordered by USCC; filters ``city`` and ``industry``.

    An unknown tier is 404 before any other refusal. The tier is looked up only when
    the page has no holder to show (a holder's tier exists: a foreign key)."""
    errors = [
        refusal(name, "invalid_choice", "Unknown %(name)s %(value)r.", name=name, value=value)
        for name, column in (("city", City.code), ("industry", Industry.code))
        if (value := args.get(name)) is not None
        and not (name == "industry" and value == listing.OTHER_INDUSTRY)
        and queries_e.unknown_codes(db.session, column, [value])
    ]
    after = None
    if args["after"] is not None:
        try:
            (after,) = decode_cursor(args["after"], str)
        except InvalidCursor:
            errors.append(refusal("after", "invalid_cursor", "Malformed."))
    if errors:
        _known_tier(code)
        code_ = "invalid_cursor" if errors[-1]["field"] == "after" and len(errors) == 1 else None
        raise ValidationFailed("Some values sent are not valid.", code=code_, errors=errors)
    rows = listing.published_page(
        db.session,
        code,
        limit=args["limit"] + 1,
        after=after,
        city=args.get("city"),
        industry=args.get("industry"),
    )
    if not rows:
        _known_tier(code)
    page = page_of(rows, args["limit"], lambda row: (row[0],))
    return raw_list_body([published_json(row) for row in page.items], page.next_cursor)


def _known_tier(code: str) -> None:
    if db.session.get(Tier, code) is None:
        raise NotFound("No tier %(tier)s.", tier=code)


def published_json(row: tuple) -> bytes:
    """One holder of a published list as JSON, equal to ``PublishedOut``'s dump (a
    hand serializer of rows of :data:`listing.STORED_COLUMNS`, typed or as SQLite
    stores them, for the list clients page through: tests/ladder/test_api.py and
    tests/enterprises/test_serializer_properties.py compare the two)."""
    (uscc, name, name_en, city, industry, since, expires, number, route, giant) = row
    return orjson.dumps(
        {
            "uscc": uscc,
            "name": name,
            "name_en": name_en,
            "city_code": city,
            "industry_code": industry,
            "tier_since": None if since is None else iso_date(since),
            "tier_expires_at": None if expires is None else stored_rfc3339(expires),
            "registration_number": number,
            "route": route,
            "little_giant": bool(giant),
        }
    )
