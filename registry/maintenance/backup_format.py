"""The backup file (PRODUCT.md §9 "Backup, restore"): engine-neutral, so that a backup of
SQLite restores into PostgreSQL and back.

A gzip'd file of JSON lines:

- the header: ``{"registry_backup": 2, "schema_revision", "engine", "feed_epoch",
  "created_at", "sync_key_fingerprint", "tables": [...]}``;
- per table, ``{"table": NAME, "columns": [...]}`` and then one JSON array per row, its
  values in that column order;
- the trailer: ``{"trailer": {"header_digest": HEX, "tables": {NAME: {"rows": N,
  "digest": HEX}}}}``.

Every line before the trailer is covered by one of its digests: a table's ``digest`` is
the SHA-256 of its row lines, ``header_digest`` that of the other lines (the header and
each table's column list) in the file's order, each line with its newline. So an
edited header, or a column list in another order (which would load each value into
another column), is refused like an edited row. Version 1 files, whose trailer covered
the rows only, are not read.

A row's line is its *canonical* form, the same whichever engine it was read from:
times as RFC 3339 in UTC (``2026-03-01T08:00:00.123456+00:00``), dates as
``YYYY-MM-DD``, fixed-point numbers as their digits at the column's scale (``"3.50"``), bytes as
base64, JSON values with their keys sorted. Rows come in primary-key order, text keys
compared byte by byte on both engines, and a table's digest is the SHA-256 of its lines
in that order (each with its newline). :func:`table_digest` computes it from a
database, so that a restored database can be compared with its source table by table.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    JSON,
    Connection,
    Date,
    DateTime,
    Enum,
    Float,
    LargeBinary,
    MetaData,
    Numeric,
    Select,
    String,
    Table,
    Text,
    cast,
    func,
    select,
    type_coerce,
)

from registry.core.db import UtcDateTime

FORMAT_KEY = "registry_backup"
FORMAT_VERSION = 2

#: Tables a backup leaves out: counters that only matter for minutes (rate limits, login
#: throttles) and the replay memory of idempotent requests, which a restored registry
#: has no reason to replay. Every other table of the schema is backed up; a test fails
#: when a table is in neither list.
EXCLUDED_TABLES = frozenset({"rate_limit_counters", "idempotency_keys", "login_throttles"})

#: Rows the migrations themselves write, which an empty database therefore holds and a
#: restore replaces: the feed epoch and PostgreSQL's feed counter.
MIGRATION_ROWS = {"registry_meta": 1, "feed_counter": 1}


class BackupRefused(Exception):
    """A backup cannot be restored here; the message is one line saying why."""


def backed_up_tables(metadata: MetaData) -> list[Table]:
    """The schema's tables a backup holds, parents before children."""
    return [table for table in metadata.sorted_tables if table.name not in EXCLUDED_TABLES]


def schema_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def sync_key_fingerprint(key: str | None) -> str | None:
    """Tells two ``SYNC_SECRET_KEY`` apart without revealing either."""
    if not key:
        return None
    return hashlib.sha256(b"registry backup fingerprint\x00" + key.encode()).hexdigest()[:16]


def dumps(value: Any) -> bytes:
    return orjson.dumps(
        value, default=_encode_other, option=orjson.OPT_SORT_KEYS | orjson.OPT_NAIVE_UTC
    )


def _encode_other(value: Any) -> str:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"{type(value).__name__} has no place in a backup")


@dataclass
class TableSum:
    """A table's row count and digest, built from its lines in order."""

    rows: int = 0
    hash: Any = field(default_factory=hashlib.sha256)

    def add(self, lines: bytes, count: int = 1) -> None:
        """``lines``: ``count`` lines, each ending with its newline."""
        self.rows += count
        self.hash.update(lines)

    @property
    def digest(self) -> str:
        return str(self.hash.hexdigest())

    def as_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "digest": self.digest}


@dataclass
class Trailer:
    """What the trailer records of the lines before it: each table's rows, and the
    header with the tables' column lists (``header``, fed by :meth:`add_control`)."""

    tables: dict[str, TableSum] = field(default_factory=dict)
    header: Any = field(default_factory=hashlib.sha256)

    def add_control(self, line: bytes) -> None:
        """The header or a table's column list, as written (with its newline)."""
        self.header.update(line)

    def as_json(self) -> dict[str, Any]:
        return {
            "trailer": {
                "header_digest": str(self.header.hexdigest()),
                "tables": {name: s.as_json() for name, s in self.tables.items()},
            }
        }


