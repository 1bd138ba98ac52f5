"""``flask registry demo``: the data it writes, and the ladder plan behind it."""

from __future__ import annotations

import contextlib
import json
import re
from collections import Counter

import pytest
from sqlalchemy import func, select

from registry.applications.models import Application, State
from registry.core import clock
from registry.core.models import AuditEntry, ChangeLogEntry
from registry.demo.pipeline import batches, worker_pool
from registry.demo.plan import DemoSpec, TierRoom, plan_ladder, tier_ceiling
from registry.enterprises import batch_operations
from registry.enterprises import uscc as uscc_codes
from registry.enterprises.batch_operations import BULK_CACHE_KIB
from registry.enterprises.models import AnnualReport, Enterprise, Industry
from registry.ladder import criteria_versions, queries
from registry.ladder.checks import Subject, TierRule
from registry.ladder.eligibility import evaluate
from registry.ladder.models import RegistrationNumber, Tier, TierEvent
from tests.conftest import reset_database
from tests.enterprises.demo_runs import NOW, SEEDED, check_occupancy_rule, run_demo


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.pinned(NOW):
        yield


def snapshot(session) -> list[tuple]:
    """Everything the demo decides (not ids or timestamps), in code order."""
    enterprises = session.scalars(select(Enterprise).order_by(Enterprise.uscc)).all()
    return [
        (
            e.uscc,
            e.name,
            e.name_en,
            e.city_code,
            e.county,
            e.industry_code,
            e.founded_on,
            e.legal_representative,
            e.contact_phone,
            e.contact_email,
            e.address,
            e.main_products,
            e.tier,
            e.tier_since,
            e.registration_number,
            tuple((r.year, r.employees, r.revenue, r.rd_expense, r.debt_ratio) for r in e.reports),
        )
        for e in enterprises
    ]


# --- the plan -----------------------------------------------------------------------------


def test_plan_small_registry_is_ten_percent_with_every_tier():
    plan = plan_ladder(300, SEEDED)
    assert sum(plan.values()) == 30
    assert all(n >= 1 for n in plan.values())
    assert plan["tech_sme"] > plan["high_tech"] > plan["champion"]


def test_plan_large_registry_stays_below_eighty_percent_of_every_quota():
    plan = plan_ladder(1_000_000, SEEDED)
    assert plan == {
        "tech_sme": 3999,
        "high_tech": 2399,
        "champion": 79,
        "navigator": 11,
        "chain_leader": 6,
    }
    for tier in SEEDED:
        assert plan[tier.code] < 0.8 * tier.quota


def test_plan_counts_current_holders_and_tiny_runs():
    full = tuple(
        TierRoom(t.code, t.rank, t.quota, tier_ceiling(t.quota), t.validity) for t in SEEDED
    )
    assert sum(plan_ladder(10_000, full).values()) == 0
    assert plan_ladder(10, SEEDED) == {
        "tech_sme": 1,
        "high_tech": 0,
        "champion": 0,
        "navigator": 0,
        "chain_leader": 0,
    }
    assert tier_ceiling(8) == 6 and tier_ceiling(5000) == 3999 and tier_ceiling(0) == 0


# --- the command ----------------------------------------------------------------------------


