"""R9: the migrations build the models' schema from an empty database, and step down and
up again. Each engine gets a database of its own: a new SQLite file, or a new database
on the PostgreSQL test server (skipped when ``TEST_DATABASE_URL`` is unset)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask, current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from registry.extensions import db
from tests.fixtures.databases import ENGINES


@pytest.fixture(params=ENGINES)
def empty_app(request, empty_database) -> Iterator[Flask]:
    """An app bound to a new, empty database of the given engine."""
    with empty_database(request.param) as app:
        yield app


def script_directory() -> ScriptDirectory:
    return ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())


def current_revision() -> str | None:
    with db.engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def registry_tables() -> set[str]:
    return set(inspect(db.engine).get_table_names()) - {"alembic_version"}


def schema_diff() -> list:
    """What autogenerate would write to turn the migrated schema into the models'."""
    options = {"compare_type": True, **current_app.extensions["migrate"].configure_args}
    options.pop("process_revision_directives", None)
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts=options)
        return compare_metadata(context, db.metadata)


def assert_metadata_rows() -> None:
    with db.engine.connect() as conn:
        epoch = conn.execute(
            text("SELECT value FROM registry_meta WHERE key = 'feed_epoch'")
        ).scalar_one()
        counter = conn.execute(text("SELECT value FROM feed_counter WHERE id = 1")).scalar_one()
    assert len(epoch) >= 8
    assert counter == 0


def test_upgrade_downgrade_upgrade_matches_the_models(empty_app):
    script = script_directory()
    head = script.get_current_head()
    assert registry_tables() == set()

    upgrade()
    assert current_revision() == head
    assert registry_tables() == set(db.metadata.tables)
    assert_metadata_rows()

    downgrade(revision="-1")
    assert current_revision() == script.get_revision(head).down_revision

    upgrade()
    assert current_revision() == head
    assert_metadata_rows()
    assert schema_diff() == []


def test_every_revision_steps_down_and_up(empty_app):
    """Each revision, from the first: upgrade to it, downgrade one step, upgrade again."""
    script = script_directory()
    revisions = list(reversed(list(script.walk_revisions())))
    for revision in revisions:
        upgrade(revision=revision.revision)
        assert current_revision() == revision.revision
        downgrade(revision="-1")
        assert current_revision() == revision.down_revision
        upgrade(revision=revision.revision)
    assert current_revision() == script.get_current_head()
    assert schema_diff() == []


def test_downgrade_to_base_removes_every_table(empty_app):
    upgrade()
    downgrade(revision="base")
    assert current_revision() is None
    assert registry_tables() == set()
