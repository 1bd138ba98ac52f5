"""The reports in the REST API (API.md "Report"): the catalogue and each report as a
table, with titles and labels in the request's language and keys that never change.

Public, but ``pipeline``: it needs a reviewer or admin token with ``registry:read``
(or ``workflow:review``, which reads the applications it counts). ``coverage`` is whole
for a reviewer or admin token with ``registry:read`` and has its small cells withheld for
every other caller, anonymous ones included.
"""

from __future__ import annotations

from typing import Any

from flask import Response, g, request
from flask_babel import gettext
from marshmallow import Schema, fields

from registry.core.api import API_PREFIX, ApiBlueprint, has_right
from registry.core.errors import Forbidden, NotFound
from registry.core.problems import problem
from registry.core.schemas import OutputSchema, Timestamp
from registry.extensions import db
from registry.reports import catalogue
from registry.reports.coverage import FIRST_YEAR, year_from_text
from registry.reports.report import Report

blp = ApiBlueprint(
    "reports_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Reports: the ladder's tables (PRODUCT.md §8), as the pages show them.",
)

#: Rights that let a reviewer or admin token read the ``pipeline`` report.
PIPELINE_SCOPES = ("registry:read", "workflow:review")


class ReportSummaryOut(OutputSchema):
    name = fields.String()
    title = fields.String()
    public = fields.Boolean(metadata={"description": "false: reviewers and admins only"})


class ReportListOut(Schema):
    data = fields.List(fields.Nested(ReportSummaryOut))


class ColumnOut(OutputSchema):
    key = fields.String()
    label = fields.String()
    type = fields.String(
        metadata={"enum": ["string", "integer", "decimal", "percent", "month"]},
    )


class SuppressedOut(OutputSchema):
    row = fields.Integer(metadata={"description": "index in rows"})
    key = fields.String()


class ProjectionOut(OutputSchema):
    tier = fields.String()
    status = fields.String(metadata={"enum": ["reached", "projected", "not_at_this_pace"]})
    month = fields.String(allow_none=True, metadata={"description": "YYYY-MM, when projected"})


class TierIntensityOut(OutputSchema):
    tier = fields.String()
    reporting = fields.Integer()
    rd_intensity = fields.Float(allow_none=True, metadata={"description": "percent"})


class ReportOut(OutputSchema):
    name = fields.String()
    title = fields.String()
    as_of = Timestamp()
    columns = fields.List(fields.Nested(ColumnOut))
    rows = fields.List(fields.Dict(), metadata={"description": "values by column key"})
    totals = fields.Dict(
        allow_none=True, metadata={"description": "column sums by key; null where none is given"}
    )
    notes = fields.List(fields.String())
    suppressed = fields.List(
        fields.Nested(SuppressedOut), metadata={"description": "cells withheld (null)"}
    )
    projection = fields.List(fields.Nested(ProjectionOut), metadata={"description": "progress"})
    by_tier = fields.List(fields.Nested(TierIntensityOut), metadata={"description": "coverage"})
    plan_rd_intensity = fields.Raw(
        metadata={"type": "number", "description": "coverage: the plan's R&D intensity, %"}
    )


#: The keys reports add beside their table (API.md).
EXTRA_KEYS = ("projection", "by_tier", "plan_rd_intensity")
NAME_PARAMETER = {
    "in": "path",
    "name": "name",
    "required": True,
    "schema": {"type": "string", "enum": [entry.name for entry in catalogue.REPORTS]},
}
YEAR_PARAMETER = {
    "in": "query",
    "name": "year",
    "required": False,
    "description": "coverage: the year of the annual reports (default: the last completed one)",
    "schema": {"type": "integer", "minimum": FIRST_YEAR},
}


@blp.get("/reports")
@blp.response(200, ReportListOut)
def list_reports() -> dict[str, Any]:
    """Every report, in order, with its title and whether it is public (one page)."""
    return {
        "data": [
            {"name": entry.name, "title": str(entry.title), "public": entry.public}
            for entry in catalogue.REPORTS
        ]
    }


@blp.get("/reports/<name>")
@blp.doc(parameters=[NAME_PARAMETER, YEAR_PARAMETER])
@blp.response(200, ReportOut)
@blp.alt_response(401, description="pipeline: no valid bearer token")
@blp.alt_response(403, description="pipeline: not a reviewer or admin token with the right")
@blp.alt_response(404, description="No such report")
@blp.alt_response(422, description="coverage: the year is not one annual reports are for")
def one_report(name: str) -> dict[str, Any] | Response:
    """One report as a table: columns, rows, totals, notes and the cells withheld
    from this caller; ``progress`` adds its projection, ``coverage`` the intensity per
    tier and the plan's."""
    entry = catalogue.find(name)
    if entry is None:
        raise NotFound("No report %(name)s.", name=name)
    if not entry.public:
        if g.get("api_user") is None:
            return problem(401, detail=gettext("A bearer token is required."))
        if not _staff(*PIPELINE_SCOPES):
            raise Forbidden("This report is for reviewers and administrators.")
    year = year_from_text(request.args.get("year"), blank=False)
    report = catalogue.build(db.session, entry, staff=_staff("registry:read"), year=year)
    return _report_out(report)


def _staff(*scopes: str) -> bool:
    """The caller is a reviewer or admin whose token carries one of ``scopes``."""
    user = g.get("api_user")
    return user is not None and user.is_reviewer and any(has_right(s) for s in scopes)


def _report_out(report: Report) -> dict[str, Any]:
    return {
        "name": report.name,
        "title": report.title,
        "as_of": report.as_of,
        "columns": report.columns,
        "rows": report.rows,
        "totals": report.totals,
        "notes": report.notes,
        "suppressed": report.suppressed,
        **{key: report.extra[key] for key in EXTRA_KEYS if key in report.extra},
    }
