"""Ladder read side: eligibility of stored enterprises, the work calendar, overview."""

from __future__ import annotations

from datetime import UTC, date, datetime

from registry.ladder import dates, holds, operations, queries
from tests.factories import TEST_ACTOR

REFERENCE = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)


def test_evaluate_stored_enterprise_uses_seeded_thresholds(session, make):
    e = make.enterprise(founded_on=date(2015, 1, 1))
    make.eligible_report(e, 2025)
    evaluation = queries.evaluate_enterprise(session, e, "tech_sme", reference=REFERENCE, lang="en")
    assert evaluation.year == 2025
    assert evaluation.eligible
    assert evaluation.score.total == 100
    codes = [c.code for c in evaluation.checks]
    assert codes[:3] == ["employees_max", "revenue_max", "total_assets_max"]


def test_prerequisite_uses_current_rung(session, make):
    e = make.enterprise()
    check = {
        c.code: c
        for c in queries.evaluate_enterprise(session, e, "champion", reference=REFERENCE).checks
    }["prerequisite"]
    assert check.status == "fail"
    with_clock = operations.grant_tier(session, e, "tech_sme", actor=TEST_ACTOR, reason="x")
    assert with_clock.to_tier == "tech_sme"
    check = {
        c.code: c
        for c in queries.evaluate_enterprise(session, e, "champion", reference=REFERENCE).checks
    }["prerequisite"]
    assert check.status == "pass"


def test_work_calendar_from_seed_reproduces_spring_festival_example(session):
    calendar = queries.work_calendar(session)
    assert {2022, 2027} <= calendar.years
    approved = datetime(2025, 1, 24, 3, 0, tzinfo=UTC)
    assert dates.notice_days(date(2025, 1, 24), 5, calendar) == [
        date(2025, 1, 26),
        date(2025, 1, 27),
        date(2025, 2, 5),
        date(2025, 2, 6),
        date(2025, 2, 7),
    ]
    assert dates.notice_ends_at(approved, 5, calendar) == datetime(2025, 2, 7, 16, tzinfo=UTC)


def test_overview_counts_holders_and_reservations(session, make):
    a, b = make.enterprise(), make.enterprise()
    operations.grant_tier(session, a, "high_tech", actor=TEST_ACTOR, reason="x")
    holds.reserve_slot(session, b, "high_tech", 9, actor=TEST_ACTOR)
    overview = {t.code: occ for t, occ in queries.ladder_overview(session)}
    assert (overview["high_tech"].holders, overview["high_tech"].reserved) == (1, 1)
    assert overview["high_tech"].remaining == 2998
    assert overview["chain_leader"].occupancy == 0
