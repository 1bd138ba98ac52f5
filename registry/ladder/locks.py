"""The ladder's row locks.

An operation that adds to a tier first locks that tier's row (``SELECT … FOR UPDATE`` on
PostgreSQL; on SQLite the transaction already holds the database write lock from
``BEGIN IMMEDIATE``), then counts occupancy, so two transactions can never both take the
last slot. Lock order is fixed: tier rows, then enterprise rows, then (at commit) the
feed counter.
"""

from __future__ import annotations

from sqlalchemy import select

from registry.core.db import for_update
from registry.core.dbsession import DbSession
from registry.core.errors import NotFound, NotOnLadder
from registry.enterprises.models import Enterprise
from registry.ladder.models import Tier


def lock_tier(session: DbSession, code: str) -> Tier:
    """The tier row, locked for the rest of the transaction (the quota lock)."""
    tier = session.scalars(for_update(session, select(Tier).where(Tier.code == code))).one_or_none()
    if tier is None:
        raise NotFound("Unknown tier %(code)s.", code=code)
    return tier


def lock_enterprise(
    session: DbSession, enterprise_id: int, *, skip_locked: bool = False
) -> Enterprise | None:
    """The enterprise row, locked and re-read; None when there is none (or, with
    ``skip_locked``, when another transaction holds it)."""
    stmt = select(Enterprise).where(Enterprise.id == enterprise_id)
    return session.scalars(for_update(session, stmt, skip_locked=skip_locked)).one_or_none()


def locked_enterprise(session: DbSession, enterprise: Enterprise) -> Enterprise:
    """The enterprise, locked and re-read (else ``not_found``)."""
    locked = lock_enterprise(session, enterprise.id)
    if locked is None:
        raise NotFound("Unknown enterprise.")
    return locked


def locked_holder(session: DbSession, enterprise: Enterprise) -> Enterprise:
    """The enterprise, locked, provided it stands on the ladder (else ``not_on_ladder``)."""
    enterprise = locked_enterprise(session, enterprise)
    if enterprise.tier is None:
        raise NotOnLadder("%(uscc)s is not on the ladder.", uscc=enterprise.uscc)
    return enterprise
