"""Shared fixtures.

The engine under test comes from ``TEST_DATABASE_URL`` (PostgreSQL, started by
``tests/pg_server.sh`` in ``make test``); without it each test run uses a fresh
SQLite file. The schema is built once per run by the real migrations; every test then
starts from a clean, freshly seeded database.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import multiprocessing.forkserver
import os
import secrets
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import Table, insert, select, text, update

from registry import create_app
from registry.core import clock
from registry.core.models import AuditEntry
from registry.core.ratelimit import api_limiter
from registry.extensions import db
from tests import factories
from tests.factories import PASSWORD

#: Fixtures for tests in any package: the API's world and client, the browser's.
pytest_plugins = [
    "tests.fixtures.api",
    "tests.fixtures.enterprises_api",
    "tests.fixtures.browser",
    "tests.fixtures.route_matrix",
    "tests.fixtures.matrix_world",
    "tests.fixtures.databases",
]

ENGINE_URL = os.environ.get("TEST_DATABASE_URL")
#: The API's rate-limit counters: a file of the test run's own, emptied for each test.
RATELIMIT_DIR = tempfile.mkdtemp(prefix="registry-ratelimits-")
atexit.register(shutil.rmtree, RATELIMIT_DIR, ignore_errors=True)


def pytest_sessionstart(session):
    """Start multiprocessing's fork server now, with the registry imported (every module
    ``create_app`` imports) and these fixtures: the processes started through it (the
    bounded parsers' children, the writers of the concurrency tests, the live gunicorn
    servers of ``tests/live.py``) then begin with all of it in memory instead of
    importing it, about 1.5 s of CPU each. The registry's own ``run_bounded`` asks for
    a smaller preload, which is read only when the server starts: not here."""
    make_app("sqlite://")
    preload = sorted(m for m in sys.modules if m.startswith("registry"))
    multiprocessing.set_forkserver_preload(["__main__", *preload, __name__])
    multiprocessing.forkserver.ensure_running()


def pytest_report_header(config):
    return f"database: {'postgresql' if ENGINE_URL else 'sqlite'}"


def pytest_collection_modifyitems(config, items):
    """Skip the tests of the other engine: ``postgres`` ones on SQLite, ``sqlite_only``
    ones on PostgreSQL. A marker's ``reason`` says why the test needs its engine.

    On PostgreSQL, the tests that use no database (no ``database_url`` fixture, directly
    or through another, and no ``postgres`` marker: USCC checks, dates, eligibility
    rules, file types…) are deselected: their answer does not depend on the engine, and
    the SQLite run has them. A test that reads ``TEST_DATABASE_URL`` itself is marked
    ``postgres``."""
    if ENGINE_URL:
        engine_free = [
            item
            for item in items
            if "database_url" not in getattr(item, "fixturenames", ())
            and item.get_closest_marker("postgres") is None
        ]
        if engine_free:
            config.hook.pytest_deselected(items=engine_free)
            dropped = set(engine_free)
            items[:] = [item for item in items if item not in dropped]
        other, label = "sqlite_only", "SQLite only"
    else:
        other, label = "postgres", "PostgreSQL only (TEST_DATABASE_URL is not set)"
    for item in items:
        marker = item.get_closest_marker(other)
        if marker is not None:
            why = marker.kwargs.get("reason")
            item.add_marker(pytest.mark.skip(reason=f"{label}: {why}" if why else label))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    if ENGINE_URL:
        return ENGINE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'registry.db'}"


def make_app(database_url: str, **overrides) -> Flask:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-" + secrets.token_hex(8),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        # Still scrypt, at a cost that keeps hundreds of sign-ups and logins quick;
        # tests/accounts shows the production default.
        "PASSWORD_HASH_METHOD": "scrypt:1024:8:1",
        "RATELIMIT_STORAGE_URI": f"sqlite:///{RATELIMIT_DIR}/ratelimits.db",
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def _migrated_app(database_url: str) -> Iterator[Flask]:
    app = make_app(database_url)
    with app.app_context():
        if ENGINE_URL:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


#: The rows the seed writes, per database (its URL): seeded once, then copied back.
_SEEDED: dict[str, dict[Table, list[dict]]] = {}
#: Written by every reset, not copied: a fresh feed epoch and the feed counter at 0.
_METADATA_TABLES = ("registry_meta", "feed_counter")


def reset_database(app: Flask) -> None:
    """Empty every table, restore the metadata rows, and seed.

    The seed itself runs once per database; later resets insert the rows it wrote,
    with the audit entries stamped now as seeding would (a tenth of a second saved on
    each of a thousand tests, per engine). On PostgreSQL only the tables written since
    are emptied (see ``_empty_tables``).
    """
    from registry.seeding import seed

    with app.app_context():
        copy = _SQLITE_COPIES.get(str(db.engine.url))
        if copy is not None:
            _copy_back(app, copy)
            return
        seeded = _SEEDED.get(str(db.engine.url))
        with db.engine.begin() as conn:
            emptied = _empty_tables(conn, seeded)
            conn.execute(
                text("INSERT INTO registry_meta (key, value) VALUES ('feed_epoch', :e)"),
                {"e": secrets.token_hex(8)},
            )
            conn.execute(text("INSERT INTO feed_counter (id, value) VALUES (1, 0)"))
        # Through the session, as seeding does: the pool's connections are taken in the
        # same order as when every test seeded (a test of the demo's pooled connection
        # depends on it).
        if seeded is None:
            seed(db.session)
            _SEEDED[str(db.engine.url)] = _seeded_rows(db.session)
        else:
            _restore_seed(db.session, {t: rows for t, rows in seeded.items() if t in emptied})
        db.session.commit()
        if seeded is None and db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:
                _SEEDED_LAYOUT[str(db.engine.url)] = _layout(conn, _SEEDED[str(db.engine.url)])
        if db.engine.dialect.name == "sqlite":
            copy = sqlite3.connect(":memory:", check_same_thread=False)
            with contextlib.closing(sqlite3.connect(db.engine.url.database)) as source:
                source.backup(copy)
            _SQLITE_COPIES[str(db.engine.url)] = copy
        db.session.remove()
        api_limiter.limiter().storage.reset()


#: Per SQLite database: a copy in memory of the database as its first reset left it.
_SQLITE_COPIES: dict[str, sqlite3.Connection] = {}


def _copy_back(app: Flask, copy: sqlite3.Connection) -> None:
    """A later reset of a SQLite database: the copy written back over it page by page
    (SQLite's backup API: a millisecond, where emptying and refilling every table took
    six), then a fresh feed epoch and the seed's audit entries stamped now."""
    with contextlib.closing(sqlite3.connect(db.engine.url.database)) as target:
        copy.backup(target)
    db.session.execute(
        text("UPDATE registry_meta SET value = :e WHERE key = 'feed_epoch'"),
        {"e": secrets.token_hex(8)},
    )
    db.session.execute(update(AuditEntry).values(at=clock.now()))
    db.session.commit()
    db.session.remove()
    api_limiter.limiter().storage.reset()


