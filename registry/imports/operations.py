"""Bulk import of CSV and XLSX files (PRODUCT.md "Operation"): read, recognise, validate, apply.

A file holds one kind of record, recognised by its header row of API field names
(:data:`KINDS`): enterprises, annual reports or
designations. Every row is checked with the rules of the API and the forms (without a
lock, see :func:`import_file`); then all rows are written in one short transaction, or
none: a file with any error changes nothing and gets an error
report, a CSV of ``row, column, field, code, message`` where ``row`` is the row number
a spreadsheet shows (the header is row 1). Each run is recorded in ``import_runs``.

Files: CSV in UTF-8 (a BOM is allowed) with commas, or XLSX (the first sheet, read
with openpyxl's read-only mode). At most :data:`MAX_ROWS` rows besides the header,
blank ones included; rows with no value at all are then skipped. Messages are English
templates with their values (``core.errors.Message``): the report says them in its
reader's language (``registry.imports.report``).

An XLSX file's work is bounded by what it holds, never by what it declares: its parts
may unpack to :data:`MAX_XLSX_UNPACKED` bytes at most (checked from the zip's directory
before anything is unpacked; Python's zipfile never unpacks an entry beyond its
declared size), the sheet's ``<dimension>`` is ignored, and rows are read only as far
as the header's last column.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any
from xml.etree.ElementTree import ParseError  # nosec B405 # only to catch openpyxl's errors

from sqlalchemy.exc import IntegrityError

from registry.core.audit import Actor
from registry.core.db import read_only
from registry.core.dbsession import DbSession
from registry.core.errors import DomainError, Message
from registry.imports.annual_reports import REPORTS
from registry.imports.designations import DESIGNATIONS
from registry.imports.models import ImportRun
from registry.imports.report import stored
from registry.imports.rows import ENTERPRISES, Kind, Row, RowError, RowsRefused

#: The most data rows a file may have (PRODUCT.md "Operation").
MAX_ROWS = 100_000
#: The most an XLSX file's parts may unpack to together, and the most parts it may have:
#: a file of 100 000 rows of every enterprise column unpacks to about 90 MB (5.6 MB
#: packed), a zip bomb to thousands of times its size.
MAX_XLSX_UNPACKED = 256 * 1024 * 1024
MAX_XLSX_PARTS = 1_000
APPLIED, REFUSED = "applied", "refused"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the binary .xls of old Excel versions
_UNREADABLE_XLSX = Message("The XLSX file cannot be read: save it again as XLSX, or as CSV.")
#: The kinds of file, each recognised by its required columns.
KINDS: tuple[Kind, ...] = (ENTERPRISES, REPORTS, DESIGNATIONS)
#: Each kind in words, as a value of a message.
KIND_WORDS = {
    ENTERPRISES.name: Message("enterprises"),
    REPORTS.name: Message("annual reports"),
    DESIGNATIONS.name: Message("designations"),
}


class FileRefused(Exception):
    """The file as a whole cannot be read or recognised (one error, no row checks)."""

    def __init__(self, error: RowError) -> None:
        super().__init__(error.message)
        self.error = error


def _file_error(
    code: str, message: Message, row: int | None = None, column: str = ""
) -> FileRefused:
    return FileRefused(RowError(row, column, code, message))


@dataclass
class Outcome:
    """What an import did: the run recorded, and its errors (none when applied)."""

    run: ImportRun
    errors: list[RowError] = field(default_factory=list)

    @property
    def applied(self) -> bool:
        return self.run.status == APPLIED


# --- reading -------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """An XLSX cell as the importer takes it: text stripped (empty → None), whole floats
    as integers, a date-time at midnight as its ISO date."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    return value


