"""The registry's statistics at the operations layer: occupancy per tier, holders by
city and industry, the pipeline of open applications, and the monthly moves onto and
off each tier by Asia/Shanghai civil month."""

from __future__ import annotations

from datetime import timedelta

import pytest

from registry.applications.models import State
from registry.core import clock
from registry.enterprises.models import Enterprise
from registry.ladder import dates
from registry.ladder import operations as ladder
from registry.reports import stats
from registry.reports.stats import HolderCount, MonthFlow, PipelineCount, TierLoad
from tests.factories import TEST_ACTOR
from tests.fixtures.api import NOW, World
from tests.query_plans import statements_sent
from tests.reports.ladder_history import TIERS, applications, demote, grant, renew, revoke, utc

OPEN = ["draft", "submitted", "in_review", "changes_requested", "in_notice"]


def test_tiers_count_holders_and_slots_reserved_for_promotions_in_notice(session, make):
    with clock.pinned(NOW):
        world = World(session, make)
        world.in_notice()  # enterprise a: a tech_sme slot reserved
        world.draft(enterprise=world.b, user=world.other)
        grant(session, make.enterprise(), "tech_sme", NOW)
        grant(session, make.enterprise(), "champion", NOW)
        loads = stats.tier_loads(session)
    assert [load.code for load in loads] == TIERS
    assert loads[0] == TierLoad("tech_sme", 5000, 1, 1, 2, 4998, 0.04)
    assert loads[2] == TierLoad("champion", 100, 1, 0, 1, 99, 1.0)
    assert loads[4] == TierLoad("chain_leader", 8, 0, 0, 0, 8, 0.0)
    assert stats.pipeline(session)[:5] == [
        PipelineCount("tech_sme", state, 1 if state in ("draft", "in_notice") else 0)
        for state in OPEN
    ]


def test_percent_of_quota_has_two_decimals_and_stops_at_100(session, make):
    for _ in range(2):
        grant(session, make.enterprise(), "navigator", NOW)
    ladder.set_quota(session, "navigator", 3, actor=TEST_ACTOR, reason="smaller plan")
    assert stats.tier_loads(session)[3] == TierLoad("navigator", 3, 2, 0, 2, 1, 66.67)
    # A quota lowered below the occupancy: full, not 200 %.
    ladder.set_quota(session, "navigator", 1, actor=TEST_ACTOR, reason="smaller plan")
    assert stats.tier_loads(session)[3] == TierLoad("navigator", 1, 2, 0, 2, 0, 100.0)


def test_holders_by_city_and_by_industry(session, make):
    for city, industry, tier in (
        ("360400", "electronic_info", "tech_sme"),
        ("360100", None, "tech_sme"),
        ("360100", "new_materials", "tech_sme"),
        (None, "electronic_info", "tech_sme"),
        ("360100", "electronic_info", "high_tech"),
    ):
        grant(session, make.enterprise(city_code=city, industry_code=industry), tier, NOW)
    make.enterprise(city_code="360100")  # not on the ladder: not counted
    # Expired but not lapsed by tick yet: still a holder, as on the home page.
    grant(session, make.enterprise(city_code="360400"), "tech_sme", utc(2024, 5, 1, 2))
    assert stats.holders_by(session, Enterprise.city_code) == [
        HolderCount("tech_sme", "360100", 2),
        HolderCount("tech_sme", "360400", 2),
        HolderCount("tech_sme", None, 1),
        HolderCount("high_tech", "360100", 1),
    ]
    assert stats.holders_by(session, Enterprise.industry_code) == [
        HolderCount("tech_sme", "electronic_info", 3),
        HolderCount("tech_sme", "new_materials", 1),
        HolderCount("tech_sme", None, 1),
        HolderCount("high_tech", "electronic_info", 1),
    ]


