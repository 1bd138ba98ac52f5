"""Tier settings an admin edits: validation, one audit entry per edit, the seed keeps edits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from registry.core import clock
from registry.core.errors import NotFound, QuotaFull, ValidationFailed
from registry.core.models import AuditEntry
from registry.ladder import operations as ops
from registry.ladder.models import Tier
from registry.ladder.settings import check_registration_pattern, update_tier_settings
from registry.seeding import seed
from tests.factories import TEST_ACTOR

NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.pinned(NOW):
        yield


def update(session, code, reason="Provincial notice 2026-7", **changes):
    return update_tier_settings(session, code, changes, actor=TEST_ACTOR, reason=reason)


def settings_audits(session) -> list[AuditEntry]:
    return list(
        session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action == "tier_settings.update")
            .order_by(AuditEntry.id)
        )
    )


def refusal(session, code, **changes) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as caught:
        update(session, code, **changes)
    session.rollback()
    return caught.value


def test_one_audit_entry_with_the_old_and_new_value_of_each_changed_setting(session):
    changes = update(
        session,
        "champion",
        quota=120,
        validity="2",
        notice_days=7,
        approvals_required=3,
        self_apply=False,
        prerequisite="high_tech",
        registration_pattern="JX-SC-{year}-{seq:04d}",
    )
    session.commit()
    expected = {
        "quota": [100, 120],
        "validity": ["3", "2"],
        "notice_days": [5, 7],
        "approvals_required": [2, 3],
        "self_apply": [True, False],
        "prerequisite": ["tech_sme", "high_tech"],
        "registration_pattern": ["JX-CH-{year}-{seq:05d}", "JX-SC-{year}-{seq:04d}"],
    }
    assert changes == expected
    [entry] = settings_audits(session)
    assert (entry.object_type, entry.object_id, entry.actor_name) == ("tier", "champion", "test")
    assert entry.changes == expected and entry.reason == "Provincial notice 2026-7"
    tier = session.get(Tier, "champion")
    assert (tier.quota, tier.validity, tier.notice_days, tier.prerequisite) == (
        120,
        "2",
        7,
        "high_tech",
    )
    assert tier.edited_at == NOW


def test_only_changed_settings_are_recorded_and_no_change_writes_nothing(session):
    tier = session.get(Tier, "high_tech")
    same = {
        "quota": tier.quota,
        "validity": tier.validity,
        "notice_days": tier.notice_days,
        "self_apply": tier.self_apply,
        "prerequisite": None,
    }
    assert update(session, "high_tech", reason="", **same) == {}
    assert settings_audits(session) == [] and tier.edited_at is None

    assert update(session, "high_tech", **{**same, "notice_days": 12}) == {"notice_days": [10, 12]}
    assert [e.changes for e in settings_audits(session)] == [{"notice_days": [10, 12]}]


def test_a_change_needs_a_reason(session):
    error = refusal(session, "high_tech", reason="  ", quota=10)
    assert error.errors[0]["field"] == "reason"
    assert session.get(Tier, "high_tech").quota == 3000


def test_an_edit_is_kept_by_seed_unless_forced(session):
    update(session, "navigator", notice_days=8)
    session.commit()
    report = seed(session)
    assert report.kept == ["navigator"] and session.get(Tier, "navigator").notice_days == 8
    seed(session, force=True)
    tier = session.get(Tier, "navigator")
    assert tier.notice_days == 5 and tier.edited_at is None


def test_a_quota_below_occupancy_is_allowed_and_blocks_grants(session, make):
    holders = [make.enterprise() for _ in range(3)]
    for enterprise in holders[:2]:
        ops.grant_tier(session, enterprise, "chain_leader", actor=TEST_ACTOR, reason="grant")
    session.commit()
    assert update(session, "chain_leader", quota=1) == {"quota": [8, 1]}
    session.commit()
    assert [e.tier for e in holders[:2]] == ["chain_leader", "chain_leader"]  # nobody demoted
    with pytest.raises(QuotaFull):
        ops.grant_tier(session, holders[2], "chain_leader", actor=TEST_ACTOR, reason="grant")
    session.rollback()
    update(session, "chain_leader", quota=3)
    ops.grant_tier(session, holders[2], "chain_leader", actor=TEST_ACTOR, reason="grant")


def test_a_new_pattern_numbers_later_grants(session, make):
    update(session, "tech_sme", registration_pattern="TS{year}/{seq:03d}")
    event = ops.grant_tier(session, make.enterprise(), "tech_sme", actor=TEST_ACTOR, reason="g")
    assert event.registration_number == "TS2026/001"


@pytest.mark.parametrize("prerequisite", ["navigator", "champion", "chain_leader", "nope"])
def test_the_prerequisite_must_be_a_lower_tier(session, prerequisite):
    error = refusal(session, "champion", prerequisite=prerequisite)
    assert error.errors[0]["field"] == "prerequisite"
    assert session.get(Tier, "champion").prerequisite == "tech_sme"


def test_the_prerequisite_may_be_removed(session):
    assert update(session, "navigator", prerequisite=None) == {"prerequisite": ["champion", None]}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quota", -1),
        ("quota", 2**31),
        ("quota", "10"),
        ("quota", True),
        ("notice_days", 0),
        ("notice_days", 61),
        ("approvals_required", 0),
        ("approvals_required", 2.5),
        ("validity", "0"),
        ("validity", "11"),
        ("validity", "forever"),
        ("self_apply", "yes"),
        ("name_en", "Renamed"),
        ("criteria", {}),
    ],
)
def test_out_of_range_and_unknown_settings_are_refused(session, field, value):
    error = refusal(session, "high_tech", **{field: value})
    assert error.errors[0]["field"] == field
    assert settings_audits(session) == []


@pytest.mark.parametrize(
    "pattern",
    [
        "JX-HT-{year}",
        "JX-{seq}-{seq}",
        "JX-{year}-{year}-{seq}",
        "JX-{seq:5d}",
        "JX-{seq:x}",
        "JX-{seq:05}",
        "JX-{seq!r}",
        "JX-{year:02d}-{seq}",
        "JX-{city}-{seq}",
        "JX-{}-{seq}",
        "JX-{0}",
        "JX-{seq[0]}",
        "JX-{seq:{year}}",
        "JX-{seq",
        "JX-}{seq}",
        "",
        "X" * 40 + "{seq}",
        "JX-TS-{year}-{seq:05d}",  # tech_sme's
    ],
)
def test_invalid_patterns_are_refused(session, pattern):
    error = refusal(session, "high_tech", registration_pattern=pattern)
    assert error.errors[0]["field"] == "registration_pattern"
    assert session.get(Tier, "high_tech").registration_pattern == "JX-HT-{year}-{seq:05d}"


@pytest.mark.parametrize(
    "pattern", ["HT-{seq}", "{year}{seq:06d}", "{{HT}}-{seq:03d}-{year}", " JX-{seq:010d} "]
)
def test_valid_patterns(pattern):
    assert check_registration_pattern(pattern) == pattern.strip()


def test_an_unknown_tier_is_not_found(session):
    with pytest.raises(NotFound):
        update(session, "platinum", quota=1)
