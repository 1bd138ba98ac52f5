"""``flask registry restore FILE``: a backup loaded into an empty database of either engine.

"Empty" is a database migrated (``flask db upgrade``) but not seeded: its backed-up
tables hold only the rows the migrations write (``backup_format.MIGRATION_ROWS``), which
the backup's replace; the tables a backup leaves out are not counted
(:func:`_check_target` says why).
Everything happens in one transaction, committed only once every line has been read,
each table's row count and digest and the digest of the header and the column lines
match the trailer and the database holds exactly those counts; anything else (a wrong
schema revision, a partial or altered file, a target that is not empty) raises
:class:`BackupRefused` with one line, and nothing is written. Killed midway, the
transaction is rolled back by the engine and the database stays empty.

After the rows: sequences (PostgreSQL) and AUTOINCREMENT counters (SQLite) are set past
the restored ids, the feed's next position past every position the source handed out,
and the database gets a new feed epoch, so a follower's old cursor gets 410
``cursor_expired`` and it reloads from a snapshot.
"""

from __future__ import annotations

import contextlib
import gzip
import secrets
import sqlite3
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, MetaData, Table, delete, func, select, text, update
from sqlalchemy.exc import DBAPIError

from registry.core.db import is_postgres
from registry.core.models import FeedCounter, RegistryMeta
from registry.maintenance import backup_format as fmt
from registry.sync import feed

#: Called now and then with (table, rows of that table so far, rows in all so far).
Progress = Callable[[str, int, int], None]

BATCH = 2000
PROGRESS_EVERY = 20_000
SQLITE_RESTORE_CACHE_KIB = 64 * 1024


@dataclass
class Restored:
    """What a restore loaded, and what the operator should know."""

    rows: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    feed_epoch: str = ""


def restore_backup(
    engine: Engine,
    metadata: MetaData,
    source: Path,
    *,
    sync_key: str | None,
    progress: Progress | None = None,
) -> Restored:
    """Load the backup ``source`` into the empty database behind ``engine``."""
    tables = {str(table.name): table for table in fmt.backed_up_tables(metadata)}
    with engine.connect() as connection, _sqlite_cache(connection):
        with connection.begin():
            lines = _lines(Path(source))
            first = next(lines, None)
            header = _header(first)
            read = fmt.Trailer()
            read.add_control(first or b"")
            _check_target(connection, header, tables)
            restored = Restored()
            if header.get("sync_key_fingerprint") != fmt.sync_key_fingerprint(sync_key):
                restored.warnings.append(
                    "the backup was made with another SYNC_SECRET_KEY: stored sync tokens "
                    "cannot be read here; copy that key into this installation's "
                    "environment, or give each source its token again with "
                    "`flask registry sync set-token`"
                )
            for name in MIGRATION_TABLES:
                connection.execute(delete(tables[name]))
            sums = _load(connection, lines, header, tables, read, progress)
            _check_counts(connection, sums, tables)
            restored.rows = {name: total.rows for name, total in sums.items()}
            _advance_counters(connection, tables)
            restored.feed_epoch = secrets.token_hex(8)
            connection.execute(
                update(RegistryMeta)
                .where(RegistryMeta.key == feed.EPOCH_KEY)
                .values(value=restored.feed_epoch)
            )
    return restored


MIGRATION_TABLES = tuple(fmt.MIGRATION_ROWS)


def _lines(source: Path) -> Iterator[bytes]:
    """The file's lines, each with its newline (which JSON reads as white space). A
    truncated or corrupt file raises BackupRefused where it stops making sense."""
    try:
        with gzip.open(source, "rb") as file:
            yield from file
    except FileNotFoundError:
        raise fmt.BackupRefused(f"{source}: no such file") from None
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as error:
        raise fmt.BackupRefused(
            f"{source} is not a whole backup (it is cut short or damaged: {error})"
        ) from None


def _header(line: bytes | None) -> dict[str, Any]:
    try:
        header = orjson.loads(line) if line else None
    except orjson.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get(fmt.FORMAT_KEY) is None:
        raise fmt.BackupRefused("the file is not a registry backup (its first line is no header)")
    if header[fmt.FORMAT_KEY] != fmt.FORMAT_VERSION:
        raise fmt.BackupRefused(
            f"the backup's format is version {header[fmt.FORMAT_KEY]}; "
            f"this registry reads version {fmt.FORMAT_VERSION}"
        )
    return header


