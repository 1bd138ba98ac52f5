"""Batch operations on enterprises and annual reports.

Batch operations (bulk loads: ``demo``, imports) write many records at once and still
record, for every record created, its change-log entry (the resource as a reviewer's
GET renders it, version 1) and its audit entry, in the caller's transaction. They flush
and never commit; the command commits per batch. Their input is prepared by
:mod:`registry.enterprises.batches` (possibly in another process).

Writing on SQLite goes through the raw driver: one executemany per table, with the
values every new record shares (status, origin, version, timestamps…) as SQL literals
rather than bound parameters, and the audit entries of a batch in one INSERT … SELECT
over a JSON array of their object ids. Ids are the rowids SQLite hands out, which are
consecutive because every write transaction holds the database write lock from
``BEGIN IMMEDIATE`` (``registry.core.db``; checked). Other engines use Core executemany
with ids drawn from the table's sequence.

(Measured for ``demo --count 1000000`` on SQLite, 2 cores: writing enterprises ~15 s,
reports ~6 s, their feed entries ~14 s through ``append_entries``, audit entries ~5 s,
the COMMITs — WAL and checkpoint I/O of ~2.6 GB — ~17 s.)
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Integer,
    Table,
    column,
    event,
    func,
    insert,
    select,
    table,
    text,
)

from registry.core import clock
from registry.core.audit import Actor, audit_row, record_audit_rows
from registry.core.changes import append_entries
from registry.core.db import in_chunks, is_postgres
from registry.core.dbsession import DbSession
from registry.core.errors import ValidationFailed
from registry.enterprises.batches import (
    ENTERPRISE_FIELDS,
    PROFILE_COLUMNS,
    REPORT_FIELDS,
    EnterpriseBatch,
    ReportBatch,
    prepare_enterprises,
    prepare_reports,
    sqlite_date,
    sqlite_time,
)
from registry.enterprises.models import AnnualReport, Enterprise

# --- writing --------------------------------------------------------------------------------


def _sqlite(session: DbSession) -> bool:
    return not is_postgres(session)


def _write_locked(session: DbSession) -> Connection:
    connection = session.connection()
    if not connection.info.get("write_locked", False):
        raise RuntimeError("bulk writes on SQLite need the write lock (BEGIN IMMEDIATE)")
    return connection


#: Page cache of the connection of a bulk load on SQLite (KiB): the indexes it extends
#: stay in memory instead of being re-read for every batch (measured: 64 MiB is enough
#: for 1 000 000 enterprises; more only costs memory).
BULK_CACHE_KIB = 64 * 1024


@contextlib.contextmanager
def sqlite_bulk_load(session: DbSession) -> Iterator[None]:
    """A larger page cache (:data:`BULK_CACHE_KIB`) while a bulk load (many batches,
    each committed) runs on SQLite: on the session's connection now and on every
    connection the pool hands out until the load ends, each given its own size back
    when it returns to the pool (a commit may return one connection and take another);
    a pooled connection must not keep a bulk load's memory. Nothing on other engines.

    (Checkpointing the WAL from a background thread instead of inside each COMMIT was
    measured too: no faster at 1 000 000 enterprises, so COMMIT keeps doing it.)
    """
    if not _sqlite(session):
        yield
        return
    pool = session.connection().engine.pool

    def enlarge(info: dict[Any, Any], dbapi_connection: Any) -> None:
        if _CACHE_BEFORE not in info:
            info[_CACHE_BEFORE] = _cache_size(dbapi_connection, -BULK_CACHE_KIB)

    def taken(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        enlarge(record.info, dbapi_connection)

    def returned(dbapi_connection: Any, record: Any) -> None:
        if dbapi_connection is not None and _CACHE_BEFORE in record.info:
            _cache_size(dbapi_connection, record.info.pop(_CACHE_BEFORE))

    held = session.connection().connection
    enlarge(held.info, held.dbapi_connection)
    event.listen(pool, "checkout", taken)
    event.listen(pool, "checkin", returned)
    try:
        yield
    finally:
        # The session's connection goes back to the pool, which restores its size.
        session.rollback()
        event.remove(pool, "checkout", taken)
        event.remove(pool, "checkin", returned)


#: Where a connection under :func:`sqlite_bulk_load` keeps its page cache size before.
_CACHE_BEFORE = "registry.cache_size_before_bulk_load"


def _cache_size(dbapi_connection: Any, size: int) -> int:
    """Sets the connection's page cache size (SQLite's PRAGMA); returns the one before."""
    cursor = dbapi_connection.cursor()
    try:
        before = int(cursor.execute("PRAGMA cache_size").fetchone()[0])
        cursor.execute(f"PRAGMA cache_size = {int(size)}")
    finally:
        cursor.close()
    return before


def next_sqlite_id(session: DbSession, table_name: str) -> int:
    """The rowid SQLite gives the next row of ``table_name``; valid under the write lock."""
    last = select(func.max(column("id", Integer))).select_from(table(table_name))
    return (_write_locked(session).scalar(last) or 0) + 1


def new_ids(session: DbSession, table: str, n: int) -> list[int]:
    """``n`` ids for new rows of ``table`` (integer ``id`` primary key): the next rowids
    on SQLite (under the write lock), values of the table's sequence elsewhere."""
    if n <= 0:
        return []
    if _sqlite(session):
        first = next_sqlite_id(session, table)
        return list(range(first, first + n))
    return sorted(
        session.scalars(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table, "n": n},
        )
    )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _audit(
    session: DbSession, actor: Actor, action: str, object_type: str, object_ids: Sequence[str]
) -> None:
    """One audit entry per created record. A creation's entry carries no field diff:
    the created state is the change-log entry written beside it."""
    template = audit_row(actor, action, object_type, "", None)
    if not _sqlite(session):
        record_audit_rows(session, ({**template, "object_id": i} for i in object_ids))
        return
    # One statement: the shared values bound once, the ids as one JSON array, in order.
    session.connection().exec_driver_sql(
        "INSERT INTO audit_log (at, actor_id, actor_name, via, action, object_type,"
        " object_id, changes, reason, request_id, client_address)"
        " SELECT ?, ?, ?, ?, ?, ?, value, 'null', ?, ?, ? FROM json_each(?) ORDER BY key",
        (
            sqlite_time(template["at"]),
            template["actor_id"],
            template["actor_name"],
            template["via"],
            action,
            object_type,
            template["reason"],
            template["request_id"],
            template["client_address"],
            json.dumps(list(object_ids)),
        ),
    )


