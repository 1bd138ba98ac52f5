"""The kinds of record a bulk import knows, how their rows are checked and written.

Rows are checked with the API's own rules: the marshmallow input schemas
(``registry.enterprises.api_schemas``), the API's checks of choices that live in the
database and of status changes, ``report_values`` (the consistency rules) and the
ladder's rules of ``bulk_grant``. Each check gives :class:`RowError` items; a file
without any is written by the batch operations ``registry demo`` uses (new records)
and the operations the API uses (records that exist, updated like a PUT), all of which
write change-log and audit entries.

Records that exist: a local enterprise or annual report is replaced as a PUT replaces
it (a column left out, or an empty cell, clears that field; an empty or missing
``status`` keeps the stored one); a mirrored one (origin ≠ local) is the row error
``read_only_origin``. Designations only put enterprises on a higher rung (``grant``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select, tuple_

from registry.core import clock
from registry.core.audit import Actor
from registry.core.changes import append_entries
from registry.core.db import in_chunks
from registry.core.dbsession import DbSession
from registry.core.errors import DomainError, Message, refusal
from registry.core.problems import field_errors
from registry.enterprises import batch_operations as bulk
from registry.enterprises import operations, queries
from registry.enterprises import uscc as uscc_codes
from registry.enterprises.api_schemas import AnnualReportIn, EnterpriseIn, ReadOnly, status_change
from registry.enterprises.batches import (
    parts_above_wholes,
    prepare_enterprises,
    prepare_reports,
    report_values,
)
from registry.enterprises.models import (
    FIGURE_FIELDS,
    LOCAL_ORIGIN,
    PERCENT_FIELDS,
    AnnualReport,
    Enterprise,
    Status,
)

_INTEGER = re.compile(r"[+-]?\d+\Z")
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)\Z")


@dataclass(frozen=True)
class Row:
    """A data row: its number in the file (header = 1) and its cells by column."""

    number: int
    cells: dict[str, Any]


@dataclass(frozen=True)
class RowError:
    """One line of the error report (``row`` None: about the file as a whole); the
    message is a :class:`~registry.core.errors.Message` or one of marshmallow's."""

    row: int | None
    column: str
    code: str
    message: str


#: The message of an empty cell that needs a value, in the words of every form
#: (``core.forms.REQUIRED``).
REQUIRED_CELL = Message("This field is required.")


@dataclass
class Plan:
    """The outcome of checking a file's rows: errors, or what to write."""

    errors: list[RowError] = field(default_factory=list)
    write: Callable[[DbSession, Actor, str], None] = lambda *_: None


@dataclass(frozen=True)
class Kind:
    name: str
    order: tuple[str, ...]
    required: frozenset[str]
    check: Callable[[DbSession, list[Row]], Plan]

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(self.order)


# --- shared checks -------------------------------------------------------------------------


def text_cell(value: Any) -> Any:
    """A text field's cell: numbers from a spreadsheet as their text."""
    return value if value is None or isinstance(value, str) else str(value)


def _number(value: Any, decimal: bool) -> Any:
    """A figure's cell: numeric text as a number; anything else is left for the
    schema to refuse."""
    if isinstance(value, str) and (_DECIMAL if decimal else _INTEGER).match(value):
        return float(value) if decimal else int(value)
    return value


def _schema_errors(number: int, exc: ValidationError) -> list[RowError]:
    return [
        RowError(number, e["field"], e["code"], e["message"]) for e in field_errors(exc.messages)
    ]


def domain_errors(number: int, error: DomainError, column: str) -> list[RowError]:
    items = error.errors or [refusal(column, error.code, error.template, **error.params)]
    message = Message(error.template, **error.params)
    return [RowError(number, i.get("field") or column, i["code"], message) for i in items]


def row_uscc(row: Row, errors: list[RowError]) -> str | None:
    """The row's USCC, normalised; None (with its error) when missing or invalid."""
    raw = text_cell(row.cells.get("uscc"))
    if raw is None:
        errors.append(RowError(row.number, "uscc", "required", REQUIRED_CELL))
        return None
    try:
        return uscc_codes.validate(raw).code
    except uscc_codes.InvalidUSCC as exc:
        message = Message("%(raw)s: %(reason)s", raw=raw, reason=exc)
        errors.append(RowError(row.number, "uscc", "invalid_uscc", message))
        return None


