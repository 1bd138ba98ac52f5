"""The reports on the ladder (PRODUCT.md §8, API.md "Report") at the operations layer:
``quota``, ``tier-by-city``, ``tier-by-industry``, ``pipeline`` and ``moves``, each
against figures counted by hand, with API.md's keys, row order and totals."""

from __future__ import annotations

import pytest

from registry.applications.models import State
from registry.ladder import operations as ladder
from registry.reports import catalogue, ladder_reports
from tests.factories import TEST_ACTOR
from tests.fixtures.api import NOW
from tests.reports.ladder_history import TIERS, applications, demote, grant, renew, revoke, utc

pytestmark = pytest.mark.usefixtures("pinned_clock", "in_request")

CITIES = [f"36{n:02d}00" for n in range(1, 12)]
INDUSTRIES = [
    ("aviation", "advantage"),
    ("electronic_info", "advantage"),
    ("equipment", "advantage"),
    ("tcm", "advantage"),
    ("new_energy", "advantage"),
    ("new_materials", "advantage"),
    ("new_digital", "growth"),
    ("smart_equipment", "growth"),
    ("biomedicine", "growth"),
    ("energy_saving_env", "growth"),
    ("hydrogen", "future"),
    ("life_health", "future"),
    ("flexible_electronics", "future"),
    ("micro_nano_optics", "future"),
    ("quantum", "future"),
]


def keys(report) -> list[str]:
    return [c.key for c in report.columns]


def test_the_catalogue_lists_the_seven_reports_in_order_with_pipeline_not_public():
    assert [(e.name, e.public) for e in catalogue.REPORTS] == [
        ("quota", True),
        ("tier-by-city", True),
        ("tier-by-industry", True),
        ("pipeline", False),
        ("moves", True),
        ("progress", True),
        ("coverage", True),
    ]
    assert catalogue.find("nothing") is None
    assert not catalogue.visible(catalogue.find("pipeline"), staff=False)
    assert catalogue.visible(catalogue.find("pipeline"), staff=True)


def test_quota_per_tier_with_totals(session, make):
    for _ in range(3):
        grant(session, make.enterprise(), "tech_sme")
    grant(session, make.enterprise(), "champion")
    ladder.set_quota(session, "navigator", 3, actor=TEST_ACTOR, reason="smaller plan")
    for _ in range(2):
        grant(session, make.enterprise(), "navigator")

    report = ladder_reports.quota(session)

    assert (report.name, report.as_of) == ("quota", NOW)
    assert keys(report) == [
        "tier",
        "quota",
        "holders",
        "reserved",
        "occupancy",
        "remaining",
        "percent_of_quota",
    ]
    assert [c.type for c in report.columns] == ["string", *["integer"] * 5, "percent"]
    assert report.rows == [
        {
            "tier": "tech_sme",
            "quota": 5000,
            "holders": 3,
            "reserved": 0,
            "occupancy": 3,
            "remaining": 4997,
            "percent_of_quota": 0.06,
        },
        {
            "tier": "high_tech",
            "quota": 3000,
            "holders": 0,
            "reserved": 0,
            "occupancy": 0,
            "remaining": 3000,
            "percent_of_quota": 0.0,
        },
        {
            "tier": "champion",
            "quota": 100,
            "holders": 1,
            "reserved": 0,
            "occupancy": 1,
            "remaining": 99,
            "percent_of_quota": 1.0,
        },
        {
            "tier": "navigator",
            "quota": 3,
            "holders": 2,
            "reserved": 0,
            "occupancy": 2,
            "remaining": 1,
            "percent_of_quota": 66.67,
        },
        {
            "tier": "chain_leader",
            "quota": 8,
            "holders": 0,
            "reserved": 0,
            "occupancy": 0,
            "remaining": 8,
            "percent_of_quota": 0.0,
        },
    ]
    # Sums of the counts; none for the tier's name nor for the percent.
    assert report.totals == {
        "tier": None,
        "quota": 8111,
        "holders": 6,
        "reserved": 0,
        "occupancy": 6,
        "remaining": 8105,
        "percent_of_quota": None,
    }
    assert report.suppressed == [] and report.notes


def test_quota_counts_a_slot_reserved_for_a_promotion_in_notice(api_world, session):
    api_world.in_notice()
    row = ladder_reports.quota(session).rows[0]
    assert (row["holders"], row["reserved"], row["occupancy"], row["remaining"]) == (0, 1, 1, 4999)


def test_tier_by_city_has_every_city_then_unknown_with_zeros_and_totals(session, make):
    for city, tier in (
        ("360400", "tech_sme"),
        ("360400", "tech_sme"),
        ("360100", "high_tech"),
        ("360100", "tech_sme"),
        (None, "tech_sme"),  # no city given
        ("369900", "champion"),  # a code the seed does not know (a mirrored record)
    ):
        grant(session, make.enterprise(city_code=city), tier)
    make.enterprise(city_code="360100")  # not on the ladder

    report = ladder_reports.tier_by_city(session)

    assert keys(report) == ["city_code", *TIERS, "total"]
    assert [c.label for c in report.columns][1] == "科技型中小企业"  # no request: zh
    assert [row["city_code"] for row in report.rows] == [*CITIES, "unknown"]
    counts = {
        row["city_code"]: [row[t] for t in TIERS] + [row["total"]]
        for row in report.rows
        if row["total"]
    }
    assert counts == {
        "360100": [1, 1, 0, 0, 0, 2],
        "360400": [2, 0, 0, 0, 0, 2],
        "unknown": [1, 0, 1, 0, 0, 2],
    }
    assert report.rows[1] == {"city_code": "360200", **dict.fromkeys(TIERS, 0), "total": 0}
    assert report.totals == {
        "city_code": None,
        "tech_sme": 4,
        "high_tech": 1,
        "champion": 1,
        "navigator": 0,
        "chain_leader": 0,
        "total": 6,
    }


