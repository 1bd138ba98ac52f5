"""Statements of the hot read paths, built and compiled once per shape and run by the
driver: the API's lists that clients page through (QUALITY.md P1).

Building a SELECT, computing its cache key and going through SQLAlchemy's execution
context cost several times what SQLite takes to walk an index for a page. A
:class:`Prepared` family builds its statement once for each *shape* (which filters,
how many values, which cursor) with every value a named bind parameter, compiles it
once per dialect, and then runs the SQL text with the values on a driver connection
of the engine's pool, with the values converted by the same bind processors
SQLAlchemy would use, and a driver error raised as SQLAlchemy's.

Each statement is one read on a connection of its own, outside the request's session:
a single statement reads one consistent state of the database (a list that walks
several indexes is one statement, ``UNION ALL`` of the walks), and the request's
session and its transaction are left alone. This matters for the cost: a session's
transaction (its ``BEGIN``, its rollback at the end of the request) costs more than the
statement. A read on SQLite in WAL mode never waits for a writer.

Rows come back as the driver gives them (tuples, no result processing): callers select
columns typed ``NullType`` or read the values as stored, as the lean serializers do.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, NamedTuple, cast

from sqlalchemy import CompoundSelect, Connection, Dialect, Engine, Select
from sqlalchemy.exc import DBAPIError

#: Shapes kept compiled per family: a client choosing an odd number of filter values
#: costs a compilation, not memory without end.
SHAPES = 256


class Prepared:
    """A family of SELECTs: ``build(*shape)`` makes the statement of a hashable shape
    whose values are all named bind parameters; :meth:`rows` runs it with values."""

    def __init__(self, build: Callable[..., Select[Any] | CompoundSelect[Any]]) -> None:
        self.build = build
        self._compiled = functools.lru_cache(maxsize=SHAPES)(self._compile)

    def _compile(self, dialect: Dialect, shape: tuple[Hashable, ...]) -> _Compiled:
        compiled = self.build(*shape).compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a prepared statement binds each value by name (no IN lists)")
        # Bound values the statement carries itself (a literal, SQLite's OFFSET 0).
        carried = {
            name: bind.effective_value
            for bind, name in compiled.bind_names.items()
            if not bind.required
        }
        names = compiled.positiontup if dialect.positional else list(compiled.bind_names.values())
        # The processors SQLAlchemy's execution would apply (dates for SQLite, …).
        processors = cast(Mapping[str, Callable[[Any], Any]], compiled._bind_processors)
        return _Compiled(compiled.string, tuple(names or ()), carried, processors)

    def rows(
        self, bind: Engine | Connection, shape: tuple[Hashable, ...], values: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """The rows of the statement of ``shape`` with ``values`` bound, read on a
        connection of the pool of ``bind``'s engine (a session's ``get_bind()``)."""
        engine = bind.engine
        dialect = engine.dialect
        sql, params = self.bound(dialect, shape, values)
        dbapi_error = dialect.loaded_dbapi.Error
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(sql, params)
            return list(cursor.fetchall())
        except dbapi_error as error:
            raise DBAPIError.instance(sql, params, error, dbapi_error, dialect=dialect) from error
        finally:
            connection.close()  # back to the pool, its transaction (PostgreSQL) ended

    def bound(
        self, dialect: Dialect, shape: tuple[Hashable, ...], values: Mapping[str, Any]
    ) -> tuple[str, Sequence[Any] | dict[str, Any]]:
        """The SQL text of ``shape`` for ``dialect`` and its parameters for the driver."""
        compiled = self._compiled(dialect, shape)
        values = {**compiled.carried, **values}
        processors = compiled.processors
        if dialect.positional:
            return compiled.sql, [_bound(processors, name, values[name]) for name in compiled.names]
        return compiled.sql, {
            name: _bound(processors, name, values[name]) for name in compiled.names
        }


class _Compiled(NamedTuple):
    sql: str
    names: tuple[str, ...]  # the bound values' names, in the SQL's order when positional
    carried: dict[str, Any]
    processors: Mapping[str, Callable[[Any], Any]]


def _bound(processors: Mapping[str, Callable[[Any], Any]], name: str, value: Any) -> Any:
    process = processors.get(name)
    return value if process is None or value is None else process(value)
