"""The reports on the web (PRODUCT.md §8): each report's table as a download,
``/reports/<name>.csv`` (UTF-8 with BOM) and ``/reports/<name>.xlsx``.

Who may see a report is the same as on its page: every visitor for the public ones,
reviewers and admins for ``pipeline`` (an anonymous visitor is sent to sign in, anyone
else refused); ``coverage`` is whole for reviewers and admins and has its small cells
withheld (empty) for everyone else. Headers are the column labels and codes are names,
in the page's language; numbers stay numbers, and text cells are neutralised as in
every download (:mod:`registry.reports.exports`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, request, send_file
from flask_login import current_user

from registry.core import clock
from registry.core.i18n import current_language
from registry.extensions import db
from registry.reports import catalogue, cells, exports
from registry.reports.coverage import year_from_text
from registry.reports.report import Report

bp = Blueprint("reports", __name__, url_prefix="/reports")

#: Characters a worksheet's name may not hold.
SHEET_NAME_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", " "))


def is_staff() -> bool:
    """Whether the visitor sees every report in full: a reviewer or an admin."""
    return bool(current_user.is_authenticated and current_user.is_reviewer)


def allowed_entry(name: str) -> catalogue.Entry:
    """The report ``name`` if the visitor may see it: 404 for an unknown name; for a
    reviewers' report, the login page for an anonymous visitor and 403 for others."""
    entry = catalogue.find(name)
    if entry is None:
        abort(404)
    if not catalogue.visible(entry, staff=is_staff()):
        if not current_user.is_authenticated:
            abort(current_app.login_manager.unauthorized())  # type: ignore[attr-defined]
        abort(403)
    return entry


def requested_report(name: str) -> Report:
    """The report ``name`` as the visitor may see it (``?year=`` for ``coverage``):
    access as :func:`allowed_entry`; 422 for a bad year."""
    entry = allowed_entry(name)
    year = year_from_text(request.args.get("year"))
    return catalogue.build(db.session, entry, staff=is_staff(), year=year)


def _filename(report: Report, extension: str) -> str:
    return f"{report.name}-{clock.today().isoformat()}.{extension}"


def _table(report: Report) -> tuple[list[Any], list[list[Any]]]:
    """The report's header and rows as people read them; the header neutralised as the
    cells are (a column may be named after a tier, whose name an admin edits)."""
    header, rows = cells.table(report, cells.names(db.session, current_language()))
    return [exports.neutralise(label) for label in header], rows


@bp.get("/<name>.csv")
def report_csv(name: str) -> Response:
    report = requested_report(name)
    header, rows = _table(report)
    return Response(
        exports.csv_bytes(header, rows),
        mimetype=exports.CSV_MIMETYPE,
        headers={"Content-Disposition": f'attachment; filename="{_filename(report, "csv")}"'},
    )


@bp.get("/<name>.xlsx")
def report_xlsx(name: str) -> Response:
    report = requested_report(name)
    header, rows = _table(report)
    sheet = report.title.translate(SHEET_NAME_FORBIDDEN)
    return send_file(
        exports.xlsx_file(header, rows, sheet),
        mimetype=exports.XLSX_MIMETYPE,
        as_attachment=True,
        download_name=_filename(report, "xlsx"),
    )