def _check_target(connection: Connection, header: dict[str, Any], tables: dict[str, Table]) -> None:
    """The database at the backup's schema revision, with its tables, and empty.

    Only the backed-up tables are counted. Rows in the tables a backup leaves out
    (``EXCLUDED_TABLES``) do not make a database full, and the restore keeps them:
    seeding writes none of them, serving does (a failed sign-in, an anonymous request
    with an Idempotency-Key, a counted API hit when the rate-limit store is this
    database), so a database migrated and never seeded may hold some. They are harmless
    to the restored registry: none refers to one of its rows (a login throttle names an
    email and an address, an anonymous idempotency key its address, a counter its
    window; a token's key needs a token, which an empty database has none of), what
    they record (attempts made and answers given at that address) stays true, and they
    expire on their own within minutes, or a day for idempotency keys."""
    revision = fmt.schema_revision(connection)
    wanted = header.get("schema_revision")
    if revision != wanted:
        raise fmt.BackupRefused(
            f"the backup is of schema revision {wanted} and this database is at "
            f"{revision or 'none'}: run `flask db upgrade {wanted}` on an empty database, "
            "restore, then `flask db upgrade`"
        )
    if sorted(header.get("tables") or ()) != sorted(tables):
        raise fmt.BackupRefused(
            "the backup's tables are not this schema's, although its revision is the same"
        )
    for name, table in tables.items():
        count = connection.scalar(select(func.count()).select_from(table)) or 0
        if count > fmt.MIGRATION_ROWS.get(name, 0):
            raise fmt.BackupRefused(
                f"the database is not empty ({name} has {count} rows): restore only into "
                "a newly migrated database (`flask db upgrade`, without `seed`)"
            )


def _load(
    connection: Connection,
    lines: Iterator[bytes],
    header: dict[str, Any],
    tables: dict[str, Table],
    read: fmt.Trailer,
    progress: Progress | None,
) -> dict[str, fmt.TableSum]:
    """Every line after the header, each row inserted; what was read recorded in
    ``read`` and checked against the trailer. The sums of the tables read."""
    sums = read.tables
    reader: fmt.RowReader | None = None
    batch: list[list[Any]] = []
    written = 0
    engine = connection.dialect.name

    def flush(*, table_done: bool) -> None:
        if not batch or reader is None:
            return
        if reader.table.name in SELF_REFERENCING:
            if not table_done:
                return  # a small table: loaded whole, parents first
            child, parent = SELF_REFERENCING[reader.table.name]
            batch[:] = _parents_first(
                batch, reader.columns.index(child), reader.columns.index(parent)
            )
        _insert(connection, reader, batch)
        batch.clear()

    for line in lines:
        if line.startswith(b"["):
            if reader is None:
                raise fmt.BackupRefused("the backup has a row before any table")
            total = sums[reader.table.name]
            try:
                batch.append(reader.row(line))
            except (ValueError, TypeError) as error:
                raise fmt.BackupRefused(
                    f"row {total.rows + 1} of {reader.table.name} cannot be read ({error})"
                ) from None
            total.add(line)
            written += 1
            if len(batch) >= BATCH:
                flush(table_done=False)
            if progress is not None and written % PROGRESS_EVERY == 0:
                progress(reader.table.name, total.rows, written)
            continue
        flush(table_done=True)
        try:
            control = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise fmt.BackupRefused("the backup has a line that is not JSON") from None
        if isinstance(control, dict) and "trailer" in control:
            _check_trailer(control["trailer"], read, header)
            if next(lines, None) is not None:
                raise fmt.BackupRefused("the backup has lines after its trailer")
            return sums
        reader = _start_table(control, tables, sums, engine)
        read.add_control(line)
        if progress is not None:
            progress(reader.table.name, 0, written)
    raise fmt.BackupRefused("the backup ends before its trailer: the file is incomplete")


#: Tables whose rows refer to rows of the same table: (referring column, referred column).
#: PostgreSQL checks a foreign key row by row, so a parent goes in before its children.
SELF_REFERENCING = {"tiers": ("prerequisite", "code")}


def _parents_first(rows: list[list[Any]], child: int, parent: int) -> list[list[Any]]:
    ordered: list[list[Any]] = []
    present: set[Any] = set()
    waiting = list(rows)
    while waiting:
        ready = [row for row in waiting if row[child] is None or row[child] in present]
        if not ready:
            raise fmt.BackupRefused("rows of the backup refer to rows it does not hold")
        ordered += ready
        present.update(row[parent] for row in ready)
        waiting = [row for row in waiting if row not in ready]
    return ordered


def _start_table(
    control: Any, tables: dict[str, Table], sums: dict[str, fmt.TableSum], engine: str
) -> fmt.RowReader:
    name = control.get("table") if isinstance(control, dict) else None
    if name not in tables or name in sums:
        raise fmt.BackupRefused(f"the backup names a table this schema lacks or repeats: {name}")
    columns = control.get("columns")
    table = tables[name]
    if not isinstance(columns, list) or sorted(columns) != sorted(table.columns.keys()):
        raise fmt.BackupRefused(f"the backup's columns of {name} are not this schema's")
    sums[name] = fmt.TableSum()
    return fmt.RowReader.for_table(table, columns, engine)