def _feed(
    session: DbSession,
    type_name: str,
    keys: Sequence[str],
    data: Sequence[str],
    at: datetime,
    into: list[dict[str, Any]] | None,
) -> None:
    """One feed entry (version 1) per created record, in the given order: written, or
    collected ``into`` a list the caller writes with ``append_entries`` itself."""
    entry = {"type": type_name, "op": "upsert", "version": 1, "occurred_at": at}
    rows = [{**entry, "key": key, "data": text} for key, text in zip(keys, data, strict=True)]
    if into is None:
        append_entries(session, rows)
    else:
        into.extend(rows)


_ENTERPRISE_COLUMNS = ", ".join(ENTERPRISE_FIELDS)


def _insert_enterprises_sqlite(session: DbSession, batch: EnterpriseBatch) -> list[int]:
    connection = _write_locked(session)
    stamp = _literal(sqlite_time(batch.at))
    first = next_sqlite_id(session, "enterprises")
    plain = [stored for stored in batch.stored if len(stored) == PROFILE_COLUMNS]
    if plain:
        # SQLite gives them the rowids first, first + 1, … in this order: the write lock
        # is held (checked below).
        connection.exec_driver_sql(
            # Through the driver (module docstring); the stamp is the registry's own, quoted.
            "INSERT INTO enterprises"  # nosec B608 # constant columns, placeholders
            f" ({_ENTERPRISE_COLUMNS}, version, created_at, updated_at)"
            f" VALUES ({', '.join('?' * PROFILE_COLUMNS)}, 'active', NULL, 'local', NULL, 1,"
            f" NULL, NULL, NULL, NULL, NULL, 1, {stamp}, {stamp})",
            plain,
        )
    ids = []
    plain_id, other_id = first, first + len(plain)
    others = []
    for stored in batch.stored:
        if len(stored) == PROFILE_COLUMNS:
            ids.append(plain_id)
            plain_id += 1
        else:
            ids.append(other_id)
            others.append((other_id, *_sqlite_values(stored)))
            other_id += 1
    if others:
        connection.exec_driver_sql(
            # Through the driver (module docstring); the stamp is the registry's own, quoted.
            "INSERT INTO enterprises"  # nosec B608 # constant columns, placeholders
            f" (id, {_ENTERPRISE_COLUMNS}, version, created_at, updated_at)"
            f" VALUES ({', '.join('?' * (len(ENTERPRISE_FIELDS) + 1))}, 1,"
            f" {stamp}, {stamp})",
            others,
        )
    if next_sqlite_id(session, "enterprises") != first + len(batch.stored):
        raise RuntimeError("enterprise ids were not consecutive")
    return ids


