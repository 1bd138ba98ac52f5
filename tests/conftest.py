"""Shared fixtures.

The engine under test comes from ``TEST_DATABASE_URL`` (PostgreSQL, started by
``tests/pg_server.sh`` in ``make test``); without it each test run uses a fresh
SQLite file. The schema is built once per run by the real migrations; every test then
starts from a clean, freshly seeded database.
"""

from __future__ import annotations

import atexit
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator

import pytest
from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import Table, insert, select, text

from registry import create_app
from registry.core import clock
from registry.core.models import AuditEntry
from registry.core.ratelimit import api_limiter
from registry.extensions import db
from tests import factories

ENGINE_URL = os.environ.get("TEST_DATABASE_URL")
#: The API's rate-limit counters: a file of the test run's own, emptied for each test.
RATELIMIT_DIR = tempfile.mkdtemp(prefix="registry-ratelimits-")
atexit.register(shutil.rmtree, RATELIMIT_DIR, ignore_errors=True)


def pytest_report_header(config):
    return f"database: {'postgresql' if ENGINE_URL else 'sqlite'}"


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
    each of a thousand tests, per engine).
    """
    from registry.seeding import seed

    with app.app_context():
        seeded = _SEEDED.get(str(db.engine.url))
        with db.engine.begin() as conn:
            _empty_tables(conn)
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
            _restore_seed(db.session, seeded)
        db.session.commit()
        db.session.remove()
        api_limiter.limiter().storage.reset()


def _empty_tables(conn) -> None:
    """Every table emptied, its ids starting again from 1 (feed_counter back to 0)."""
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for name in tables:
            conn.execute(text(f"DELETE FROM {name}"))
        # AUTOINCREMENT counters (change_log ids) start again from 1, as on
        # PostgreSQL (RESTART IDENTITY, feed_counter back to 0).
        conn.execute(text("DELETE FROM sqlite_sequence"))


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
