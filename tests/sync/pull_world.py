"""Shared helpers of the pull client's tests: the sync key, a source pointing at the
fake peer, the pull as the CLI runs it, and a fingerprint of what B holds."""

from __future__ import annotations

from sqlalchemy import func, select

from registry.core.models import AuditEntry, ChangeLogEntry
from registry.enterprises.models import AnnualReport, Enterprise
from registry.sync import sources
from registry.sync.models import SyncConflict, SyncSource
from tests.factories import TEST_ACTOR
from tests.sync.fake_peer import FakePeer

SYNC_KEY = "test-sync-secret"


def add_source(session, peer: FakePeer, name: str = "peer-a") -> SyncSource:
    source = sources.add_source(session, name, peer.url, peer.token, actor=TEST_ACTOR)
    session.commit()
    return source


def run_pull(runner, name: str = "peer-a", *extra: str):
    return runner.invoke(args=["registry", "sync", "pull", name, *extra])


def fingerprint(session) -> dict:
    """What a failed pull must leave as it was."""
    counts = {
        model.__name__: session.scalar(select(func.count()).select_from(model))
        for model in (Enterprise, AnnualReport, ChangeLogEntry, AuditEntry, SyncConflict)
    }
    counts["versions"] = sorted(
        session.execute(select(Enterprise.uscc, Enterprise.version, Enterprise.source_version))
    )
    cursor = session.scalar(select(SyncSource.cursor))
    session.rollback()
    return {**counts, "cursor": cursor}


def source_row(session, name: str = "peer-a") -> SyncSource:
    session.rollback()
    return session.scalars(select(SyncSource).where(SyncSource.name == name)).one()


def mirrored(session, uscc: str) -> Enterprise:
    session.rollback()
    return session.scalars(select(Enterprise).where(Enterprise.uscc == uscc)).one()