def _empty_tables(conn, seeded: dict[Table, list[dict]] | None) -> set[Table]:
    """Every table emptied, its ids starting again from 1 (feed_counter back to 0);
    returns the tables emptied (the seeded ones among them are to be restored)."""
    tables = list(reversed(db.metadata.sorted_tables))
    if conn.dialect.name != "postgresql":
        for table in tables:
            conn.execute(table.delete())
        # AUTOINCREMENT counters (change_log ids) start again from 1, as on
        # PostgreSQL (RESTART IDENTITY, feed_counter back to 0).
        conn.execute(text("DELETE FROM sqlite_sequence"))
        return set(tables)
    # TRUNCATE costs ~3 ms a table (new files for it and its indexes): only the tables
    # written since the last reset are, with those that refer to them. The others are
    # as a TRUNCATE and a reseed would leave them (no row, or the seed's rows where the
    # seed put them), and their ids start again from 1.
    if seeded is None:
        dirty = set(tables)
    else:
        dirty = _written_since_seeding(conn, seeded)
    while True:  # TRUNCATE wants every table that refers to one it empties
        referring = {t for t in tables for fk in t.foreign_keys if fk.column.table in dirty}
        if referring <= dirty:
            break
        dirty |= referring
    names = ", ".join(t.name for t in tables if t in dirty)
    conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY"))
    # The kept tables' ids go on after the seed's rows (from 1 in the empty ones).
    kept = {t.name: len((seeded or {}).get(t, ())) for t in tables if t not in dirty}
    sequences = conn.execute(
        text(
            "SELECT s.oid::regclass::text, t.relname FROM pg_class s"
            " JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')"
            " JOIN pg_class t ON t.oid = d.refobjid"
            " WHERE s.relkind = 'S' AND t.relname = ANY(:kept)"
        ),
        {"kept": list(kept)},
    ).all()
    if sequences:
        restarts = [
            f"setval('{s}', {kept[t]}, true)" if kept[t] else f"setval('{s}', 1, false)"
            for s, t in sequences
        ]
        conn.execute(text("SELECT " + ", ".join(restarts)))
    return dirty


#: Per PostgreSQL database: each seeded table's size and rows with their places, as
#: the seed left them.
_SEEDED_LAYOUT: dict[str, dict[str, tuple]] = {}


def _layout(conn, seeded: dict[Table, list[dict]]) -> dict[str, tuple]:
    """Each seeded table's file size and a digest of its rows in place (ctid)."""
    query = " UNION ALL ".join(
        f"SELECT '{t.name}', pg_relation_size('{t.name}'),"
        f" (SELECT md5(string_agg(ctid::text || {t.name}::text, ',' ORDER BY ctid))"
        f" FROM {t.name})"
        for t in seeded
    )
    return {name: (size, digest) for name, size, digest in conn.execute(text(query))}


