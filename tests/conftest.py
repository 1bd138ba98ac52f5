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
from sqlalchemy import text

from registry import create_app
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


def reset_database(app: Flask) -> None:
    """Empty every table, restore the metadata rows, and seed."""
    from registry.seeding import seed

    with app.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for name in tables:
                    conn.execute(text(f"DELETE FROM {name}"))
                # AUTOINCREMENT counters (change_log ids) start again from 1, as on
                # PostgreSQL (RESTART IDENTITY, feed_counter back to 0).
                conn.execute(text("DELETE FROM sqlite_sequence"))
            conn.execute(
                text("INSERT INTO registry_meta (key, value) VALUES ('feed_epoch', :e)"),
                {"e": secrets.token_hex(8)},
            )
            conn.execute(text("INSERT INTO feed_counter (id, value) VALUES (1, 0)"))
        seed(db.session)
        db.session.commit()
        db.session.remove()
        api_limiter.limiter().storage.reset()


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
