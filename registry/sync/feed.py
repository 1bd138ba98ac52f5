"""Reading the change feed (API.md "Sync"): pages in commit order, cursors, retention.

Entries are written by :mod:`registry.core.changes` in the transaction that made the
change; their ``id`` is the feed position and id order is commit order. A page is read
in one consistent read (a deferred ``BEGIN`` on SQLite, ``REPEATABLE READ READ ONLY``
on PostgreSQL) on a connection of its own, so that a long-poll can give it back to the
pool between two looks and hold nothing while it waits.

A cursor is the opaque pair (feed epoch, position): the position is the id of the last
entry a reader has examined. Retention: ``tick`` deletes entries older than
``FEED_RETENTION_DAYS`` (unset: history is kept for ever) and remembers the highest id
it removed as ``feed_floor``; a cursor below the floor, or none at all once history
has been cut, can no longer promise every change and is 410 ``cursor_expired``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Connection, CursorResult, Engine, column, delete, func, select, table

from registry.core.changes import FEED_TYPES, wait_for_entries
from registry.core.db import consistent_read
from registry.core.dbsession import DbSession
from registry.core.errors import DomainError, ValidationFailed, refusal
from registry.core.models import ChangeLogEntry, RegistryMeta
from registry.core.pagination import InvalidCursor, cursors_after, decode_cursor, encode_cursor
from registry.core.schemas import stored_rfc3339
from registry.enterprises.feed_json import quote

FLOOR_KEY = "feed_floor"
EPOCH_KEY = "feed_epoch"


class CursorExpired(DomainError):
    code, status = "cursor_expired", 410


def expired() -> CursorExpired:
    return CursorExpired(
        "The cursor is no longer valid here (another epoch, or older than the history "
        "kept): reload from a snapshot."
    )


def invalid_cursor() -> InvalidCursor:
    return InvalidCursor(
        "The cursor is malformed.",
        errors=[refusal("after", "invalid_cursor", "Malformed.")],
    )


def cursor(epoch: str, position: int) -> str:
    return encode_cursor(epoch, position)


def parse_types(values: Sequence[str] | None) -> tuple[str, ...] | None:
    """``types=enterprise,annual_report`` (comma-separated, or repeated) → the types,
    or None for all. An unknown type is 422."""
    if not values:
        return None
    wanted = {part.strip() for value in values for part in value.split(",") if part.strip()}
    unknown = sorted(wanted - set(FEED_TYPES))
    if unknown or not wanted:
        known, asked = ", ".join(FEED_TYPES), ", ".join(unknown)
        errors = [refusal("types", "invalid_choice", "One or more of %(types)s.", types=known)]
        raise ValidationFailed("Unknown change types: %(types)s.", errors=errors, types=asked)
    return tuple(t for t in FEED_TYPES if t in wanted)


# --- consistent reads ---------------------------------------------------------------------


def _meta(connection: Connection, key: str) -> str | None:
    return connection.scalar(select(RegistryMeta.value).where(RegistryMeta.key == key))


@dataclass(frozen=True)
class Position:
    """Where a reader stands: this database's epoch and the last position examined."""

    epoch: str
    after: int

    @property
    def cursor(self) -> str:
        return cursor(self.epoch, self.after)


def epoch(connection: Connection) -> str:
    return cast(str, _meta(connection, EPOCH_KEY))  # written with the database itself


def head(connection: Connection) -> int:
    """The position of the last committed entry visible to this read: never below the
    retention floor, even when every entry has been removed (0: no history at all)."""
    last = connection.scalar(select(func.max(ChangeLogEntry.id))) or 0
    return max(last, int(_meta(connection, FLOOR_KEY) or 0))


def start(connection: Connection, raw_cursor: str | None) -> Position:
    """The reader's position from its ``after`` cursor (None: the start of history).

    422 ``invalid_cursor`` for a malformed cursor; 410 ``cursor_expired`` for one of
    another epoch, or one older than the history kept."""
    current = epoch(connection)
    floor = int(_meta(connection, FLOOR_KEY) or 0)
    if raw_cursor is None:
        after = 0
    else:
        try:
            their_epoch, after = decode_cursor(raw_cursor, str, int)
        except InvalidCursor:
            raise invalid_cursor() from None
        if after < 0:
            raise invalid_cursor()
        if their_epoch != current:
            raise expired()
    if after < floor:
        raise expired()
    return Position(current, after)