def first_time(key: Any, row: Row, seen: dict, errors: list[RowError], column: str) -> bool:
    """False (with an error) when ``key`` was on an earlier row of the file."""
    if key in seen:
        message = Message("Also on row %(row)s: a record appears once per file.", row=seen[key])
        errors.append(RowError(row.number, column, "duplicate", message))
        return False
    seen[key] = row.number
    return True


def _stored(session: DbSession, codes: Iterable[str]) -> dict[str, tuple[int, str]]:
    """``{uscc: (id, origin)}`` of those of ``codes`` that are in the registry."""
    found: dict[str, tuple[int, str]] = {}
    for chunk in in_chunks(list(codes)):
        stmt = select(Enterprise.uscc, Enterprise.id, Enterprise.origin).where(
            Enterprise.uscc.in_(chunk)
        )
        found.update((code, (i, origin)) for code, i, origin in session.execute(stmt))
    return found


def _records(session: DbSession, ids: list[int]) -> dict[int, Enterprise]:
    found: dict[int, Enterprise] = {}
    for chunk in in_chunks(ids):
        found.update(
            (e.id, e) for e in session.scalars(select(Enterprise).where(Enterprise.id.in_(chunk)))
        )
    return found


def _read_only(number: int, code: str, origin: str) -> RowError:
    message = Message(
        "%(uscc)s is mirrored from %(origin)s and is read-only here.", uscc=code, origin=origin
    )
    return RowError(number, "uscc", "read_only_origin", message)


# --- enterprises ---------------------------------------------------------------------------


class EnterpriseRow(EnterpriseIn):
    """An enterprise row: the API's writable members (the USCC is the row's key)."""

    def _status_for_reviewers(self, data: dict[str, Any], **_kwargs: Any) -> None:
        # Imports are for admins, who may set the status.
        return None


ENTERPRISE_COLUMNS = (
    "uscc",
    *(name for name, f in EnterpriseIn._declared_fields.items() if not isinstance(f, ReadOnly)),
)


def _check_enterprises(session: DbSession, rows: list[Row]) -> Plan:
    schema = EnterpriseRow()
    cities = {c.code for c in queries.cities(session)}
    industries = {i.code for i in queries.industries(session)}
    today = clock.today()
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    checked: list[tuple[Row, str, dict, Status | None, str | None]] = []
    for row in rows:
        found: list[RowError] = []
        status = merged_into = None
        code = row_uscc(row, found)
        sent = {k: text_cell(v) for k, v in row.cells.items() if k != "uscc"}
        if sent.get("status") is None:
            sent.pop("status", None)  # left empty: the stored status stays (new: active)
        try:
            doc = schema.load(sent)
        except ValidationError as exc:
            found += _schema_errors(row.number, exc)
            doc = None
        if doc is not None:
            problems: list[dict] = []
            if doc.get("city_code") is not None and doc["city_code"] not in cities:
                problems.append(refusal("city_code", "invalid_choice", "Unknown code."))
            if doc.get("industry_code") is not None and doc["industry_code"] not in industries:
                problems.append(refusal("industry_code", "invalid_choice", "Unknown code."))
            if doc.get("founded_on") is not None and doc["founded_on"] > today:
                problems.append(refusal("founded_on", "out_of_range", "In the future."))
            status, merged_into = status_change(code or "", doc, doc, problems)
            found += [RowError(row.number, p["field"], p["code"], p["message"]) for p in problems]
        if code is not None and first_time(code, row, seen, found, "uscc") and not found:
            checked.append((row, code, doc, status, merged_into))
        errors += found
    stored = _stored(session, [c[1] for c in checked])
    for row, code, _doc, _status, _merged in checked:
        if code in stored and stored[code][1] != LOCAL_ORIGIN:
            errors.append(_read_only(row.number, code, stored[code][1]))
    if errors:
        return Plan(errors)

    def write(session: DbSession, actor: Actor, _source: str) -> None:
        new = [c for c in checked if c[1] not in stored]
        batch = prepare_enterprises(
            (
                {
                    **{name: doc.get(name) for name in operations.PROFILE_FIELDS},
                    "uscc": code,
                    "city_code": doc.get("city_code") or uscc_codes.city_code(code, cities),
                    "status": str(status or Status.ACTIVE),
                    "merged_into": merged_into,
                }
                for _row, code, doc, status, merged_into in new
            ),
            clock.now(),
        )
        feed: list[dict] = []
        bulk.bulk_create_enterprises(session, batch, actor=actor, feed=feed)
        records = _records(session, [stored[c[1]][0] for c in checked if c[1] in stored])
        for _row, code, doc, status, merged_into in checked:
            if code in stored:
                operations.replace_enterprise(
                    session,
                    records[stored[code][0]],
                    doc,
                    actor=actor,
                    status=status,
                    merged_into=merged_into,
                )
        # The bulk rows' entries last: on PostgreSQL the feed counter is then locked only
        # for the COMMIT (API.md "How the order is kept").
        append_entries(session, feed)

    return Plan([], write)