def test_demo_writes_consistent_enterprises_reports_and_ladder(runner, session):
    output = run_demo(runner, "--count", "300", "--random-seed", "1")
    summary = re.fullmatch(
        r"demo: 300 enterprises, (\d+) annual reports, 30 on the ladder \(.*\),"
        r" (\d+) tier events, 0 codes regenerated, seed 1, [\d.]+ s",
        output.splitlines()[0],
    )
    assert summary is not None
    # The applications (test_demo_applications) change their applicants: granted ones got
    # a tier, and those granted or in notice reports for three years.
    applications = session.scalars(select(Application)).all()
    granted = {a.enterprise_id for a in applications if a.state == State.GRANTED}
    in_notice = {a.enterprise_id for a in applications if a.state == State.IN_NOTICE}
    demo_events = session.scalars(select(TierEvent).where(TierEvent.reason == "demo data")).all()
    assert int(summary[2]) == len(demo_events)

    enterprises = session.scalars(select(Enterprise).order_by(Enterprise.id)).all()
    reports = session.scalars(select(AnnualReport)).all()
    # The holders' reports for the years before the latest (test_demo_history).
    assert len(enterprises) == 300 and int(summary[1]) == 300 + 2 * 30
    applicants_years = [
        r for r in reports if r.enterprise_id in granted | in_notice and r.year < NOW.year - 1
    ]
    assert len(reports) == 300 + 2 * 30 + len(applicants_years)
    codes = [e.uscc for e in enterprises]
    assert len(set(codes)) == 300
    cities = {"360100", "360200", "360300", "360400", "360500", "360600"} | {
        "360700",
        "360800",
        "360900",
        "361000",
        "361100",
    }
    jiangxi = 0
    for e in enterprises:
        assert uscc_codes.validate(e.uscc).code == e.uscc
        assert e.city_code == uscc_codes.city_code(e.uscc, cities)
        jiangxi += e.city_code is not None
        assert e.name.endswith("公司") and e.status == "active" and e.origin == "local"
        assert e.version == (2 if e.id in granted else 1) and e.founded_on.year <= NOW.year - 1
    assert 0.85 * 300 < jiangxi < 300
    industries = Counter(e.industry_code for e in enterprises)
    assert 0.1 * 300 < industries[None] < 0.3 * 300
    assert set(industries) - {None} <= set(session.scalars(select(Industry.code)))
    assert 0.1 * 300 < sum(e.name_en is not None for e in enterprises) < 0.45 * 300

    # Reports: one for the latest completed year, within API.md's rules, sizes skewed.
    assert Counter(r.year for r in reports)[NOW.year - 1] == 300
    for r in reports:
        assert NOW.year - 3 <= r.year <= NOW.year - 1
        assert r.tech_staff <= r.employees and r.rd_staff <= r.employees
        assert r.rd_expense <= r.total_cost and r.rd_domestic_expense <= r.rd_expense
        assert r.hightech_income <= r.total_income and r.revenue <= r.total_income
        assert r.net_assets <= r.total_assets
        for name in ("main_business_share", "debt_ratio", "national_market_share"):
            value = getattr(r, name)
            assert value is None or (0 <= value <= 100 and round(value, 2) == value)
    revenues = sorted(r.revenue for r in reports)
    assert revenues[-1] > 100 * revenues[len(revenues) // 2]  # a long tail of large firms

    # The ladder: ~10 %, every tier non-empty and below 80 % of its quota.
    overview = {t.code: occ for t, occ in queries.ladder_overview(session)}
    holders = [e for e in enterprises if e.tier is not None]
    demo_holders = [e for e in holders if e.id not in granted]
    assert len(demo_holders) == 30
    for tier in session.scalars(select(Tier)):
        assert 1 <= overview[tier.code].holders
        assert overview[tier.code].occupancy < 0.8 * tier.quota

    # Ladder fields = replay of the events (each event by the ladder's rules, and the
    # registration numbers: test_demo_history); the demo's holders are Jiangxi
    # enterprises, a few of them expired and waiting for tick.
    tiers = {t.code: t for t in session.scalars(select(Tier))}
    today = clock.today()
    expired = 0
    for e in enterprises:
        events = queries.tier_events(session, e.id)
        assert queries.ladder_fields(e) == queries.replay(events)
        if e.tier is None or e.id in granted:
            assert all(event.reason == "demo data" for event in events) or e.id in granted
            continue
        assert {(ev.actor_name, ev.reason) for ev in events} == {("system", "demo data")}
        assert e.tier_since <= today and e.city_code is not None
        assert e.registration_number.startswith(tiers[e.tier].registration_pattern[:6])
        expired += e.tier_expires_at <= NOW
        if e.tier in ("champion", "navigator", "chain_leader"):
            assert e.industry_code is not None
    assert expired <= 3

    # One feed entry per record, version 1, and one audit entry per state change (the
    # applications' entries, a later transaction, are tested in test_demo_applications).
    events = demo_events
    feed = Counter(
        (entry.type, entry.key, entry.version)
        for entry in session.scalars(select(ChangeLogEntry)).all()
        if entry.version == 1
        and entry.type in ("enterprise", "annual_report")
        or entry.key in {str(ev.id) for ev in events}
        and entry.type == "tier_event"
    )
    expected = (
        [("enterprise", e.uscc, 1) for e in enterprises]
        + [("annual_report", f"{r.enterprise.uscc}/{r.year}", 1) for r in reports]
        + [("tier_event", str(ev.id), 1) for ev in events]
    )
    assert feed == Counter(expected)
    audit = Counter(
        (a.action, a.object_id, a.via, a.actor_name)
        for a in session.scalars(
            select(AuditEntry).where(
                AuditEntry.action.not_in(
                    ("tier_settings.create", "criteria.create", "user.create")
                ),
                AuditEntry.actor_name == "system",
                AuditEntry.via == "cli",
            )
        )
    )
    assert audit == Counter(
        [("enterprise.create", e.uscc, "cli", "system") for e in enterprises]
        + [
            ("annual_report.create", f"{r.enterprise.uscc}/{r.year}", "cli", "system")
            for r in reports
            if r not in applicants_years  # the applicants' own
        ]
        + [(f"tier.{ev.kind}", ev.enterprise.uscc, "cli", "system") for ev in events]
    )
    grant = session.scalars(select(AuditEntry).where(AuditEntry.action == "tier.grant")).first()
    assert grant.changes["tier"][0] is None and grant.reason == "demo data"

    # A holder's entry shows the designation it was created with.
    holder = demo_holders[0]
    data = json.loads(
        session.scalars(
            select(ChangeLogEntry.data).where(
                ChangeLogEntry.type == "enterprise", ChangeLogEntry.key == holder.uscc
            )
        ).one()
    )
    assert (data["tier"], data["registration_number"]) == (
        holder.tier,
        holder.registration_number,
    )


def test_holders_figures_fit_their_tier(runner, session):
    run_demo(runner, "--count", "400", "--random-seed", "7")
    tiers = {t.code: t for t in session.scalars(select(Tier))}
    groups = dict(session.execute(select(Industry.code, Industry.group)).all())
    for e in session.scalars(select(Enterprise).where(Enterprise.tier.is_not(None))):
        tier = tiers[e.tier]
        prerequisite = tiers.get(tier.prerequisite)
        version = criteria_versions.in_force(session, tier.code, NOW.date())
        rule = TierRule(
            tier.code,
            tier.rank,
            tier.prerequisite,
            prerequisite.rank if prerequisite else None,
            version.criteria,
        )
        subject = Subject(e.founded_on, groups.get(e.industry_code), tier.rank)
        evaluation = evaluate(rule, subject, e.reports, reference=NOW)
        failing = [c.code for c in evaluation.checks if c.status in ("fail", "unknown")]
        assert failing == [], (e.tier, e.uscc, failing)


def test_same_seed_same_data_other_seed_other_data(app, runner, session):
    run_demo(runner, "--count", "120", "--random-seed", "5")
    first = snapshot(session)
    session.remove()
    reset_database(app)
    run_demo(runner, "--count", "120", "--random-seed", "5")
    assert snapshot(session) == first
    session.remove()
    reset_database(app)
    run_demo(runner, "--count", "120", "--random-seed", "6")
    assert snapshot(session) != first


def test_demo_adds_to_a_registry_with_enterprises(runner, session):
    run_demo(runner, "--count", "250", "--random-seed", "3")
    output = run_demo(runner, "--count", "250", "--random-seed", "3")
    # The same seed draws the same codes again: every one is replaced by a fresh code.
    assert "250 codes regenerated" in output
    codes = session.scalars(select(Enterprise.uscc)).all()
    assert len(codes) == len(set(codes)) == 500
    assert all(uscc_codes.validate(code).code == code for code in codes)
    reports = session.scalars(select(AnnualReport)).all()
    assert Counter(r.year for r in reports)[NOW.year - 1] == 500
    for tier, occ in queries.ladder_overview(session):
        assert 1 <= occ.holders < 0.8 * tier.quota
    for e in session.scalars(select(Enterprise)):
        assert queries.ladder_fields(e) == queries.replay(queries.tier_events(session, e.id))
    numbers = session.scalars(select(RegistrationNumber.number)).all()
    assert len(numbers) == len(set(numbers))
    keys = session.execute(
        select(ChangeLogEntry.key).where(ChangeLogEntry.type == "annual_report")
    ).scalars()
    assert len(set(keys)) == len(reports)
    check_occupancy_rule(session)


def test_demo_of_one_leaves_the_connection_as_it_was(runner, session):
    sqlite = session.get_bind().dialect.name == "sqlite"
    cache = session.connection().exec_driver_sql("PRAGMA cache_size").scalar() if sqlite else 0
    session.rollback()
    run_demo(runner, "--count", "1", "--random-seed", "2")
    assert session.scalar(select(func.count()).select_from(Enterprise)) == 1
    assert session.scalar(select(func.count()).select_from(AnnualReport)) == 1
    if sqlite:  # a bulk load's page cache is not left on a pooled connection
        assert session.connection().exec_driver_sql("PRAGMA cache_size").scalar() == cache


@pytest.mark.sqlite_only(reason="SQLite's page cache")
def test_a_bulk_load_leaves_no_pooled_connection_with_its_page_cache(session):
    """Each commit of a bulk load may return one connection and take another: every
    connection it took has its own page cache size back once the load has ended."""

    def cache_size(connection) -> int:
        return connection.exec_driver_sql("PRAGMA cache_size").scalar()

    engine = session.get_bind()
    with contextlib.ExitStack() as stack:  # three connections in the pool, in turn
        default = cache_size(stack.enter_context(engine.connect()))
        for _ in range(2):
            stack.enter_context(contextlib.closing(engine.raw_connection()))
    with batch_operations.sqlite_bulk_load(session):
        for _ in range(3):
            assert cache_size(session.connection()) == -BULK_CACHE_KIB
            session.commit()
        with engine.connect() as other:  # another taken meanwhile
            assert cache_size(other) == -BULK_CACHE_KIB
    # Every connection of the pool at once (outside a transaction: the registry's
    # SQLite transactions take the write lock).
    with contextlib.ExitStack() as stack:
        pooled = [
            stack.enter_context(contextlib.closing(engine.raw_connection()))
            for _ in range(engine.pool.size())
        ]
        sizes = [c.cursor().execute("PRAGMA cache_size").fetchone()[0] for c in pooled]
        assert sizes == [default] * len(pooled)


def test_worker_processes_generate_the_same_batches():
    spec = DemoSpec(
        seed=11,
        count=130,
        at=NOW,
        today=NOW.date(),
        report_year=NOW.year - 1,
        known_cities=frozenset(f"36{n:02d}00" for n in range(1, 12)),
        industries=("aviation", "quantum", "tcm"),
        tiers=SEEDED,
        plan=tuple(plan_ladder(130, SEEDED).items()),
        batch_size=40,
    )

    def content(batch):
        return (
            batch.enterprises.stored,
            batch.enterprises.data,
            batch.reports.rows,
            batch.reports.data,
            batch.ladder,
        )

    here = [content(b) for b in batches(spec)]
    with worker_pool(2) as pool:
        there = [content(b) for b in batches(spec, pool, ahead=2)]
    assert len(here) == 4 and here == there
    codes = [code for stored, *_ in here for code in (row[0] for row in stored)]
    assert codes == sorted(codes) and len(set(codes)) == 130
    assert sum(story.tier is not None for b in here for story in b[4].values()) == 13
