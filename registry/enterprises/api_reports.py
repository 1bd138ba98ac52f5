"""What lies under one enterprise in the REST API (API.md): its annual reports (read,
and written with the preconditions of :mod:`registry.enterprises.api`), its eligibility
for a tier, its tier events, and the reviewers' demotions and revocations, which go
through the ladder's own operations.

Rights as for the enterprise itself: ``registry:read`` to read, ``registry:write`` for
the figures (an enterprise's users: their own only; another enterprise is 404, S1),
``workflow:review`` to demote or revoke.
"""

from __future__ import annotations

import functools

from flask import url_for
from marshmallow import post_dump
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from registry.core import clock
from registry.core.api import API_PREFIX, ApiBlueprint, PageArgs, list_body, list_schema, requires
from registry.core.errors import NotFound, PreconditionFailed, field_error
from registry.core.i18n import current_language
from registry.core.pagination import page_of
from registry.core.preconditions import conditional_write, tagged
from registry.enterprises import api_schemas as schemas
from registry.enterprises import operations, queries
from registry.enterprises.api import (
    BAD_CURSOR,
    NOT_VISIBLE,
    WRITE_ERRORS,
    actor,
    caller,
    documented,
    known_tier,
    page_cursor,
    visible_enterprise,
    with_enterprise,
)
from registry.enterprises.models import AnnualReport, Enterprise
from registry.enterprises.schemas import AnnualReportOut
from registry.extensions import db
from registry.ladder import operations as ladder_ops
from registry.ladder import queries as ladder_queries
from registry.ladder.schemas import TierEventOut

blp = ApiBlueprint(
    "enterprise_records_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Annual reports and the ladder of one enterprise.",
)


# --- annual reports -----------------------------------------------------------------------


def _report(enterprise: Enterprise, year: int) -> AnnualReport | None:
    return db.session.scalars(
        select(AnnualReport).where(
            AnnualReport.enterprise_id == enterprise.id, AnnualReport.year == year
        )
    ).one_or_none()


def report_write(view):
    """PUT of one year: the enterprise (422 ``invalid_uscc``, 404), then the body's
    JSON and the preconditions (400, 428, 412) before the body is validated."""

    @functools.wraps(view)
    def wrapped(*args, uscc: str, year: int, **kwargs):
        enterprise = visible_enterprise(queries.valid_uscc(uscc))
        if enterprise is None:
            raise NotFound("No such enterprise.")
        report = _report(enterprise, year)
        conditional_write(db.session, report)
        return view(*args, enterprise=enterprise, report=report, year=year, **kwargs)

    return wrapped


@blp.get("/enterprises/<uscc>/annual-reports")
@requires("registry:read")
@with_enterprise
@blp.arguments(PageArgs, location="query")
@blp.response(200, list_schema(AnnualReportOut, "AnnualReportList"))
@documented(blp, NOT_VISIBLE, BAD_CURSOR)
def list_reports(args: dict, enterprise: Enterprise):
    """The enterprise's annual reports by year."""
    after = page_cursor(args["after"], int)
    stmt = select(AnnualReport).where(AnnualReport.enterprise_id == enterprise.id)
    if after is not None:
        stmt = stmt.where(AnnualReport.year > after[0])
    rows = db.session.scalars(stmt.order_by(AnnualReport.year).limit(args["limit"] + 1)).all()
    page = page_of(rows, args["limit"], lambda report: (report.year,))
    return list_body(page.items, page.next_cursor)


@blp.get("/enterprises/<uscc>/annual-reports/<int:year>")
@requires("registry:read")
@with_enterprise
@blp.response(200, AnnualReportOut)
@documented(blp, (404, "No report for that year (or not the caller's enterprise)"))
def get_report(enterprise: Enterprise, year: int):
    """One year's figures, with the report's version as a strong ``ETag``."""
    report = _report(enterprise, year)
    if report is None:
        raise NotFound("No annual report for %(year)s.", year=year)
    return tagged(report)


@blp.put("/enterprises/<uscc>/annual-reports/<int:year>")
@requires("registry:write")
@report_write
@blp.arguments(schemas.AnnualReportIn)
@blp.response(200, AnnualReportOut)
@blp.alt_response(201, schema=AnnualReportOut, description="Created", success=True)
@documented(blp, *WRITE_ERRORS[1:], conditional=True)
def put_report(figures: dict, enterprise: Enterprise, report: AnnualReport | None, year: int):
    """Create (``If-None-Match: *``) or replace (``If-Match``) one completed year's
    figures (a figure left out is cleared); year ≥ 1990 and before the current year."""
    operations.check_report_year(year)
    try:
        saved = operations.save_annual_report(db.session, enterprise, year, figures, actor=actor())
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise PreconditionFailed("The record exists already (If-None-Match).") from None
    if report is not None:
        return tagged(saved)
    location = url_for(".get_report", uscc=enterprise.uscc, year=year)
    return tagged(saved, 201, Location=location)


# --- the ladder ---------------------------------------------------------------------------


class TierEventResponse(TierEventOut):
    """A tier event as the caller may see it: enterprise callers get null for the
    reviewer who acted (API.md wire conventions); the system stays named."""

    @post_dump
    def _hide_reviewer(self, data: dict, **_kwargs) -> dict:
        if not caller().is_reviewer and data["actor"]["id"] is not None:
            data["actor"] = None
        return data


@blp.get("/enterprises/<uscc>/eligibility")
@requires("registry:read")
@with_enterprise
@blp.arguments(schemas.EligibilityArgs, location="query")
@blp.response(200, schemas.EligibilityOut)
@documented(blp, NOT_VISIBLE, (422, "Unknown tier"))
def eligibility(args: dict, enterprise: Enterprise):
    """The enterprise's eligibility for ``tier`` (PRODUCT.md §4), from the latest
    report or the reports up to ``year``."""
    evaluation = ladder_queries.evaluate_enterprise(
        db.session,
        enterprise,
        known_tier("tier", args["tier"]),
        reference=clock.now(),
        lang=current_language(),
        year=args.get("year"),
    )
    return evaluation.to_dict()


@blp.get("/enterprises/<uscc>/tier-events")
@requires("registry:read")
@with_enterprise
@blp.arguments(PageArgs, location="query")
@blp.response(200, list_schema(TierEventResponse, "TierEventList"))
@documented(blp, NOT_VISIBLE, BAD_CURSOR)
def tier_events(args: dict, enterprise: Enterprise):
    """The enterprise's ladder ledger in id order: replayed, it gives its ladder fields."""
    after = page_cursor(args["after"], int)
    events = [
        event
        for event in ladder_queries.tier_events(db.session, enterprise.id)
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
def demote(body: dict, enterprise: Enterprise):
    """Move the enterprise down to ``to_tier`` (a reviewer's decision, with a reason)."""
    event = ladder_ops.demote(
        db.session,
        enterprise,
        known_tier("to_tier", body["to_tier"]),
        actor=actor(),
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
def revoke(body: dict, enterprise: Enterprise):
    """Take the enterprise off the ladder; until ``ban_until`` it may not apply."""
    ban_until = body.get("ban_until")
    if ban_until is not None and ban_until <= clock.today():
        raise field_error("ban_until", "out_of_range", "The ban must end after today.")
    event = ladder_ops.revoke(
        db.session, enterprise, actor=actor(), reason=body["reason"], ban_until=ban_until
    )
    db.session.commit()
    return event, 201
