"""The API's rate limits (API.md): per token, per anonymous client address, and for
public objections — each a Flask-Limiter-syntax string read from the environment.

The counters live in ``RATELIMIT_STORAGE_URI``, shared by every worker process and
never in the registry's database, whose writers they would slow down. Besides the
``limits`` package's own stores (``redis://``, ``memcached://``, ``memory://`` for a
single process) two SQL stores are registered here: ``sqlite:///<file>`` (the default:
``ratelimits.db`` in the instance folder) and ``postgresql://…`` (a table for several
app servers sharing one PostgreSQL). Both keep fixed windows in one table, each hit one
``INSERT … ON CONFLICT … RETURNING`` statement.

``RATELIMIT_ENABLED=0`` turns the API limits off; the objection limit and login
throttling do not depend on it (they count stored rows in the registry's database).
When the store cannot be reached the request is served and the failure logged: a
broken counter must not take the registry down with it.
"""

from __future__ import annotations

import functools
import math
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from flask import Flask, Response, current_app, g, request
from flask_babel import gettext
from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import CreateTable

#: Routes a token may call without the per-token limit (API.md): sync readers page
#: through millions of entries.
TOKEN_EXEMPT_PATHS = ("/api/v1/changes", "/api/v1/export")

_counters = Table(
    "rate_limit_counters",
    MetaData(),
    Column("key", String(255), primary_key=True),
    Column("hits", Integer, nullable=False),
    Column("expires_at", Float, nullable=False),
)


