"""Objections during the public notice (公示, PRODUCT.md "Public notice").

Anyone may object to an application in notice while now < ``notice_ends_at``: name,
contact and grounds. Name, contact and the client address are for reviewers only; the
enterprise sees the grounds and the outcome (:class:`ObjectionOut`).

An open objection *holds* the application: ``tick`` does not grant it. A reviewer not
linked to the enterprise resolves it with a comment: upheld → the application is
rejected at once and its slot released; dismissed → when the notice has ended and no
other objection is open, the application is granted in the same transaction (effective
at the dismissal); otherwise ``tick`` grants it after ``notice_ends_at``.

An objection that is still open when its application leaves the notice another way (a
second objection upheld, a revoke, a deregistration) needs no decision: it cannot be
resolved any more (``invalid_transition``) and the reviewers' list says so.

Rate limit: ``RATELIMIT_OBJECTION`` (default 5 per hour) per client address, counted
from the stored objections (``client_address``, ``created_at``), so every worker process
sees the same count; only objections that were stored count. It holds whatever
``RATELIMIT_ENABLED`` says (API.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast

from marshmallow import fields
from sqlalchemy import Row, desc, select, text, tuple_

from registry.accounts.models import User
from registry.applications import notice_ends, operations, queries
from registry.applications.models import Application, Objection, ObjectionState, State
from registry.applications.schemas import user_ref
from registry.core import clock
from registry.core.audit import Actor, record_audit
from registry.core.changes import changed
from registry.core.db import is_postgres
from registry.core.dbsession import DbSession
from registry.core.errors import (
    ConflictOfInterest,
    Forbidden,
    InvalidTransition,
    NotFound,
    NoticeClosed,
    Throttled,
    ValidationFailed,
    refusal,
)
from registry.core.schemas import OutputSchema, Timestamp
from registry.enterprises.models import Enterprise

#: Field limits (API.md "Objection").
NAME_MAX, CONTACT_MAX, GROUNDS_MAX, COMMENT_MAX = 100, 200, 5000, 5000
#: At most this many objections per client address within the window.
#: The default rate: objections per client address within the window.
OBJECTION_RATE = (5, timedelta(hours=1))
OUTCOMES = (ObjectionState.UPHELD, ObjectionState.DISMISSED)


def public_actor(via: str) -> Actor:
    """Objections are filed by the public: no user, recorded as ``public``."""
    return Actor(None, "public", via)


# --- filing -------------------------------------------------------------------------------


def _required_text(values: dict[str, str | None], limits: dict[str, int]) -> dict[str, str]:
    """Stripped values; an empty or too long one is refused with its field named."""
    cleaned = {name: (values.get(name) or "").strip() for name in limits}
    errors = []
    for name, limit in limits.items():
        if not cleaned[name]:
            errors.append(refusal(name, "required", "This field is required."))
        elif len(cleaned[name]) > limit:
            errors.append(refusal(name, "too_long", "At most %(max)s characters.", max=limit))
    if errors:
        raise ValidationFailed("Some fields are missing or too long.", errors=errors)
    return cleaned


def _check_rate(
    session: DbSession, client_address: str | None, now: datetime, rate: tuple[int, timedelta]
) -> None:
    """Refuse the objection beyond ``rate`` (e.g. the sixth from this address within the
    hour), with the seconds until the oldest of the others leaves the window."""
    limit, window = rate
    if is_postgres(session):
        # Two workers counting the same address at once must not both see four.
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"objections:{client_address}"},
        )
    recent = session.scalars(
        select(Objection.created_at)
        .where(
            Objection.client_address == client_address,
            Objection.created_at > now - window,
        )
        .order_by(desc(Objection.created_at))
        .limit(limit)
    ).all()
    if len(recent) < limit:
        return
    wait = recent[-1] + window - now
    minutes = max(1, int(wait.total_seconds() + 59) // 60)
    error = Throttled(
        "Too many objections from your address. Try again in %(minutes)s minutes.",
        minutes=minutes,
    )
    error.retry_after = max(1, int(wait.total_seconds()))
    raise error


def file_objection(
    session: DbSession,
    application: Application,
    *,
    name: str,
    contact: str,
    grounds: str,
    client_address: str | None,
    via: str = "web",
    rate: tuple[int, timedelta] = OBJECTION_RATE,
) -> Objection:
    """Anyone objects to an application in its public notice: 404 when it is not in
    notice, 409 ``notice_closed`` from ``notice_ends_at`` on, 429 beyond the rate limit.
    The application is marked changed (its ``held`` becomes true)."""
    values = _required_text(
        {"name": name, "contact": contact, "grounds": grounds},
        {"name": NAME_MAX, "contact": CONTACT_MAX, "grounds": GROUNDS_MAX},
    )
    now = clock.now()
    client_address = client_address[:45] if client_address else None
    _check_rate(session, client_address, now, rate)
    # Enterprise then application: a resolution (tier first) cannot pass this one.
    application = operations.lock_application(session, application)
    if application.state != State.IN_NOTICE:
        raise NotFound("No such application in notice.")
    if now >= cast(datetime, application.notice_ends_at):  # set while in notice
        raise NoticeClosed("The notice of this application has ended.")
    objection = Objection(
        application_id=application.id,
        application=application,
        state=ObjectionState.OPEN,
        client_address=client_address,
        created_at=now,
        **values,
    )
    session.add(objection)
    session.flush()
    # The objector's name and contact stay out of the audit log (reviewers see them here).
    record_audit(
        session,
        public_actor(via),
        "objection.create",
        "objection",
        objection.id,
        {"state": [None, "open"], "application_id": [None, application.id]},
    )
    changed(session, application)
    session.flush()
    return objection


# --- resolution ---------------------------------------------------------------------------


def resolve(
    session: DbSession,
    objection: Objection,
    outcome: str,
    *,
    user: User,
    via: str,
    comment: str | None,
) -> Objection:
    """A reviewer not linked to the enterprise upholds or dismisses an open objection,
    with a comment. Upheld → the application is rejected and its slot released;
    dismissed after the notice with no other objection open → granted now."""
    if not user.is_reviewer:
        raise Forbidden("Only reviewers may do this.")
    if outcome not in OUTCOMES:
        raise ValidationFailed(
            "Choose to uphold or to dismiss the objection.",
            errors=[refusal("outcome", "invalid", "upheld or dismissed")],
        )
    comment = _required_text({"comment": comment}, {"comment": COMMENT_MAX})["comment"]
    if user.enterprise_id == objection.application.enterprise_id:
        raise ConflictOfInterest("You belong to this enterprise.")
    # Tier, enterprise, application (a grant or a release may follow), then the
    # objection re-read under them: a concurrent resolution has finished by then.
    application = operations.lock_application(session, objection.application, tier=True)
    objection = session.scalars(
        select(Objection)
        .where(Objection.id == objection.id)
        .execution_options(populate_existing=True)
    ).one()
    if objection.state != ObjectionState.OPEN:
        raise InvalidTransition(
            "Objection %(id)s has already been resolved (%(state)s).",
            id=objection.id,
            state=str(objection.state),
        )
    if application.state != State.IN_NOTICE:
        raise InvalidTransition(
            "Application %(id)s is %(state)s; its objections need no decision.",
            id=application.id,
            state=str(application.state),
        )
    now = clock.now()
    actor = Actor.of(user, via)
    objection.state = ObjectionState(outcome)
    objection.resolution_comment = comment
    objection.resolved_by = user.id
    objection.resolved_at = now
    record_audit(
        session,
        actor,
        "objection.resolve",
        "objection",
        objection.id,
        {"state": ["open", str(objection.state)]},
        reason=comment,
    )
    changed(session, application)
    session.flush()
    if objection.state == ObjectionState.UPHELD:
        notice_ends.reject_on_objection(session, application, actor, comment)
    else:
        notice_ends.grant_after_dismissal(session, application, actor, now)
    return objection


# --- reading ------------------------------------------------------------------------------


class ObjectionOut(OutputSchema):
    """An objection as the enterprise sees it: the grounds and the outcome, never who
    objected (name, contact and address are for reviewers only)."""

    id = fields.Integer()
    application_id = fields.Integer()
    state = fields.Function(lambda o: str(o.state))
    text = fields.String(attribute="grounds")
    filed_at = Timestamp(attribute="created_at")
    resolved_at = Timestamp(allow_none=True)
    resolved_by = fields.Function(lambda o: user_ref(o.resolved_by))
    comment = fields.String(attribute="resolution_comment", allow_none=True)


class ReviewerObjectionOut(ObjectionOut):
    """What reviewers see: who objected and how to reach them as well."""

    name = fields.String()
    contact = fields.String()
    client_address = fields.String(allow_none=True)


objection_out = ObjectionOut()
reviewer_objection_out = ReviewerObjectionOut()


def notice_rows(
    session: DbSession,
    *,
    limit: int,
    after: tuple[datetime, int] | None = None,
    start: tuple[datetime, int] | None = None,
    tier: str | None = None,
) -> list[Row]:
    """Applications in notice in the public order (``notice_ends_at``, then id), each
    with its enterprise and ``held``; after the key ``after``, or from ``start`` on; for
    the rung ``tier`` only when given."""
    held = queries.open_objection(Application.id).label("held")
    stmt = (
        select(Application, Enterprise, held)
        .join(Enterprise, Enterprise.id == Application.enterprise_id)
        .where(Application.state == State.IN_NOTICE)
    )
    if tier is not None:
        stmt = stmt.where(Application.tier == tier)
    key = tuple_(Application.notice_ends_at, Application.id)
    if after is not None:
        stmt = stmt.where(key > tuple_(*after))
    if start is not None:
        stmt = stmt.where(key >= tuple_(*start))
    stmt = stmt.order_by(Application.notice_ends_at, Application.id).limit(limit)
    return list(session.execute(stmt))


def reviewer_objections(
    session: DbSession, *, open_limit: int, resolved_limit: int
) -> tuple[
    Sequence[Row[Objection, Application, Enterprise]],
    Sequence[Row[Objection, Application, Enterprise, User]],
]:
    """``(open, resolved)``: the open objections oldest first (those of applications
    still in notice before those whose application has closed), and the latest
    resolved ones, each row with its application and enterprise (and the resolver)."""
    base = (
        select(Objection, Application, Enterprise)
        .join(Application, Application.id == Objection.application_id)
        .join(Enterprise, Enterprise.id == Application.enterprise_id)
    )
    still_in_notice = (Application.state == State.IN_NOTICE).desc()
    open_rows = session.execute(
        base.where(Objection.state == ObjectionState.OPEN)
        .order_by(still_in_notice, Objection.created_at, Objection.id)
        .limit(open_limit)
    ).all()
    resolved_rows = session.execute(
        base.add_columns(User)
        .outerjoin(User, User.id == Objection.resolved_by)
        .where(Objection.state != ObjectionState.OPEN)
        .order_by(desc(Objection.resolved_at), desc(Objection.id))
        .limit(resolved_limit)
    ).all()
    return open_rows, resolved_rows
