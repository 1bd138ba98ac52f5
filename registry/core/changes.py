"""The change log: one feed entry per changed resource per transaction.

Operations call :func:`changed` on each record they change. That bumps the record's
``version`` once per transaction and queues it; just before COMMIT the queued records
are rendered (as a reviewer's GET shows them) and appended to ``change_log`` by
:func:`append_entries`, which is also what bulk operations call directly.

Ordering (API.md "How the order is kept"):

* SQLite: every write transaction began with ``BEGIN IMMEDIATE`` (``registry.core.db``),
  so writers are serial and the AUTOINCREMENT id taken inside is commit order.
* PostgreSQL: ids come from the single ``feed_counter`` row, updated in the same
  statement that inserts the entries, the last statement before COMMIT. The row lock
  lives only for the commit, so a later id can never become visible before an earlier.
"""

from __future__ import annotations

import functools
import json
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, inspect, text
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from registry.core import clock
from registry.core.db import is_postgres
from registry.core.dbsession import DbSession
from registry.core.models import RegistryMeta

FEED_TYPES = ("enterprise", "annual_report", "tier_event", "application")


@dataclass(frozen=True)
class FeedType:
    name: str
    key: Callable[[Any], str]
    render: Callable[[Any], dict[str, Any]]


_feed_types: dict[type, FeedType] = {}


def register(
    model: type, name: str, key: Callable[[Any], str], render: Callable[[Any], dict[str, Any]]
) -> None:
    """Declare how a model appears in the feed (called once per model by its domain)."""
    _feed_types[model] = FeedType(name, key, render)


def representation(obj: Any) -> tuple[str, str, dict[str, Any]]:
    """(type, key, data) of a record as the feed shows it."""
    kind = _feed_types[type(obj)]
    return kind.name, kind.key(obj), kind.render(obj)


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def changed(session: DbSession, obj: Any) -> None:
    """Mark ``obj`` as changed in the current transaction.

    The first call per transaction bumps ``version`` (a new record keeps version 1) and
    sets ``updated_at``; the feed entry is written at COMMIT with the final state.
    """
    pending: dict[int, tuple[Any, Any]] = session.info.setdefault("feed_pending", {})
    if id(obj) in pending:
        return
    # Remember the (sub)transaction that first changed it: a savepoint rolled back
    # takes its entries with it.
    real = session() if isinstance(session, scoped_session) else session
    pending[id(obj)] = (obj, real.get_nested_transaction() or real.get_transaction())
    state = inspect(obj)
    if hasattr(obj, "version"):
        if state.persistent and obj not in session.info.get("inserted", ()):
            obj.version = (obj.version or 0) + 1
        elif obj.version is None:
            obj.version = 1
    if hasattr(obj, "updated_at"):
        obj.updated_at = clock.now()


def append_entries(session: DbSession, rows: Sequence[dict[str, Any]]) -> None:
    """Append feed entries (dicts with type, key, op, version, occurred_at, data).

    ``data`` is JSON text. Entries get consecutive positions in the given order.
    """
    if not rows:
        return
    session.info["feed_written"] = True
    if is_postgres(session):
        records = [
            {**row, "ord": i, "occurred_at": row["occurred_at"].isoformat()}
            for i, row in enumerate(rows, start=1)
        ]
        session.execute(
            text(
                "WITH c AS (UPDATE feed_counter SET value = value + :n WHERE id = 1"
                " RETURNING value)"
                " INSERT INTO change_log (id, type, key, op, version, occurred_at, data)"
                " SELECT c.value - :n + r.ord, r.type, r.key, r.op, r.version,"
                " r.occurred_at, r.data FROM c, jsonb_to_recordset(CAST(:rows AS jsonb))"
                " AS r(ord bigint, type text, key text, op text, version int,"
                " occurred_at timestamptz, data text)"
            ),
            {"n": len(records), "rows": json.dumps(records, ensure_ascii=False)},
        )
    else:
        # Plain executemany: the AUTOINCREMENT rowid is assigned by SQLite itself. A batch
        # shares a handful of instants: each is converted to text once.
        times = functools.lru_cache(maxsize=64)(_sqlite_time)
        session.connection().exec_driver_sql(
            "INSERT INTO change_log (type, key, op, version, occurred_at, data)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    r["type"],
                    r["key"],
                    r["op"],
                    r["version"],
                    times(r["occurred_at"]),
                    r["data"],
                )
                for r in rows
            ],
        )


def _sqlite_time(at: datetime) -> str:
    """The text form SQLAlchemy itself stores for a UTC timestamp on SQLite."""
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def entry(
    type_name: str,
    key: str,
    version: int,
    data: dict[str, Any] | None,
    at: datetime | None = None,
) -> dict[str, Any]:
    return {
        "type": type_name,
        "key": key,
        "op": "upsert",
        "version": version,
        "occurred_at": at or clock.now(),
        "data": dumps(data) if data is not None else None,
    }


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    # before_commit also fires when a savepoint is released: the entries wait for the
    # outermost COMMIT, so that the counter is the last thing a transaction touches.
    if session.in_nested_transaction():
        return
    pending = session.info.pop("feed_pending", None)
    if not pending:
        return
    session.flush()
    at = clock.now()
    rows = []
    for obj, _txn in pending.values():
        kind = _feed_types[type(obj)]
        rows.append(
            entry(kind.name, kind.key(obj), getattr(obj, "version", 1), kind.render(obj), at)
        )
    append_entries(session, rows)


@event.listens_for(Session, "before_flush")
def _note_inserted(session: Session, _context: Any, _instances: Any) -> None:
    # A record inserted in this transaction keeps version 1 however often it changes.
    if session.new:
        session.info.setdefault("inserted", weakref.WeakSet()).update(session.new)


def _within(txn: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while txn is not None:
        if txn is ancestor:
            return True
        txn = txn.parent
    return False


@event.listens_for(Session, "after_soft_rollback")
def _forget_savepoint(session: Session, previous_transaction: SessionTransaction) -> None:
    """A rolled-back savepoint drops the feed entries of the records it first changed."""
    pending = session.info.get("feed_pending")
    if pending and previous_transaction.nested:
        for key in [k for k, (_obj, txn) in pending.items() if _within(txn, previous_transaction)]:
            del pending[key]


@event.listens_for(Session, "after_transaction_end")
def _forget_transaction(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction, committed or not
        session.info.pop("feed_pending", None)
        session.info.pop("inserted", None)
        session.info.pop("feed_written", None)


# Long-polling feed readers of this process wait on this; a commit that wrote entries
# wakes them at once (readers in other processes find them at their next look).
_entries_committed = threading.Condition()


@event.listens_for(Session, "after_commit")
def _wake_readers(session: Session) -> None:
    if session.info.pop("feed_written", False):
        with _entries_committed:
            _entries_committed.notify_all()


def wait_for_entries(timeout: float) -> None:
    """Return when a transaction of this process commits feed entries, or after
    ``timeout`` seconds."""
    with _entries_committed:
        _entries_committed.wait(timeout)


def feed_epoch(session: DbSession) -> str:
    return session.get_one(RegistryMeta, "feed_epoch").value
