"""``flask --app wsgi registry export …``: exports of enterprises and published lists as
CSV/XLSX."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from registry.core.db import consistent_read
from registry.extensions import db
from registry.reports import exports


@click.command("export")
@click.argument("what", type=click.Choice([exports.ENTERPRISES, exports.PUBLISHED]))
@click.option("--tier", help="Tier code (required for list; for enterprises also 'none').")
@click.option("--city", help="City code.")
@click.option("--industry", help="Industry code, or 'none'.")
@click.option("--status", help="Enterprises only: active, deregistered or merged.")
@click.option("--format", "fmt", type=click.Choice(exports.FORMATS), default="csv")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Output file (default: standard output, CSV only).",
)
def export_command(
    what: str,
    tier: str | None,
    city: str | None,
    industry: str | None,
    status: str | None,
    fmt: str,
    out: Path | None,
) -> None:
    """Export every enterprise (``enterprises``; filters --tier, --city, --industry,
    --status) or a tier's published list (``list --tier T``; filters --city,
    --industry) as CSV (UTF-8 with BOM) or XLSX, read in one consistent transaction."""
    filters = {"tier": tier, "city": city, "industry": industry, "status": status}
    if what == exports.PUBLISHED and not tier:
        raise click.UsageError("export list needs --tier")
    if what == exports.PUBLISHED and status:
        raise click.UsageError("--status is for the enterprises export only")
    if fmt == "xlsx" and out is None:
        raise click.UsageError("an XLSX export needs --out FILE")
    unknown = exports.filter_errors(db.session, what, filters)
    if unknown:
        raise click.BadParameter(
            f"unknown value {filters[unknown[0]]!r}", param_hint=f"--{unknown[0]}"
        )
    db.session.rollback()
    with consistent_read(db.engine) as connection:
        header, rows = exports.export_rows(connection, what, filters)
        if fmt == "xlsx" and out is not None:  # (--out is required for XLSX, above)
            with exports.xlsx_file(header, rows, what) as built, out.open("wb") as file:
                shutil.copyfileobj(built, file)
            return
        target = out.open("wb") if out else sys.stdout.buffer
        try:
            for chunk in exports.csv_chunks(header, rows):
                target.write(chunk)
        finally:
            if out:
                target.close()
            else:
                target.flush()


#: The commands ``create_app`` adds to the ``flask registry`` group.
COMMANDS = (export_command,)
