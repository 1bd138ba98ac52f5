"""The statements a piece of code sends, and the plan SQLite makes of one: for the tests
that show a query finds its rows by an index, not by reading a whole table (QUALITY.md
P10)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from registry.core.prepared import Prepared
from registry.extensions import db


@contextmanager
def statements_sent(wanted: Callable[[str], bool]) -> Iterator[list[tuple[str, Any]]]:
    """The statements, with their parameters, that the block sends through the app's
    engine and ``wanted`` keeps, in the order sent."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many):
        if wanted(statement):
            sent.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)


@contextmanager
def prepared_sent(monkeypatch) -> Iterator[list[tuple[str, Any]]]:
    """:func:`statements_sent` for the statements run through the driver by
    ``registry.core.prepared`` (the API's lists), which no engine event sees."""
    sent: list[tuple[str, Any]] = []
    bound = Prepared.bound

    def capture(self, dialect, shape, values):
        sent.append(bound(self, dialect, shape, values))
        return sent[-1]

    with monkeypatch.context() as patched:
        patched.setattr(Prepared, "bound", capture)
        yield sent


def sqlite_plan(database_url: str, statement: str, parameters, statistics=None) -> str:
    """SQLite's plan of ``statement``, its steps joined by " | ". With ``statistics``,
    rows of ``sqlite_stat1`` (table, index, stat), the plan the planner makes for
    tables of that size and spread; they are rolled back after, as the plan is made."""
    raw = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        raw.execute("BEGIN")
        if statistics is not None:
            raw.execute("ANALYZE")
            raw.execute("DELETE FROM sqlite_stat1")
            raw.executemany(
                "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES (?, ?, ?)", statistics
            )
            raw.execute("ANALYZE sqlite_schema")
        plan = raw.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
        raw.execute("ROLLBACK")
    finally:
        raw.close()
    return " | ".join(row[-1] for row in plan)
