"""The application state machine (PRODUCT.md "Applications and review") at the operations layer."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from registry.accounts.models import Role
from registry.applications import decisions, notice_ends
from registry.applications import operations as apps
from registry.applications.models import Application, State
from registry.core import clock
from registry.core.errors import (
    ApplicationOpen,
    CalendarNotCovered,
    ConflictOfInterest,
    EnterpriseUnverified,
    Forbidden,
    FourEyes,
    InvalidTransition,
    ManualChecksUnconfirmed,
    NominationOnly,
    NotEligible,
    NotFound,
    PrerequisiteNotMet,
    QuotaFull,
    ValidationFailed,
)
from registry.core.models import AuditEntry, ChangeLogEntry
from registry.ladder import operations as ladder
from registry.ladder import queries
from registry.ladder.models import CalendarYear, Tier
from tests.factories import TEST_ACTOR

NOW = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)  # Wed 2026-03-04 in Shanghai
TSME_CONFIRMED = {"industry_allowed": True, "clean_record": True}
CHAMPION_CONFIRMED = {"srdi_score": True}


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.pinned(NOW):
        yield


def approve(session, application, reviewer, confirmed, **extra) -> Application:
    return decisions.decide(
        session, application, "approve", user=reviewer, via="web", manual_checks=confirmed, **extra
    )


def submitted(session, world, tier="tech_sme") -> Application:
    application = apps.create(
        session, world["enterprise"], tier, "promotion", user=world["owner"], via="web"
    )
    return apps.submit(session, application, user=world["owner"], via="web", declaration=True)


def test_promotion_path_to_grant(session, world):
    application = submitted(session, world)
    assert application.state == State.SUBMITTED
    assert application.eligibility["eligible"] is True
    assert (application.approvals_required, application.notice_days) == (1, 10)
    apps.claim(session, application, user=world["reviewer"], via="web")
    assert application.state == State.IN_REVIEW
    approve(session, application, world["reviewer"], TSME_CONFIRMED)
    assert application.state == State.IN_NOTICE
    # PRODUCT.md "Dates, times and working days": approved Wed 2026-03-04, N = 10 → ends
    # 2026-03-18T16:00:00Z.
    assert application.notice_ends_at == datetime(2026, 3, 18, 16, 0, tzinfo=UTC)
    occupancy = queries.occupancy(session, session.get(Tier, "tech_sme"))
    assert (occupancy.holders, occupancy.reserved) == (0, 1)
    session.commit()
    assert notice_ends.end_notice(session, application.id, NOW) is None  # not due yet
    later = datetime(2026, 3, 20, tzinfo=UTC)
    assert notice_ends.due_notices(session, later) == [application.id]
    notice_ends.end_notice(session, application.id, later)
    session.commit()
    enterprise = world["enterprise"]
    assert application.state == State.GRANTED
    assert (enterprise.tier, enterprise.tier_since) == ("tech_sme", date(2026, 3, 19))
    event = queries.tier_events(session, enterprise.id)[-1]
    assert event.application_id == application.id
    assert event.effective_at == datetime(2026, 3, 18, 16, 0, tzinfo=UTC)
    occupancy = queries.occupancy(session, session.get(Tier, "tech_sme"))
    assert (occupancy.holders, occupancy.reserved) == (1, 0)
    feed = session.scalars(
        select(ChangeLogEntry.type).where(ChangeLogEntry.type == "application")
    ).all()
    assert feed  # every transition writes the application's feed entry
    actions = session.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.object_type == "application")
        .order_by(AuditEntry.id)
    ).all()
    assert actions == [
        "application.create",
        "application.submit",
        "application.claim",
        "application.approve",
        "application.grant",
    ]


def test_not_eligible_submission_is_refused_and_changes_nothing(session, make, world):
    weak = make.enterprise()
    owner = make.user(enterprise=weak)
    application = apps.create(session, weak, "tech_sme", "promotion", user=owner, via="web")
    with pytest.raises(NotEligible) as refused:
        apps.submit(session, application, user=owner, via="web", declaration=True)
    assert {e["field"] for e in refused.value.errors} >= {"employees_max", "tsme_score"}
    assert application.state == State.DRAFT and application.eligibility is None


def test_declaration_required_for_own_application(session, world):
    application = apps.create(
        session, world["enterprise"], "tech_sme", "promotion", user=world["owner"], via="web"
    )
    with pytest.raises(ValidationFailed):
        apps.submit(session, application, user=world["owner"], via="web")


def test_one_open_application_per_enterprise(session, world):
    submitted(session, world)
    with pytest.raises(ApplicationOpen):
        apps.create(
            session, world["enterprise"], "high_tech", "promotion", user=world["owner"], via="web"
        )


def test_database_enforces_one_open_application(session, world):
    e = world["enterprise"]
    session.add_all(
        [
            Application(enterprise_id=e.id, tier="tech_sme", kind="promotion"),
            Application(enterprise_id=e.id, tier="high_tech", kind="promotion"),
        ]
    )
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_top_rungs_are_nomination_only(session, world):
    with pytest.raises(NominationOnly):
        apps.create(
            session, world["enterprise"], "navigator", "promotion", user=world["owner"], via="web"
        )


def test_another_enterprises_user_cannot_see_or_act(session, make, world):
    stranger = make.user(enterprise=make.enterprise())
    with pytest.raises(NotFound):
        apps.create(session, world["enterprise"], "tech_sme", "promotion", user=stranger, via="web")
    application = submitted(session, world)
    with pytest.raises(NotFound):
        apps.withdraw(session, application, user=stranger, via="web")


def test_illegal_transitions_change_nothing(session, world):
    application = apps.create(
        session, world["enterprise"], "tech_sme", "promotion", user=world["owner"], via="web"
    )
    with pytest.raises(InvalidTransition):
        approve(session, application, world["reviewer"], TSME_CONFIRMED)
    with pytest.raises(InvalidTransition):
        apps.claim(session, application, user=world["reviewer"], via="web")
    apps.submit(session, application, user=world["owner"], via="web", declaration=True)
    with pytest.raises(InvalidTransition):  # a second submit (two tabs)
        apps.submit(session, application, user=world["owner"], via="web", declaration=True)
    assert application.state == State.SUBMITTED
    apps.claim(session, application, user=world["reviewer"], via="web")
    approve(session, application, world["reviewer"], TSME_CONFIRMED)
    with pytest.raises(InvalidTransition):
        apps.withdraw(session, application, user=world["owner"], via="web")
    assert application.state == State.IN_NOTICE


def test_manual_checks_must_be_confirmed(session, world):
    application = submitted(session, world)
    apps.claim(session, application, user=world["reviewer"], via="web")
    with pytest.raises(ManualChecksUnconfirmed):
        approve(session, application, world["reviewer"], {"industry_allowed": True})


def champion_world(session, make, world):
    ladder.grant_tier(session, world["enterprise"], "tech_sme", actor=TEST_ACTOR, reason="x")
    application = submitted(session, world, "champion")
    apps.claim(session, application, user=world["reviewer"], via="web")
    return application


def test_champion_needs_two_different_approvers(session, make, world):
    application = champion_world(session, make, world)
    assert application.approvals_required == 2
    approve(session, application, world["reviewer"], CHAMPION_CONFIRMED)
    assert application.state == State.IN_REVIEW
    with pytest.raises(FourEyes):
        approve(session, application, world["reviewer"], CHAMPION_CONFIRMED)
    approve(session, application, world["second"], CHAMPION_CONFIRMED)
    assert application.state == State.IN_NOTICE and application.notice_days == 5


def test_request_changes_voids_earlier_approvals(session, make, world):
    application = champion_world(session, make, world)
    approve(session, application, world["reviewer"], CHAMPION_CONFIRMED)
    decisions.decide(
        session,
        application,
        "request_changes",
        user=world["second"],
        via="web",
        comment="add the 2024 figures",
    )
    assert application.state == State.CHANGES_REQUESTED and application.approvals() == []
    apps.submit(session, application, user=world["owner"], via="web", declaration=True)
    assert application.state == State.IN_REVIEW
    approve(session, application, world["reviewer"], CHAMPION_CONFIRMED)
    assert application.state == State.IN_REVIEW  # the first approval no longer counts


def test_nominating_reviewer_cannot_approve_and_members_decide_nothing(session, make, world):
    ladder.grant_tier(session, world["enterprise"], "champion", actor=TEST_ACTOR, reason="x")
    nomination = apps.create(
        session, world["enterprise"], "navigator", "promotion", user=world["reviewer"], via="web"
    )
    assert nomination.nominated_by == world["reviewer"].id
    nomination.enterprise.reports[0].revenue = 2_000_000_000
    nomination.enterprise.reports[0].total_income = 2_000_000_000
    nomination.enterprise.reports[0].rd_expense = 80_000_000
    nomination.enterprise.reports[0].total_cost = 1_000_000_000
    apps.submit(session, nomination, user=world["reviewer"], via="web")
    apps.claim(session, nomination, user=world["reviewer"], via="web")
    with pytest.raises(FourEyes):
        approve(session, nomination, world["reviewer"], {"chain_leadership": True})
    member = make.user(role=Role.REVIEWER)
    member.enterprise_id = world["enterprise"].id  # a reviewer of the enterprise itself
    with pytest.raises(ConflictOfInterest):
        decisions.decide(session, nomination, "reject", user=member, via="web", comment="no")
    decisions.decide(session, nomination, "reject", user=world["second"], via="web", comment="no")
    assert nomination.state == State.REJECTED


def test_prerequisite_checked_at_submission(session, world):
    application = apps.create(
        session, world["enterprise"], "champion", "promotion", user=world["owner"], via="web"
    )
    with pytest.raises(PrerequisiteNotMet):
        apps.submit(session, application, user=world["owner"], via="web", declaration=True)


def test_final_approval_refused_when_quota_full(session, make, world):
    ladder.set_quota(session, "tech_sme", 0, actor=TEST_ACTOR, reason="x")
    application = submitted(session, world)
    apps.claim(session, application, user=world["reviewer"], via="web")
    with pytest.raises(QuotaFull):
        approve(session, application, world["reviewer"], TSME_CONFIRMED)


@pytest.mark.parametrize(
    ("approved_at", "years"),
    [
        (NOW, [2026]),  # the whole notice in a year the seed lacks
        # Approved on Thu 2026-12-24: ten working days reach into 2027.
        (datetime(2026, 12, 24, 3, 0, tzinfo=UTC), [2027]),
    ],
)
def test_final_approval_refused_when_the_calendar_does_not_cover_the_notice(
    session, world, approved_at, years
):
    """Never counted Monday to Friday: nothing changes, and the approval goes through
    once the year is seeded."""
    application = submitted(session, world)
    apps.claim(session, application, user=world["reviewer"], via="web")
    session.commit()
    removed = [session.get(CalendarYear, year) for year in years]
    for year in removed:
        session.delete(year)
    session.flush()
    with clock.pinned(approved_at), pytest.raises(CalendarNotCovered) as refused:
        approve(session, application, world["reviewer"], TSME_CONFIRMED)
    assert refused.value.status == 409 and refused.value.code == "calendar_not_covered"
    assert str(years[0]) in str(refused.value)
    session.rollback()
    assert application.state == State.IN_REVIEW and application.notice_ends_at is None
    assert queries.occupancy(session, session.get(Tier, "tech_sme")).reserved == 0
    with clock.pinned(approved_at):
        approve(session, application, world["reviewer"], TSME_CONFIRMED)
    assert application.state == State.IN_NOTICE


def test_revoke_rejects_open_applications_and_releases_the_slot(session, make, world):
    application = champion_world(session, make, world)
    approve(session, application, world["reviewer"], CHAMPION_CONFIRMED)
    approve(session, application, world["second"], CHAMPION_CONFIRMED)
    ladder.revoke(session, world["enterprise"], actor=TEST_ACTOR, reason="fraud")
    assert application.state == State.REJECTED and application.closed_reason == "revoke"
    assert queries.occupancy(session, session.get(Tier, "champion")).reserved == 0


def test_renewal_is_held_then_granted_without_notice(session, make, world):
    enterprise = world["enterprise"]
    ladder.grant_tier(
        session, enterprise, "high_tech", actor=TEST_ACTOR, reason="x", since=date(2023, 5, 1)
    )  # expires 2026-05-01: inside the window
    enterprise.reports[0].hightech_income = 40_000_000
    enterprise.reports[0].rd_domestic_expense = 3_000_000
    application = apps.create(
        session, enterprise, "high_tech", "renewal", user=world["owner"], via="web"
    )
    apps.submit(session, application, user=world["owner"], via="web", declaration=True)
    assert ladder.lapse_expired(session, datetime(2026, 6, 1, tzinfo=UTC)) == 0
    apps.claim(session, application, user=world["reviewer"], via="web")
    approve(
        session,
        application,
        world["reviewer"],
        {"tech_field": True, "innovation_score": True, "no_major_accident": True},
        innovation_score=75,
    )
    assert application.state == State.GRANTED
    assert enterprise.tier_expires_at == datetime(2029, 4, 30, 16, 0, tzinfo=UTC)


def navigator_nomination(session, world):
    ladder.grant_tier(session, world["enterprise"], "champion", actor=TEST_ACTOR, reason="x")
    report = world["enterprise"].reports[0]
    report.revenue = report.total_income = 2_000_000_000
    report.rd_expense, report.total_cost = 80_000_000, 1_000_000_000
    return apps.create(
        session, world["enterprise"], "navigator", "promotion", user=world["reviewer"], via="web"
    )


def test_enterprise_users_only_read_a_nomination(session, world):
    nomination = navigator_nomination(session, world)
    with pytest.raises(Forbidden):
        apps.submit(session, nomination, user=world["owner"], via="web", declaration=True)
    with pytest.raises(Forbidden):
        apps.withdraw(session, nomination, user=world["owner"], via="web")
    assert nomination.state == State.DRAFT


def test_any_earlier_submitter_may_not_approve(session, world, make):
    nomination = navigator_nomination(session, world)
    third = make.user(role=Role.REVIEWER, name="reviewer three")
    apps.submit(session, nomination, user=world["second"], via="web")  # B submits
    apps.claim(session, nomination, user=world["second"], via="web")
    decisions.decide(session, nomination, "request_changes", user=third, via="web", comment="more")
    apps.submit(session, nomination, user=third, via="web")  # C resubmits
    with pytest.raises(FourEyes):
        approve(session, nomination, world["second"], {"chain_leadership": True})


def test_final_approval_refused_when_tier_already_held(session, world):
    application = submitted(session, world)
    apps.claim(session, application, user=world["reviewer"], via="web")
    ladder.grant_tier(session, world["enterprise"], "tech_sme", actor=TEST_ACTOR, reason="list")
    with pytest.raises(InvalidTransition):
        approve(session, application, world["reviewer"], TSME_CONFIRMED)


def test_deregistration_closes_with_its_status_reason(session, make, world):
    from registry.enterprises.operations import change_status

    ladder.grant_tier(session, world["enterprise"], "tech_sme", actor=TEST_ACTOR, reason="x")
    application = apps.create(
        session, world["enterprise"], "high_tech", "promotion", user=world["owner"], via="web"
    )
    change_status(session, world["enterprise"], "deregistered", actor=TEST_ACTOR)
    assert application.state == State.REJECTED
    assert application.closed_reason == "status:deregistered"


def test_reviewer_cannot_act_as_applicant_and_enterprise_cannot_review(session, world):
    application = submitted(session, world)
    with pytest.raises(Forbidden):
        apps.withdraw(session, application, user=world["reviewer"], via="web")
    with pytest.raises(Forbidden):
        apps.claim(session, application, user=world["owner"], via="web")


# --- verified first ---------------------------------------------------------------------


def test_final_approval_waits_until_the_enterprise_is_verified(session, world):
    from registry.enterprises.operations import verify_enterprise

    world["enterprise"].verified = False  # a web sign-up no reviewer has verified yet
    application = submitted(session, world)
    apps.claim(session, application, user=world["reviewer"], via="web")
    audited = session.scalars(select(AuditEntry.id)).all()
    with pytest.raises(EnterpriseUnverified) as refused:
        approve(session, application, world["reviewer"], TSME_CONFIRMED)
    assert (refused.value.status, refused.value.code) == (409, "enterprise_unverified")
    assert world["enterprise"].uscc in str(refused.value)
    # Nothing changed: no decision, no slot, no audit entry.
    assert application.state == State.IN_REVIEW and application.decisions == []
    assert queries.occupancy(session, session.get(Tier, "tech_sme")).reserved == 0
    assert session.scalars(select(AuditEntry.id)).all() == audited

    verify_enterprise(session, world["enterprise"], actor=TEST_ACTOR)
    approve(session, application, world["reviewer"], TSME_CONFIRMED)
    assert application.state == State.IN_NOTICE


def test_only_the_final_approval_waits_for_verification(session, make, world):
    application = champion_world(session, make, world)
    world["enterprise"].verified = False
    approve(session, application, world["reviewer"], CHAMPION_CONFIRMED)  # 1 of 2: allowed
    assert application.state == State.IN_REVIEW and len(application.approvals()) == 1
    with pytest.raises(EnterpriseUnverified):
        approve(session, application, world["second"], CHAMPION_CONFIRMED)
    # The four-eyes refusal comes first, as for the quota (API.md's order).
    with pytest.raises(FourEyes):
        approve(session, application, world["reviewer"], CHAMPION_CONFIRMED)
    assert len(application.approvals()) == 1


def test_rejecting_or_requesting_changes_needs_no_verification(session, world):
    world["enterprise"].verified = False
    application = submitted(session, world)
    apps.claim(session, application, user=world["reviewer"], via="web")
    decisions.decide(
        session, application, "reject", user=world["reviewer"], via="web", comment="no"
    )
    assert application.state == State.REJECTED