def _written_since_seeding(conn, seeded: dict[Table, list[dict]]) -> set[Table]:
    """The tables a test may have changed: any other than the seeded ones holding
    anything (a file of any size: rows, or rows since deleted), and the seeded ones
    that differ from the seed's layout."""
    layout = _SEEDED_LAYOUT[str(conn.engine.url)]
    current = _layout(conn, seeded)
    sizes = dict(
        conn.execute(
            text(
                "SELECT relname, pg_relation_size(oid) FROM pg_class"
                " WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
            )
        ).all()
    )
    return {
        table
        for table in db.metadata.sorted_tables
        if (layout[table.name] != current[table.name] if table in seeded else sizes[table.name])
    }


def _seeded_rows(session) -> dict[Table, list[dict]]:
    """What the seed wrote, table by table in dependency order and each in the order
    the seed stored its rows (so the copies lie alike and keep their foreign keys as
    they go in), generated ids left out (the restarted counters give the same ones)."""
    position = text("ctid" if session.get_bind().dialect.name == "postgresql" else "rowid")
    rows = {}
    for table in db.metadata.sorted_tables:
        if table.name in _METADATA_TABLES:
            continue
        generated = table.autoincrement_column
        found = [
            {k: v for k, v in row.items() if generated is None or k != generated.name}
            for row in session.execute(select(table).order_by(position)).mappings()
        ]
        if found:
            rows[table] = found
    return rows


def _restore_seed(session, seeded: dict[Table, list[dict]]) -> None:
    for table, rows in seeded.items():
        if table.name == AuditEntry.__tablename__:
            rows = [{**row, "at": clock.now()} for row in rows]
        session.execute(insert(table), rows)


@pytest.fixture
def app(_migrated_app: Flask) -> Iterator[Flask]:
    reset_database(_migrated_app)
    with _migrated_app.app_context():
        yield _migrated_app
        db.session.remove()


@pytest.fixture
def other_app(database_url) -> Iterator[Callable[..., Flask]]:
    """``other_app(**settings)``: an app on the test's database with other settings
    (``make_app``), its pooled connections closed when the test ends (left to the
    garbage collector, an open connection warns in whatever test runs then)."""
    made: list[Flask] = []

    def build(**overrides) -> Flask:
        made.append(make_app(database_url, **overrides))
        return made[-1]

    yield build
    for built in made:
        with built.app_context():
            db.engine.dispose()


@pytest.fixture
def session(app):
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make(session):
    """Factories bound to the test's session: ``make.enterprise(...)``."""
    return factories.Factories(session)


class AuthActions:
    """Signing in and out on the web, as flaskr's tests do: on the test's ``client``
    unless another is given, or on a new client of its own (``signed_in``)."""

    def __init__(self, app: Flask, client: FlaskClient, make: factories.Factories) -> None:
        self._app, self._client, self._make = app, client, make

    def login(self, email: str, password: str = PASSWORD, *, client=None, lang=None):
        """The login form posted (``?lang=`` too when given); the response."""
        client = self._client if client is None else client
        path = f"/login?lang={lang}" if lang else "/login"
        return client.post(path, data={"email": email, "password": password})

    def logout(self, *, client=None):
        """The logout form posted; the response."""
        return (self._client if client is None else client).post("/logout")

    def signed_in(self, email: str, password: str = PASSWORD, *, lang=None) -> FlaskClient:
        """A new client signed in as ``email`` (the login is checked)."""
        client = self._app.test_client()
        response = self.login(email, password, client=client, lang=lang)
        assert response.status_code == 303, response.get_data(as_text=True)
        return client

    def client_of(self, user, *, lang: str = "en", client=None) -> FlaskClient:
        """A new client (or ``client``, of another app) holding ``user``'s session as
        the login page starts it, in ``lang``, without the login: no password hash to
        check (the login itself is tested in tests/accounts)."""
        client = self._app.test_client() if client is None else client
        with client.session_transaction() as cookie:
            cookie["_user_id"] = user.get_id()
            cookie["sid"] = "test"
            cookie["lang"] = lang
        return client

    def signed_in_as_new(self, role, *, email=None, lang=None, **fields) -> FlaskClient:
        """A new client signed in as a new user with ``role`` (``make.user``), committed
        first as the login request needs."""
        email = self._make.user(email, role, password=PASSWORD, **fields).email
        self._make.session.commit()
        return self.signed_in(email, lang=lang)


@pytest.fixture
def auth(app, client, make) -> AuthActions:
    """``auth.login(email)``, ``auth.logout()``, ``auth.signed_in(email)`` for a user
    committed with ``PASSWORD``, ``auth.signed_in_as_new(role)``, or
    ``auth.client_of(user)`` with the user's session and no login."""
    return AuthActions(app, client, make)
