"""Batch operations (bulk loads): what they write, and the fast feed serializers.

The serializers of ``registry.enterprises.operations`` replace marshmallow for speed;
these tests load the bulk-created rows through the ORM and show that the output schemas
render exactly the JSON text stored in the change log.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from registry.core import clock
from registry.core.changes import dumps
from registry.core.errors import InvalidTransition, QuotaFull, ValidationFailed
from registry.core.models import AuditEntry, ChangeLogEntry
from registry.demo.enterprises import generate
from registry.demo.pipeline import write_batch
from registry.demo.plan import DemoSpec, plan_ladder
from registry.enterprises import batch_operations as ops
from registry.enterprises import batches
from registry.enterprises.models import AnnualReport, Enterprise
from registry.enterprises.schemas import annual_report_out, enterprise_out
from registry.ladder import batch_operations as ladder
from registry.ladder import operations as ladder_ops
from registry.ladder import queries
from registry.ladder.models import RegistrationCounter, TierEvent
from registry.ladder.schemas import tier_event_out
from tests.enterprises.demo_runs import SEEDED
from tests.factories import TEST_ACTOR, new_uscc

NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)
WARNING_CODE = "91360100MA35K8T20T"  # valid check character, inner org-code check fails


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.pinned(NOW):
        yield


def feed(session, type_name: str) -> dict[str, ChangeLogEntry]:
    entries = session.scalars(select(ChangeLogEntry).where(ChangeLogEntry.type == type_name))
    return {entry.key: entry for entry in entries}


def assert_feed_equals_schemas(session) -> int:
    """Every enterprise, report and tier event: stored data == the schema's rendering."""
    session.expire_all()
    checked = 0
    enterprises = feed(session, "enterprise")
    for e in session.scalars(select(Enterprise)):
        assert enterprises[e.uscc].data == dumps(enterprise_out.dump(e)), e.uscc
        checked += 1
    reports = feed(session, "annual_report")
    for r in session.scalars(select(AnnualReport)):
        key = f"{r.enterprise.uscc}/{r.year}"
        assert reports[key].data == dumps(annual_report_out.dump(r)), key
        checked += 1
    events = feed(session, "tier_event")
    for ev in session.scalars(select(TierEvent)):
        assert events[str(ev.id)].data == dumps(tier_event_out.dump(ev))
        checked += 1
    return checked


def spec(count: int, seed: int) -> DemoSpec:
    cities = frozenset(f"36{n:02d}00" for n in range(1, 12))
    return DemoSpec(
        seed=seed,
        count=count,
        at=NOW,
        today=clock.today(),
        report_year=2025,
        known_cities=cities,
        industries=("aviation", "electronic_info", "quantum", "tcm", "new_energy"),
        tiers=SEEDED,
        plan=tuple(plan_ladder(count, SEEDED).items()),
    )


# --- the fast serializers equal the output schemas ------------------------------------------


@pytest.mark.parametrize("seed", [1, 2])
def test_serializers_equal_schemas_on_generated_records(session, seed):
    batch = generate(spec(400, seed), 0)
    holders = sum(story.tier is not None for story in batch.ladder.values())
    steps = sum(len(story.steps) for story in batch.ladder.values())
    assert holders == 40 and len(batch.reports) == 400 + 2 * holders
    assert steps > len(batch.ladder) > holders  # renewals, lapses, … and former holders
    assert write_batch(session, batch, TEST_ACTOR) == steps
    session.commit()
    assert assert_feed_equals_schemas(session) == 400 + len(batch.reports) + steps


def test_serializers_equal_schemas_on_unusual_values(session):
    awkward = 'Quote " back\\slash \n\t\u2028 <b>&amp;</b> 😀 ' + "\x01"
    rows = [
        {"uscc": WARNING_CODE, "name": awkward},  # everything else null or default
        {
            "uscc": new_uscc("110105"),
            "name": "北京某某有限公司",
            "name_en": awkward,
            "city_code": None,
            "county": "朝阳区",
            "industry_code": "unknown_code",
            "founded_on": date(1990, 1, 1),
            "legal_representative": "",
            "contact_email": "a@b.c",
            "status": "merged",
            "merged_into": WARNING_CODE,
            "origin": "peer-registry",
            "source_version": 17,
            "verified": False,
            "ban_until": date(2027, 1, 1),
        },
        {
            "uscc": new_uscc(),
            "name": "江西有限公司",
            "tier": "high_tech",
            "tier_since": date(2024, 2, 29),
            "tier_expires_at": datetime(2027, 2, 27, 16, 0, tzinfo=UTC),
            "registration_number": "JX-HT-2024-00009",
        },
    ]
    ids = ops.bulk_create_enterprises(session, rows, actor=TEST_ACTOR)
    codes = [row["uscc"] for row in rows]
    reports = [
        {"enterprise_uscc": codes[0], "year": 2025},  # every figure missing
        {
            "enterprise_uscc": codes[1],
            "year": 2024,
            "employees": 0,
            "tech_staff": 0,
            "revenue": 0,
            "total_income": 0,
            "main_business_share": 45,  # an int percentage renders as 45.0
            "debt_ratio": 100,
            "national_market_share": 0.01,
        },
        {
            "enterprise_uscc": codes[2],
            "year": 2025,
            "revenue": 9_000_000_000_000,
            "total_income": 9_000_000_000_001,
            "main_business_share": 99.99,
            "debt_ratio": 12.5,
            "global_market_rank": 1,
        },
    ]
    assert ops.bulk_create_reports(session, reports, actor=TEST_ACTOR) == 3
    session.commit()
    assert assert_feed_equals_schemas(session) == 6
    first = session.get(Enterprise, ids[0])
    assert (first.status, first.origin, first.verified, first.version) == (
        "active",
        "local",
        True,
        1,
    )
    merged = session.get(Enterprise, ids[1])
    assert (merged.status, merged.source_version, merged.verified) == ("merged", 17, False)
    assert merged.ban_until == date(2027, 1, 1)
    assert '"uscc_warnings":["org_code_check"]' in feed(session, "enterprise")[WARNING_CODE].data


