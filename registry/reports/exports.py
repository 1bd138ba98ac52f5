"""Tables written as CSV (UTF-8 with BOM) or XLSX, and the rows of the exports.

Every download of the registry goes through :func:`csv_chunks` or :func:`xlsx_file`
(PRODUCT.md "Reports", QUALITY.md S9): a text cell starting with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return is prefixed with ``'`` so that a spreadsheet shows it as
text instead of running it as a formula. Numbers stay numbers (a negative number is a
number, not text that starts with ``-``).

The exports read in one consistent read-only transaction and in keyset batches
(:data:`BATCH` rows by USCC), so that memory stays flat however many enterprises there
are: CSV is streamed as it is read; XLSX is written by openpyxl's write-only mode into
a temporary file, which is then sent.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import IO, Any

from sqlalchemy import Connection, Row, Select, bindparam, column, select, table
from sqlalchemy.orm import Session

from registry.core.dbsession import DbSession
from registry.core.schemas import rfc3339, stored_rfc3339
from registry.enterprises.batches import ENTERPRISE_FIELDS
from registry.enterprises.feed_json import enterprise_data
from registry.enterprises.models import Status
from registry.enterprises.schemas import EnterpriseOut
from registry.ladder import listing
from registry.ladder.api import PublishedOut
from registry.ladder.models import Tier

#: Characters that make a spreadsheet read a cell as a formula (or hide its start).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
#: Rows read per keyset query, and CSV rows per chunk handed to the server.
BATCH = 2000
CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")

#: The columns of the enterprises export: the API's enterprise fields, in its order.
ENTERPRISE_COLUMNS = tuple(EnterpriseOut._declared_fields)
#: The columns of a published list: the API's published-list fields.
PUBLISHED_COLUMNS = tuple(PublishedOut._declared_fields)
#: Export filters → the enterprise column each one compares.
ENTERPRISE_FILTERS = {
    "tier": "tier",
    "city": "city_code",
    "industry": "industry_code",
    "status": "status",
}
#: The filter value for "no tier" and "no industry of the plan" (as on the list pages).
NONE = "none"


# --- cells ---------------------------------------------------------------------------------


def neutralise(value: Any) -> Any:
    """A cell value safe to open in a spreadsheet: text starting with a formula
    character gets a leading ``'``; numbers, None and other text are unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    """A value as a cell: lists joined with ``;``, dates in ISO form, booleans as
    ``true``/``false`` (as the API writes them), then :func:`neutralise`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        value = ";".join(str(v) for v in value)
    elif isinstance(value, datetime):
        value = rfc3339(value)
    elif isinstance(value, date):
        value = value.isoformat()
    return neutralise(value)


# --- writers -------------------------------------------------------------------------------


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """A CSV file (UTF-8 with BOM, CRLF line ends) in chunks of encoded bytes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(header)
    pending = 0
    for row in rows:
        writer.writerow(["" if v is None else _cell(v) for v in row])
        pending += 1
        if pending >= BATCH:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue().encode("utf-8")


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A small CSV file at once (e.g. an import's error report)."""
    return b"".join(csv_chunks(header, rows))


def _xlsx_cell(value: Any) -> Any:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = _cell(value)
    if isinstance(value, str):
        # Control characters are not allowed in the file format: shown as U+FFFD.
        value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    return value


def xlsx_file(header: Sequence[str], rows: Iterable[Sequence[Any]], title: str) -> IO[bytes]:
    """An XLSX workbook of one sheet, written row by row (write-only mode) into a
    temporary file, returned open at its start (the caller closes it)."""
    # Loaded here, not with the app: a web worker that never writes XLSX saves ~5 MB.
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(list(header))
    for row in rows:
        sheet.append([_xlsx_cell(v) for v in row])
    out = tempfile.TemporaryFile()
    workbook.save(out)
    out.seek(0)
    return out


# --- rows ----------------------------------------------------------------------------------


