"""The ``coverage`` report (PRODUCT.md §8, API.md "Report"): year Y's annual reports of
the enterprises on the ladder per plan industry beside the plan's 2025 targets, and the
small-cell rule with its complementary suppression for everyone but reviewers and
admins."""

from __future__ import annotations

from typing import Any

import pytest

from registry.core.errors import ValidationFailed
from registry.extensions import db
from registry.ladder import operations as ladder
from registry.reports import coverage
from registry.reports.report import Suppressed
from tests.factories import TEST_ACTOR
from tests.query_plans import sqlite_plan, statements_sent

pytestmark = pytest.mark.usefixtures("pinned_clock", "in_request")

YI = 100_000_000  # 1 亿元
ROWS = [
    "aviation",
    "electronic_info",
    "equipment",
    "tcm_biomedicine",  # TCM's place; biomedicine shares its target and its row
    "new_energy",
    "new_materials",
    "new_digital",
    "smart_equipment",
    "energy_saving_env",
    "hydrogen",
    "life_health",
    "flexible_electronics",
    "micro_nano_optics",
    "quantum",
    "other",
]


@pytest.fixture
def holders(session, make):
    """Holders with 2025 reports (revenue, R&D expense), counted by hand:

    - electronic_info: 3 × (100, 5 / 3 / 2) → 300, 10; 3.33 % — shown;
    - equipment: 1000, 100, 100 (one above 80 %), R&D 10 each → revenue withheld,
      R&D 30 shown, the intensity withheld;
    - TCM 50 and biomedicine 2 × 50, R&D 1 each → one row, 150, 3; 2 %;
    - new_energy: revenue 10 and 10, R&D 1 and none → both withheld (2 and 1 give);
    - other: no industry twice and an unseeded one, 500 and R&D 50 each → 1500, 150.

    Not counted: a holder whose report is for 2024 only, an enterprise with a 2025
    report that holds no rung."""

    def holder(industry, tier="tech_sme", year=2025, **figures):
        enterprise = make.enterprise(industry_code=industry)
        ladder.grant_tier(session, enterprise, tier, actor=TEST_ACTOR, reason="x")
        make.report(enterprise, year, **figures)
        return enterprise

    for rd in (5, 3, 2):
        holder("electronic_info", revenue=100, rd_expense=rd)
    holder("equipment", revenue=1000, rd_expense=10)
    holder("equipment", "high_tech", revenue=100, rd_expense=10)
    holder("equipment", "high_tech", revenue=100, rd_expense=10)
    holder("tcm", revenue=50, rd_expense=1)
    holder("biomedicine", revenue=50, rd_expense=1)
    holder("biomedicine", "high_tech", revenue=50, rd_expense=1)
    holder("new_energy", revenue=10, rd_expense=1)
    holder("new_energy", revenue=10)
    holder(None, "champion", revenue=500, rd_expense=50)
    holder(None, "champion", revenue=500, rd_expense=50)
    holder("space_mining", "champion", revenue=500, rd_expense=50)
    holder("aviation", year=2024, revenue=7777, rd_expense=7)
    make.report(make.enterprise(industry_code="aviation"), 2025, revenue=9999, rd_expense=9)


def row(report, key: str) -> dict:
    return next(r for r in report.rows if r["industry_code"] == key)