def test_tier_by_industry_in_group_order_then_other_and_unknown(session, make):
    for industry, tier in (
        ("electronic_info", "tech_sme"),
        ("electronic_info", "high_tech"),
        ("quantum", "tech_sme"),
        ("tcm", "tech_sme"),
        (None, "tech_sme"),  # outside the plan's industries
        (None, "high_tech"),
        ("space_mining", "tech_sme"),  # not seeded here
    ):
        grant(session, make.enterprise(industry_code=industry), tier)

    report = ladder_reports.tier_by_industry(session)

    assert keys(report) == ["industry_code", "group", *TIERS, "total"]
    assert [(r["industry_code"], r["group"]) for r in report.rows] == [
        *INDUSTRIES,
        ("other", None),
        ("unknown", None),
    ]
    counts = {
        row["industry_code"]: (row["tech_sme"], row["high_tech"], row["total"])
        for row in report.rows
        if row["total"]
    }
    assert counts == {
        "electronic_info": (1, 1, 2),
        "tcm": (1, 0, 1),
        "quantum": (1, 0, 1),
        "other": (1, 1, 2),
        "unknown": (1, 0, 1),
    }
    assert report.totals["tech_sme"] == 5
    assert report.totals["high_tech"] == 2
    assert report.totals["total"] == 7
    assert report.totals["group"] is None


def test_pipeline_counts_open_applications_per_tier_and_state_with_totals(session, make):
    states = (
        ("tech_sme", State.DRAFT),
        ("tech_sme", State.DRAFT),
        ("tech_sme", State.IN_NOTICE),
        ("high_tech", State.SUBMITTED),
        ("high_tech", State.IN_REVIEW),
        ("champion", State.CHANGES_REQUESTED),
        ("tech_sme", State.GRANTED),  # closed: history
        ("high_tech", State.WITHDRAWN),
    )
    applications(session, make, states)

    report = ladder_reports.pipeline(session)

    states = ["draft", "submitted", "in_review", "changes_requested", "in_notice"]
    assert keys(report) == ["tier", *states, "total"]
    assert [row["tier"] for row in report.rows] == TIERS
    assert report.rows[0] == {
        "tier": "tech_sme",
        "draft": 2,
        "submitted": 0,
        "in_review": 0,
        "changes_requested": 0,
        "in_notice": 1,
        "total": 3,
    }
    assert [row["total"] for row in report.rows] == [3, 2, 1, 0, 0]
    assert report.totals == {
        "tier": None,
        "draft": 2,
        "submitted": 1,
        "in_review": 1,
        "changes_requested": 1,
        "in_notice": 1,
        "total": 6,
    }


def test_moves_per_beijing_month_and_tier(session, make):
    e1, e2, e3, e4 = (make.enterprise() for _ in range(4))
    # Either side of 1 February 00:00 in Beijing (31 January 16:00 UTC).
    grant(session, e1, "tech_sme", utc(2026, 1, 31, 15, 59, 59))
    grant(session, e2, "tech_sme", utc(2026, 1, 31, 16))
    # Promoted in September: off tech_sme, onto high_tech.
    grant(session, e3, "tech_sme", utc(2025, 6, 1, 2))
    grant(session, e3, "high_tech", utc(2025, 9, 15, 2))
    # Demoted in November: off high_tech and onto tech_sme; renewed in December: no move.
    demote(session, e3, "tech_sme", utc(2025, 11, 20, 2))
    renew(session, e3, utc(2025, 12, 10, 2))
    # Revoked on 1 March 01:00 in Beijing (28 February 17:00 UTC): March.
    grant(session, e4, "high_tech", utc(2025, 6, 1, 2))
    revoke(session, e4, utc(2026, 2, 28, 17))

    report = ladder_reports.moves(session)

    assert keys(report) == ["month", "tier", "moved_on", "moved_off", "net"]
    assert [c.type for c in report.columns][:2] == ["month", "string"]
    months = list(dict.fromkeys(row["month"] for row in report.rows))
    assert (len(months), months[0], months[-1]) == (24, "2024-04", "2026-03")
    assert [(r["month"], r["tier"]) for r in report.rows] == [(m, t) for m in months for t in TIERS]
    moved = [
        (r["month"], r["tier"], r["moved_on"], r["moved_off"], r["net"])
        for r in report.rows
        if r["moved_on"] or r["moved_off"]
    ]
    assert moved == [
        ("2025-06", "tech_sme", 1, 0, 1),
        ("2025-06", "high_tech", 1, 0, 1),
        ("2025-09", "tech_sme", 0, 1, -1),
        ("2025-09", "high_tech", 1, 0, 1),
        ("2025-11", "tech_sme", 1, 0, 1),
        ("2025-11", "high_tech", 0, 1, -1),
        ("2026-01", "tech_sme", 1, 0, 1),
        ("2026-02", "tech_sme", 1, 0, 1),
        ("2026-03", "high_tech", 0, 1, -1),
    ]
    # The sum of net over the window is the change in holders (none held before it).
    assert report.totals == {
        "month": None,
        "tier": None,
        "moved_on": 6,
        "moved_off": 3,
        "net": 3,
    }
    holders = {row["tier"]: row["holders"] for row in ladder_reports.quota(session).rows}
    assert sum(holders.values()) == 3 and holders["tech_sme"] == 3