# --- what the batch operations write --------------------------------------------------------


def test_bulk_creates_write_audit_entries_and_version_one(session):
    rows = [{"uscc": new_uscc(), "name": f"企业{i}有限公司"} for i in range(5)]
    ids = ops.bulk_create_enterprises(session, rows, actor=TEST_ACTOR)
    ops.bulk_create_reports(
        session,
        [{"enterprise_uscc": row["uscc"], "year": 2025, "employees": 3} for row in rows],
        actor=TEST_ACTOR,
    )
    session.commit()
    assert [session.get(Enterprise, i).uscc for i in ids] == [row["uscc"] for row in rows]
    audit = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    created = [
        (a.action, a.object_id, a.actor_name, a.via) for a in audit if a.actor_name == "test"
    ]
    assert created == [("enterprise.create", r["uscc"], "test", "cli") for r in rows] + [
        ("annual_report.create", f"{r['uscc']}/2025", "test", "cli") for r in rows
    ]
    entries = session.scalars(select(ChangeLogEntry).order_by(ChangeLogEntry.id)).all()
    assert [(e.type, e.version, e.occurred_at) for e in entries] == [("enterprise", 1, NOW)] * 5 + [
        ("annual_report", 1, NOW)
    ] * 5


@pytest.mark.parametrize(
    ("figures", "field", "code"),
    [
        ({"employees": 5, "tech_staff": 6}, "tech_staff", "inconsistent"),
        ({"employees": 5, "rd_staff": 6}, "rd_staff", "inconsistent"),
        ({"total_cost": 5, "rd_expense": 6}, "rd_expense", "inconsistent"),
        ({"rd_expense": 5, "rd_domestic_expense": 6}, "rd_domestic_expense", "inconsistent"),
        ({"total_income": 5, "hightech_income": 6}, "hightech_income", "inconsistent"),
        ({"total_income": 5, "revenue": 6}, "revenue", "inconsistent"),
        ({"total_assets": 5, "net_assets": 6}, "net_assets", "inconsistent"),
        ({"revenue": -1}, "revenue", "out_of_range"),
        ({"debt_ratio": 100.01}, "debt_ratio", "out_of_range"),
    ],
)
def test_reports_breaking_the_rules_are_refused(figures, field, code):
    with pytest.raises(ValidationFailed) as refused:
        batches.prepare_reports([{"enterprise_uscc": WARNING_CODE, "year": 2025, **figures}], NOW)
    assert refused.value.errors[0]["field"] == field
    assert refused.value.errors[0]["code"] == code


@pytest.mark.parametrize(
    "row",
    [
        {"uscc": "91360100MA35K8T29A", "name": "校验位错"},
        {"uscc": "91360100ma35k8t29n", "name": "未规范化"},
        {"uscc": "91360100MA35K8T29N", "name": ""},
        {"uscc": "91360100MA35K8T29N", "name": "x", "status": "closed"},
    ],
)
def test_invalid_enterprise_rows_are_refused(row):
    with pytest.raises(ValidationFailed):
        batches.prepare_enterprises([row], NOW)


def test_a_code_twice_in_a_batch_is_refused():
    row = {"uscc": "91360100MA35K8T29N", "name": "x"}
    with pytest.raises(ValidationFailed, match="twice"):
        batches.prepare_enterprises([row, dict(row)], NOW)


def test_reports_for_unknown_enterprises_are_refused(session):
    with pytest.raises(ValidationFailed):
        ops.bulk_create_reports(
            session, [{"enterprise_uscc": WARNING_CODE, "year": 2025}], actor=TEST_ACTOR
        )


def test_taken_usccs(session, make):
    e = make.enterprise()
    assert ops.taken_usccs(session, [e.uscc, WARNING_CODE]) == {e.uscc}


# --- designations in bulk ------------------------------------------------------------------------