def test_pipeline_counts_open_applications_per_tier_and_state(session, make):
    states = [
        ("tech_sme", State.DRAFT),
        ("tech_sme", State.DRAFT),
        ("tech_sme", State.SUBMITTED),
        ("high_tech", State.IN_REVIEW),
        ("high_tech", State.CHANGES_REQUESTED),
        ("champion", State.IN_NOTICE),
        # Closed: history, not the pipeline.
        ("tech_sme", State.GRANTED),
        ("tech_sme", State.REJECTED),
        ("high_tech", State.WITHDRAWN),
    ]
    applications(session, make, states)
    found = stats.pipeline(session)
    assert [(row.tier, row.state) for row in found] == [(t, s) for t in TIERS for s in OPEN]
    assert {(row.tier, row.state): row.count for row in found if row.count} == {
        ("tech_sme", "draft"): 2,
        ("tech_sme", "submitted"): 1,
        ("high_tech", "in_review"): 1,
        ("high_tech", "changes_requested"): 1,
        ("champion", "in_notice"): 1,
    }


def test_monthly_moves_by_shanghai_month_over_the_last_24_months(session, make):
    e1, e2, e3, e4, e5, e6 = (make.enterprise() for _ in range(6))
    # 2024-03-31 23:59:59 in Shanghai: before the window; 00:00 on 1 April: its first day.
    grant(session, e5, "tech_sme", utc(2024, 3, 31, 15, 59, 59))
    grant(session, e6, "tech_sme", utc(2024, 3, 31, 16))
    # Granted in May 2025; calendar-year validity: expires 2026-01-01 00:00 Shanghai,
    # which is still 31 December in UTC. The lapse counts in January.
    grant(session, e3, "tech_sme", utc(2025, 5, 10, 2))
    assert ladder.lapse_designation(session, e3.id, utc(2026, 1, 2)) is not None
    # Promoted, demoted back, renewed (no move), then revoked.
    grant(session, e4, "tech_sme", utc(2025, 6, 1, 2))
    grant(session, e4, "high_tech", utc(2025, 9, 15, 2))
    demote(session, e4, "tech_sme", utc(2025, 11, 20, 2))
    renew(session, e4, utc(2025, 12, 10, 2))
    revoke(session, e4, utc(2026, 3, 3, 17))  # 4 March 01:00 in Shanghai
    # Either side of 1 February 00:00 in Shanghai (31 January 16:00 UTC).
    grant(session, e2, "tech_sme", utc(2026, 1, 31, 15, 59, 59))
    grant(session, e1, "tech_sme", utc(2026, 1, 31, 16))

    flows = stats.monthly(session, NOW)

    months = sorted({flow.month for flow in flows})
    assert len(months) == 24 and (months[0], months[-1]) == ("2024-04", "2026-03")
    assert [(f.month, f.tier) for f in flows] == [(m, t) for m in months for t in TIERS]
    assert [f for f in flows if f.grants or f.lapses] == [
        MonthFlow("2024-04", "tech_sme", 1, 0),
        MonthFlow("2025-05", "tech_sme", 1, 0),
        MonthFlow("2025-06", "tech_sme", 1, 0),
        MonthFlow("2025-09", "tech_sme", 0, 1),
        MonthFlow("2025-09", "high_tech", 1, 0),
        MonthFlow("2025-11", "tech_sme", 1, 0),
        MonthFlow("2025-11", "high_tech", 0, 1),
        MonthFlow("2026-01", "tech_sme", 1, 1),
        MonthFlow("2026-02", "tech_sme", 1, 0),
        MonthFlow("2026-03", "tech_sme", 0, 1),
    ]
    # Grants − lapses over the window = the change in holders (only e5 held before it).
    holders = {load.code: load.holders for load in stats.tier_loads(session)}
    for tier in TIERS:
        net = sum(f.grants - f.lapses for f in flows if f.tier == tier)
        assert net == holders[tier] - (tier == "tech_sme")


