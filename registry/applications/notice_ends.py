"""The end of a promotion's public notice (PRODUCT.md "Public notice"): the grant
when the notice ended with no objection open (``tick``, or at once when the last
objection is dismissed after the end), the rejection by an upheld objection, and the
``held`` flag an open objection raises once the notice has ended. Like every
operation, these flush and never commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import ColumnElement, select

from registry.applications.decisions import route_of
from registry.applications.models import Application, State
from registry.applications.operations import lock_application, require_state, transition
from registry.applications.queries import is_held, open_objection
from registry.core.audit import Actor
from registry.core.changes import changed
from registry.core.dbsession import DbSession
from registry.ladder import holds
from registry.ladder import operations as ladder


def _notice_end(application: Application) -> datetime:
    """``notice_ends_at`` of an application in notice (set when its notice began)."""
    return cast(datetime, application.notice_ends_at)


def _notice_over(session: DbSession, application: Application, now: datetime) -> bool:
    """In notice, the notice ended, and no objection holds it: time to grant."""
    return (
        application.state == State.IN_NOTICE
        and _notice_end(application) <= now
        and not is_held(session, application)
    )


def _grant_promotion(
    session: DbSession, application: Application, actor: Actor, effective_at: datetime, reason: str
) -> Application:
    ladder.consume_slot(
        session,
        application.id,
        actor=actor,
        reason=reason,
        effective_at=effective_at,
        route=route_of(application),
    )
    return transition(session, application, State.GRANTED, actor, "grant")


def end_notice(session: DbSession, application_id: int, now: datetime) -> Application | None:
    """``tick``: grant a promotion whose notice has ended with no objection open (its
    reserved slot is used); ``tier_since`` is the notice's end, whenever tick runs.
    None when not due, or while an objection holds it."""
    application = session.get(Application, application_id)
    if application is None or application.state != State.IN_NOTICE:
        return None
    # Tier, enterprise, application: the order revoke and demote lock in too.
    application = lock_application(session, application, tier=True)
    if not _notice_over(session, application, now):
        return None
    return _grant_promotion(
        session, application, Actor.system("tick"), _notice_end(application), "notice ended"
    )


def grant_after_dismissal(
    session: DbSession, application: Application, actor: Actor, now: datetime
) -> Application | None:
    """After an objection is dismissed: when the notice has ended and no other objection
    is open, the grant happens in the same transaction, effective at the later of
    ``notice_ends_at`` and now (PRODUCT.md "Dates, times and working days"). None otherwise (tick
    grants after the end). The caller holds the locks of ``lock_application(..., tier=True)``."""
    if not _notice_over(session, application, now):
        return None
    effective_at = max(_notice_end(application), now)
    return _grant_promotion(session, application, actor, effective_at, "objections dismissed")


def reject_on_objection(
    session: DbSession, application: Application, actor: Actor, reason: str
) -> Application:
    """in_notice → rejected at once by an upheld objection, its slot released. The
    caller holds the locks of ``lock_application(..., tier=True)``."""
    require_state(application, State.IN_NOTICE)
    holds.release_slot(session, application.id, actor=actor)
    application.closed_reason = reason
    return transition(session, application, State.REJECTED, actor, "reject")


def _ended_notices(
    session: DbSession, now: datetime, limit: int, *conditions: ColumnElement[bool]
) -> list[int]:
    return list(
        session.scalars(
            select(Application.id)
            .where(
                Application.state == State.IN_NOTICE,
                Application.notice_ends_at <= now,
                *conditions,
            )
            .order_by(Application.notice_ends_at, Application.id)
            .limit(limit)
        )
    )


def due_notices(session: DbSession, now: datetime, limit: int = 1000) -> list[int]:
    """Applications whose notice has ended with no objection open (held ones wait)."""
    return _ended_notices(session, now, limit, ~open_objection(Application.id))


def newly_held(session: DbSession, now: datetime, limit: int = 1000) -> list[int]:
    """Applications whose notice has ended while an objection is open, last changed
    before the end: their ``held`` has turned true by the passing of time alone."""
    return _ended_notices(
        session,
        now,
        limit,
        open_objection(Application.id),
        Application.updated_at < Application.notice_ends_at,
    )


def record_held(session: DbSession, application_id: int, now: datetime) -> Application | None:
    """``tick``: write the change of ``held`` to true (a new version and its feed entry)
    for an application :func:`newly_held` found, once. Not a state change: no audit
    entry. None when it no longer applies."""
    application = session.get(Application, application_id)
    if application is None or application.state != State.IN_NOTICE:
        return None
    application = lock_application(session, application)
    if not (
        application.state == State.IN_NOTICE
        and _notice_end(application) <= now
        and application.updated_at < _notice_end(application)
        and is_held(session, application)
    ):
        return None
    changed(session, application)
    session.flush()
    return application