def test_designations_continue_the_sequence_and_skip_supplied_numbers(session, make):
    a, b, c, d = (make.enterprise() for _ in range(4))
    ladder_ops.grant_tier(session, a, "tech_sme", actor=TEST_ACTOR, reason="one by one")
    ladder_ops.grant_tier(
        session, b, "tech_sme", actor=TEST_ACTOR, reason="given", number="JX-TS-2026-00003"
    )
    issued = ladder.issue_designations(
        session,
        [
            ladder.DesignationRequest("tech_sme", date(2026, 3, 1)),
            ladder.DesignationRequest("tech_sme", date(2026, 4, 1)),
            ladder.DesignationRequest("high_tech", date(2025, 4, 1), "JX-HT-2025-00002"),
            ladder.DesignationRequest("high_tech", date(2025, 5, 1)),
        ],
    )
    assert [x.registration_number for x in issued] == [
        "JX-TS-2026-00002",
        "JX-TS-2026-00004",
        "JX-HT-2025-00002",
        "JX-HT-2025-00001",
    ]
    assert issued[0].tier_expires_at == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert issued[2].tier_expires_at == datetime(2028, 3, 31, 16, 0, tzinfo=UTC)
    counters = {(x.tier, x.year): x.last_seq for x in session.scalars(select(RegistrationCounter))}
    assert counters == {("tech_sme", 2026): 4, ("high_tech", 2025): 1}
    # The next one-by-one grant skips the numbers the bulk took.
    ladder_ops.grant_tier(session, c, "tech_sme", actor=TEST_ACTOR, reason="after")
    assert c.registration_number == "JX-TS-2026-00005"
    with pytest.raises(ValidationFailed, match="taken"):
        ladder.issue_designations(
            session, [ladder.DesignationRequest("high_tech", date(2025, 1, 2), "JX-HT-2025-00002")]
        )
    # A supplied number alone starts no sequence; a non-canonical spelling is refused.
    ladder.issue_designations(
        session, [ladder.DesignationRequest("high_tech", date(2024, 5, 1), "JX-HT-2024-00005")]
    )
    assert session.get(RegistrationCounter, ("high_tech", 2024)) is None
    with pytest.raises(ValidationFailed, match="does not match"):
        ladder.issue_designations(
            session, [ladder.DesignationRequest("high_tech", date(2024, 5, 1), "JX-HT-2024-000006")]
        )
    with pytest.raises(ValidationFailed, match="future"):
        ladder.issue_designations(
            session, [ladder.DesignationRequest("tech_sme", date(2026, 6, 1))]
        )
    assert d.tier is None


def test_designations_respect_the_quota_for_the_whole_batch(session):
    ladder_ops.set_quota(session, "chain_leader", 2, actor=TEST_ACTOR, reason="test")
    request = ladder.DesignationRequest("chain_leader", date(2026, 1, 5))
    with pytest.raises(QuotaFull):
        ladder.issue_designations(session, [request] * 3)
    assert len(ladder.issue_designations(session, [request] * 2)) == 2


def test_bulk_grant_of_existing_enterprises(session, make):
    a, b, c = (make.enterprise() for _ in range(3))
    session.commit()
    ladder_ops.grant_tier(session, c, "tech_sme", actor=TEST_ACTOR, reason="first")
    session.commit()
    event_ids = ladder.bulk_grant(
        session,
        [
            (a, ladder.DesignationRequest("high_tech", date(2026, 2, 1))),
            (b, ladder.DesignationRequest("tech_sme", date(2026, 3, 1), "JX-TS-2026-00007")),
            (c, ladder.DesignationRequest("champion", date(2026, 4, 1))),
        ],
        actor=TEST_ACTOR,
        reason="import",
    )
    session.commit()
    assert len(event_ids) == 3
    assert (a.tier, a.registration_number, a.version) == ("high_tech", "JX-HT-2026-00001", 2)
    assert (b.tier, b.registration_number) == ("tech_sme", "JX-TS-2026-00007")
    assert (c.tier, c.registration_number, c.version) == ("champion", "JX-CH-2026-00001", 3)
    for e in (a, b, c):
        assert queries.ladder_fields(e) == queries.replay(queries.tier_events(session, e.id))
    promoted = session.get(TierEvent, event_ids[2])
    assert (promoted.from_tier, promoted.to_tier, promoted.reason) == (
        "tech_sme",
        "champion",
        "import",
    )
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "tier.grant", AuditEntry.reason == "import")
    ).all()
    assert sorted(x.object_id for x in audit) == sorted(e.uscc for e in (a, b, c))
    versions = session.execute(
        select(ChangeLogEntry.key, func.max(ChangeLogEntry.version))
        .where(ChangeLogEntry.type == "enterprise")
        .group_by(ChangeLogEntry.key)
    ).all()
    assert dict(versions) == {a.uscc: 2, b.uscc: 2, c.uscc: 3}
    assert assert_feed_equals_schemas(session) == 3 + 4


def test_bulk_grant_refuses_a_tier_held_or_lower(session, make):
    e = make.enterprise()
    ladder_ops.grant_tier(session, e, "high_tech", actor=TEST_ACTOR, reason="first")
    with pytest.raises(InvalidTransition):
        ladder.bulk_grant(
            session,
            [(e, ladder.DesignationRequest("tech_sme", date(2026, 1, 5)))],
            actor=TEST_ACTOR,
            reason="import",
        )
