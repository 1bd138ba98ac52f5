"""The reviewers' side of the workflow in the REST API (API.md), and the public
notice: queue counts, claims and decisions on applications; the notice list and
objections (public, rate limited per address); the reviewers' objection list and
resolutions; account claims. Every change goes through the operations of the web pages
(``operations``, ``objections``, ``accounts.operations``). Shared plumbing (scopes, the
404 before the body, ``ETag``) is in :mod:`registry.applications.api`.

Objectors' name and contact are shown to reviewers only: the routes that show them need
``workflow:review``; the client address stays on the reviewers' web page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import orjson
from flask import Response, request
from sqlalchemy import Row, Select, select

from registry.accounts import operations as accounts
from registry.accounts.models import AccountClaim
from registry.applications import api_schemas as schemas
from registry.applications import decisions, objections, operations, queries
from registry.applications.api import (
    VIA,
    OneApplication,
    action_errors,
    caller,
    city_codes,
    known,
    one,
    with_application,
)
from registry.applications.models import Application, Objection, State
from registry.core import clock
from registry.core.api import (
    API_PREFIX,
    ApiBlueprint,
    loads,
    public_body,
    requires,
)
from registry.core.api_lists import (
    PageArgs,
    list_body,
    list_schema,
    raw_list_body,
)
from registry.core.errors import ValidationFailed, found, refusal
from registry.core.pagination import InvalidCursor, decode_cursor, page_of
from registry.core.ratelimit import objection_rate
from registry.core.schemas import rfc3339
from registry.enterprises.models import Enterprise
from registry.extensions import db
from registry.ladder import queries as ladder_queries

blp = ApiBlueprint(
    "review_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Reviewers' counts, claims and decisions; the public notice with "
    "objections; objections and account claims for reviewers.",
)

#: The rows listed by id.
M = TypeVar("M", Objection, AccountClaim)


def _by_id(model: type[M], args: dict[str, Any]) -> Select[M]:
    """``model`` rows ordered by id, a page after the ``after`` cursor."""
    stmt = select(model).order_by(model.id).limit(args["limit"] + 1)
    if args["after"] is not None:
        (last_id,) = decode_cursor(args["after"], int)
        stmt = stmt.where(model.id > last_id)
    return stmt


def _page(stmt: Select[Any], args: dict[str, Any]) -> dict[str, Any]:
    page = page_of(list(db.session.scalars(stmt)), args["limit"], lambda row: (row.id,))
    return list_body(page.items, page.next_cursor)


# --- the reviewers' queue and decisions ---------------------------------------------------


@blp.get("/applications/counts")
@requires("workflow:review")
@blp.arguments(schemas.CountArgs, location="query")
@blp.response(200, list_schema(schemas.CountOut, "ApplicationCounts"))
@blp.alt_response(422, description="A filter value is not valid")
def application_counts(args: dict[str, Any]) -> dict[str, Any]:
    """The reviewers' queue counts: every state × tier, under the city and
    ``claimed_by`` filters (as the queue page shows them)."""
    claimed = args.get("claimed_by")
    filters = queries.QueueFilter(
        city=args.get("city") and known("city", args["city"], city_codes()),
        assignee="none" if claimed == "none" else ("me" if claimed else "anyone"),
        user_id=caller().id if claimed in (None, "me", "none") else int(claimed),
    )
    found = queries.counts(db.session, filters)
    items = [
        {"state": str(state), "tier": tier.code, "count": found.get((str(state), tier.code), 0)}
        for state in State
        for tier in ladder_queries.tiers(db.session)
    ]
    return list_body(items, None)


@blp.post("/applications/<int:application_id>/claim")
@requires("workflow:review")
@with_application
@blp.arguments(schemas.NoInput)
@blp.response(200, schemas.ApplicationResponse)
@action_errors
def claim_application(_body: dict[str, Any], application: Application) -> OneApplication:
    """A reviewer takes the lead (an empty body is accepted)."""
    application = operations.claim(db.session, application, user=caller(), via=VIA)
    db.session.commit()
    return one(application)


@blp.post("/applications/<int:application_id>/decisions")
@requires("workflow:review")
@with_application
@blp.arguments(schemas.DecisionIn)
@blp.response(200, schemas.ApplicationResponse)
@action_errors
@blp.alt_response(  # the first description of a status is the one documented
    409,
    description="invalid_transition: not in review; enterprise_unverified: the final approval "
    "waits until a reviewer verifies the enterprise; prerequisite_not_met, quota_full",
)
def decide_application(body: dict[str, Any], application: Application) -> OneApplication:
    """approve / reject / request_changes, with the four-eyes rules; an approval
    confirms each manual check of the snapshot (422 ``manual_checks_unconfirmed``)."""
    confirmed = body.get("manual_checks") or {}
    manual = {
        check["code"]
        for check in (application.eligibility or {}).get("checks", [])
        if check["status"] == "manual"
    }
    unknown = sorted(set(confirmed) - manual)
    if unknown:
        raise ValidationFailed(
            "Only the manual checks of the snapshot are confirmed.",
            errors=[refusal(f"manual_checks.{code}", "unknown_field", code) for code in unknown],
        )
    application = decisions.decide(
        db.session,
        application,
        body["decision"],
        user=caller(),
        via=VIA,
        comment=body.get("comment"),
        manual_checks=body.get("manual_checks"),
        innovation_score=body.get("innovation_score"),
    )
    db.session.commit()
    return one(application)


# --- the public notice --------------------------------------------------------------------


def _notice_after(raw: str | None) -> tuple[datetime, int] | None:
    if raw is None:
        return None
    ends_text, application_id = decode_cursor(raw, str, int)
    try:
        return clock.parse_instant(ends_text), application_id
    except ValueError:
        raise InvalidCursor("The page cursor is malformed.") from None


@blp.get("/notices")
@blp.arguments(PageArgs, location="query")
@blp.response(200, list_schema(schemas.NoticeItemOut, "NoticeList"))
@blp.alt_response(422, description="The cursor is not valid")
def list_notices(args: dict[str, Any]) -> Response:
    """Applications in public notice (public), by ``notice_ends_at`` then id. ``held``:
    the notice has ended and an objection is still open."""
    rows = objections.notice_rows(
        db.session, limit=args["limit"] + 1, after=_notice_after(args["after"])
    )
    page = page_of(rows, args["limit"], lambda row: (row[0].notice_ends_at.isoformat(), row[0].id))
    now = clock.now()
    return raw_list_body([notice_json(row, now) for row in page.items], page.next_cursor)


def notice_json(row: Row[Application, Enterprise, Any], now: datetime) -> bytes:
    """One application in notice as JSON, equal to ``NoticeItemOut``'s dump (a hand
    serializer for the list clients page through: tests/applications/test_api_review.py
    compares the two)."""
    application, enterprise, open_objection = row
    ends = application.notice_ends_at
    return orjson.dumps(
        {
            "application_id": application.id,
            "enterprise_uscc": enterprise.uscc,
            "name": enterprise.name,
            "city_code": enterprise.city_code,
            "industry_code": enterprise.industry_code,
            "tier": application.tier,
            "notice_started_at": rfc3339(application.notice_started_at),
            "notice_ends_at": rfc3339(ends),
            "held": bool(open_objection) and ends is not None and ends <= now,
        }
    )


#: The route's ``application_id`` → the application in notice (else 404).
with_notice = loads(
    "application_id",
    "application",
    lambda application_id: found(
        db.session.get(Application, application_id),
        "No such application in notice.",
        lambda application: application.state == State.IN_NOTICE,
    ),
)


@blp.post("/notices/<int:application_id>/objections")
@public_body()
@with_notice
@blp.arguments(schemas.ObjectionIn)
@blp.response(201, schemas.FiledObjectionOut)
@blp.alt_response(404, description="No such application in notice")
@blp.alt_response(409, description="notice_closed: the notice has ended")
@blp.alt_response(422, description="The body is not valid")
@blp.alt_response(429, description="Too many objections from this address (Retry-After)")
def file_objection(body: dict[str, Any], application: Application) -> tuple[Objection, int]:
    """Anyone objects while the notice runs (public; 5 per hour per address)."""
    try:
        objection = objections.file_objection(
            db.session,
            application,
            name=body["name"],
            contact=body["contact"],
            grounds=body["text"],
            client_address=request.remote_addr,
            via=VIA,
            rate=objection_rate(),
        )
    except ValidationFailed as error:
        # The grounds are ``text`` on the wire (API.md).
        for item in error.errors:
            item["field"] = "text" if item.get("field") == "grounds" else item.get("field")
        raise
    db.session.commit()
    return objection, 201


# --- objections for reviewers -------------------------------------------------------------


@blp.get("/objections")
@requires("workflow:review")
@blp.arguments(schemas.ObjectionListArgs, location="query")
@blp.response(200, list_schema(schemas.ReviewerObjectionApiOut, "ObjectionList"))
@blp.alt_response(422, description="A filter value or the cursor is not valid")
def list_objections(args: dict[str, Any]) -> dict[str, Any]:
    """Objections by id, with who objected; filters ``state`` and ``application_id``."""
    stmt = _by_id(Objection, args)
    if args.get("state"):
        stmt = stmt.where(Objection.state.in_(args["state"]))
    if args.get("application_id") is not None:
        stmt = stmt.where(Objection.application_id == args["application_id"])
    return _page(stmt, args)


@blp.post("/objections/<int:objection_id>/resolution")
@requires("workflow:review")
@loads(
    "objection_id",
    "objection",
    lambda id_: found(db.session.get(Objection, id_), "No such objection."),
)
@blp.arguments(schemas.ResolutionIn)
@blp.response(200, schemas.ReviewerObjectionApiOut)
@blp.alt_response(403, description="conflict_of_interest: linked to the enterprise")
@blp.alt_response(404, description="No such objection")
@blp.alt_response(409, description="invalid_transition: already resolved, or not in notice")
@blp.alt_response(422, description="The body is not valid")
def resolve_objection(body: dict[str, Any], objection: Objection) -> Objection:
    """Uphold (the application is rejected) or dismiss (granted now when the notice has
    ended and no other objection is open), with a comment."""
    objection = objections.resolve(
        db.session, objection, body["outcome"], user=caller(), via=VIA, comment=body["comment"]
    )
    db.session.commit()
    return objection


# --- account claims -----------------------------------------------------------------------


@blp.get("/account-claims")
@requires("workflow:review")
@blp.arguments(schemas.ClaimListArgs, location="query")
@blp.response(200, list_schema(schemas.AccountClaimOut, "AccountClaimList"))
@blp.alt_response(422, description="A filter value or the cursor is not valid")
def list_account_claims(args: dict[str, Any]) -> dict[str, Any]:
    """Sign-ups claiming a USCC already in the registry, by id; filter ``state``."""
    stmt = _by_id(AccountClaim, args)
    if args.get("state"):
        stmt = stmt.where(AccountClaim.state.in_(args["state"]))
    return _page(stmt, args)


@blp.post("/account-claims/<int:claim_id>/decision")
@requires("workflow:review")
@loads(
    "claim_id",
    "claim",
    lambda id_: found(db.session.get(AccountClaim, id_), "No such account claim."),
)
@blp.arguments(schemas.ClaimDecisionIn)
@blp.response(200, schemas.AccountClaimOut)
@blp.alt_response(403, description="conflict_of_interest: linked to the enterprise")
@blp.alt_response(404, description="No such claim")
@blp.alt_response(409, description="invalid_transition: already decided")
@blp.alt_response(422, description="The body is not valid (a refusal needs a comment)")
def decide_account_claim(body: dict[str, Any], claim: AccountClaim) -> AccountClaim:
    """Confirm (the account is linked to the enterprise) or refuse, with a comment."""
    claim = accounts.decide_claim(
        db.session,
        claim,
        body["decision"],
        reviewer=caller(),
        via=VIA,
        comment=body.get("comment"),
    )
    db.session.commit()
    return claim
