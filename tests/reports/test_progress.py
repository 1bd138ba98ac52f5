"""The ``progress`` report (PRODUCT.md §8, API.md "Report"): holders at the ends of the
23 months before the current one (Beijing time) and now, by replaying the tier events
effective before each point, and the projection at the pace of the last 6 complete
months."""

from __future__ import annotations

import pytest

from registry.ladder import operations as ladder
from registry.ladder.models import Tier
from registry.reports import progress
from tests.factories import TEST_ACTOR
from tests.fixtures.api import NOW
from tests.reports.ladder_history import TIERS, demote, grant, revoke, utc

pytestmark = pytest.mark.usefixtures("pinned_clock", "in_request")


def holders(report, tier: str) -> dict[str, int]:
    return {row["month"]: row["holders"] for row in report.rows if row["tier"] == tier}


def test_holders_at_each_month_end_in_beijing_time_and_now(session, make):
    e1, e2, e3, e4, e5, e6 = (make.enterprise() for _ in range(6))
    grant(session, e1, "tech_sme", utc(2024, 1, 10, 2))  # before the window: always there
    # 31 January 23:59:59 in Beijing: a holder at the end of January …
    grant(session, e2, "tech_sme", utc(2026, 1, 31, 15, 59, 59))
    # … and 1 February 00:00 in Beijing: only from the end of February.
    grant(session, e3, "tech_sme", utc(2026, 1, 31, 16))
    # On high_tech from June, demoted to tech_sme on 20 November.
    grant(session, e4, "high_tech", utc(2025, 6, 1, 2))
    demote(session, e4, "tech_sme", utc(2025, 11, 20, 2))
    # Granted this month: a holder now only.
    grant(session, e5, "tech_sme", utc(2026, 3, 2, 2))
    # Calendar-year validity: valid until 31 December, lapsed at 1 January 00:00 in
    # Beijing (recorded on 2 January): a holder at the end of December, not of January.
    grant(session, e6, "tech_sme", utc(2025, 5, 10, 2))
    assert ladder.lapse_designation(session, e6.id, utc(2026, 1, 2)) is not None

    report = progress.progress(session)

    assert report.as_of == NOW
    assert [c.key for c in report.columns] == ["month", "tier", "holders", "target"]
    assert [c.type for c in report.columns] == ["month", "string", "integer", "integer"]
    months = list(dict.fromkeys(row["month"] for row in report.rows))
    assert (len(months), months[0], months[-2], months[-1]) == (24, "2024-04", "2026-02", "2026-03")
    assert [(r["month"], r["tier"]) for r in report.rows] == [(m, t) for m in months for t in TIERS]
    assert {r["target"] for r in report.rows if r["tier"] == "tech_sme"} == {5000}
    assert report.totals is None

    tech_sme = holders(report, "tech_sme")
    assert tech_sme["2024-04"] == 1
    assert tech_sme["2025-04"] == 1
    assert tech_sme["2025-05"] == 2  # e6
    assert tech_sme["2025-10"] == 2
    assert tech_sme["2025-11"] == 3  # e4 demoted onto it
    assert tech_sme["2025-12"] == 3
    assert tech_sme["2026-01"] == 3  # e6 lapsed, e2 granted
    assert tech_sme["2026-02"] == 4  # e3
    assert tech_sme["2026-03"] == 5  # e5, now
    high_tech = holders(report, "high_tech")
    assert (high_tech["2025-05"], high_tech["2025-06"], high_tech["2025-10"]) == (0, 1, 1)
    assert (high_tech["2025-11"], high_tech["2026-03"]) == (0, 0)


def set_quota(session, tier: str, quota: int) -> None:
    ladder.set_quota(session, tier, quota, actor=TEST_ACTOR, reason="plan")


def test_projection_at_the_mean_net_change_of_the_last_six_complete_months(session, make):
    def on(tier, *instants):
        for at in instants:
            grant(session, make.enterprise(), tier, at)

    # champion: at its target now.
    set_quota(session, "champion", 2)
    on("champion", utc(2025, 1, 5, 2), utc(2026, 3, 1, 2))
    # navigator: 3 more over September … February (0.5 a month); one before them and one
    # this month count in the holders now (6), not in the pace. 4 to go: 8 months.
    set_quota(session, "navigator", 10)
    on("navigator", utc(2024, 1, 5, 2), utc(2025, 8, 31, 15))  # 31 August 23:00 Beijing
    on("navigator", utc(2025, 10, 1, 2), utc(2026, 1, 5, 2), utc(2026, 2, 28, 15, 59, 59))
    on("navigator", utc(2026, 3, 3, 2))
    # chain_leader: one on in July, off in December: −1 over the six months.
    leader = make.enterprise()
    grant(session, leader, "chain_leader", utc(2025, 7, 1, 2))
    revoke(session, leader, utc(2025, 12, 1, 2))
    # high_tech: nothing moves (a mean of 0); tech_sme: one holder, and one more in the
    # window: 4998 to go at 1/6 a month.
    on("tech_sme", utc(2024, 2, 1, 2), utc(2025, 9, 1, 2))

    report = progress.progress(session)

    assert report.extra["projection"] == [
        {"tier": "tech_sme", "status": "projected", "month": "4525-03"},
        {"tier": "high_tech", "status": "not_at_this_pace", "month": None},
        {"tier": "champion", "status": "reached", "month": None},
        {"tier": "navigator", "status": "projected", "month": "2026-11"},
        {"tier": "chain_leader", "status": "not_at_this_pace", "month": None},
    ]
    assert holders(report, "navigator")["2026-03"] == 6
    assert str(progress.METHOD) in report.notes


@pytest.mark.parametrize(
    ("pace", "now", "target", "expected"),
    [
        ([0, 0, 0, 0, 0, 0, 3], 6, 10, ("projected", "2026-11")),  # ⌈4 ÷ 0.5⌉ = 8
        ([0, 1, 2, 3, 4, 5, 6], 6, 7, ("projected", "2026-04")),  # 1 a month: next month
        ([0, 1, 2, 3, 4, 5, 6], 6, 9, ("projected", "2026-06")),
        # A month part-way to the target is the month it is reached: ⌈8 ÷ 7/6⌉ = 7.
        ([0, 0, 0, 0, 0, 0, 7], 7, 15, ("projected", "2026-10")),
        ([5, 5, 5, 5, 5, 5, 5], 5, 6, ("not_at_this_pace", None)),  # mean 0
        ([9, 8, 7, 6, 5, 4, 3], 3, 6, ("not_at_this_pace", None)),  # mean < 0
        ([9, 8, 7, 6, 5, 4, 3], 3, 3, ("reached", None)),  # at the target now
        ([0, 0, 0, 0, 0, 0, 0], 0, 0, ("reached", None)),
    ],
)
def test_projection_rule(pace, now, target, expected):
    # Points: 16 earlier month ends, the 7 month ends of the pace, then now.
    points = [0] * 16 + pace + [now]
    found = progress.project(Tier(code="t", quota=target), points, 2026 * 12 + 2)  # March
    assert (found.status, found.month) == expected
