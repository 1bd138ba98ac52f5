"""Database base class, column types and the connection discipline.

SQLite: every connection gets WAL, ``synchronous=FULL``, ``foreign_keys=ON`` and a busy
timeout. The driver's implicit transaction handling is switched off and the registry
issues ``BEGIN`` itself: ``BEGIN IMMEDIATE`` (the database write lock, taken first) for
every transaction unless the current unit of work declared itself read-only, in which
case a plain deferred ``BEGIN`` gives a consistent snapshot without blocking writers.
A write statement inside a read-only transaction is a programming error and raises, so
no write can slip through without the lock (which is what keeps change-log ids in
commit order; see ``registry.core.changes``).

How long a lock is waited for is ``DATABASE_LOCK_WAIT``: SQLite's busy timeout, and
PostgreSQL's ``lock_timeout`` on every connection. A wait that runs out raises an error
:func:`is_lock_timeout` recognises (a request answers it with 503 ``database_busy``,
``registry.core.busy``). Bookkeeping that must never make anyone wait goes through
:func:`write_at_once`.
"""

from __future__ import annotations

import contextlib
import contextvars
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    DateTime,
    Dialect,
    Engine,
    Enum,
    Executable,
    MetaData,
    Select,
    event,
)
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from registry.core.dbsession import DbSession

T = TypeVar("T")
AnySelect = TypeVar("AnySelect", bound=Select[Any])

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Model(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def enum_type(enum_class: type, name: str, length: int) -> Enum:
    """A string column holding the enum's values, with a CHECK constraint (no native
    enum type: adding a value stays a plain migration on both engines)."""
    return Enum(
        enum_class,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda members: [m.value for m in members],
    )


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and always returned timezone-aware.

    SQLite has no time zone type; naive values read back are UTC by construction.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# --- transaction intent -----------------------------------------------------------

_read_only: contextvars.ContextVar[bool] = contextvars.ContextVar("read_only", default=False)


@contextlib.contextmanager
def read_only() -> Iterator[None]:
    """Transactions begun inside this block are read-only (deferred BEGIN on SQLite)."""
    token = _read_only.set(True)
    try:
        yield
    finally:
        _read_only.reset(token)


def set_read_only(value: bool) -> contextvars.Token[bool]:
    return _read_only.set(value)


_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def configure_engine(engine: Engine, *, lock_wait: float) -> None:
    """Install the per-connection settings and BEGIN discipline described above; locks
    are waited for ``lock_wait`` seconds."""
    wait_ms = max(1, round(lock_wait * 1000))
    if is_postgres(engine):

        @event.listens_for(engine, "connect")
        def _on_pg_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT set_config('lock_timeout', %s, false)", (f"{wait_ms}ms",))
            dbapi_connection.commit()

        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # the registry issues BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {wait_ms}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = not _read_only.get()
        statement = "BEGIN IMMEDIATE" if immediate else "BEGIN"
        # On the driver: every request begins one, and SQLAlchemy's execution path
        # costs more than SQLite's BEGIN. A lock wait that runs out is still
        # SQLAlchemy's OperationalError (is_lock_timeout).
        try:
            connection.connection.dbapi_connection.execute(statement)  # type: ignore[union-attr]
        except sqlite3.Error as error:
            raise DBAPIError.instance(
                statement, (), error, sqlite3.Error, dialect=connection.dialect
            ) from error
        connection.info["write_locked"] = immediate

    @event.listens_for(engine, "before_cursor_execute")
    def _guard_writes(
        connection: Connection,
        _cursor: object,
        statement: str,
        _params: object,
        _context: object,
        _many: bool,
    ) -> None:
        if (
            statement.lstrip()[:7].upper().startswith(_WRITE_VERBS)
            and connection.in_transaction()
            and not connection.info.get("write_locked", False)
        ):
            raise RuntimeError("write statement inside a read-only SQLite transaction")


#: SQLSTATEs of a PostgreSQL wait that ran out: ``lock_not_available`` (lock_timeout,
#: NOWAIT) and ``query_canceled`` (statement_timeout).
_PG_TIMEOUTS = frozenset({"55P03", "57014"})


def is_lock_timeout(error: BaseException) -> bool:
    """Whether ``error`` says the database's lock could not be had in time: SQLite's
    ``database is locked`` (SQLITE_BUSY after the busy timeout) or PostgreSQL's lock or
    statement timeout. Nothing of the transaction was written."""
    if not isinstance(error, OperationalError):
        return False
    cause = error.orig
    if isinstance(cause, sqlite3.OperationalError):
        code = getattr(cause, "sqlite_errorcode", None)
        return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY
    return getattr(cause, "sqlstate", None) in _PG_TIMEOUTS


def write_at_once(engine: Engine, statement: Executable) -> bool:
    """Run ``statement`` in a short write transaction of its own if the locks it needs
    are free at this moment; if they are not, write nothing and return False at once.

    For bookkeeping (a token's ``last_used_at``) that a request, a read above all, must
    never wait for: it is done on a later request instead."""
    writable = _read_only.set(False)
    try:
        with engine.connect() as connection:
            if is_postgres(connection):
                with connection.begin():
                    # 0 would mean "no limit": a millisecond is as good as not waiting.
                    connection.exec_driver_sql("SET LOCAL lock_timeout = '1ms'")
                    connection.execute(statement)
                return True
            # SQLite: no busy timeout while BEGIN IMMEDIATE asks for the write lock.
            raw = connection.connection.driver_connection
            if raw is None:  # never: the connection was just checked out
                return False
            wait_ms = raw.execute("PRAGMA busy_timeout").fetchone()[0]
            raw.execute("PRAGMA busy_timeout = 0")
            try:
                with connection.begin():
                    connection.execute(statement)
            finally:
                raw.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
            return True
    except OperationalError as error:
        if is_lock_timeout(error):
            return False
        raise
    finally:
        _read_only.reset(writable)


#: Values per ``IN (…)`` list: far below every engine's bound-parameter limit.
IN_CHUNK = 500


def in_chunks(values: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    """``values`` in slices of ``size``, for lookups written as ``column IN (…)``."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def is_postgres(session_or_engine: DbSession | Engine | Connection) -> bool:
    """Whether a session, engine or connection talks to PostgreSQL (else SQLite)."""
    if isinstance(session_or_engine, Session | scoped_session):
        return session_or_engine.get_bind().dialect.name == "postgresql"
    return session_or_engine.dialect.name == "postgresql"


def for_update(
    session: DbSession, stmt: AnySelect, *, lock: bool = True, skip_locked: bool = False
) -> AnySelect:
    """``stmt`` re-reading its rows over what the session holds and, on PostgreSQL, locking
    them (``FOR UPDATE``) until the transaction ends. SQLite needs no row lock: every
    write transaction already holds the database write lock (``BEGIN IMMEDIATE``)."""
    stmt = stmt.execution_options(populate_existing=True)
    if lock and is_postgres(session):
        stmt = stmt.with_for_update(skip_locked=skip_locked)
    return stmt


@contextlib.contextmanager
def consistent_read(engine: Engine) -> Iterator[Connection]:
    """A connection in one consistent read-only transaction (a snapshot: PostgreSQL's
    REPEATABLE READ, SQLite's deferred transaction), returned to the pool after. For
    long reads outside the request's session: exports, the feed and snapshot."""
    with read_only(), engine.connect() as connection:
        if is_postgres(connection):
            connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            if is_postgres(connection):
                connection.exec_driver_sql("SET TRANSACTION READ ONLY")
            yield connection
