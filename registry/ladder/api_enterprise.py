"""The ladder under one enterprise in the REST API (API.md): its eligibility for a tier,
its tier events, and the reviewers' demotions and revocations, which go through the
ladder's own operations.

Rights as for the enterprise itself: ``registry:read`` to read (an enterprise's users:
their own only; another enterprise is 404, S1), ``workflow:review`` to demote or revoke.
"""

from __future__ import annotations

from typing import Any

from marshmallow import post_dump

from registry.core import clock
from registry.core.api import (
    API_PREFIX,
    BAD_CURSOR,
    ApiBlueprint,
    api_actor,
    caller,
    documented,
    requires,
)
from registry.core.api_lists import (
    PageArgs,
    list_body,
    list_schema,
    page_cursor,
)
from registry.core.errors import field_error
from registry.core.i18n import current_language
from registry.core.pagination import page_of
from registry.enterprises.api import NOT_VISIBLE, known_tier, with_enterprise
from registry.enterprises.models import Enterprise
from registry.extensions import db
from registry.ladder import operations, queries, schemas
from registry.ladder.models import TierEvent

blp = ApiBlueprint(
    "enterprise_ladder_api",
    __name__,
    url_prefix=API_PREFIX,
    description="The ladder of one enterprise.",
)


class TierEventResponse(schemas.TierEventOut):
    """A tier event as the caller may see it: enterprise callers get null for the
    reviewer who acted (API.md wire conventions); the system stays named."""

    @post_dump
    def _hide_reviewer(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if not caller().is_reviewer and data["actor"]["id"] is not None:
            data["actor"] = None
        return data


@blp.get("/enterprises/<uscc>/eligibility")
@requires("registry:read")
@with_enterprise
@blp.arguments(schemas.EligibilityArgs, location="query")
@blp.response(200, schemas.EligibilityOut)
@documented(blp, NOT_VISIBLE, (422, "Unknown tier"))
def eligibility(args: dict[str, Any], enterprise: Enterprise) -> dict[str, Any]:
    """The enterprise's eligibility for ``tier`` (PRODUCT.md "Eligibility"), from the latest
    report or the reports up to ``year``; for champion, by ``route`` (default srdi)."""
    evaluation = queries.evaluate_enterprise(
        db.session,
        enterprise,
        known_tier("tier", args["tier"]),
        reference=clock.now(),
        lang=current_language(),
        year=args.get("year"),
        route=args.get("route"),
    )
    return evaluation.to_dict()


@blp.get("/enterprises/<uscc>/tier-events")
@requires("registry:read")
@with_enterprise
@blp.arguments(PageArgs, location="query")
@blp.response(200, list_schema(TierEventResponse, "TierEventList"))
@documented(blp, NOT_VISIBLE, BAD_CURSOR)
def tier_events(args: dict[str, Any], enterprise: Enterprise) -> dict[str, Any]:
    """The enterprise's ladder ledger in id order: replayed, it gives its ladder fields."""
    after = page_cursor(args["after"], int)
    events = [
        event
        for event in queries.tier_events(db.session, enterprise.id)
        if after is None or event.id > after[0]
    ]
    page = page_of(events[: args["limit"] + 1], args["limit"], lambda event: (event.id,))
    return list_body(page.items, page.next_cursor)


LADDER_ERRORS = (
    (404, "No such enterprise"),
    (409, "not_on_ladder, invalid_transition, quota_full"),
    (422, "The body is not valid"),
)


@blp.post("/enterprises/<uscc>/demotions")
@requires("workflow:review")
@with_enterprise
@blp.arguments(schemas.DemotionIn)
@blp.response(201, TierEventResponse)
@documented(blp, *LADDER_ERRORS)
def demote(body: dict[str, Any], enterprise: Enterprise) -> tuple[TierEvent, int]:
    """Move the enterprise down to ``to_tier`` (a reviewer's decision, with a reason)."""
    event = operations.demote(
        db.session,
        enterprise,
        known_tier("to_tier", body["to_tier"]),
        actor=api_actor(),
        reason=body["reason"],
    )
    db.session.commit()
    return event, 201


@blp.post("/enterprises/<uscc>/revocations")
@requires("workflow:review")
@with_enterprise
@blp.arguments(schemas.RevocationIn)
@blp.response(201, TierEventResponse)
@documented(blp, *LADDER_ERRORS)
def revoke(body: dict[str, Any], enterprise: Enterprise) -> tuple[TierEvent, int]:
    """Take the enterprise off the ladder; until ``ban_until`` it may not apply."""
    ban_until = body.get("ban_until")
    if ban_until is not None and ban_until <= clock.today():
        raise field_error("ban_until", "out_of_range", "The ban must end after today.")
    event = operations.revoke(
        db.session, enterprise, actor=api_actor(), reason=body["reason"], ban_until=ban_until
    )
    db.session.commit()
    return event, 201
