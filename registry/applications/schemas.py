"""Application representations (as a reviewer's GET returns them)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields
from sqlalchemy.orm import object_session

from registry.accounts.models import User
from registry.applications.models import Application
from registry.applications.queries import is_held
from registry.core import changes, clock
from registry.core.dbsession import DbSession
from registry.core.schemas import OutputSchema, Timestamp
from registry.extensions import db


def _session_of(record: object) -> DbSession:
    """The session that loaded ``record``: a snapshot renders records read in its own
    consistent transaction, and what they refer to must be read in it too."""
    return object_session(record) or db.session


def user_ref(user_id: int | None, session: DbSession | None = None) -> dict[str, Any] | None:
    if user_id is None:
        return None
    user = (session or db.session).get(User, user_id)
    return {"id": user_id, "name": user.display_name if user else str(user_id)}


def held_now(application: Application) -> bool:
    """API.md: the notice has ended and an objection is still open, so no grant until
    it is resolved. It turns true with the passing of ``notice_ends_at``, not with a
    write: a feed entry shows it as it was when the entry was written."""
    ended = application.notice_ends_at is not None and application.notice_ends_at <= clock.now()
    return ended and is_held(_session_of(application), application)


class DecisionOut(OutputSchema):
    reviewer = fields.Function(lambda d: {"id": d.reviewer_id, "name": d.reviewer_name})
    decision = fields.String()
    comment = fields.String(allow_none=True)
    manual_checks = fields.Raw(allow_none=True)
    innovation_score = fields.Integer(allow_none=True)
    at = Timestamp()


class ApplicationOut(OutputSchema):
    id = fields.Integer()
    enterprise_uscc = fields.Function(lambda a: a.enterprise.uscc)
    tier = fields.String()
    kind = fields.Function(lambda a: str(a.kind))
    route = fields.String(allow_none=True)
    state = fields.Function(lambda a: str(a.state))
    nominated_by = fields.Function(lambda a: user_ref(a.nominated_by, _session_of(a)))
    claimed_by = fields.Function(lambda a: user_ref(a.claimed_by, _session_of(a)))
    approvals_required = fields.Integer(allow_none=True)
    decisions = fields.List(fields.Nested(DecisionOut))
    eligibility = fields.Raw(allow_none=True)
    submitted_at = Timestamp(allow_none=True)
    notice_started_at = Timestamp(allow_none=True)
    notice_ends_at = Timestamp(allow_none=True)
    held = fields.Function(held_now)
    closed_reason = fields.String(allow_none=True)
    version = fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()


application_out = ApplicationOut()

changes.register(Application, "application", lambda a: str(a.id), application_out.dump)