def test_in_full_every_figure_per_plan_industry_beside_its_target(session, holders):
    report = coverage.coverage(session, full=True)

    assert report.title == "规划产业中的在册企业（2025年）"  # the last completed year
    assert [c.key for c in report.columns] == [
        "industry_code",
        "reporting",
        "revenue",
        "revenue_target",
        "rd_expense",
        "rd_intensity",
    ]
    assert [c.type for c in report.columns] == [
        "string",
        "integer",
        "integer",
        "integer",
        "integer",
        "percent",
    ]
    assert [r["industry_code"] for r in report.rows] == ROWS
    assert row(report, "electronic_info") == {
        "industry_code": "electronic_info",
        "reporting": 3,
        "revenue": 300,
        "revenue_target": 12000 * YI,
        "rd_expense": 10,
        "rd_intensity": 3.33,
    }
    assert row(report, "equipment") == {
        "industry_code": "equipment",
        "reporting": 3,
        "revenue": 1200,
        "revenue_target": 8000 * YI,
        "rd_expense": 30,
        "rd_intensity": 2.5,
    }
    assert row(report, "tcm_biomedicine") == {
        "industry_code": "tcm_biomedicine",
        "reporting": 3,
        "revenue": 150,
        "revenue_target": 2000 * YI,
        "rd_expense": 3,
        "rd_intensity": 2.0,
    }
    assert row(report, "new_energy")["rd_expense"] == 1
    assert row(report, "other") == {
        "industry_code": "other",
        "reporting": 3,
        "revenue": 1500,
        "revenue_target": None,
        "rd_expense": 150,
        "rd_intensity": 10.0,
    }
    # Aviation's holder reported for 2024 only; the non-holder's 2025 report is not read.
    assert row(report, "aviation") == {
        "industry_code": "aviation",
        "reporting": 0,
        "revenue": 0,
        "revenue_target": 2600 * YI,
        "rd_expense": 0,
        "rd_intensity": None,
    }
    assert row(report, "quantum")["revenue_target"] is None
    assert report.totals == {
        "industry_code": None,
        "reporting": 14,
        "revenue": 3170,
        "revenue_target": 33100 * YI,
        "rd_expense": 194,
        "rd_intensity": None,
    }
    assert report.suppressed == []
    assert report.extra["by_tier"] == [
        {"tier": "tech_sme", "reporting": 8, "rd_intensity": round(100 * 23 / 1420, 2)},
        {"tier": "high_tech", "reporting": 3, "rd_intensity": round(100 * 21 / 250, 2)},
        {"tier": "champion", "reporting": 3, "rd_intensity": 10.0},
        {"tier": "navigator", "reporting": 0, "rd_intensity": None},
        {"tier": "chain_leader", "reporting": 0, "rd_intensity": None},
    ]
    assert report.extra["plan_rd_intensity"] == 2
    assert "审核人员和管理员" in report.notes[-1]


def test_small_cells_withheld_with_the_total_that_would_reveal_one(session, holders):
    report = coverage.coverage(session, full=False)

    assert row(report, "electronic_info")["revenue"] == 300  # 3 give, none above 80 %
    # One of three gives 83 % of the revenue: withheld, and the intensity with it.
    assert row(report, "equipment") == {
        "industry_code": "equipment",
        "reporting": 3,
        "revenue": None,
        "revenue_target": 8000 * YI,
        "rd_expense": 30,
        "rd_intensity": None,
    }
    # Two give revenue, one R&D: both withheld. Counts of reports never are.
    assert row(report, "new_energy") == {
        "industry_code": "new_energy",
        "reporting": 2,
        "revenue": None,
        "revenue_target": 2500 * YI,
        "rd_expense": None,
        "rd_intensity": None,
    }
    # A sum nobody gives is 0 and hides no one.
    assert (row(report, "aviation")["revenue"], row(report, "aviation")["rd_expense"]) == (0, 0)
    equipment, new_energy = ROWS.index("equipment"), ROWS.index("new_energy")
    assert report.suppressed == [
        Suppressed(equipment, "revenue"),
        Suppressed(equipment, "rd_intensity"),
        Suppressed(new_energy, "revenue"),
        Suppressed(new_energy, "rd_expense"),
        Suppressed(new_energy, "rd_intensity"),
    ]
    # Two revenue cells are withheld: the total reveals neither. One R&D cell is: the
    # total would give it away (194 − the others), so it is withheld too.
    assert report.totals["revenue"] == 3170
    assert report.totals["rd_expense"] is None
    assert report.totals["reporting"] == 14
    # Per tier the sums pass the rule (tech_sme's largest, 1000 of 1420, is 70 %).
    assert [t["rd_intensity"] for t in report.extra["by_tier"]] == [1.62, 8.4, 10.0, None, None]
    assert "至少" in report.notes[-1] and "80" in report.notes[-1]


def test_a_tier_whose_sum_fails_the_rule_has_its_intensity_withheld(session, make):
    for revenue in (900, 50, 50):
        enterprise = make.enterprise(industry_code="electronic_info")
        ladder.grant_tier(session, enterprise, "high_tech", actor=TEST_ACTOR, reason="x")
        make.report(enterprise, 2025, revenue=revenue, rd_expense=10)

    public = coverage.coverage(session, full=False)
    assert public.extra["by_tier"][1] == {"tier": "high_tech", "reporting": 3, "rd_intensity": None}
    assert public.suppressed == [Suppressed(1, "revenue"), Suppressed(1, "rd_intensity")]
    full = coverage.coverage(session, full=True)
    assert full.extra["by_tier"][1]["rd_intensity"] == 3.0


