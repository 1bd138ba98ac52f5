"""The connection discipline (QUALITY.md R5) and the feed's transaction hooks."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from registry.core.db import read_only
from registry.core.models import ChangeLogEntry
from registry.extensions import db

sqlite_only = pytest.mark.sqlite_only(reason="SQLite connection settings")


@sqlite_only
def test_durable_settings_on_a_pooled_connection(app):
    engine = db.engine
    # Check out, return, and check out again: the pool hands back a reused connection.
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


@sqlite_only
def test_write_transactions_begin_immediate(app):
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        assert conn.info["write_locked"] is True
        conn.rollback()


@sqlite_only
def test_write_inside_read_only_transaction_is_refused(app, make):
    with read_only():
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            assert conn.info["write_locked"] is False
            with pytest.raises(RuntimeError, match="read-only"):
                conn.execute(text("DELETE FROM audit_log"))
            conn.rollback()


def test_new_record_feed_entry_has_version_one_and_data(session, make):
    enterprise = make.enterprise()
    from registry.core.changes import changed

    changed(session, enterprise)
    session.commit()
    entry = session.scalars(select(ChangeLogEntry)).one()
    assert (entry.type, entry.key, entry.version, entry.op) == (
        "enterprise",
        enterprise.uscc,
        1,
        "upsert",
    )
    assert enterprise.version == 1


def test_rollback_forgets_pending_feed_entries(session, make):
    from registry.core.changes import changed

    enterprise = make.enterprise()
    session.commit()
    changed(session, enterprise)
    session.rollback()
    session.commit()
    assert session.scalar(select(func.count()).select_from(ChangeLogEntry)) == 0


def test_feed_epoch_exists(session):
    from registry.core.changes import feed_epoch

    assert len(feed_epoch(session)) == 16


def test_savepoint_rollback_keeps_the_outer_transactions_entries(session, make):
    from registry.core.changes import changed

    outer, inner = make.enterprise(), make.enterprise()
    session.commit()
    changed(session, outer)
    savepoint = session.begin_nested()
    changed(session, inner)
    savepoint.rollback()
    session.commit()
    entries = session.scalars(select(ChangeLogEntry)).all()
    assert [(e.key, e.version) for e in entries] == [(outer.uscc, 2)]
    assert inner.version == 1


def test_savepoint_release_writes_nothing_until_the_real_commit(session, make):
    from registry.core.changes import changed

    enterprise = make.enterprise()
    session.commit()
    savepoint = session.begin_nested()
    changed(session, enterprise)
    savepoint.commit()
    assert session.scalar(select(func.count()).select_from(ChangeLogEntry)) == 0
    changed(session, enterprise)  # the same transaction: no second bump, no second entry
    session.commit()
    entries = session.scalars(select(ChangeLogEntry)).all()
    assert [(e.key, e.version) for e in entries] == [(enterprise.uscc, 2)]