# Untyped columns: no conversion per value, the feed's serializer takes the driver's values.
_ENTERPRISES = table(
    "enterprises",
    *(column(name) for name in (*ENTERPRISE_FIELDS, "version", "created_at", "updated_at")),
)


def _enterprise_query(filters: dict[str, str]) -> Select:
    """The next batch after the USCC ``last`` (a bound parameter) matching ``filters``."""
    query = (
        select(*_ENTERPRISES.c)
        .where(_ENTERPRISES.c.uscc > bindparam("last"))
        .order_by(_ENTERPRISES.c.uscc)
        .limit(BATCH)
    )
    for name, column_name in ENTERPRISE_FILTERS.items():
        value = filters.get(name)
        if value is None:
            continue
        filtered = _ENTERPRISES.c[column_name]
        if value == NONE and name in ("tier", "industry"):
            query = query.where(filtered.is_(None))
        else:
            query = query.where(filtered == value)
    return query


def enterprise_rows(connection: Connection, filters: dict[str, str]) -> Iterator[list]:
    """Every enterprise matching ``filters`` (tier, city, industry, status; ``none``
    for no tier or no industry), by USCC, as :data:`ENTERPRISE_COLUMNS` values: the
    API's representation (the feed's serializer, which equals the output schema)."""
    query = _enterprise_query(filters)
    last = ""
    while True:
        rows = connection.execute(query, {"last": last}).all()
        for row in rows:
            data = enterprise_data(
                row[:-3], stored_rfc3339(row[-2]), stored_rfc3339(row[-1]), row[-3]
            )
            record = json.loads(data)
            yield [record[name] for name in ENTERPRISE_COLUMNS]
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


def published_records(
    connection: Connection,
    tier: str,
    city: str | None = None,
    industry: str | None = None,
    q: str | None = None,
) -> Iterator[Row]:
    """A tier's whole published list (the rows of its page, :data:`listing.LISTED_COLUMNS`),
    by USCC, filtered and searched as on its page."""
    with Session(bind=connection) as session:
        after = None
        while True:
            rows = listing.published_rows(
                session, tier, limit=BATCH, after=after, city=city, industry=industry, q=q
            )
            yield from rows
            if len(rows) < BATCH:
                return
            after = rows[-1].uscc


def published_rows(
    connection: Connection, tier: str, city: str | None = None, industry: str | None = None
) -> Iterator[list]:
    """A tier's whole published list as :data:`PUBLISHED_COLUMNS` values (the API's)."""
    for row in published_records(connection, tier, city, industry):
        yield [getattr(row, name) for name in PUBLISHED_COLUMNS]


ENTERPRISES, PUBLISHED = "enterprises", "list"


def export_rows(
    connection: Connection, what: str, filters: dict[str, str | None]
) -> tuple[tuple[str, ...], Iterator[list]]:
    """The header and rows of an export: ``enterprises`` (filters tier, city, industry,
    status) or ``list``, a tier's published list (filters tier — required —, city,
    industry). Filter values are checked by the caller (:func:`filter_errors`)."""
    wanted = {name: value for name, value in filters.items() if value}
    if what == ENTERPRISES:
        return ENTERPRISE_COLUMNS, enterprise_rows(connection, wanted)
    rows = published_rows(connection, wanted["tier"], wanted.get("city"), wanted.get("industry"))
    return PUBLISHED_COLUMNS, rows


def filter_errors(session: DbSession, what: str, filters: dict[str, str | None]) -> list[str]:
    """The filters given that name no known value (``none`` is a value for tier and
    industry on the enterprises export, and for industry on a published list)."""
    known = {
        "tier": set(session.scalars(select(Tier.code))),
        "city": {c.code for c in listing.cities(session)},
        "industry": {i.code for i in listing.industries(session)} | {NONE},
        "status": {str(s) for s in Status},
    }
    if what == ENTERPRISES:
        known["tier"].add(NONE)
    return [name for name, value in filters.items() if value and value not in known[name]]
