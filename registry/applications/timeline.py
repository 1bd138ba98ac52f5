"""The timeline of an application (PRODUCT.md "Applications and review"): its audit rows, decisions
and objections as events. Enterprise users see "a reviewer" where a reviewer acted, and of
an objection only its grounds and outcome."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from registry.accounts.models import User
from registry.applications.labels import OBJECTION_LABELS, STATE_LABELS
from registry.applications.models import Application, Decision, Objection, State
from registry.core.audit import history
from registry.core.models import AuditEntry
from registry.extensions import db

#: The states an application ends in.
CLOSED = (State.GRANTED, State.REJECTED, State.WITHDRAWN)
#: (user id or None for the system, the name recorded) → the name this viewer sees.
Namer = Callable[[int | None, str], str]


@dataclass
class Event:
    """One line of the timeline: ``state`` names the badge's class, ``badge`` its text;
    ``notice`` = (start, end) when the public notice opened."""

    at: datetime
    title: str
    by: str | None = None
    detail: str | None = None
    state: str | None = None
    badge: str | None = None
    notice: tuple[datetime, datetime | None] | None = None


def _namer(application: Application, viewer: User) -> Namer:
    """Who acted, as this viewer may know it: the enterprise's own users by name, the
    system as the registry, reviewers by name to reviewers and as "a reviewer" to others."""
    own = set(
        db.session.scalars(select(User.id).where(User.enterprise_id == application.enterprise_id))
    )
    reviewer_view = viewer.is_reviewer

    def name(user_id: int | None, recorded_name: str) -> str:
        if user_id is None:
            return _("the registry")
        if reviewer_view or user_id in own:
            return recorded_name
        return _("a reviewer")

    return name


_DECISION_TITLES = {
    "approve": _l("Approved"),
    "reject": _l("Rejected"),
    "request_changes": _l("Changes requested"),
}
_TITLES = {
    "application.claim": _l("A reviewer took up the review"),
    "application.withdraw": _l("Withdrawn"),
    "application.grant": _l("Granted"),
    "application.close": _l("Closed by the registry"),
}


def _audit_event(
    application: Application, row: AuditEntry, decisions: Iterator[Decision], name: Namer
) -> Event | None:
    changes = row.changes or {}
    before, after = changes.get("state", [None, None])
    event = Event(at=row.at, title="", by=name(row.actor_id, row.actor_name))
    if after is not None:
        event.state, event.badge = after, str(STATE_LABELS[State(after)])
    action = row.action
    if action == "application.create":
        nominated = application.nominated_by is not None
        event.title = _("Nominated") if nominated else _("Started")
    elif action == "application.submit":
        again = before == State.CHANGES_REQUESTED
        event.title = _("Submitted again after changes") if again else _("Submitted")
    elif action in ("application.approve", "application.reject", "application.request_changes"):
        # Each decision writes one Decision row and one audit row, in the same order.
        decision = next(decisions, None)
        if decision is None:
            # A rejection without a reviewer's decision: an upheld objection.
            event.title = _("Rejected: an objection was upheld")
        else:
            event.title = str(_DECISION_TITLES[decision.decision])
            event.detail = decision.comment
            if decision.void:
                event.title = _(
                    "%(title)s (made void by a later request for changes)", title=event.title
                )
        if after == State.IN_NOTICE and application.notice_started_at:
            event.notice = (application.notice_started_at, application.notice_ends_at)
        elif after == State.GRANTED:
            event.title = _("Approved: the designation is renewed")
    elif action in ("attachment.add", "attachment.delete"):
        label = changes.get("label", [None, None])
        if action == "attachment.add":
            event.title = _("File added: %(label)s", label=label[1])
        else:
            event.title = _("File removed: %(label)s", label=label[0])
    elif action in _TITLES:
        event.title = str(_TITLES[action])
    elif after is not None:
        # A transition this page has no words for (e.g. an upheld objection): its state.
        event.title = str(STATE_LABELS[State(after)])
    else:
        return None
    if after == application.state and application.state in CLOSED and event.detail is None:
        event.detail = application.closed_reason
    return event


def _objection_events(application: Application, name: Namer) -> list[Event]:
    """Grounds and outcome only: the objector's name, contact and address are for
    reviewers (PRODUCT.md "Applications and review") and never reach this page."""
    events = []
    objections = db.session.scalars(
        select(Objection).where(Objection.application_id == application.id).order_by(Objection.id)
    )
    for objection in objections:
        events.append(
            Event(
                at=objection.created_at,
                title=_("Objection received"),
                detail=objection.grounds,
                state=str(objection.state),
                badge=str(OBJECTION_LABELS[str(objection.state)]),
            )
        )
        if objection.resolved_at is not None:
            resolver = (
                db.session.get(User, objection.resolved_by) if objection.resolved_by else None
            )
            upheld = str(objection.state) == "upheld"
            events.append(
                Event(
                    at=objection.resolved_at,
                    title=_("Objection upheld") if upheld else _("Objection dismissed"),
                    by=name(objection.resolved_by, resolver.display_name if resolver else ""),
                    detail=objection.resolution_comment,
                )
            )
    return events


def timeline(application: Application, viewer: User) -> list[Event]:
    """What happened to an application, oldest first, as ``viewer`` may see it."""
    rows = db.session.scalars(history("application", application.id))
    name = _namer(application, viewer)
    decisions = iter(application.decisions)
    events = [e for row in rows if (e := _audit_event(application, row, decisions, name))]
    events += _objection_events(application, name)
    events.sort(key=lambda event: event.at)  # stable: the audit order within a second
    return events
