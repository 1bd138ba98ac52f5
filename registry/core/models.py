"""Tables every domain writes to: the change log, the audit log and registry metadata."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from registry.core.db import Model, UtcDateTime

# SQLite needs INTEGER (not BIGINT) for an AUTOINCREMENT rowid alias.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class ChangeLogEntry(Model):
    """One entry of the change feed. ``id`` is the feed position.

    SQLite: an AUTOINCREMENT rowid taken inside a ``BEGIN IMMEDIATE`` transaction, so id
    order is commit order. PostgreSQL: ids are handed out from ``feed_counter`` by the
    last statement before COMMIT (see ``registry.core.changes``); no sequence is used.
    """

    __tablename__ = "change_log"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(20))
    key: Mapped[str] = mapped_column(String(40))
    op: Mapped[str] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The resource as a reviewer's GET returned it when the entry was written (JSON text).
    data: Mapped[str | None] = mapped_column(Text)


class FeedCounter(Model):
    """PostgreSQL's feed sequence: one row, locked only between its update and COMMIT."""

    __tablename__ = "feed_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger)


class RegistryMeta(Model):
    """Key/value facts about this database, such as the feed epoch."""

    __tablename__ = "registry_meta"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


#: The condition of the audit history index: every object type but the two that bulk
#: loads write by the million. A query states it too, so that the planner can use the
#: index (``core.audit.history``).
WORKFLOW_OBJECTS = text("object_type NOT IN ('enterprise', 'annual_report')")
BULK_OBJECT_TYPES = ("enterprise", "annual_report")


class AuditEntry(Model):
    """Who changed what, when, how. One row per state change of each record."""

    __tablename__ = "audit_log"
    __table_args__ = (
        # An application's (objection's, user's…) history: one index lookup. Bulk loads
        # write enterprise and annual-report rows by the million; they stay out of it.
        Index(
            "ix_audit_log_workflow_object",
            "object_type",
            "object_id",
            "id",
            sqlite_where=WORKFLOW_OBJECTS,
            postgresql_where=WORKFLOW_OBJECTS,
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor_name: Mapped[str] = mapped_column(String(254))
    via: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(40))
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The reason a person gave for the change, where the action requires one.
    reason: Mapped[str | None] = mapped_column(Text)
    request_id: Mapped[str | None] = mapped_column(String(64))
    client_address: Mapped[str | None] = mapped_column(String(64))


class IdempotencyRecord(Model):
    """A POST sent with an ``Idempotency-Key`` (API.md): claimed before the action runs
    (``status`` null while it is in progress), then holding the response to replay."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("caller", "method", "path", "key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # "token:<id>" or "address:<client address>".
    caller: Mapped[str] = mapped_column(String(80))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(400))
    key: Mapped[str] = mapped_column(String(255))
    # SHA-256 of the body's canonical JSON (or of the raw bytes of any other body).
    request_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    body: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