def _csv_records(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _file_error(
            "invalid_encoding",
            Message(
                "The file is neither XLSX nor UTF-8 text (byte %(byte)s is not UTF-8).",
                byte=exc.start + 1,
            ),
        ) from None
    if "\x00" in content:
        raise _file_error("invalid_encoding", Message("The file contains NUL characters."))
    number = 0
    try:
        # A spreadsheet numbers records, not physical lines (a quoted cell may span lines).
        for number, record in enumerate(csv.reader(io.StringIO(content, newline="")), 1):
            yield number, [_plain(cell) for cell in record]
    except csv.Error:
        # Python's words for the fault are English only: the row says where to look.
        message = Message("The CSV file cannot be read from this row on: save it again as CSV.")
        raise _file_error("invalid_csv", message, number + 1) from None


def _check_unpacked_size(data: bytes) -> None:
    """Refuse an XLSX file whose parts would unpack to more than the bound (a zip
    bomb), from the sizes its zip directory declares."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _file_error("invalid_xlsx", _UNREADABLE_XLSX) from None
    if len(parts) > MAX_XLSX_PARTS or sum(p.file_size for p in parts) > MAX_XLSX_UNPACKED:
        message = Message(
            "The XLSX file unpacks to more than %(max)s MB or holds more than %(parts)s "
            "parts; split it into several files.",
            max=MAX_XLSX_UNPACKED // (1024 * 1024),
            parts=MAX_XLSX_PARTS,
        )
        raise _file_error("xlsx_too_large", message)


def _xlsx_records(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    _check_unpacked_size(data)
    # Loaded here, not with the app: a web worker that never reads XLSX saves ~5 MB.
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise _file_error("invalid_xlsx", _UNREADABLE_XLSX) from None
    try:
        sheet = workbook.worksheets[0]
        # The declared <dimension> is the writer's word, not what the sheet holds
        # ("A1:XFD1048576" around one cell would make every row 16 384 cells wide):
        # forgotten, each row is read as far as its own cells, and the data rows only
        # as far as the header's last column.
        sheet.reset_dimensions()
        first = sheet.iter_rows(max_row=1, values_only=True)
        header = [_plain(cell) for cell in next(first, ())]
        first.close()
        yield 1, header
        width = max((i for i, cell in enumerate(header, 1) if cell is not None), default=0)
        if not width:
            return  # no column named: the header is refused (max_col=0 would mean all)
        rows = sheet.iter_rows(min_row=2, max_col=width, values_only=True)
        for number, record in enumerate(rows, 2):
            yield number, [_plain(cell) for cell in record]
    except (ParseError, zipfile.BadZipFile, KeyError, ValueError, TypeError):
        # The sheet's XML is read as the rows are: a damaged part shows only here.
        raise _file_error("invalid_xlsx", _UNREADABLE_XLSX) from None
    finally:
        workbook.close()


def records(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """(row number, cells) of every row of a CSV or XLSX file, header first."""
    if data.startswith(_OLE_MAGIC):
        raise _file_error("unsupported_format", Message("Save the file as XLSX or CSV (UTF-8)."))
    return _xlsx_records(data) if data.startswith(_ZIP_MAGIC) else _csv_records(data)


def _header(cells: list[Any]) -> list[str]:
    """Column names: trailing empty cells dropped; an empty one before a name, or a
    repeated name, refuses the file."""
    names = [str(c).strip() if c is not None else "" for c in cells]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise _file_error("empty_header", Message("The first row must name the columns."), 1)
    seen: set[str] = set()
    for position, name in enumerate(names, 1):
        if not name:
            message = Message("Column %(position)s has no name.", position=position)
            raise _file_error("empty_column", message, 1)
        if name in seen:
            message = Message("The column %(name)s appears twice.", name=name)
            raise _file_error("duplicate_column", message, 1, name)
        seen.add(name)
    return names


def recognise(columns: list[str]) -> Kind:
    """The kind whose required columns the header has and which knows every column."""
    candidates = [kind for kind in KINDS if kind.required <= set(columns)]
    for kind in candidates:
        if set(columns) <= kind.columns:
            return kind
    if not candidates:
        required = {k.name: ", ".join(c for c in k.order if c in k.required) for k in KINDS}
        message = Message(
            "The header matches no kind of record. Required columns: %(enterprises)s for "
            "enterprises; %(reports)s for annual reports; %(designations)s for designations.",
            enterprises=required[ENTERPRISES.name],
            reports=required[REPORTS.name],
            designations=required[DESIGNATIONS.name],
        )
        raise _file_error("unknown_kind", message, 1)
    kind = min(candidates, key=lambda k: len(set(columns) - k.columns))
    unknown = [c for c in columns if c not in kind.columns]
    message = Message(
        "Columns unknown in a file of %(kind)s: %(unknown)s. Allowed: %(allowed)s.",
        kind=KIND_WORDS[kind.name],
        unknown=", ".join(unknown),
        allowed=", ".join(kind.order),
    )
    raise _file_error("unknown_column", message, 1, unknown[0])


def read_rows(data: bytes) -> tuple[Kind, list[Row], list[RowError]]:
    """The file's kind, its data rows (cells by column name) and the errors of rows
    with more cells than the header has columns (CSV: an XLSX row is read only as far
    as the header's last column)."""
    stream = records(data)
    first = next(stream, None)
    if first is None:
        raise _file_error("empty_file", Message("The file is empty."))
    columns = _header(first[1])
    kind = recognise(columns)
    rows: list[Row] = []
    errors: list[RowError] = []
    for number, cells in stream:
        # Every row counts, blank or not: the work is bounded by the rows read.
        if number > MAX_ROWS + 1:
            message = Message(
                "A file may hold at most %(max)s rows, blank ones included; split it "
                "into several files.",
                max=MAX_ROWS,
            )
            raise _file_error("too_many_rows", message, number)
        if all(cell is None for cell in cells):
            continue
        extra = cells[len(columns) :]
        if any(cell is not None for cell in extra):
            message = Message("The row has more values than columns.")
            errors.append(RowError(number, "", "extra_value", message))
        rows.append(Row(number, dict(zip(columns, cells, strict=False))))
    return kind, rows, errors


# --- running -------------------------------------------------------------------------------


def _record(
    session: DbSession,
    filename: str,
    kind: str | None,
    rows: int,
    errors: list[RowError],
    actor: Actor,
) -> ImportRun:
    run = ImportRun(
        filename=filename.replace("\x00", "")[:255],  # PostgreSQL stores no NUL
        kind=kind,
        status=REFUSED if errors else APPLIED,
        row_count=rows,
        error_count=len(errors),
        report=stored(errors) if errors else None,
        created_by=actor.user_id,
        via=actor.via,
    )
    session.add(run)
    session.flush()
    return run


def import_file(session: DbSession, filename: str, data: bytes, *, actor: Actor) -> Outcome:
    """Import one file: every row written, or none. Flushes, for the caller to commit:
    the records with their run, or — when anything is refused — only the run with its
    error report. Call it where a transaction may write (a POST, a command) with
    nothing uncommitted: it ends the session's transaction first.

    Checking holds no lock: the file is read and every row checked in a read-only
    transaction (no write lock on SQLite), which plans the writes; then one write
    transaction re-checks, under the lock, what the plan rests on and writes it all.

    The rule for what changed in between: the outcome is the one importing the file
    just after that change would give, never a write planned from a stale read.

    * A record the file replaces that has another version now, or a USCC the file
      creates that exists now, is planned again from the record as it is (the change
      stays in the audit log, before the import's replacement).
    * A row that the change makes fail a check (a USCC mirrored by a sync pull
      meanwhile) refuses the file with that row's error.
    * Annual reports are replaced or created by what exists at the write; designations
      are checked again, quotas and all, by ``bulk_grant`` under the tier locks, which
      refuses the file if one fails.

    (A row replaces a whole profile, as a PUT without a precondition does: a change made
    in between is overwritten just as one made before the check would be; refusing it
    would only refuse files by chance of timing.)
    """
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("import_file ends the session's transaction: commit first")
    session.rollback()
    kind_name, row_count = None, 0
    try:
        kind, rows, errors = read_rows(data)
        kind_name, row_count = kind.name, len(rows)
        with read_only():
            plan = kind.check(session, rows)
        session.rollback()  # the read-only transaction: nothing was written
        del rows  # the plan keeps what it writes: the file's rows are freed before the lock
        errors += plan.errors
        if not errors:
            plan.write(session, actor, filename)
    except FileRefused as refusal:
        errors = [refusal.error]
    except RowsRefused as refusal:
        errors = refusal.errors
    except DomainError as error:
        # A rule the row checks did not foresee (e.g. a quota taken meanwhile).
        errors = [RowError(None, "", error.code, Message(error.template, **error.params))]
    except IntegrityError:
        message = Message("A record was written meanwhile; try again.")
        errors = [RowError(None, "", "conflict", message)]
    if errors:
        session.rollback()
    return Outcome(_record(session, filename, kind_name, row_count, errors, actor), errors)
