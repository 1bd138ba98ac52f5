"""An enterprise's annual reports in the REST API (API.md): read, and written with the
preconditions of :mod:`registry.enterprises.api`. The ladder under one enterprise
(eligibility, tier events, demotions, revocations) is :mod:`registry.ladder.api_enterprise`.

Rights as for the enterprise itself: ``registry:read`` to read, ``registry:write`` for
the figures (an enterprise's users: their own only; another enterprise is 404, S1).
"""

from __future__ import annotations

import functools
from typing import Any

from flask import Response, url_for
from sqlalchemy import column, select, table
from sqlalchemy.exc import IntegrityError

from registry.core.api import (
    API_PREFIX,
    BAD_CURSOR,
    ApiBlueprint,
    View,
    api_actor,
    documented,
    requires,
)
from registry.core.api_lists import (
    PageArgs,
    list_schema,
    page_cursor,
    raw_list_body,
)
from registry.core.errors import NotFound, PreconditionFailed
from registry.core.pagination import page_of
from registry.core.preconditions import conditional_write, tagged
from registry.core.schemas import stored_rfc3339
from registry.enterprises import api_schemas as schemas
from registry.enterprises import operations, queries
from registry.enterprises.api import NOT_VISIBLE, WRITE_ERRORS, visible_enterprise, with_enterprise
from registry.enterprises.batches import REPORT_FIELDS
from registry.enterprises.feed_json import report_columns, report_data
from registry.enterprises.models import AnnualReport, Enterprise
from registry.enterprises.schemas import AnnualReportOut
from registry.extensions import db

blp = ApiBlueprint(
    "enterprise_records_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Annual reports of one enterprise.",
)


def _report(enterprise: Enterprise, year: int) -> AnnualReport | None:
    return db.session.scalars(
        select(AnnualReport).where(
            AnnualReport.enterprise_id == enterprise.id, AnnualReport.year == year
        )
    ).one_or_none()


def report_write(view: View) -> View:
    """PUT of one year: the enterprise (422 ``invalid_uscc``, 404), then the body's
    JSON and the preconditions (400, 428, 412) before the body is validated."""

    @functools.wraps(view)
    def wrapped(*args: Any, uscc: str, year: int, **kwargs: Any) -> Any:
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
def list_reports(args: dict[str, Any], enterprise: Enterprise) -> Response:
    """The enterprise's annual reports by year."""
    after = page_cursor(args["after"], int)
    stmt = _LISTED.where(_reports.c.enterprise_id == enterprise.id)
    if after is not None:
        stmt = stmt.where(_reports.c.year > after[0])
    stmt = stmt.order_by(_reports.c.year).limit(args["limit"] + 1)
    rows = db.session.connection().execute(stmt).all()
    page = page_of(rows, args["limit"], lambda row: (row.year,))
    code = enterprise.uscc
    return raw_list_body(
        [
            report_data(
                code, row[:-3], stored_rfc3339(row[-2]), stored_rfc3339(row[-1]), row[-3]
            ).encode()
            for row in page.items
        ],
        page.next_cursor,
    )


#: An enterprise's reports as the feed's serializer takes them, untyped (the driver's
#: values), for the list clients page through: its output equals AnnualReportOut's
#: (tests/enterprises/test_api_annual_reports.py).
_reports = table(
    "annual_reports",
    *(column(name) for name in ("enterprise_id", *REPORT_FIELDS, "version")),
    column("created_at"),
    column("updated_at"),
)
_LISTED = select(*report_columns(_reports))


@blp.get("/enterprises/<uscc>/annual-reports/<int:year>")
@requires("registry:read")
@with_enterprise
@blp.response(200, AnnualReportOut)
@documented(blp, (404, "No report for that year (or not the caller's enterprise)"))
def get_report(enterprise: Enterprise, year: int) -> tuple[AnnualReport, int, dict[str, str]]:
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
def put_report(
    figures: dict[str, Any], enterprise: Enterprise, report: AnnualReport | None, year: int
) -> tuple[AnnualReport, int, dict[str, str]]:
    """Create (``If-None-Match: *``) or replace (``If-Match``) one completed year's
    figures (a figure left out is cleared); year ≥ 1990 and before the current year."""
    operations.check_report_year(year)
    try:
        saved = operations.save_annual_report(
            db.session, enterprise, year, figures, actor=api_actor()
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise PreconditionFailed("The record exists already (If-None-Match).") from None
    if report is not None:
        return tagged(saved)
    location = url_for(".get_report", uscc=enterprise.uscc, year=year)
    return tagged(saved, 201, Location=location)
