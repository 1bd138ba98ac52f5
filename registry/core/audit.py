"""Recording audit entries. Low enough in the package tree for every domain to call."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from flask import g, has_request_context, request
from sqlalchemy import Select, insert, select

from registry.core import clock
from registry.core.dbsession import DbSession
from registry.core.models import BULK_OBJECT_TYPES, WORKFLOW_OBJECTS, AuditEntry

VIA = ("web", "api", "cli", "tick", "sync")


class Person(Protocol):
    """Whoever can act: an ``accounts`` user."""

    id: int
    display_name: str


#: The name recorded when the registry itself acts.
SYSTEM_NAME = "system"


@dataclass(frozen=True)
class Actor:
    """Who acts, and through which door. ``user_id`` None means the system."""

    user_id: int | None
    name: str
    via: str

    @classmethod
    def of(cls, user: Person, via: str) -> Actor:
        """``user`` acting through ``via`` (``web``, ``api``, ``cli`` …)."""
        return cls(user.id, user.display_name, via)

    @classmethod
    def system(cls, via: str = "tick") -> Actor:
        return cls(None, SYSTEM_NAME, via)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.user_id, "name": self.name}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for the fields whose value differs."""
    return {
        key: [_plain(before.get(key)), _plain(after.get(key))]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def _request_facts() -> tuple[str | None, str | None]:
    if not has_request_context():
        return None, None
    return getattr(g, "request_id", None), request.remote_addr


def audit_row(
    actor: Actor,
    action: str,
    object_type: str,
    object_id: Any,
    changes: dict[str, Any] | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    request_id, address = _request_facts()
    return {
        "at": clock.now(),
        "actor_id": actor.user_id,
        "actor_name": actor.name,
        "via": actor.via,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "changes": changes,
        "reason": reason,
        "request_id": request_id,
        "client_address": address,
    }


def record_audit(
    session: DbSession,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: Any,
    changes: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEntry:
    """Add one audit entry to the current transaction (flushed with it, never committed)."""
    entry = AuditEntry(**audit_row(actor, action, object_type, object_id, changes, reason))
    session.add(entry)
    return entry


def record_audit_rows(session: DbSession, rows: Iterable[dict[str, Any]]) -> None:
    """Batch form for bulk operations: rows built with :func:`audit_row`."""
    rows = list(rows)
    if rows:
        session.execute(insert(AuditEntry), rows)


def history(object_type: str, object_id: Any) -> Select[AuditEntry]:
    """The audit entries of one object, oldest first (through the history index for
    every object type but enterprises and annual reports)."""
    stmt = select(AuditEntry).where(
        AuditEntry.object_type == object_type, AuditEntry.object_id == str(object_id)
    )
    if object_type not in BULK_OBJECT_TYPES:
        stmt = stmt.where(WORKFLOW_OBJECTS)
    return stmt.order_by(AuditEntry.id)
