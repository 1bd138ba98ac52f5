"""Read side of the admin pages: finding users and filtering the audit log.

Both lists are newest first and paged by keyset on ``id`` (fetch ``limit + 1`` rows and
cut them with ``registry.core.pagination.page_of``): a deep page costs what the first
does, and entries written meanwhile never shift a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select

from registry.accounts.models import Role, User
from registry.core.dbsession import DbSession
from registry.core.models import BULK_OBJECT_TYPES, WORKFLOW_OBJECTS, AuditEntry
from registry.ladder.dates import shanghai_midnight


def find_users(
    session: DbSession,
    *,
    search: str | None = None,
    role: Role | None = None,
    active: bool | None = None,
    limit: int,
    before_id: int | None = None,
) -> list[User]:
    """Users whose email or name contains ``search`` (any case), of ``role``, enabled or
    disabled, newest first, from just below ``before_id``."""
    stmt = select(User)
    if search:
        stmt = stmt.where(
            or_(
                User.email.icontains(search, autoescape=True),
                User.name.icontains(search, autoescape=True),
            )
        )
    if role is not None:
        stmt = stmt.where(User.role == role)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    if before_id is not None:
        stmt = stmt.where(User.id < before_id)
    return list(session.scalars(stmt.order_by(User.id.desc()).limit(limit)))


@dataclass(frozen=True)
class AuditFilter:
    """What the audit log viewer asks for; None means "any".

    ``actor`` is a user id when it is all digits, else part of the actor's name (any
    case; ``system`` finds the system's entries). ``action`` is a prefix
    (``application.`` finds every application action). ``since`` and ``until`` are
    Asia/Shanghai dates, both included.
    """

    actor: str | None = None
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: date | None = None
    until: date | None = None


def audit_entries(
    session: DbSession, filters: AuditFilter, *, limit: int, before_id: int | None = None
) -> list[AuditEntry]:
    """Audit entries matching ``filters``, newest first, from just below ``before_id``."""
    stmt = select(AuditEntry)
    if filters.actor:
        if filters.actor.isascii() and filters.actor.isdigit() and len(filters.actor) <= 9:
            stmt = stmt.where(AuditEntry.actor_id == int(filters.actor))
        else:
            stmt = stmt.where(AuditEntry.actor_name.icontains(filters.actor, autoescape=True))
    if filters.action:
        stmt = stmt.where(AuditEntry.action.startswith(filters.action, autoescape=True))
    if filters.object_type:
        stmt = stmt.where(AuditEntry.object_type == filters.object_type)
        if filters.object_type not in BULK_OBJECT_TYPES:
            stmt = stmt.where(WORKFLOW_OBJECTS)  # lets the history index serve it
    if filters.object_id:
        stmt = stmt.where(AuditEntry.object_id == filters.object_id)
    if filters.since:
        stmt = stmt.where(AuditEntry.at >= shanghai_midnight(filters.since))
    if filters.until and filters.until < date.max:
        stmt = stmt.where(AuditEntry.at < shanghai_midnight(filters.until + timedelta(days=1)))
    if before_id is not None:
        stmt = stmt.where(AuditEntry.id < before_id)
    return list(session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit)))