def test_the_window_follows_the_shanghai_month_of_now(session, make):
    grant(session, make.enterprise(), "tech_sme", utc(2024, 1, 31, 16))  # 1 Feb, Shanghai
    # 2026-01-31 16:00 UTC is already February in Shanghai: the window is 2024-03…2026-02.
    flows = stats.monthly(session, utc(2026, 1, 31, 16))
    assert (flows[0].month, flows[-1].month) == ("2024-03", "2026-02")
    assert not any(f.grants for f in flows)
    flows = stats.monthly(session, utc(2026, 1, 31, 15, 59, 59))
    assert (flows[0].month, flows[-1].month) == ("2024-02", "2026-01")
    assert flows[0] == MonthFlow("2024-02", "tech_sme", 1, 0)


def test_registry_stats_as_of_the_clock(session, make):
    grant(session, make.enterprise(), "tech_sme", NOW)
    with clock.pinned(NOW):
        found = stats.registry_stats(session)
    assert found.as_of == NOW
    assert found.tiers == stats.tier_loads(session)
    assert found.by_city == [HolderCount("tech_sme", "360100", 1)]
    assert found.by_industry == [HolderCount("tech_sme", "electronic_info", 1)]
    assert len(found.pipeline) == 25 and not any(row.count for row in found.pipeline)
    assert found.monthly[-5] == MonthFlow("2026-03", "tech_sme", 1, 0)


def test_holders_at_instants_replay_the_events_effective_before_each(session, make):
    e1, e2 = make.enterprise(), make.enterprise()
    grant(session, e1, "tech_sme", utc(2026, 1, 10, 2))
    grant(session, e2, "tech_sme", utc(2026, 2, 10, 2))
    grant(session, e2, "high_tech", utc(2026, 3, 1, 2))  # a promotion: off one, onto another
    assert stats.holders_at(session, [utc(2026, 2, 10, 2)]) == [{"tech_sme": 1}]
    assert stats.holders_at(session, [utc(2026, 1, 1), utc(2026, 2, 11), NOW]) == [
        {},
        {"tech_sme": 2},
        {"tech_sme": 1, "high_tech": 1},
    ]


def test_moves_fall_in_their_month_at_every_bound_of_the_window(session, make):
    """Each month of the window from its first instant (Shanghai midnight) to the last:
    a grant at the start of every month and one a second before it count in their own
    months, whichever bounds the search for the month compares them with first."""
    window = stats._month_starts(dates.shanghai_date(NOW), stats.MONTHS)
    starts = [dates.shanghai_midnight(first) for first in window[:-1]]
    for start in starts:
        grant(session, make.enterprise(), "tech_sme", start)
        grant(session, make.enterprise(), "tech_sme", start - timedelta(seconds=1))
    flows = [f for f in stats.monthly(session, NOW) if f.tier == "tech_sme"]
    # The second before the first month is before the window; the window's last month
    # has no next month's start in it.
    assert [f.grants for f in flows] == [2] * (stats.MONTHS - 1) + [1]
    assert [f.month for f in flows] == [f"{first:%Y-%m}" for first in window[:-1]]
    assert stats.holders_at(session, starts[1:3]) == [{"tech_sme": 3}, {"tech_sme": 5}]


@pytest.mark.sqlite_only(reason="SQLite's planner")
def test_holders_are_grouped_from_their_own_index_not_from_the_rows(session, make):
    """QUALITY.md P7: the holders by tier, by city and by industry are counted from the
    partial index of the holders alone (a few thousand entries among a million
    enterprises, with their city and industry), without reading an enterprise's row."""
    grant(session, make.enterprise(), "tech_sme", NOW)
    with statements_sent(lambda statement: "FROM enterprises" in statement) as statements:
        stats.registry_stats(session)
    assert len(statements) == 3  # per tier, per tier and city, per tier and industry
    for statement, parameters in statements:
        explain = "EXPLAIN QUERY PLAN " + statement
        plan = session.connection().exec_driver_sql(explain, parameters).all()
        details = " | ".join(row[-1] for row in plan)
        index = "USING COVERING INDEX ix_enterprises_tier_city_code_industry_code_id"
        assert index in details, details
