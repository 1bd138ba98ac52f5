"""Admin page for bulk imports (PRODUCT.md "Operation"): upload a CSV or XLSX file, see the
recent runs, download a refused run's error report (CSV), both in the page's language;
the page lists the first errors of the last run when it was refused. Admin pages under
/admin.

The upload is held to the application's request size limit (``MAX_CONTENT_LENGTH``;
a larger file is refused with 413 before it is read); larger files go through
``flask --app wsgi registry import FILE``.
"""

from __future__ import annotations

from typing import Any, cast

from flask import Blueprint, Response, current_app, flash, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from sqlalchemy.orm import undefer

from registry.core import access
from registry.core.audit import Actor
from registry.core.errors import found
from registry.core.forms import REQUIRED
from registry.core.next_step import flash_next_step
from registry.core.web import nav_item, see_other
from registry.extensions import db
from registry.imports import report
from registry.imports.models import ImportRun
from registry.imports.operations import KINDS, MAX_ROWS, REFUSED, import_file
from registry.reports.exports import CSV_MIMETYPE

bp = Blueprint("imports", __name__, url_prefix="/admin")

nav_item("imports.page", _l("Imports"), {"admin"}, order=64)

#: Runs listed on the page, newest first.
RECENT_RUNS = 50
#: The errors of the last run shown on the page when it was refused (all in its report).
SHOWN_ERRORS = 20


class ImportForm(FlaskForm):
    file = FileField(_l("File (CSV or XLSX)"), validators=[FileRequired(REQUIRED)])


@bp.route("/imports", methods=["GET", "POST"])
@access.admin
def page() -> ResponseReturnValue:
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        outcome = import_file(
            db.session,
            upload.filename or "upload",
            upload.read(),
            actor=Actor.of(current_user, "web"),
        )
        db.session.commit()
        run = outcome.run
        if outcome.applied:
            flash(
                _(
                    "%(file)s: %(count)s rows imported.",
                    file=run.filename,
                    count=run.row_count,
                )
            )
            flash_next_step(
                _(
                    "The records are in the registry now: the API, the change feed and the "
                    "pages show them, and the audit log names each change."
                ),
                url_for("admin.audit"),
                _("Open the audit log"),
            )
        else:
            flash(
                _(
                    "%(file)s was refused: %(count)s errors, nothing was imported. "
                    "Download the error report below.",
                    file=run.filename,
                    count=run.error_count,
                )
            )
            flash_next_step(
                _(
                    "Correct the rows the error report names, then import the whole file "
                    "again: none of its rows was imported."
                ),
                url_for(".error_report", run_id=run.id),
                _("Download the error report (CSV)"),
            )
        return see_other(".page")
    runs = db.session.scalars(
        select(ImportRun).order_by(ImportRun.id.desc()).limit(RECENT_RUNS)
    ).all()
    last = runs[0] if runs and runs[0].status == REFUSED else None
    html = render_template(
        "imports/index.html",
        form=form,
        runs=runs,
        last=last,
        last_errors=_first_errors(last) if last else None,
        kinds=KINDS,
        max_rows=MAX_ROWS,
        max_megabytes=current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024),
    )
    return html, (422 if form.errors else 200)


def _first_errors(run: ImportRun) -> list[tuple[Any, ...]] | None:
    """The first lines of a refused run's report, for the page (None: an earlier
    version's report, only downloaded)."""
    stored = db.session.scalar(select(ImportRun.report).where(ImportRun.id == run.id))
    errors = report.errors_of(stored) if stored else None
    return list(report.lines(errors[:SHOWN_ERRORS])) if errors is not None else None


@bp.get("/imports/<int:run_id>/report")
@access.admin
def error_report(run_id: int) -> Response:
    run = found(
        db.session.scalars(
            select(ImportRun).options(undefer(ImportRun.report)).where(ImportRun.id == run_id)
        ).one_or_none(),
        "No such error report.",
        lambda run: run.report is not None,
    )
    return Response(
        report.report_csv(cast(bytes, run.report)),  # found() checked it is there
        mimetype=CSV_MIMETYPE,
        headers={
            "Content-Disposition": f'attachment; filename="import-{run.id}-errors.csv"',
            "X-Content-Type-Options": "nosniff",
        },
    )