def test_a_total_fewer_than_three_give_is_withheld_though_two_cells_are(session, make):
    for industry, revenue in (("aviation", 1000), ("quantum", 10)):
        enterprise = make.enterprise(industry_code=industry)
        ladder.grant_tier(session, enterprise, "tech_sme", actor=TEST_ACTOR, reason="x")
        make.report(enterprise, 2025, revenue=revenue)

    report = coverage.coverage(session, full=False)

    assert [s.key for s in report.suppressed].count("revenue") == 2
    assert report.totals["revenue"] is None
    # Nobody gave R&D: 0 everywhere, nothing to hide.
    assert report.totals["rd_expense"] == 0


def test_a_year_with_no_reports(session, holders):
    for full in (True, False):
        report = coverage.coverage(session, full=full, year=2019)
        assert report.title == "规划产业中的在册企业（2019年）"
        assert [r["reporting"] for r in report.rows] == [0] * len(ROWS)
        assert {(r["revenue"], r["rd_expense"], r["rd_intensity"]) for r in report.rows} == {
            (0, 0, None)
        }
        assert report.suppressed == []
        assert (report.totals["reporting"], report.totals["revenue"]) == (0, 0)
        assert {t["rd_intensity"] for t in report.extra["by_tier"]} == {None}


def test_a_chosen_year(session, holders):
    report = coverage.coverage(session, full=True, year=2024)
    assert row(report, "aviation")["reporting"] == 1
    assert row(report, "aviation")["revenue"] == 7777
    assert report.totals["reporting"] == 1


@pytest.mark.parametrize("year", [1989, 2026, 2030])
def test_a_year_annual_reports_cannot_be_for_is_refused(session, year):
    with pytest.raises(ValidationFailed) as refused:
        coverage.coverage(session, full=True, year=year)
    assert refused.value.errors[0]["field"] == "year"


@pytest.mark.parametrize(("text", "year"), [(None, None), ("", None), ("2024", 2024)])
def test_year_from_text(text, year):
    assert coverage.year_from_text(text) == year


@pytest.mark.parametrize("text", ["twenty", "-2024", "2024.0", "20245", " 2024"])
def test_year_from_text_refuses_what_is_not_a_year(text):
    with pytest.raises(ValidationFailed):
        coverage.year_from_text(text)


def read_of_the_reports(session) -> tuple[str, Any]:
    """The one statement, with its parameters, that the full report sends to read the
    annual reports; the read's transaction ended after (on SQLite it holds the write
    lock)."""
    session.commit()
    try:
        with statements_sent(lambda statement: "annual_reports" in statement) as sent:
            coverage.coverage(session, full=True)
    finally:
        session.rollback()
    ((statement, parameters),) = sent
    return statement, parameters


@pytest.mark.sqlite_only(reason="SQLite's planner")
@pytest.mark.parametrize("statistics", [False, True])
def test_each_holders_report_is_found_by_its_key_not_by_reading_every_report(
    session, holders, database_url, statistics
):
    """QUALITY.md P10: the reports read are the holders' (found by the
    ``(enterprise_id, year)`` key), never all of a year's, with or without the
    statistics of a million enterprises with a report each."""
    statement, parameters = read_of_the_reports(session)
    million = [
        ("enterprises", "ix_enterprises_tier_uscc", "1000000 200000 1"),
        ("enterprises", "ix_enterprises_tier_city_code_industry_code_id", "6500 1300 120 10 1"),
        ("enterprises", "ix_enterprises_industry_code_uscc", "1000000 70000 1"),
        ("annual_reports", "sqlite_autoindex_annual_reports_1", "1000000 1 1"),
    ]
    details = sqlite_plan(database_url, statement, parameters, million if statistics else None)
    assert "SEARCH annual_reports USING INDEX sqlite_autoindex_annual_reports_1" in details, details
    # The holders from their own small index (the partial one of the holders).
    assert "ix_enterprises_tier_city_code_industry_code_id" in details, details
    assert "SCAN annual_reports" not in details, details
    assert "SCAN enterprises" not in details, details


@pytest.mark.postgres
def test_on_postgresql_each_holder_probes_for_its_report(session, holders):
    """QUALITY.md P10 on PostgreSQL: a LATERAL probe per holder (a nested loop over the
    holders, one report at most each), which its costs cannot turn into a read of
    every report of the year."""
    statement, parameters = read_of_the_reports(session)
    with db.engine.connect() as connection:
        plan = connection.exec_driver_sql("EXPLAIN " + statement, parameters).scalars().all()
    details = "\n".join(plan)
    assert "Nested Loop" in details, details
    assert "Limit" in details, details
    assert "Hash Join" not in details, details