# --- pages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedPage:
    position: Position
    rows: Sequence[Sequence[Any]]  # (id, type, key, op, version, occurred_at, data) rows
    next_after: int
    has_more: bool


# Untyped columns: no conversion per value, page_json takes the driver's values.
_CHANGE_LOG = table(
    "change_log",
    *(column(name) for name in ("id", "type", "key", "op", "version", "occurred_at", "data")),
)


def read_page(
    connection: Connection, position: Position, limit: int, types: tuple[str, ...] | None
) -> FeedPage:
    """Up to ``limit`` entries after ``position`` (of ``types``), in feed order."""
    query = (
        select(*_CHANGE_LOG.c)
        .where(_CHANGE_LOG.c.id > position.after)
        .order_by(_CHANGE_LOG.c.id)
        .limit(limit + 1)
    )
    if types:
        query = query.where(_CHANGE_LOG.c["type"].in_(types))
    rows = connection.execute(query).all()
    last = head(connection)
    if len(rows) > limit:
        rows = rows[:limit]
        next_after = rows[-1][0]
    else:
        # Every entry up to the head was examined, matching or not.
        next_after = max(position.after, last)
    return FeedPage(position, rows, next_after, last > next_after)


def page_json(page: FeedPage) -> str:
    """The page as API.md's envelope, built from the stored JSON of each entry (equal to
    ``ChangesOut``'s output; tests/sync/test_feed.py shows it)."""
    epoch = page.position.epoch
    cursor_at = cursors_after(epoch)
    entries = ",".join(
        f'{{"cursor":"{cursor_at(id_)}","type":"{type_}","key":{quote(key)},'
        f'"op":"{op}","version":{version},"occurred_at":"{stored_rfc3339(at)}",'
        f'"data":{"null" if data is None else data}}}'
        for id_, type_, key, op, version, at, data in page.rows
    )
    has_more = "true" if page.has_more else "false"
    return (
        f'{{"data":[{entries}],"next_cursor":"{cursor(epoch, page.next_after)}",'
        f'"has_more":{has_more}}}'
    )


# --- long-poll ------------------------------------------------------------------------------


def follow(
    engine: Engine,
    raw_cursor: str | None,
    *,
    limit: int,
    types: tuple[str, ...] | None,
    wait: float,
    poll_seconds: float,
) -> FeedPage:
    """A page after the cursor; with ``wait`` > 0 and nothing to give, look again until
    a matching entry is committed or ``wait`` seconds have passed. Between two looks no
    transaction is open and no connection is held."""
    deadline = time.monotonic() + wait
    with consistent_read(engine) as connection:
        position = start(connection, raw_cursor)
        page = read_page(connection, position, limit, types)
    while not page.rows and (remaining := deadline - time.monotonic()) > 0:
        # A commit of this process wakes it at once; other processes' at the next look.
        wait_for_entries(min(poll_seconds, remaining))
        # Entries that did not match were examined: look from after them.
        position = Position(position.epoch, page.next_after)
        with consistent_read(engine) as connection:
            page = read_page(connection, position, limit, types)
    return page


# --- retention ------------------------------------------------------------------------------


def purge(session: DbSession, now: datetime, keep_days: int | None) -> int:
    """Delete entries older than ``keep_days`` (None: keep everything) and raise the
    floor below which cursors expire. Returns the number of entries removed."""
    if keep_days is None:
        return 0
    cutoff = now - timedelta(days=keep_days)
    last = session.scalar(
        select(func.max(ChangeLogEntry.id)).where(ChangeLogEntry.occurred_at < cutoff)
    )
    if last is None:
        return 0
    removed = cast(
        "CursorResult[Any]",
        session.execute(delete(ChangeLogEntry).where(ChangeLogEntry.id <= last)),
    ).rowcount
    floor = session.get(RegistryMeta, FLOOR_KEY)
    if floor is None:
        session.add(RegistryMeta(key=FLOOR_KEY, value=str(last)))
    elif int(floor.value) < last:
        floor.value = str(last)
    session.flush()
    return removed
