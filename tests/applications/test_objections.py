"""Objections during the public notice (PRODUCT.md "Applications and review", "Dates, times and
working days") at the operations layer."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from registry.accounts.models import Role
from registry.applications import notice_ends, objections
from registry.applications import operations as apps
from registry.applications.models import Application, Objection, ObjectionState, State
from registry.applications.queries import is_held
from registry.applications.schemas import application_out
from registry.core import clock
from registry.core.errors import (
    ConflictOfInterest,
    Forbidden,
    InvalidTransition,
    NotFound,
    NoticeClosed,
    Throttled,
    ValidationFailed,
)
from registry.core.models import AuditEntry, ChangeLogEntry
from registry.ladder import queries
from registry.ladder.models import Tier
from tests.applications.test_operations import TSME_CONFIRMED, approve, submitted

APPROVED = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)  # Wed; ten working days of notice
DURING = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
ENDS = datetime(2026, 3, 18, 16, 0, tzinfo=UTC)  # 00:00 of 03-19 in Shanghai
AFTER = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)  # Fri 2026-03-20, 10:00 in Shanghai
ADDRESS = "203.0.113.5"


def in_notice(session, world) -> Application:
    """A tech_sme promotion approved on APPROVED, through the real transitions."""
    with clock.pinned(APPROVED):
        application = submitted(session, world)
        apps.claim(session, application, user=world["reviewer"], via="web")
        approve(session, application, world["reviewer"], TSME_CONFIRMED)
    session.commit()
    assert application.state == State.IN_NOTICE and application.notice_ends_at == ENDS
    return application


def two_in_notice(session, make, world) -> tuple[Application, Application]:
    """The world's application in notice, then a second enterprise's, approved alike."""
    first = in_notice(session, world)
    other = make.enterprise(name="第二企业有限公司")
    make.eligible_report(other, 2025)
    owner = make.user("o2@example.com", enterprise=other)
    return first, in_notice(session, {**world, "enterprise": other, "owner": owner})


def object_to(session, application, at=DURING, address=ADDRESS, name="张三") -> Objection:
    with clock.pinned(at):
        objection = objections.file_objection(
            session,
            application,
            name=name,
            contact="13800000000",
            grounds="The revenue figures are not those of the annual report.",
            client_address=address,
        )
    session.commit()
    return objection


def resolve(session, objection, outcome, reviewer, at, comment="Checked the reports."):
    with clock.pinned(at):
        objections.resolve(session, objection, outcome, user=reviewer, via="web", comment=comment)
    session.commit()


def tick(session, at) -> list[int]:
    """What ``flask registry tick`` does for notices: due ones, each ended."""
    granted = []
    with clock.pinned(at):
        for application_id in notice_ends.due_notices(session, at):
            if notice_ends.end_notice(session, application_id, at):
                granted.append(application_id)
            session.commit()
    return granted


def reserved(session) -> int:
    return queries.occupancy(session, session.get(Tier, "tech_sme")).reserved


def test_an_objection_is_stored_audited_and_holds_the_application(session, world):
    application = in_notice(session, world)
    version = application.version
    objection = object_to(session, application)
    assert (objection.state, objection.client_address) == (ObjectionState.OPEN, ADDRESS)
    assert objection.created_at == DURING
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "objection.create")).one()
    assert (audit.actor_id, audit.actor_name, audit.via) == (None, "public", "web")
    assert audit.object_id == str(objection.id)
    assert "张三" not in json.dumps(audit.changes, ensure_ascii=False)
    # The application changed (a feed entry), and once the notice has ended with the
    # objection still open it is held (API.md), not before.
    assert application.version == version + 1
    entry = session.scalars(
        select(ChangeLogEntry)
        .where(ChangeLogEntry.type == "application", ChangeLogEntry.key == str(application.id))
        .order_by(ChangeLogEntry.id.desc())
    ).first()
    assert entry.version == application.version
    with clock.pinned(DURING):
        assert application_out.dump(application)["held"] is False
    with clock.pinned(AFTER):
        assert application_out.dump(application)["held"] is True


def test_held_is_false_without_an_open_objection(session, world):
    application = in_notice(session, world)
    assert application_out.dump(application)["held"] is False


def test_objection_from_the_end_of_the_notice_is_refused(session, world):
    application = in_notice(session, world)
    for at in (ENDS, AFTER):
        with clock.pinned(at), pytest.raises(NoticeClosed) as refused:
            objections.file_objection(
                session, application, name="a", contact="b", grounds="c", client_address=ADDRESS
            )
        assert (refused.value.code, refused.value.status) == ("notice_closed", 409)
    session.rollback()
    assert session.scalars(select(Objection)).all() == []
    # A second before the end is still in time.
    object_to(session, application, at=ENDS - timedelta(seconds=1))


def test_objection_to_an_application_not_in_notice_is_not_found(session, world):
    application = submitted(session, world)
    with pytest.raises(NotFound):
        objections.file_objection(
            session, application, name="a", contact="b", grounds="c", client_address=ADDRESS
        )


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [("name", "   ", "required"), ("contact", "", "required"), ("grounds", "x" * 5001, "too_long")],
)
def test_fields_are_required_and_bounded(session, world, field, value, code):
    application = in_notice(session, world)
    values = {"name": "李四", "contact": "li@example.com", "grounds": "reasons"}
    values[field] = value
    with clock.pinned(DURING), pytest.raises(ValidationFailed) as refused:
        objections.file_objection(session, application, client_address=ADDRESS, **values)
    assert refused.value.errors == [
        {"field": field, "code": code, "message": refused.value.errors[0]["message"]}
    ]


def test_sixth_objection_within_an_hour_from_one_address_is_throttled(session, world):
    application = in_notice(session, world)
    for minute in range(5):
        object_to(session, application, at=DURING + timedelta(minutes=minute))
    with clock.pinned(DURING + timedelta(minutes=10)), pytest.raises(Throttled) as refused:
        objections.file_objection(
            session, application, name="a", contact="b", grounds="c", client_address=ADDRESS
        )
    assert refused.value.status == 429
    # The oldest of the five leaves the window 50 minutes later.
    assert refused.value.retry_after == 50 * 60
    session.rollback()
    object_to(session, application, at=DURING + timedelta(minutes=10), address="198.51.100.7")
    object_to(session, application, at=DURING + timedelta(hours=1, seconds=1))


def test_the_enterprise_sees_grounds_and_outcome_never_who_objected(session, world):
    application = in_notice(session, world)
    objection = object_to(session, application, name="王五")
    resolve(session, objection, "dismissed", world["second"], DURING)
    seen = objections.objection_out.dump(objection)
    assert set(seen) == {
        "id",
        "application_id",
        "state",
        "text",
        "filed_at",
        "resolved_at",
        "resolved_by",
        "comment",
    }
    text = json.dumps(seen, ensure_ascii=False)
    assert "王五" not in text and "13800000000" not in text and ADDRESS not in text
    assert seen["state"] == "dismissed" and seen["comment"] == "Checked the reports."
    reviewer_view = objections.reviewer_objection_out.dump(objection)
    assert (reviewer_view["name"], reviewer_view["contact"]) == ("王五", "13800000000")


def test_upheld_objection_rejects_at_once_and_releases_the_slot(session, world):
    application = in_notice(session, world)
    assert reserved(session) == 1
    objection = object_to(session, application)
    resolve(session, objection, "upheld", world["second"], DURING, comment="Figures are false.")
    assert application.state == State.REJECTED
    assert application.closed_reason == "Figures are false."
    assert objection.state == ObjectionState.UPHELD and objection.resolved_by == world["second"].id
    assert reserved(session) == 0
    assert world["enterprise"].tier is None
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.at == DURING).order_by(AuditEntry.id)
    ).all()
    assert actions == [
        "objection.create",
        "objection.resolve",
        "reservation.release",
        "application.reject",
    ]
    assert application_out.dump(application)["held"] is False


def test_dismissal_before_the_end_leaves_the_grant_to_tick(session, world):
    application = in_notice(session, world)
    objection = object_to(session, application)
    resolve(session, objection, "dismissed", world["second"], DURING)
    assert application.state == State.IN_NOTICE and not is_held(session, application)
    assert tick(session, ENDS - timedelta(seconds=1)) == []
    assert tick(session, AFTER) == [application.id]
    assert application.state == State.GRANTED
    assert world["enterprise"].tier_since == date(2026, 3, 19)  # the notice's end


def test_tick_does_not_grant_a_held_application(session, world):
    application = in_notice(session, world)
    object_to(session, application)
    assert notice_ends.due_notices(session, AFTER) == []
    assert notice_ends.end_notice(session, application.id, AFTER) is None
    assert tick(session, AFTER) == []
    assert application.state == State.IN_NOTICE and reserved(session) == 1


def test_dismissing_the_last_objection_after_the_end_grants_at_once(session, world):
    application = in_notice(session, world)
    objection = object_to(session, application)
    assert tick(session, AFTER) == []
    resolve(session, objection, "dismissed", world["second"], AFTER)
    enterprise = world["enterprise"]
    assert application.state == State.GRANTED
    assert (enterprise.tier, enterprise.tier_since) == ("tech_sme", date(2026, 3, 20))
    event = queries.tier_events(session, enterprise.id)[-1]
    assert (event.effective_at, event.application_id) == (AFTER, application.id)
    assert reserved(session) == 0
    grant = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "application.grant")
    ).one()
    assert grant.actor_id == world["second"].id


def test_one_of_two_objections_dismissed_keeps_it_held(session, world):
    application = in_notice(session, world)
    first = object_to(session, application)
    second = object_to(session, application, address="198.51.100.7")
    resolve(session, first, "dismissed", world["second"], AFTER)
    assert application.state == State.IN_NOTICE
    with clock.pinned(AFTER):
        assert application_out.dump(application)["held"] is True
    assert tick(session, AFTER) == []
    later = AFTER + timedelta(days=1)
    resolve(session, second, "dismissed", world["reviewer"], later)
    assert application.state == State.GRANTED
    assert world["enterprise"].tier_since == date(2026, 3, 21)


def test_a_second_objection_needs_no_decision_once_one_is_upheld(session, world):
    application = in_notice(session, world)
    first = object_to(session, application)
    second = object_to(session, application, address="198.51.100.7")
    resolve(session, first, "upheld", world["second"], DURING)
    with clock.pinned(DURING), pytest.raises(InvalidTransition):
        objections.resolve(
            session, second, "dismissed", user=world["second"], via="web", comment="x"
        )
    session.rollback()
    open_rows, resolved_rows = objections.reviewer_objections(
        session, open_limit=10, resolved_limit=10
    )
    assert [row.Objection.id for row in open_rows] == [second.id]
    assert [row.Objection.id for row in resolved_rows] == [first.id]


def test_resolver_linked_to_the_enterprise_is_refused(session, world, make):
    application = in_notice(session, world)
    objection = object_to(session, application)
    insider = make.user(role=Role.REVIEWER, name="insider")
    insider.enterprise_id = world["enterprise"].id  # a reviewer of the enterprise itself
    with clock.pinned(DURING), pytest.raises(ConflictOfInterest) as refused:
        objections.resolve(session, objection, "dismissed", user=insider, via="web", comment="x")
    assert refused.value.status == 403
    with pytest.raises(Forbidden):
        objections.resolve(
            session, objection, "dismissed", user=world["owner"], via="web", comment="x"
        )
    session.rollback()
    assert objection.state == ObjectionState.OPEN


def test_an_objection_is_resolved_once(session, world):
    application = in_notice(session, world)
    objection = object_to(session, application)
    resolve(session, objection, "dismissed", world["second"], DURING)
    with clock.pinned(DURING), pytest.raises(InvalidTransition) as refused:
        objections.resolve(
            session, objection, "upheld", user=world["reviewer"], via="web", comment="again"
        )
    assert refused.value.code == "invalid_transition"
    session.rollback()
    assert objection.state == ObjectionState.DISMISSED
    assert application.state == State.IN_NOTICE


@pytest.mark.parametrize(("outcome", "comment"), [("dismissed", "  "), ("withdrawn", "why")])
def test_a_resolution_needs_an_outcome_and_a_comment(session, world, outcome, comment):
    objection = object_to(session, in_notice(session, world))
    with clock.pinned(DURING), pytest.raises(ValidationFailed):
        objections.resolve(
            session, objection, outcome, user=world["second"], via="web", comment=comment
        )
