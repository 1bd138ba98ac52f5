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

import math
import sqlite3
import time
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from flask import Flask, Response, current_app, g, request
from flask_babel import gettext
from limits import parse
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
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

from registry.core.db import is_postgres

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
        self.engine = create_engine(uri, pool_pre_ping=True)
        if not is_postgres(self.engine):
            event.listen(self.engine, "connect", _sqlite_settings)
        self._insert = (postgresql if is_postgres(self.engine) else sqlite).insert
        # IF NOT EXISTS: several workers may open the store at the same moment.
        with self.engine.begin() as connection:
            connection.execute(CreateTable(_counters, if_not_exists=True))

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        window_open = _counters.c.expires_at > now
        statement = (
            self._insert(_counters)
            .values(key=key, hits=amount, expires_at=now + expiry)
            .on_conflict_do_update(
                index_elements=[_counters.c.key],
                # A window that has ended starts again with this hit.
                set_={
                    "hits": case((window_open, _counters.c.hits + amount), else_=amount),
                    "expires_at": case((window_open, _counters.c.expires_at), else_=now + expiry),
                },
            )
            .returning(_counters.c.hits)
        )
        with self.engine.begin() as connection:
            return cast(int, connection.execute(statement).scalar_one())

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


class ApiLimiter:
    """Counts every ``/api/v1`` request against its caller's limit: the token, or the
    client address when no token is sent. One store per process, opened at first use
    (after the server has forked its workers)."""

    def __init__(self) -> None:
        self._limiters: dict[str, FixedWindowRateLimiter] = {}

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
            item, caller = parse(config["RATELIMIT_TOKEN"]), f"token:{token.id}"
        else:
            item, caller = parse(config["RATELIMIT_ANON"]), f"address:{request.remote_addr}"
        prefix = config.get("RATELIMIT_KEY_PREFIX", "")
        try:
            limiter = self.limiter()
            if limiter.hit(item, prefix + caller):
                return None
            reset = limiter.get_window_stats(item, prefix + caller).reset_time
        except SQLAlchemyError:
            current_app.logger.exception("rate limit store unavailable; request served")
            return None
        return problem(
            429,
            "rate_limited",
            gettext("Too many requests. Try again in %(seconds)s seconds.", seconds=_wait(reset)),
            headers={"Retry-After": str(_wait(reset))},
        )

    def purge_expired(self) -> int:
        """Drop ended windows from an SQL store (``tick``); other stores expire keys
        themselves."""
        storage = self.limiter().storage
        return storage.purge_expired() if isinstance(storage, SqlStorage) else 0


def _wait(reset: float) -> int:
    return max(1, math.ceil(reset - time.time()))


api_limiter = ApiLimiter()


def init_app(app: Flask) -> None:
    """After bearer authentication, which tells a token's caller from an anonymous one."""
    configure(app)
    app.before_request(api_limiter.check)
