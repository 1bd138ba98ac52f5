"""Ladder operations: the rules of each move, occupancy, numbers and the records written."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from registry.core import clock
from registry.core.errors import (
    InvalidTransition,
    NotOnLadder,
    QuotaFull,
    RenewalWindowClosed,
    ValidationFailed,
)
from registry.core.models import AuditEntry, ChangeLogEntry
from registry.ladder import holds, queries
from registry.ladder import operations as ops
from registry.ladder.models import Reservation, Tier, TierEvent
from tests.factories import TEST_ACTOR

NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.pinned(NOW):
        yield


def tier(session, code) -> Tier:
    return session.get(Tier, code)


def grant(session, enterprise, code="tech_sme", **kw):
    kw.setdefault("reason", "test")
    return ops.grant_tier(session, enterprise, code, actor=TEST_ACTOR, **kw)


def test_grant_sets_ladder_fields_and_writes_event_audit_and_feed(session, make):
    e = make.enterprise()
    session.commit()
    event = grant(session, e, "high_tech")
    session.commit()
    assert (e.tier, e.tier_since, e.registration_number) == (
        "high_tech",
        date(2026, 5, 20),
        "JX-HT-2026-00001",
    )
    assert e.tier_expires_at == datetime(2029, 5, 19, 16, 0, tzinfo=UTC)
    assert e.version == 2
    assert event.kind == "grant" and event.from_tier is None and event.to_tier == "high_tech"
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "tier.grant")).one()
    assert audit.object_id == e.uscc and audit.changes["tier"] == [None, "high_tech"]
    feed = session.scalars(select(ChangeLogEntry).order_by(ChangeLogEntry.id)).all()
    assert [(f.type, f.version) for f in feed] == [("enterprise", 2), ("tier_event", 1)]
    data = json.loads(feed[0].data)
    assert data["tier"] == "high_tech" and data["registration_number"] == "JX-HT-2026-00001"
    assert data["tier_expires_at"] == "2029-05-19T16:00:00Z"
    assert json.loads(feed[1].data)["enterprise_uscc"] == e.uscc


def test_tech_sme_expires_on_first_of_january(session, make):
    e = make.enterprise()
    grant(session, e, "tech_sme")
    assert e.tier_expires_at == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)


def test_leap_day_plus_three_years(session, make):
    e = make.enterprise()
    grant(session, e, "high_tech", since=date(2024, 2, 29))
    assert e.tier_expires_at == datetime(2027, 2, 27, 16, 0, tzinfo=UTC)  # 2027-02-28 Shanghai
    assert e.registration_number == "JX-HT-2024-00001"


def test_quota_full_refuses_and_changes_nothing(session, make):
    ops.set_quota(session, "chain_leader", 1, actor=TEST_ACTOR, reason="test")
    a, b = make.enterprise(), make.enterprise()
    grant(session, a, "chain_leader")
    session.commit()
    before = session.scalar(select(func.count()).select_from(ChangeLogEntry))
    with pytest.raises(QuotaFull):
        grant(session, b, "chain_leader")
    session.rollback()
    assert b.tier is None
    assert session.scalar(select(func.count()).select_from(ChangeLogEntry)) == before


def test_reservations_count_in_occupancy(session, make):
    ops.set_quota(session, "navigator", 2, actor=TEST_ACTOR, reason="test")
    a, b, c = make.enterprise(), make.enterprise(), make.enterprise()
    grant(session, a, "navigator")
    holds.reserve_slot(session, b, "navigator", 101, actor=TEST_ACTOR)
    occ = queries.occupancy(session, tier(session, "navigator"))
    assert (occ.holders, occ.reserved, occ.occupancy, occ.remaining) == (1, 1, 2, 0)
    with pytest.raises(QuotaFull):
        holds.reserve_slot(session, c, "navigator", 102, actor=TEST_ACTOR)
    with pytest.raises(QuotaFull):
        grant(session, c, "navigator")
    # The grant at the end of the notice uses its reserved slot.
    event = ops.consume_slot(
        session, 101, actor=TEST_ACTOR, reason="notice ended", effective_at=NOW
    )
    assert event.application_id == 101 and b.tier == "navigator"
    assert session.scalar(select(func.count()).select_from(Reservation)) == 0
    occ = queries.occupancy(session, tier(session, "navigator"))
    assert (occ.holders, occ.reserved) == (2, 0)


def test_release_slot(session, make):
    e = make.enterprise()
    holds.reserve_slot(session, e, "champion", 7, actor=TEST_ACTOR)
    assert holds.release_slot(session, 7, actor=TEST_ACTOR) is True
    assert holds.release_slot(session, 7, actor=TEST_ACTOR) is False
    assert queries.occupancy(session, tier(session, "champion")).reserved == 0


def test_lowering_quota_below_occupancy_blocks_but_demotes_nobody(session, make):
    a, b = make.enterprise(), make.enterprise()
    grant(session, a, "navigator")
    grant(session, b, "navigator")
    ops.set_quota(session, "navigator", 1, actor=TEST_ACTOR, reason="budget")
    assert {a.tier, b.tier} == {"navigator"}
    with pytest.raises(QuotaFull):
        grant(session, make.enterprise(), "navigator")
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "tier_settings.update")
    ).one()
    assert audit.changes == {"quota": [15, 1]} and audit.reason == "budget"


def test_promotion_replaces_lower_tier_and_issues_new_number(session, make):
    e = make.enterprise()
    grant(session, e, "tech_sme")
    event = grant(session, e, "champion")
    assert event.from_tier == "tech_sme" and e.registration_number == "JX-CH-2026-00001"
    assert queries.occupancy(session, tier(session, "tech_sme")).holders == 0


@pytest.mark.parametrize("current,target", [("champion", "champion"), ("champion", "tech_sme")])
def test_grant_refuses_same_or_lower_tier(session, make, current, target):
    e = make.enterprise()
    grant(session, e, current)
    with pytest.raises(InvalidTransition):
        grant(session, e, target)


def test_supplied_number_must_match_pattern_and_be_unused(session, make):
    a, b, c = make.enterprise(), make.enterprise(), make.enterprise()
    with pytest.raises(ValidationFailed):
        grant(session, a, "tech_sme", number="JX-HT-2026-00002")
    with pytest.raises(ValidationFailed):
        grant(session, a, "tech_sme", number="JX-TS-2025-00002")  # year of since is 2026
    grant(session, a, "tech_sme", number="JX-TS-2026-00002")
    with pytest.raises(ValidationFailed):
        grant(session, b, "tech_sme", number="JX-TS-2026-00002")
    grant(session, b, "tech_sme")
    grant(session, c, "tech_sme")
    # The sequence skips the number taken by hand.
    assert (b.registration_number, c.registration_number) == (
        "JX-TS-2026-00001",
        "JX-TS-2026-00003",
    )


def test_grant_in_the_future_refused(session, make):
    with pytest.raises(ValidationFailed):
        grant(session, make.enterprise(), "tech_sme", since=date(2026, 5, 21))


def test_renew_adds_one_period_keeps_since_and_number(session, make):
    e = make.enterprise()
    grant(session, e, "high_tech", since=date(2023, 6, 1))
    number = e.registration_number
    ops.renew_tier(session, e, actor=TEST_ACTOR, reason="renewal")
    assert e.tier_since == date(2023, 6, 1) and e.registration_number == number
    assert e.tier_expires_at == datetime(2029, 5, 31, 16, 0, tzinfo=UTC)


def test_demote_rules(session, make):
    e = make.enterprise()
    grant(session, e, "champion", since=date(2026, 1, 10))
    old_number = e.registration_number
    with pytest.raises(InvalidTransition):
        ops.demote(session, e, "navigator", actor=TEST_ACTOR, reason="x")
    with pytest.raises(ValidationFailed):
        ops.demote(session, e, "tech_sme", actor=TEST_ACTOR, reason=" ")
    event = ops.demote(session, e, "tech_sme", actor=TEST_ACTOR, reason="figures fell")
    assert event.kind == "demote" and e.tier == "tech_sme"
    assert e.tier_since == date(2026, 5, 20)
    assert e.registration_number == "JX-TS-2026-00001" != old_number
    # The earlier of the current expiry (2029-01-10) and tech_sme's from today (2027-01-01).
    assert e.tier_expires_at == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)


def test_demote_respects_quota_of_target(session, make):
    ops.set_quota(session, "tech_sme", 0, actor=TEST_ACTOR, reason="test")
    e = make.enterprise()
    grant(session, e, "high_tech")
    with pytest.raises(QuotaFull):
        ops.demote(session, e, "tech_sme", actor=TEST_ACTOR, reason="x")


def test_revoke_and_ban(session, make):
    e = make.enterprise()
    with pytest.raises(NotOnLadder):
        ops.revoke(session, e, actor=TEST_ACTOR, reason="x")
    with pytest.raises(NotOnLadder):
        ops.demote(session, e, "tech_sme", actor=TEST_ACTOR, reason="x")
    grant(session, e, "high_tech")
    event = ops.revoke(session, e, actor=TEST_ACTOR, reason="fraud", ban_until=date(2028, 1, 1))
    assert e.tier is None and e.registration_number is None and e.ban_until == date(2028, 1, 1)
    assert event.ban_until == date(2028, 1, 1) and event.to_tier is None


def test_demote_and_revoke_release_reservation(session, make):
    e = make.enterprise()
    grant(session, e, "champion")
    holds.reserve_slot(session, e, "navigator", 55, actor=TEST_ACTOR)
    ops.revoke(session, e, actor=TEST_ACTOR, reason="x")
    assert queries.occupancy(session, tier(session, "navigator")).reserved == 0


def test_lapse_expired_is_idempotent_and_effective_at_expiry(session, make):
    e = make.enterprise()
    grant(session, e, "tech_sme", since=date(2025, 3, 1))
    f = make.enterprise()
    grant(session, f, "high_tech")
    session.commit()
    assert ops.lapse_expired(session, NOW) == 1
    assert ops.lapse_expired(session, NOW) == 0
    assert e.tier is None and f.tier == "high_tech"
    lapse = session.scalars(select(TierEvent).where(TierEvent.kind == "lapse")).one()
    assert lapse.effective_at == datetime(2025, 12, 31, 16, 0, tzinfo=UTC)
    assert lapse.actor_name == "system"


def test_expired_designation_counts_until_lapsed(session, make):
    e = make.enterprise()
    grant(session, e, "tech_sme", since=date(2025, 3, 1))
    assert queries.occupancy(session, tier(session, "tech_sme")).holders == 1


def test_deregistered_enterprise_cannot_be_granted(session, make):
    e = make.enterprise(status="deregistered")
    with pytest.raises(InvalidTransition):
        grant(session, e)


def test_tier_equals_replay_of_events(session, make):
    e = make.enterprise()
    grant(session, e, "tech_sme", since=date(2025, 3, 1))
    ops.lapse_expired(session, NOW)
    grant(session, e, "champion")
    ops.demote(session, e, "high_tech", actor=TEST_ACTOR, reason="x")
    ops.renew_tier(session, e, actor=TEST_ACTOR, reason="y")
    assert queries.replay(queries.tier_events(session, e.id)) == queries.ladder_fields(e)


def test_feed_has_one_entry_per_resource_per_transaction(session, make):
    e = make.enterprise()
    session.commit()
    grant(session, e, "tech_sme")
    ops.revoke(session, e, actor=TEST_ACTOR, reason="x")
    session.commit()
    entries = session.scalars(select(ChangeLogEntry).where(ChangeLogEntry.type == "enterprise"))
    assert [(x.key, x.version) for x in entries] == [(e.uscc, 2)]
    assert e.version == 2


def test_supplied_number_must_be_canonical(session, make):
    a, b = make.enterprise(), make.enterprise()
    with pytest.raises(ValidationFailed):
        grant(session, a, "tech_sme", number="JX-TS-2026-000001")
    with pytest.raises(ValidationFailed):
        grant(session, a, "tech_sme", number="JX-TS-2026-00000")
    grant(session, b, "tech_sme")
    assert b.registration_number == "JX-TS-2026-00001"


def test_grant_refused_while_a_promotion_is_in_notice(session, make):
    e = make.enterprise()
    holds.reserve_slot(session, e, "high_tech", 31, actor=TEST_ACTOR)
    with pytest.raises(InvalidTransition):
        grant(session, e, "high_tech")
    assert queries.occupancy(session, tier(session, "high_tech")).occupancy == 1


def test_consume_without_reservation_refused(session):
    with pytest.raises(InvalidTransition):
        ops.consume_slot(session, 404, actor=TEST_ACTOR, reason="x", effective_at=NOW)


def test_renewal_hold_keeps_designation_from_lapsing(session, make):
    e = make.enterprise()
    grant(session, e, "high_tech", since=date(2023, 6, 1))  # expires 2026-06-01 Shanghai
    holds.hold_for_renewal(session, e, 77, actor=TEST_ACTOR)
    later = datetime(2026, 7, 1, tzinfo=UTC)
    assert ops.lapse_expired(session, later) == 0 and e.tier == "high_tech"
    holds.release_renewal_hold(session, 77, actor=TEST_ACTOR)
    assert ops.lapse_expired(session, later) == 1 and e.tier is None


def test_renewal_consumes_its_hold(session, make):
    e = make.enterprise()
    grant(session, e, "high_tech", since=date(2023, 6, 1))
    holds.hold_for_renewal(session, e, 78, actor=TEST_ACTOR)
    ops.renew_tier(session, e, actor=TEST_ACTOR, reason="renewed", application_id=78)
    assert holds.release_renewal_hold(session, 78, actor=TEST_ACTOR) is False
    assert e.tier_expires_at == datetime(2029, 5, 31, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize("since", [date(2023, 9, 1), date(2026, 1, 5)])
def test_renewal_window_is_the_90_days_before_expiry(session, make, since):
    # Expiring 2026-09-01 (more than 90 days ahead) or 2029-01-05.
    e = make.enterprise()
    grant(session, e, "high_tech", since=since)
    with pytest.raises(RenewalWindowClosed):
        holds.hold_for_renewal(session, e, 79, actor=TEST_ACTOR)


def test_renewal_window_opens_exactly_90_days_before(session, make):
    e = make.enterprise()
    grant(session, e, "high_tech", since=date(2023, 8, 19))  # expires 2026-08-18T16:00Z
    with pytest.raises(RenewalWindowClosed):  # 14 hours before the window opens
        holds.hold_for_renewal(session, e, 80, actor=TEST_ACTOR)
    with clock.pinned(datetime(2026, 5, 20, 16, 0, tzinfo=UTC)):  # expiry − 90 days
        holds.hold_for_renewal(session, e, 80, actor=TEST_ACTOR)
        with pytest.raises(InvalidTransition):  # one open renewal at a time
            holds.hold_for_renewal(session, e, 81, actor=TEST_ACTOR)


@pytest.mark.parametrize("status", ["deregistered", "merged"])
def test_leaving_active_status_ends_the_designation(session, make, status):
    from registry.enterprises.operations import change_status

    e, other = make.enterprise(), make.enterprise()
    grant(session, e, "champion")
    change_status(
        session, e, status, actor=TEST_ACTOR, merged_into=other.uscc if status == "merged" else None
    )
    assert e.tier is None and e.status == status
    event = queries.tier_events(session, e.id)[-1]
    assert (event.kind, event.reason, event.actor_name) == ("revoke", f"status:{status}", "system")
    assert queries.replay(queries.tier_events(session, e.id)) == queries.ladder_fields(e)


def test_status_change_releases_a_reserved_slot(session, make):
    from registry.enterprises.operations import change_status

    e = make.enterprise()
    holds.reserve_slot(session, e, "tech_sme", 90, actor=TEST_ACTOR)
    change_status(session, e, "deregistered", actor=TEST_ACTOR)
    assert queries.occupancy(session, tier(session, "tech_sme")).reserved == 0


def test_merged_needs_a_valid_target(session, make):
    from registry.enterprises.operations import change_status

    e = make.enterprise()
    with pytest.raises(ValidationFailed):
        change_status(session, e, "merged", actor=TEST_ACTOR)
    with pytest.raises(ValidationFailed):
        change_status(session, e, "merged", actor=TEST_ACTOR, merged_into="91360100MA35K8T29A")
    with pytest.raises(ValidationFailed):
        change_status(session, e, "merged", actor=TEST_ACTOR, merged_into=e.uscc)