def _sqlite_values(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return (
        *row[:6],
        sqlite_date(row[6]),
        *row[7:19],
        sqlite_date(row[19]),
        sqlite_time(row[20]),
        row[21],
        sqlite_date(row[22]),
    )


def bulk_create_enterprises(
    session: DbSession,
    batch: EnterpriseBatch | Iterable[Mapping[str, Any] | Sequence[Any]],
    *,
    actor: Actor,
    feed: list[dict[str, Any]] | None = None,
) -> list[int]:
    """Create enterprises (a prepared batch, or rows as :func:`prepare_enterprises`
    takes them) with their change-log and audit entries (``enterprise.create``).
    Returns their ids in row order.

    ``feed``: a list to collect the change-log entries in instead of writing them, for
    a caller that writes all of a transaction's entries last, with ``append_entries``
    (on PostgreSQL the feed counter is then locked only for the COMMIT, as API.md
    requires; a batch writing several tables should do so).

    A USCC already in the registry raises IntegrityError (the caller rolls back the
    batch); loaders check with :func:`taken_usccs` first.
    """
    if not isinstance(batch, EnterpriseBatch):
        batch = prepare_enterprises(batch, clock.now())
    if not batch.stored:
        return []
    if _sqlite(session):
        ids = _insert_enterprises_sqlite(session, batch)
    else:
        ids = new_ids(session, "enterprises", len(batch))
        session.execute(
            insert(cast(Table, Enterprise.__table__)),
            [
                {"id": i}
                | dict(zip(ENTERPRISE_FIELDS, row, strict=True))
                | {"version": 1, "created_at": batch.at, "updated_at": batch.at}
                for i, row in zip(ids, batch.rows, strict=True)
            ],
        )
    codes = batch.usccs
    _feed(session, "enterprise", codes, batch.data, batch.at, feed)
    _audit(session, actor, "enterprise.create", "enterprise", codes)
    return ids


def taken_usccs(session: DbSession, codes: Iterable[str]) -> set[str]:
    """Which of ``codes`` are already in the registry."""
    return set(enterprise_ids(session, codes))


def enterprise_ids(session: DbSession, codes: Iterable[str]) -> dict[str, int]:
    """``{uscc: id}`` for those of ``codes`` that are in the registry."""
    codes = list(codes)
    found: dict[str, int] = {}
    for chunk in in_chunks(codes):
        found.update(
            session.execute(
                select(Enterprise.uscc, Enterprise.id).where(Enterprise.uscc.in_(chunk))
            ).all()
        )
    return found


_REPORT_COLUMNS = ", ".join(REPORT_FIELDS)


def bulk_create_reports(
    session: DbSession,
    batch: ReportBatch | Iterable[Mapping[str, Any] | tuple[str, Sequence[Any]]],
    *,
    actor: Actor,
    ids: Mapping[str, int] | None = None,
    feed: list[dict[str, Any]] | None = None,
    source_versions: Sequence[int] | None = None,
) -> int:
    """Create annual reports (a prepared batch, or rows as :func:`prepare_reports` takes
    them) with their change-log and audit entries (``annual_report.create``). ``ids``
    maps USCCs to enterprise ids when the caller knows them (e.g. just created); the
    others are looked up. ``feed`` as for :func:`bulk_create_enterprises`.
    ``source_versions``: the peer's version of each row (reports mirrored by a sync
    pull). Returns how many were created.

    A report that exists already raises IntegrityError (one per enterprise and year).
    """
    if not isinstance(batch, ReportBatch):
        batch = prepare_reports(batch, clock.now())
    if not batch.rows:
        return 0
    ids = dict(ids or {})
    missing = {code for code in batch.usccs if code not in ids}
    if missing:
        ids.update(enterprise_ids(session, missing))
        unknown = missing - ids.keys()
        if unknown:
            raise ValidationFailed("No enterprise with USCC %(uscc)s.", uscc=min(unknown))
    versions = [None] * len(batch.rows) if source_versions is None else source_versions
    if _sqlite(session):
        stamp = _literal(sqlite_time(batch.at))
        _write_locked(session).exec_driver_sql(
            # Through the driver (module docstring); the stamp is the registry's own, quoted.
            "INSERT INTO annual_reports"  # nosec B608 # constant columns, placeholders
            f" (enterprise_id, {_REPORT_COLUMNS}, source_version, version, created_at, updated_at)"
            f" VALUES ({', '.join('?' * (len(REPORT_FIELDS) + 2))}, 1, {stamp}, {stamp})",
            [
                (ids[code], *row, version)
                for code, row, version in zip(batch.usccs, batch.rows, versions, strict=True)
            ],
        )
    else:
        session.execute(
            insert(cast(Table, AnnualReport.__table__)),
            [
                {"enterprise_id": ids[code]}
                | dict(zip(REPORT_FIELDS, row, strict=True))
                | {"source_version": version}
                | {"version": 1, "created_at": batch.at, "updated_at": batch.at}
                for code, row, version in zip(batch.usccs, batch.rows, versions, strict=True)
            ],
        )
    keys = [f"{code}/{row[0]}" for code, row in zip(batch.usccs, batch.rows, strict=True)]
    _feed(session, "annual_report", keys, batch.data, batch.at, feed)
    _audit(session, actor, "annual_report.create", "annual_report", keys)
    return len(batch.rows)