# --- annual reports ------------------------------------------------------------------------

REPORT_COLUMNS = ("uscc", "year", *FIGURE_FIELDS)


def _check_reports(session: DbSession, rows: list[Row]) -> Plan:
    schema = AnnualReportIn()
    errors: list[RowError] = []
    seen: dict[tuple[str, int], int] = {}
    checked: list[tuple[Row, str, int, dict]] = []
    for row in rows:
        found: list[RowError] = []
        code = row_uscc(row, found)
        year = _number(text_cell(row.cells.get("year")), decimal=False)
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
            name: _number(text_cell(value), decimal=name in PERCENT_FIELDS)
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
            found += _schema_errors(row.number, exc)
        except DomainError as error:
            found += domain_errors(row.number, error, "")
        if code is not None and not found and first_time((code, year), row, seen, found, "year"):
            checked.append((row, code, year, figures))
        errors += found
    stored = _stored(session, {c[1] for c in checked})
    for row, code, _year, _figures in checked:
        if code not in stored:
            message = Message("No enterprise %(uscc)s.", uscc=code)
            errors.append(RowError(row.number, "uscc", "not_found", message))
        elif stored[code][1] != LOCAL_ORIGIN:
            errors.append(_read_only(row.number, code, stored[code][1]))
    if errors:
        return Plan(errors)
    ids = {code: stored[code][0] for _row, code, _year, _figures in checked}
    existing: set[tuple[int, int]] = set()
    for chunk in in_chunks([(ids[c[1]], c[2]) for c in checked]):
        stmt = select(AnnualReport.enterprise_id, AnnualReport.year).where(
            tuple_(AnnualReport.enterprise_id, AnnualReport.year).in_(chunk)
        )
        existing.update((enterprise_id, year) for enterprise_id, year in session.execute(stmt))

    def write(session: DbSession, actor: Actor, _source: str) -> None:
        new = [c for c in checked if (ids[c[1]], c[2]) not in existing]
        batch = prepare_reports(
            ({**figures, "enterprise_uscc": code, "year": year} for _r, code, year, figures in new),
            clock.now(),
        )
        feed: list[dict] = []
        bulk.bulk_create_reports(session, batch, actor=actor, ids=ids, feed=feed)
        replaced = [c for c in checked if (ids[c[1]], c[2]) in existing]
        records = _records(session, sorted({ids[c[1]] for c in replaced}))
        for _row, code, year, figures in replaced:
            operations.save_annual_report(session, records[ids[code]], year, figures, actor=actor)
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


ENTERPRISES = Kind(
    "enterprises", ENTERPRISE_COLUMNS, frozenset({"uscc", "name"}), _check_enterprises
)
REPORTS = Kind("annual_reports", REPORT_COLUMNS, frozenset({"uscc", "year"}), _check_reports)
