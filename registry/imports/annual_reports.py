"""Annual reports in a bulk import: each row the figures of one enterprise for one
year, checked as the API checks them (``AnnualReportIn``, the year's range, the
consistency rules of ``report_values``); new reports are written by the batch
operations, stored ones replaced in bulk (``registry.enterprises.batch_replace``) as
``save_annual_report`` replaces one."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError

from registry.core import clock
from registry.core.audit import Actor
from registry.core.changes import append_entries
from registry.core.dbsession import DbSession
from registry.core.errors import DomainError, Message
from registry.enterprises import batch_operations as bulk
from registry.enterprises import batch_replace, operations, stored_records
from registry.enterprises.api_schemas import AnnualReportIn
from registry.enterprises.batches import parts_above_wholes, prepare_reports, report_values
from registry.enterprises.models import FIGURE_FIELDS, LOCAL_ORIGIN, PERCENT_FIELDS, AnnualReport
from registry.imports.rows import (
    REQUIRED_CELL,
    Kind,
    Plan,
    Row,
    RowError,
    domain_errors,
    first_time,
    number_cell,
    read_only_error,
    row_uscc,
    schema_errors,
    stored_origins,
    text_cell,
)

REPORT_COLUMNS = ("uscc", "year", *FIGURE_FIELDS)


def _check_reports(session: DbSession, rows: list[Row]) -> Plan:
    schema = AnnualReportIn()
    errors: list[RowError] = []
    seen: dict[tuple[str, int], int] = {}
    checked: list[tuple[Row, str, int, dict]] = []
    for row in rows:
        found: list[RowError] = []
        code = row_uscc(row, found)
        year = number_cell(text_cell(row.cells.get("year")), decimal=False)
        if year is None:
            found.append(RowError(row.number, "year", "required", REQUIRED_CELL))
        elif not isinstance(year, int):
            found.append(RowError(row.number, "year", "invalid_type", "Not a valid integer."))
        else:
            try:
                operations.check_report_year(year)
            except DomainError as error:
                found += domain_errors(row.number, error, "year")
        sent = {
            name: number_cell(text_cell(value), decimal=name in PERCENT_FIELDS)
            for name, value in row.cells.items()
            if name not in ("uscc", "year")
        }
        figures: Any = None  # the schema's dict once loaded
        try:
            figures = schema.load(sent)
            found += _parts_above_wholes(row.number, figures)
            if not found:
                report_values({**figures, "year": year if isinstance(year, int) else 0})
        except ValidationError as exc:
            found += schema_errors(row.number, exc)
        except DomainError as error:
            found += domain_errors(row.number, error, "")
        if code is not None and not found and first_time((code, year), row, seen, found, "year"):
            checked.append((row, code, year, figures))
        errors += found
    stored = stored_origins(session, {c[1] for c in checked})
    for row, code, _year, _figures in checked:
        if code not in stored:
            message = Message("No enterprise %(uscc)s.", uscc=code)
            errors.append(RowError(row.number, "uscc", "not_found", message))
        elif stored[code][1] != LOCAL_ORIGIN:
            errors.append(read_only_error(row.number, code, stored[code][1]))
    if errors:
        return Plan(errors)
    # A local enterprise stays local and is never deleted: what was read of it holds.
    places = {(stored[c[1]][0], c[2]): c[1] for c in checked}
    figures_at = {(stored[c[1]][0], c[2]): c[3] for c in checked}
    reports = stored_records.stored_reports(session, places)
    replacements: dict[tuple[int, int], batch_replace.Replacement] = {}

    def plan(place: tuple[int, int], report: stored_records.StoredReport) -> None:
        replacements.pop(place, None)
        replacement = batch_replace.plan_figures(report, figures_at[place])
        if replacement is not None:
            replacements[place] = replacement

    for place, report in reports.items():
        plan(place, report)

    def write(session: DbSession, actor: Actor, _source: str) -> None:
        # Reports changed or created since the rows were checked are planned again
        # from what they hold now, as if the file were imported just after.
        for place, report in stored_records.changed_reports(session, reports, places).items():
            reports[place] = report
            plan(place, report)
        new = [place for place in places if place not in reports]
        batch = prepare_reports(
            ({**figures_at[p], "enterprise_uscc": places[p], "year": p[1]} for p in new),
            clock.now(),
        )
        feed: list[dict] = []
        ids = {code: enterprise_id for (enterprise_id, _year), code in places.items()}
        bulk.bulk_create_reports(session, batch, actor=actor, ids=ids, feed=feed)
        changed = list(replacements.values())
        batch_replace.bulk_replace(session, AnnualReport, changed, actor=actor, feed=feed)
        append_entries(session, feed)  # last, as above

    return Plan([], write)


def _parts_above_wholes(number: int, figures: dict[str, Any]) -> list[RowError]:
    """A figure above the figure it is part of, on the part's column (the annual report
    form's rule, which ``report_values`` applies too)."""
    return [
        RowError(
            number,
            part,
            "inconsistent",
            Message("Cannot be more than the column %(column)s.", column=whole),
        )
        for part, whole in parts_above_wholes(figures)
    ]


REPORTS = Kind("annual_reports", REPORT_COLUMNS, frozenset({"uscc", "year"}), _check_reports)