def _canonical_query(table: Table, on_postgres: bool) -> tuple[Select[Any], list[Any]]:
    """The table's rows in primary-key order, text keys compared byte by byte (as
    SQLite does; PostgreSQL's collation would not), each value as the driver gives it
    without the ORM's conversions; and per column, what turns it canonical (or None).

    Times are read as naive UTC (``timezone('UTC', …)`` on PostgreSQL) and written by
    orjson with ``+00:00``; JSON as its text, parsed and written back with sorted keys;
    fixed-point numbers at their scale (SQLite hands back 2 or 17.1 where PostgreSQL
    hands back 2.00 and 17.10)."""
    selected: list[Any] = []
    finish: list[Any] = []
    for column in table.columns:
        kind, then = column.type, None
        value: Any = column
        if isinstance(kind, UtcDateTime):
            value = func.timezone("UTC", column) if on_postgres else type_coerce(column, DateTime())
        elif isinstance(kind, Enum):
            value = type_coerce(column, String())
        elif isinstance(kind, JSON):
            value, then = cast(column, Text), orjson.loads
        elif isinstance(kind, Numeric) and not isinstance(kind, Float) and kind.scale is not None:
            then = f"{{:.{kind.scale}f}}".format
        selected.append(value)
        finish.append(then)
    order = [
        column.collate("C") if on_postgres and isinstance(column.type, String) else column
        for column in table.primary_key.columns
    ]
    return select(*selected).order_by(*order), finish


def row_chunks(
    connection: Connection, table: Table, batch: int = 1000
) -> Iterator[tuple[bytes, int]]:
    """Every row of ``table`` as its canonical line, in primary-key order: chunks of
    lines (each with its newline) and how many. Streamed (a server-side cursor on
    PostgreSQL), so memory stays flat."""
    query, finish = _canonical_query(table, connection.dialect.name == "postgresql")
    converted = [(index, then) for index, then in enumerate(finish) if then is not None]
    result = connection.execution_options(stream_results=True, yield_per=batch).execute(query)
    for partition in result.partitions():
        lines = []
        for row in partition:
            values = list(row)
            for index, then in converted:
                if values[index] is not None:
                    values[index] = then(values[index])
            lines.append(dumps(values))
        lines.append(b"")
        yield b"\n".join(lines), len(partition)


def table_digest(connection: Connection, table: Table) -> dict[str, Any]:
    """``{"rows", "digest"}`` of a table as it is in the database now."""
    total = TableSum()
    for chunk, count in row_chunks(connection, table):
        total.add(chunk, count)
    return total.as_json()


# --- reading lines back ---------------------------------------------------------------


def _decoder(column: Any, engine: str) -> Callable[[Any], Any] | None:
    """What turns a value of the file into what the engine's driver loads: PostgreSQL's
    COPY parses the canonical text of times, dates and numbers itself; SQLite is given
    the text SQLAlchemy would store (``2026-03-01 08:00:00.123456``), each value
    checked first. Bytes from base64, JSON as its text."""
    kind = column.type
    if isinstance(kind, LargeBinary):
        return base64.b64decode
    if isinstance(kind, JSON):
        return _json_text
    if engine == "postgresql":
        return None
    if isinstance(kind, UtcDateTime):
        return _sqlite_time
    if isinstance(kind, Date):
        return _sqlite_date
    if isinstance(kind, Numeric):
        return float  # as SQLAlchemy binds a Numeric on SQLite
    return None


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def _sqlite_time(value: str) -> str:
    """``2026-03-01T08:00:00[.ffffff]+00:00`` → ``2026-03-01 08:00:00.ffffff``."""
    moment = datetime.fromisoformat(value)
    if moment.utcoffset():
        raise ValueError(f"{value} is not in UTC")
    return f"{value[:10]} {value[11:19]}.{moment.microsecond:06d}"


def _sqlite_date(value: str) -> str:
    return date.fromisoformat(value).isoformat()


@dataclass(frozen=True)
class RowReader:
    """Turns a table's lines back into the values the engine's driver loads."""

    table: Table
    columns: tuple[str, ...]
    decoders: tuple[tuple[int, Callable[[Any], Any]], ...]

    @classmethod
    def for_table(cls, table: Table, columns: Iterable[str], engine: str) -> RowReader:
        names = tuple(columns)
        decoders = tuple(
            (index, decoder)
            for index, name in enumerate(names)
            if (decoder := _decoder(table.columns[name], engine)) is not None
        )
        return cls(table, names, decoders)

    def row(self, line: bytes) -> list[Any]:
        """The row's values in the file's column order."""
        row = orjson.loads(line)
        if not isinstance(row, list) or len(row) != len(self.columns):
            raise ValueError(f"a row of {self.table.name} does not have its table's columns")
        for index, decode in self.decoders:
            if row[index] is not None:
                row[index] = decode(row[index])
        return row
