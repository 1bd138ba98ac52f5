"""The snapshot (API.md "Sync" ``GET /export``): every resource as NDJSON, read in one
consistent transaction, streamed in keyset batches so that memory stays flat.

Lines: ``{"as_of": cursor}``; then ``{"type", "key", "version", "data"}`` for the
enterprises (by USCC), annual reports (by USCC, then year), tier events and
applications (by id, numerically); last ``{"end": true, "as_of", "count"}``. A reader
that loads it and follows ``/changes?after=<as_of>`` holds an exact copy: ``as_of`` is
the feed head seen by the same transaction that reads the rows.

Enterprises and annual reports — a million each — are rendered by the feed's
dedicated serializers (``registry.enterprises.batches``), whose output equals the
output schemas'; tier events and applications by their schemas.
"""

from __future__ import annotations

import zlib
from collections.abc import Generator, Mapping
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    column,
    inspect,
    or_,
    select,
    table,
)
from sqlalchemy.orm import Session, selectinload

from registry.core.changes import FEED_TYPES, dumps, representation
from registry.core.db import consistent_read
from registry.core.schemas import stored_rfc3339
from registry.enterprises.batches import ENTERPRISE_FIELDS, REPORT_FIELDS
from registry.enterprises.feed_json import enterprise_data, quote, report_columns
from registry.enterprises.feed_json import report_data as report_json
from registry.sync import feed

BATCH = 2000
#: Lines handed to the server at a time.
CHUNK_LINES = 500

# Untyped columns: no conversion per value, the serializers take the driver's values.
_enterprises_table = table(
    "enterprises",
    *(column(name) for name in (*ENTERPRISE_FIELDS, "version", "created_at", "updated_at")),
)
_ENTERPRISES = (
    select(*_enterprises_table.c)
    .where(_enterprises_table.c.uscc > bindparam("last"))
    .order_by(_enterprises_table.c.uscc)
    .limit(BATCH)
)

_e = table("enterprises", column("id"), column("uscc")).alias("e")
_r = table(
    "annual_reports",
    *(
        column(name)
        for name in ("enterprise_id", *REPORT_FIELDS, "version", "created_at", "updated_at")
    ),
).alias("r")
_REPORTS = (
    select(_e.c.uscc, *report_columns(_r))
    .join_from(_r, _e, _e.c.id == _r.c.enterprise_id)
    # A range on the USCC index (an OR of the two cases would scan from the start).
    .where(
        _e.c.uscc >= bindparam("uscc"),
        or_(_e.c.uscc > bindparam("uscc"), _r.c.year > bindparam("year")),
    )
    .order_by(_e.c.uscc, _r.c.year)
    .limit(BATCH)
)


def _line(type_: str, key: str, version: int, data: str) -> str:
    return f'{{"type":"{type_}","key":{quote(key)},"version":{version},"data":{data}}}\n'


def _enterprises(connection: Connection) -> Generator[str, None, None]:
    last = ""
    while True:
        rows = connection.execute(_ENTERPRISES, {"last": last}).all()
        for row in rows:
            data = enterprise_data(
                row[:-3], stored_rfc3339(row[-2]), stored_rfc3339(row[-1]), row[-3]
            )
            yield _line("enterprise", row[0], row[-3], data)
        if len(rows) < BATCH:
            return
        last = rows[-1][0]


def _reports(connection: Connection) -> Generator[str, None, None]:
    uscc, year = "", 0
    while True:
        rows = connection.execute(_REPORTS, {"uscc": uscc, "year": year}).all()
        for row in rows:
            data = report_json(
                row[0], row[1:-3], stored_rfc3339(row[-2]), stored_rfc3339(row[-1]), row[-3]
            )
            yield _line("annual_report", f"{row[0]}/{row[1]}", row[-3], data)
        if len(rows) < BATCH:
            return
        uscc, year = rows[-1][0], rows[-1][1]


def _by_id(connection: Connection, model: type[Any]) -> Generator[str, None, None]:
    """Small tables (tier events, applications): rendered by their output schemas."""
    last = 0
    # What the output schema reads of related records, loaded per batch (not per row).
    eager = [selectinload(relation) for relation in inspect(model).relationships]
    with Session(bind=connection) as session:
        while True:
            records = session.scalars(
                select(model).options(*eager).where(model.id > last).order_by(model.id).limit(500)
            ).all()
            for record in records:
                type_, key, data = representation(record)
                yield _line(type_, key, getattr(record, "version", 1), dumps(data))
            if not records:
                return
            last = records[-1].id
            session.expunge_all()  # flat memory


def lines(
    engine: Engine, types: tuple[str, ...] | None, models: Mapping[str, type[Any]]
) -> Generator[str, None, None]:
    """The snapshot's lines, read in one consistent transaction. ``models`` maps the
    small types (tier events, applications) to their model classes."""
    wanted = types or FEED_TYPES
    with consistent_read(engine) as connection:
        # The first statement: the feed head this transaction sees.
        as_of = feed.cursor(feed.epoch(connection), feed.head(connection))
        yield dumps({"as_of": as_of}) + "\n"
        count = 0
        for type_ in FEED_TYPES:
            if type_ not in wanted:
                continue
            if type_ == "enterprise":
                produced = _enterprises(connection)
            elif type_ == "annual_report":
                produced = _reports(connection)
            else:
                produced = _by_id(connection, models[type_])
            try:
                for line in produced:
                    count += 1
                    yield line
            finally:
                produced.close()  # its Session first, then the transaction
        yield dumps({"end": True, "as_of": as_of, "count": count}) + "\n"


def chunked(lines_: Generator[str, None, None]) -> Generator[bytes, None, None]:
    """Lines grouped into chunks of encoded bytes (fewer, larger writes). Closing it
    closes the lines (and so ends the read transaction) at once, e.g. when the client
    goes away mid-stream."""
    chunk: list[str] = []
    try:
        for line in lines_:
            chunk.append(line)
            if len(chunk) >= CHUNK_LINES:
                yield "".join(chunk).encode("utf-8")
                chunk = []
        if chunk:
            yield "".join(chunk).encode("utf-8")
    finally:
        lines_.close()


def gzipped(chunks: Generator[bytes, None, None], level: int = 5) -> Generator[bytes, None, None]:
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # 31: a gzip member
    try:
        for chunk in chunks:
            out = compressor.compress(chunk)
            if out:
                yield out
        yield compressor.flush()
    finally:
        chunks.close()