def _insert(connection: Connection, reader: fmt.RowReader, rows: list[list[Any]]) -> None:
    """The rows into their table through the driver, in the restore's transaction:
    PostgreSQL's COPY, SQLite's executemany (each several times faster than SQLAlchemy's
    INSERT, whose per-value conversions the reader has done). A value the database
    refuses is a refusal."""
    refused: tuple[type[Exception], ...] = (DBAPIError, sqlite3.Error)
    if is_postgres(connection):
        import psycopg  # here: a SQLite deployment never loads the driver

        refused += (psycopg.Error,)
    try:
        if is_postgres(connection):
            _copy(connection, reader, rows)
        else:
            quote = connection.dialect.identifier_preparer
            names = ", ".join(quote.quote(name) for name in reader.columns)
            marks = ", ".join("?" for _ in reader.columns)
            raw: Any = connection.connection.dbapi_connection
            # The schema's own table and column names, quoted; the values are bound.
            insert = f"INSERT INTO {quote.format_table(reader.table)} ({names}) VALUES ({marks})"  # nosec B608 # quoted schema names
            raw.executemany(insert, rows)
    except refused as error:
        cause = getattr(error, "orig", None) or error
        reason = str(cause).splitlines()[0]
        raise fmt.BackupRefused(
            f"{reader.table.name} refused a row of the backup: {reason}"
        ) from None


def _copy(connection: Connection, reader: fmt.RowReader, rows: list[list[Any]]) -> None:
    quote = connection.dialect.identifier_preparer
    names = ", ".join(quote.quote(name) for name in reader.columns)
    raw: Any = connection.connection.dbapi_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {quote.format_table(reader.table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _check_trailer(trailer: Any, read: fmt.Trailer, header: dict[str, Any]) -> None:
    """What was read against what the trailer records: each table's rows, then the
    header and the tables' column lists, so that no line of the file goes unchecked."""
    expected = trailer.get("tables") if isinstance(trailer, dict) else None
    if not isinstance(expected, dict) or sorted(expected) != sorted(header["tables"]):
        raise fmt.BackupRefused("the backup's trailer does not list its tables")
    for name, wanted in expected.items():
        got = read.tables.get(name, fmt.TableSum()).as_json()
        if got != wanted:
            raise fmt.BackupRefused(
                f"{name} in the file does not match the trailer ({got['rows']} rows read, "
                f"{wanted.get('rows') if isinstance(wanted, dict) else '?'} recorded): "
                "the file was altered or damaged"
            )
    if trailer.get("header_digest") != read.as_json()["trailer"]["header_digest"]:
        raise fmt.BackupRefused(
            "the backup's header or its column lists do not match the trailer: "
            "the file was altered or damaged"
        )


def _check_counts(
    connection: Connection, sums: dict[str, fmt.TableSum], tables: dict[str, Table]
) -> None:
    for name, total in sums.items():
        count = connection.scalar(select(func.count()).select_from(tables[name]))
        if count != total.rows:
            raise fmt.BackupRefused(
                f"{name} holds {count} rows after loading {total.rows}: nothing was restored"
            )


def _advance_counters(connection: Connection, tables: dict[str, Table]) -> None:
    """Ids handed out after the restore come after the restored ones; the feed's next
    position after every position the source handed out (its retention floor included)."""
    positions = [
        connection.scalar(select(func.max(tables["change_log"].c.id))) or 0,
        connection.scalar(select(func.max(FeedCounter.value))) or 0,
        int(
            connection.scalar(select(RegistryMeta.value).where(RegistryMeta.key == feed.FLOOR_KEY))
            or 0
        ),
    ]
    last_position = max(positions)
    if is_postgres(connection):
        connection.execute(update(FeedCounter).values(value=last_position))
        for table in tables.values():
            for column in table.primary_key.columns:
                sequence = connection.scalar(
                    text("SELECT pg_get_serial_sequence(:table, :column)"),
                    {"table": table.name, "column": column.name},
                )
                if sequence:
                    highest = connection.scalar(select(func.max(column)))
                    connection.execute(
                        text("SELECT setval(:sequence, :value, :called)"),
                        {"sequence": sequence, "value": highest or 1, "called": bool(highest)},
                    )
        return
    # SQLite: AUTOINCREMENT tables keep their counter in sqlite_sequence, which INSERTs
    # with explicit ids have already raised to the highest id; the feed's goes further.
    connection.execute(
        text("UPDATE sqlite_sequence SET seq = MAX(seq, :last) WHERE name = 'change_log'"),
        {"last": last_position},
    )
    connection.execute(
        text(
            "INSERT INTO sqlite_sequence (name, seq) SELECT 'change_log', :last "
            "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'change_log')"
        ),
        {"last": last_position},
    )


@contextlib.contextmanager
def _sqlite_cache(connection: Connection) -> Iterator[None]:
    """A larger page cache on the restoring SQLite connection, its size put back after
    (set on the driver's connection: a statement through SQLAlchemy would begin the
    transaction)."""
    if is_postgres(connection):
        yield
        return
    raw: Any = connection.connection.dbapi_connection
    before = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size = -{SQLITE_RESTORE_CACHE_KIB}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size = {int(before)}")