class SqlStorage(Storage):
    """Fixed-window counters in an SQL table (SQLite file or PostgreSQL)."""

    STORAGE_SCHEME = ["sqlite", "postgresql", "postgresql+psycopg"]

    def __init__(
        self, uri: str, wrap_exceptions: bool = False, **options: float | str | bool
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        if uri.startswith("postgresql"):
            uri = "postgresql+psycopg" + uri[uri.index(":") :]
        postgres = uri.startswith("postgresql")
        # A server may go away between two requests; a file does not.
        self.engine = create_engine(uri, pool_pre_ping=postgres)
        if not postgres:
            event.listen(self.engine, "connect", _sqlite_settings)
        self._count = _count_statement((postgresql if postgres else sqlite).insert)
        # IF NOT EXISTS: several workers may open the store at the same moment.
        with self.engine.begin() as connection:
            connection.execute(CreateTable(_counters, if_not_exists=True))

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        return self.count(key, expiry, amount)[0]

    def count(self, key: str, expiry: int, amount: int) -> tuple[int, float]:
        """Add ``amount`` hits to ``key``'s window (a new one if it has ended): its hits
        and the time it ends, in one statement."""
        now = time.time()
        values = {"key": key, "amount": amount, "now": now, "ends": now + expiry}
        with self.engine.begin() as connection:
            hits, until = connection.execute(self._count, values).one()
        return hits, until

    def get(self, key: str) -> int:
        with self.engine.connect() as connection:
            return cast(
                int,
                connection.execute(
                    select(_counters.c.hits).where(
                        _counters.c.key == key, _counters.c.expires_at > time.time()
                    )
                ).scalar()
                or 0,
            )

    def get_expiry(self, key: str) -> float:
        with self.engine.connect() as connection:
            expires_at = connection.execute(
                select(_counters.c.expires_at).where(_counters.c.key == key)
            ).scalar()
        return max(expires_at or 0.0, time.time())

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(select(1))
            return True
        except SQLAlchemyError:
            return False

    def reset(self) -> int | None:
        with self.engine.begin() as connection:
            return connection.execute(delete(_counters)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(_counters).where(_counters.c.key == key))

    def purge_expired(self) -> int:
        with self.engine.begin() as connection:
            return connection.execute(
                delete(_counters).where(_counters.c.expires_at <= time.time())
            ).rowcount


def _count_statement(insert: Any) -> Any:
    """The upsert :meth:`SqlStorage.count` runs, built once: its values are bound."""
    amount = bindparam("amount", type_=Integer)
    now, ends = bindparam("now", type_=Float), bindparam("ends", type_=Float)
    window_open = _counters.c.expires_at > now
    return (
        insert(_counters)
        .values(key=bindparam("key"), hits=amount, expires_at=ends)
        .on_conflict_do_update(
            index_elements=[_counters.c.key],
            # A window that has ended starts again with this hit.
            set_={
                "hits": case((window_open, _counters.c.hits + amount), else_=amount),
                "expires_at": case((window_open, _counters.c.expires_at), else_=ends),
            },
        )
        .returning(_counters.c.hits, _counters.c.expires_at)
    )


def _sqlite_settings(connection: DBAPIConnection, _record: Any) -> None:
    # Counters need no durability across a power cut; WAL lets workers read while
    # one of them writes.
    cursor = connection.cursor()
    cursor.execute("PRAGMA busy_timeout=5000")
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except sqlite3.OperationalError:
        pass  # another worker is switching the new file to WAL at this moment (it stays)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# --- the limits -------------------------------------------------------------------------


def configure(app: Flask) -> None:
    """The store's default, and every limit parsed once, so that a mistyped one stops
    the start instead of the first request."""
    app.config.setdefault(
        "RATELIMIT_STORAGE_URI", f"sqlite:///{Path(app.instance_path) / 'ratelimits.db'}"
    )
    for name in ("RATELIMIT_TOKEN", "RATELIMIT_ANON", "RATELIMIT_OBJECTION"):
        parse(app.config[name])


def objection_rate() -> tuple[int, timedelta]:
    """``RATELIMIT_OBJECTION`` as (objections, window) for the objection operation."""
    item = parse(current_app.config["RATELIMIT_OBJECTION"])
    return item.amount, timedelta(seconds=item.get_expiry())


#: The most hits a worker counts before writing them to the shared store (API.md: a
#: limit may be exceeded by at most 10 requests per worker per window).
MAX_BATCH = 10
#: Callers a worker keeps batches for at most; more starts them all afresh.
MAX_CALLERS = 10_000


def batch_size(limit: int) -> int:
    """Hits written at once for a limit of ``limit`` a window: a twentieth of it, at most
    :data:`MAX_BATCH`, so that a small limit (an anonymous client's, a test's) stays
    exact: 1 below 40 requests a window."""
    return max(1, min(MAX_BATCH, limit // 20))


@dataclass
class _Batch:
    """A caller's hits this worker has served but not yet written, in one window."""

    pending: int = 0
    shared: int = 0  # the store's count at this worker's last write
    until: float = math.inf  # the window's end, known from the first write
    refused: bool = False  # the store said the limit is reached: until the window ends


class ApiLimiter:
    """Counts every ``/api/v1`` request against its caller's limit: the token, or the
    client address when no token is sent. One store per process, opened at first use
    (after the server has forked its workers).

    A worker writes a caller's hits in batches (:func:`batch_size`): it serves a hit
    without writing while fewer than a batch are pending and the store's last count plus
    them stays within the limit, else it writes them all and the store decides. What
    another worker has not written yet is at most a batch less one, so a limit is
    exceeded by at most 9 requests per worker per window; once the store refuses, this
    worker refuses the caller without asking again until the window ends."""

    def __init__(self) -> None:
        self._limiters: dict[str, FixedWindowRateLimiter] = {}
        self._batches: dict[str, _Batch] = {}
        self._lock = threading.Lock()

    def limiter(self) -> FixedWindowRateLimiter:
        uri = current_app.config["RATELIMIT_STORAGE_URI"]
        if uri not in self._limiters:
            self._limiters[uri] = FixedWindowRateLimiter(storage_from_string(uri))
        return self._limiters[uri]

    def check(self) -> Response | None:
        from registry.core.api import API_PREFIX
        from registry.core.problems import problem

        config = current_app.config
        if not config["RATELIMIT_ENABLED"] or not request.path.startswith(API_PREFIX):
            return None
        token = g.get("api_token")
        if token is not None:
            if request.path.startswith(TOKEN_EXEMPT_PATHS):
                return None
            item, caller = _parsed(config["RATELIMIT_TOKEN"]), f"token:{token.id}"
        else:
            item, caller = _parsed(config["RATELIMIT_ANON"]), f"address:{request.remote_addr}"
        prefix = config.get("RATELIMIT_KEY_PREFIX", "")
        try:
            allowed, reset = self._hit(self.limiter(), item, prefix + caller)
            if allowed:
                return None
        except SQLAlchemyError:
            current_app.logger.exception("rate limit store unavailable; request served")
            return None
        return problem(
            429,
            "rate_limited",
            gettext("Too many requests. Try again in %(seconds)s seconds.", seconds=_wait(reset)),
            headers={"Retry-After": str(_wait(reset))},
        )

    def _hit(
        self, limiter: FixedWindowRateLimiter, item: RateLimitItem, key: str
    ) -> tuple[bool, float]:
        """Whether this hit is served, and when the window ends if it is not."""
        size = batch_size(item.amount)
        if size == 1:
            allowed, until, _ = _add(limiter, item, key, 1)
            return allowed, until
        with self._lock:
            batch = self._batches.get(key)
            if batch is None or time.time() >= batch.until:
                if len(self._batches) >= MAX_CALLERS:
                    self._batches.clear()
                batch = self._batches[key] = _Batch()
            if batch.refused:
                return False, batch.until
            batch.pending += 1
            if batch.pending < size and batch.shared + batch.pending <= item.amount:
                return True, 0.0
            pending, batch.pending = batch.pending, 0
        allowed, until, hits = _add(limiter, item, key, pending)
        with self._lock:
            batch.shared, batch.until, batch.refused = hits, until, not allowed
        return allowed, until

    def purge_expired(self) -> int:
        """Drop ended windows from an SQL store (``tick``); other stores expire keys
        themselves."""
        storage = self.limiter().storage
        return storage.purge_expired() if isinstance(storage, SqlStorage) else 0


def _add(
    limiter: FixedWindowRateLimiter, item: RateLimitItem, key: str, cost: int
) -> tuple[bool, float, int]:
    """Count ``cost`` hits: whether they are within the limit, when the window ends and
    the store's count now. One statement on an SQL store, three on the others."""
    storage = limiter.storage
    if isinstance(storage, SqlStorage):
        hits, until = storage.count(item.key_for(key), item.get_expiry(), cost)
        return hits <= item.amount, until, hits
    allowed = limiter.hit(item, key, cost=cost)
    stats = limiter.get_window_stats(item, key)
    return allowed, stats.reset_time, item.amount - stats.remaining


@functools.lru_cache(maxsize=16)
def _parsed(limit: str) -> RateLimitItem:
    """A limit's string parsed once (the settings hold a handful)."""
    return parse(limit)


def _wait(reset: float) -> int:
    return max(1, math.ceil(reset - time.time()))


api_limiter = ApiLimiter()


def init_app(app: Flask) -> None:
    """After bearer authentication, which tells a token's caller from an anonymous one."""
    configure(app)
    app.before_request(api_limiter.check)
