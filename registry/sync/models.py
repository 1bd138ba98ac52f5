"""Sync sources (peers this registry pulls from) and the conflicts a pull reports."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from registry.core import clock
from registry.core.db import Model, UtcDateTime


class SyncSource(Model):
    """A peer registry. Its name becomes the ``origin`` of the records mirrored from it.

    The bearer token is stored encrypted with a key derived from ``SYNC_SECRET_KEY`` and
    is never shown again. ``cursor`` is the peer's feed position after the last page
    applied; it is written in the same transaction as that page.
    """

    __tablename__ = "sync_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    base_url: Mapped[str] = mapped_column(String(500))
    token_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    cursor: Mapped[str | None] = mapped_column(String(200))
    # When the feed entry applied last was written on the peer: lag = now − this.
    last_entry_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    records_applied: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)


class SyncConflict(Model):
    """An entry of a source that was not applied because the record here belongs to
    another origin (a pull never overwrites it). One row per source and record."""

    __tablename__ = "sync_conflicts"
    __table_args__ = (UniqueConstraint("source_id", "type", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sync_sources.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(40))
    source_version: Mapped[int] = mapped_column(Integer)
    local_origin: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
