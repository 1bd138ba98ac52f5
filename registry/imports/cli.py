"""``flask --app wsgi registry import FILE``: a bulk import of a CSV or XLSX file, all
rows or none, of any size (the admin page holds uploads to the request size limit)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import cast

import click
from flask_babel import force_locale

from registry.core.cli import CLI_ACTOR, refusal_exits
from registry.extensions import db
from registry.imports.operations import import_file
from registry.imports.report import report_csv


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--report",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the error report (CSV) to this file instead of stderr.",
)
def import_command(file: Path, report: Path | None) -> None:
    """Import enterprises, annual reports or designations from a CSV (UTF-8) or XLSX
    file whose header row names API fields. All rows or none: on any error nothing
    changes, the error report (row, column, field, code, message) goes to stderr or --report,
    and the command exits 1."""
    with refusal_exits():  # the write lock not free in time: one line, nothing written
        outcome = import_file(db.session, file.name, file.read_bytes(), actor=CLI_ACTOR)
        db.session.commit()
    run = outcome.run
    if outcome.applied:
        click.echo(f"imported {run.row_count} {run.kind} rows from {file.name} (run {run.id})")
        return
    with force_locale("en"):  # the command line speaks English
        errors = report_csv(cast(bytes, run.report))  # a refused file always has one
    if report is not None:
        report.write_bytes(errors)
    else:
        sys.stderr.write(errors.decode("utf-8-sig"))
    where = f"; report in {report}" if report else ""
    raise click.ClickException(
        f"refused {file.name}: {run.error_count} error(s) in {run.row_count} rows, "
        f"nothing imported (run {run.id}){where}"
    )


#: The commands ``create_app`` adds to the ``flask registry`` group.
COMMANDS = (import_command,)
