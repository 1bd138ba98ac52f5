"""Eligibility rules (DOMAIN.md "Tier criteria") against the thresholds shipped in
seeds/criteria.json."""

import json
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from registry.ladder.checks import Facts, as_read, compared
from registry.ladder.criteria_versions import seeded_versions
from registry.ladder.eligibility import (
    LABELS,
    Check,
    Evaluation,
    Subject,
    TierRule,
    evaluate,
    label,
)

SEED = Path(__file__).resolve().parents[2] / "seeds" / "criteria.json"
SEEDED = json.loads(SEED.read_text(encoding="utf-8"))
#: Each tier's thresholds in force at NOW (its last seeded version, whole).
CRITERIA = {
    code: seeded_versions(entry)[-1][1] for code, entry in SEEDED.items() if code != "_comment"
}
RANKS = {"tech_sme": 1, "high_tech": 2, "champion": 3, "navigator": 4, "chain_leader": 5}
PREREQUISITES = {"champion": "tech_sme", "navigator": "champion", "chain_leader": "champion"}
TIERS = tuple(RANKS)

# 2025-06-01 12:00 in Asia/Shanghai.
NOW = datetime(2025, 6, 1, 4, 0, tzinfo=UTC)
SUBJECT = Subject(founded_on=date(2010, 1, 1), industry_group="advantage", current_rank=1)


@dataclass(frozen=True)
class Figures:
    """An annual report as the rules read it; every figure defaults to missing."""

    year: int = 2024
    employees: int | None = None
    tech_staff: int | None = None
    rd_staff: int | None = None
    ip_class1: int | None = None
    ip_class2: int | None = None
    ip_transfers: int | None = None
    niche_years: int | None = None
    global_market_rank: int | None = None
    revenue: int | None = None
    total_income: int | None = None
    total_assets: int | None = None
    net_assets: int | None = None
    total_cost: int | None = None
    rd_expense: int | None = None
    rd_domestic_expense: int | None = None
    hightech_income: int | None = None
    main_business_share: Decimal | float | int | None = None
    debt_ratio: Decimal | float | int | None = None
    national_market_share: Decimal | float | int | None = None
    years_in_field: int | None = None
    product_revenue_share: Decimal | float | int | None = None


def report(year: int = 2024, **figures) -> Figures:
    return Figures(year=year, **figures)


def tier(code: str, **criteria) -> TierRule:
    prerequisite = PREREQUISITES.get(code)
    return TierRule(
        code=code,
        rank=RANKS[code],
        prerequisite_code=prerequisite,
        prerequisite_rank=RANKS[prerequisite] if prerequisite else None,
        criteria={**CRITERIA[code], **criteria},
    )


def run(code: str, *reports: Figures, subject: Subject = SUBJECT, **kwargs) -> Evaluation:
    return evaluate(tier(code), subject, reports, reference=kwargs.pop("reference", NOW), **kwargs)


def check(evaluation: Evaluation, code: str) -> Check:
    (found,) = [c for c in evaluation.checks if c.code == code]
    return found


def points(evaluation: Evaluation) -> dict[str, int | None]:
    assert evaluation.score is not None
    return {part.code: part.points for part in evaluation.score.parts}


# A tech_sme that passes everything: staff 30 % → 20, R&D 6 % of revenue → 50, IP → 30.
TSME_OK = {
    "employees": 100,
    "tech_staff": 30,
    "revenue": 100_000_000,
    "total_cost": 1_000_000_000,
    "total_assets": 100_000_000,
    "rd_expense": 6_000_000,
    "ip_class1": 1,
    "ip_class2": 0,
}

HIGH_TECH_OK = {
    "employees": 100,
    "tech_staff": 10,
    "ip_class1": 1,
    "ip_class2": 0,
    "revenue": 100_000_000,
    "rd_expense": 4_000_000,
    "rd_domestic_expense": 2_400_000,
    "total_income": 100_000_000,
    "hightech_income": 60_000_000,
}

CHAMPION_OK = {
    "niche_years": 2,
    "rd_expense": 1_000_000,
    "revenue": 10_000_000,
    "employees": 50,
    "rd_staff": 10,
    "main_business_share": 80,
    "debt_ratio": 40,
}


# --- the seed -------------------------------------------------------------------------


def test_seed_has_every_tier_and_documents_its_units():
    assert set(SEEDED) == {"_comment", *TIERS}
    assert "元" in " ".join(SEEDED["_comment"])
    for code in TIERS:
        dates = [version["effective_from"] for version in SEEDED[code]["versions"]]
        assert dates == sorted(dates) and all(v.get("_basis") for v in SEEDED[code]["versions"])
    assert CRITERIA["tech_sme"]["pass_mark"] == 60
    assert CRITERIA["high_tech"]["rd_revenue_tiers"][-1][0] is None


def test_check_codes_and_order_follow_the_contract():
    expected = {
        "tech_sme": [
            "employees_max",
            "revenue_max",
            "total_assets_max",
            "industry_allowed",
            "clean_record",
            "tsme_score",
        ],
        "high_tech": [
            "registered_days",
            "core_ip",
            "tech_field",
            "tech_staff_ratio",
            "rd_revenue_ratio",
            "rd_domestic_ratio",
            "hightech_income_ratio",
            "innovation_score",
            "no_major_accident",
        ],
        "champion": [
            "prerequisite",
            "niche_years",
            "rd_expense_min",
            "rd_revenue_ratio",
            "revenue_min",
            "srdi_score",
        ],
        "navigator": ["prerequisite", "revenue_min", "rd_revenue_ratio", "chain_leadership"],
        "chain_leader": [
            "prerequisite",
            "revenue_min",
            "rd_revenue_ratio",
            "chain_leadership",
            "chain_chief_endorsement",
        ],
    }
    for code, codes in expected.items():
        assert [c.code for c in run(code, report()).checks] == codes


@pytest.mark.parametrize(
    ("code", "manual_codes"),
    [
        ("tech_sme", {"industry_allowed", "clean_record"}),
        ("high_tech", {"tech_field", "innovation_score", "no_major_accident"}),
        ("champion", {"srdi_score"}),
        ("navigator", {"chain_leadership"}),
        ("chain_leader", {"chain_leadership", "chain_chief_endorsement"}),
    ],
)
def test_judgement_checks_are_always_manual(code, manual_codes):
    for figures in ({}, TSME_OK | HIGH_TECH_OK | CHAMPION_OK):
        evaluation = run(code, report(**figures))
        assert {c.code for c in evaluation.checks if c.status == "manual"} >= manual_codes


# --- tech_sme -------------------------------------------------------------------------


def test_tech_sme_all_good_is_eligible():
    evaluation = run("tech_sme", report(**TSME_OK))
    assert evaluation.eligible
    assert evaluation.year == 2024
    assert check(evaluation, "tsme_score").status == "pass"
    assert evaluation.score is not None
    assert evaluation.score.total == 100
    assert [(p.code, p.max) for p in evaluation.score.parts] == [
        ("staff", 20),
        ("rd", 50),
        ("ip", 30),
    ]


@pytest.mark.parametrize(
    ("code", "figure", "limit"),
    [
        ("employees_max", "employees", 500),
        ("revenue_max", "revenue", 200_000_000),
        ("total_assets_max", "total_assets", 200_000_000),
    ],
)
def test_tech_sme_size_limits_include_the_limit(code, figure, limit):
    at = run("tech_sme", report(**TSME_OK | {figure: limit}))
    above = run("tech_sme", report(**TSME_OK | {figure: limit + 1}))
    assert check(at, code).status == "pass"
    assert check(above, code).status == "fail"
    assert (check(at, code).operator, check(at, code).required) == ("<=", limit)
    assert check(above, code).actual == limit + 1
    assert not above.eligible


@pytest.mark.parametrize(
    ("tech_staff", "expected"),
    [
        (30, 20),
        (29, 16),
        (25, 16),
        (24, 12),
        (20, 12),
        (19, 8),
        (15, 8),
        (14, 4),
        (10, 4),
        (9, 0),
        (0, 0),
        (100, 20),
    ],
)
def test_tech_sme_staff_bands(tech_staff, expected):
    evaluation = run("tech_sme", report(**TSME_OK | {"tech_staff": tech_staff}))
    assert points(evaluation)["staff"] == expected


def test_tech_sme_staff_band_edge_is_exact():
    just_below = run("tech_sme", report(**TSME_OK | {"employees": 100_000, "tech_staff": 29_999}))
    assert points(just_below)["staff"] == 16
    at = run("tech_sme", report(**TSME_OK | {"employees": 10, "tech_staff": 3}))
    assert points(at)["staff"] == 20


@pytest.mark.parametrize(
    ("rd_expense", "expected"),
    [
        (6_000_000, 50),
        (5_999_999, 40),
        (5_000_000, 40),
        (4_999_999, 30),
        (4_000_000, 30),
        (3_999_999, 20),
        (3_000_000, 20),
        (2_999_999, 10),
        (2_000_000, 10),
        (1_999_999, 0),
    ],
)
def test_tech_sme_rd_revenue_route(rd_expense, expected):
    # Total cost so large that the cost route scores nothing.
    figures = TSME_OK | {"revenue": 100_000_000, "total_cost": 10**12, "rd_expense": rd_expense}
    assert points(run("tech_sme", report(**figures)))["rd"] == expected


@pytest.mark.parametrize(
    ("rd_expense", "expected"),
    [
        (30_000, 50),
        (29_999, 40),
        (25_000, 40),
        (24_999, 30),
        (20_000, 30),
        (19_999, 20),
        (15_000, 20),
        (14_999, 10),
        (10_000, 10),
        (9_999, 0),
    ],
)
def test_tech_sme_rd_cost_route(rd_expense, expected):
    # Revenue so large that the revenue route scores nothing.
    figures = TSME_OK | {"revenue": 10**12, "total_cost": 100_000, "rd_expense": rd_expense}
    assert points(run("tech_sme", report(**figures)))["rd"] == expected


def test_tech_sme_rd_takes_the_better_route():
    # 3 % of revenue → 20, 25 % of total cost → 40.
    figures = TSME_OK | {"rd_expense": 300, "revenue": 10_000, "total_cost": 1_200}
    assert points(run("tech_sme", report(**figures)))["rd"] == 40
    # 6 % of revenue → 50, 10 % of total cost → 10.
    figures = TSME_OK | {"rd_expense": 600, "revenue": 10_000, "total_cost": 6_000}
    assert points(run("tech_sme", report(**figures)))["rd"] == 50


def test_tech_sme_rd_ratio_is_exact():
    tiny = TSME_OK | {"rd_expense": 5, "revenue": 100, "total_cost": 10**9}
    assert points(run("tech_sme", report(**tiny)))["rd"] == 40
    large = TSME_OK | {"rd_expense": 4_999_999, "revenue": 100_000_000, "total_cost": 10**12}
    assert points(run("tech_sme", report(**large)))["rd"] == 30


def test_tech_sme_rd_part_with_one_route_missing():
    # The revenue route already earns the maximum: the missing total cost cannot matter.
    full = run("tech_sme", report(**TSME_OK | {"total_cost": None}))
    assert points(full)["rd"] == 50
    assert check(full, "tsme_score").status == "pass"
    # Below the maximum the missing route might do better: unknown.
    partial = run("tech_sme", report(**TSME_OK | {"total_cost": None, "rd_expense": 5_000_000}))
    assert points(partial)["rd"] is None
    assert partial.score is not None and partial.score.total is None
    assert check(partial, "tsme_score").status == "unknown"
    assert not partial.eligible


@pytest.mark.parametrize(
    ("class1", "class2", "expected"),
    [
        (1, 0, 30),
        (3, None, 30),
        (0, 5, 24),
        (0, 4, 24),
        (0, 3, 18),
        (0, 2, 12),
        (0, 1, 6),
        (0, 0, 0),
        (None, 4, None),
        (0, None, None),
    ],
)
def test_tech_sme_ip_points(class1, class2, expected):
    evaluation = run("tech_sme", report(**TSME_OK | {"ip_class1": class1, "ip_class2": class2}))
    assert points(evaluation)["ip"] == expected


def test_tech_sme_score_pass_mark_is_inclusive():
    # staff 20 + R&D 40 + IP 0 = 60.
    at = run("tech_sme", report(**TSME_OK | {"rd_expense": 5_000_000, "ip_class1": 0}))
    assert at.score is not None and at.score.total == 60
    tsme = check(at, "tsme_score")
    assert (tsme.status, tsme.operator, tsme.required, tsme.actual) == ("pass", ">=", 60, 60)
    assert tsme.alternative is None
    # staff 4 + R&D 30 + IP 24 = 58: only the direct pass remains.
    below = run(
        "tech_sme",
        report(
            **TSME_OK | {"tech_staff": 10, "rd_expense": 4_000_000, "ip_class1": 0, "ip_class2": 4}
        ),
    )
    assert below.score is not None and below.score.total == 58
    tsme = check(below, "tsme_score")
    assert (tsme.status, tsme.alternative, tsme.unit) == ("manual", "direct_pass", "points")
    assert below.eligible  # manual checks do not block


def test_tech_sme_needs_staff_points_even_with_a_high_score():
    evaluation = run("tech_sme", report(**TSME_OK | {"tech_staff": 9}))
    assert evaluation.score is not None and evaluation.score.total == 80
    assert check(evaluation, "tsme_score").status == "manual"
    assert check(evaluation, "tsme_score").alternative == "direct_pass"


def test_tech_sme_zero_staff_points_decide_even_with_missing_parts():
    evaluation = run("tech_sme", report(**TSME_OK | {"tech_staff": 0, "ip_class1": None}))
    assert check(evaluation, "tsme_score").status == "manual"


def test_tech_sme_zero_employees_is_unknown():
    evaluation = run("tech_sme", report(**TSME_OK | {"employees": 0, "tech_staff": 0}))
    assert points(evaluation)["staff"] is None
    assert check(evaluation, "tsme_score").status == "unknown"
    assert check(evaluation, "employees_max").status == "pass"


def test_tech_sme_missing_figure_is_unknown():
    evaluation = run("tech_sme", report(**TSME_OK | {"total_assets": None}))
    assert check(evaluation, "total_assets_max").status == "unknown"
    assert check(evaluation, "total_assets_max").actual is None
    assert not evaluation.eligible


@pytest.mark.parametrize("code", TIERS)
def test_no_report_leaves_every_figure_check_unknown(code):
    evaluation = run(code, subject=replace(SUBJECT, current_rank=5))
    assert evaluation.year is None
    assert evaluation.score is None
    assert not evaluation.eligible
    not_figures = {"registered_days", "prerequisite"}
    for c in evaluation.checks:
        if c.code in not_figures:
            assert c.status == "pass"
        elif c.status != "manual":
            assert c.status == "unknown", c.code
            assert c.actual is None


# --- high_tech ------------------------------------------------------------------------


def test_high_tech_all_good_is_eligible():
    evaluation = run("high_tech", report(**HIGH_TECH_OK))
    assert [c.status for c in evaluation.checks] == [
        "pass",
        "pass",
        "manual",
        "pass",
        "pass",
        "pass",
        "pass",
        "manual",
        "manual",
    ]
    assert evaluation.eligible
    assert evaluation.score is None


def test_high_tech_registered_days_at_365():
    at = run(
        "high_tech", report(**HIGH_TECH_OK), subject=replace(SUBJECT, founded_on=date(2024, 6, 1))
    )
    days = check(at, "registered_days")
    assert (days.status, days.operator, days.required, days.actual, days.unit) == (
        "pass",
        ">=",
        365,
        365,
        "days",
    )
    short = run(
        "high_tech", report(**HIGH_TECH_OK), subject=replace(SUBJECT, founded_on=date(2024, 6, 2))
    )
    assert check(short, "registered_days").status == "fail"
    assert check(short, "registered_days").actual == 364


def test_high_tech_registered_days_use_the_shanghai_date():
    subject = replace(SUBJECT, founded_on=date(2024, 6, 1))
    midnight = datetime(2025, 5, 31, 16, 0, tzinfo=UTC)  # 2025-06-01 00:00 in Shanghai
    ok = run("high_tech", report(**HIGH_TECH_OK), subject=subject, reference=midnight)
    assert check(ok, "registered_days").status == "pass"
    before = midnight - timedelta(seconds=1)
    early = run("high_tech", report(**HIGH_TECH_OK), subject=subject, reference=before)
    assert check(early, "registered_days").status == "fail"


def test_high_tech_registered_days_unknown_without_founding_date():
    evaluation = run("high_tech", report(**HIGH_TECH_OK), subject=replace(SUBJECT, founded_on=None))
    assert check(evaluation, "registered_days").status == "unknown"
    assert not evaluation.eligible


@pytest.mark.parametrize(
    ("class1", "class2", "status", "actual"),
    [
        (1, 0, "pass", 1),
        (0, 1, "pass", 1),
        (2, 3, "pass", 5),
        (0, 0, "fail", 0),
        (2, None, "pass", 2),
        (None, 1, "pass", 1),
        (0, None, "unknown", None),
        (None, None, "unknown", None),
    ],
)
def test_high_tech_core_ip(class1, class2, status, actual):
    evaluation = run(
        "high_tech", report(**HIGH_TECH_OK | {"ip_class1": class1, "ip_class2": class2})
    )
    core = check(evaluation, "core_ip")
    assert (core.status, core.actual, core.required, core.unit) == (status, actual, 1, "count")


@pytest.mark.parametrize(
    ("tech_staff", "employees", "status"),
    [
        (10, 100, "pass"),
        (9, 100, "fail"),
        (100_000, 1_000_000, "pass"),
        (99_999, 1_000_000, "fail"),
        (0, 0, "unknown"),
        (None, 100, "unknown"),
    ],
)
def test_high_tech_tech_staff_ratio(tech_staff, employees, status):
    figures = HIGH_TECH_OK | {"tech_staff": tech_staff, "employees": employees}
    assert check(run("high_tech", report(**figures)), "tech_staff_ratio").status == status


@pytest.mark.parametrize(
    ("revenue", "required", "passing_rd"),
    [
        (50_000_000, 5, 2_500_000),
        (50_000_001, 4, 2_000_001),
        (200_000_000, 4, 8_000_000),
        (200_000_001, 3, 6_000_001),
    ],
)
def test_high_tech_rd_revenue_tier_switch(revenue, required, passing_rd):
    figures = HIGH_TECH_OK | {"revenue": revenue, "rd_domestic_expense": 0}
    ok = check(run("high_tech", report(**figures | {"rd_expense": passing_rd})), "rd_revenue_ratio")
    assert (ok.status, ok.required, ok.operator, ok.unit) == ("pass", required, ">=", "percent")
    short = check(
        run("high_tech", report(**figures | {"rd_expense": passing_rd - 1})), "rd_revenue_ratio"
    )
    assert (short.status, short.required) == ("fail", required)


def test_high_tech_rd_revenue_uses_three_year_totals_with_a_missing_year():
    reports = (
        # Outside the window: would pull the ratio below 5 % if it counted.
        report(2021, revenue=1_000_000_000, rd_expense=0, rd_domestic_expense=0),
        report(2022, revenue=60_000_000, rd_expense=4_000_000, rd_domestic_expense=2_000_000),
        # 2023 missing: skipped, not zero.
        report(
            2024,
            **HIGH_TECH_OK
            | {"revenue": 40_000_000, "rd_expense": 1_000_000, "rd_domestic_expense": 1_000_000},
        ),
    )
    evaluation = run("high_tech", *reports)
    ratio = check(evaluation, "rd_revenue_ratio")
    # 5 000 000 / 100 000 000 = 5 %, threshold from 2024's revenue (≤ 50 000 000 → 5 %).
    assert (ratio.status, ratio.actual, ratio.required) == ("pass", 5, 5)
    domestic = check(evaluation, "rd_domestic_ratio")
    assert (domestic.status, domestic.actual) == ("pass", 60)
    # The latest year alone would fail: 2.5 %.
    alone = check(run("high_tech", reports[-1]), "rd_revenue_ratio")
    assert (alone.status, alone.actual) == ("fail", 2.5)


def test_high_tech_three_year_total_unknown_when_a_year_lacks_the_figure():
    reports = (
        report(2023, revenue=60_000_000),
        report(2024, **HIGH_TECH_OK),
    )
    evaluation = run("high_tech", *reports)
    assert check(evaluation, "rd_revenue_ratio").status == "unknown"
    assert check(evaluation, "rd_domestic_ratio").status == "unknown"


@pytest.mark.parametrize(
    ("domestic", "rd", "status"),
    [(600, 1_000, "pass"), (599, 1_000, "fail"), (0, 0, "unknown")],
)
def test_high_tech_rd_domestic_ratio(domestic, rd, status):
    figures = HIGH_TECH_OK | {"rd_domestic_expense": domestic, "rd_expense": rd}
    assert check(run("high_tech", report(**figures)), "rd_domestic_ratio").status == status


@pytest.mark.parametrize(
    ("hightech", "income", "status"),
    [
        (60_000_000, 100_000_000, "pass"),
        (59_999_999, 100_000_000, "fail"),
        (0, 0, "unknown"),
        (None, 100, "unknown"),
    ],
)
def test_high_tech_hightech_income_ratio(hightech, income, status):
    figures = HIGH_TECH_OK | {"hightech_income": hightech, "total_income": income}
    assert check(run("high_tech", report(**figures)), "hightech_income_ratio").status == status


def test_high_tech_innovation_score_is_manual_with_its_threshold():
    score = check(run("high_tech", report(**HIGH_TECH_OK)), "innovation_score")
    assert (score.status, score.operator, score.required, score.unit) == (
        "manual",
        ">",
        70,
        "points",
    )
    tech_field = check(run("high_tech", report(**HIGH_TECH_OK)), "tech_field")
    assert (tech_field.operator, tech_field.required, tech_field.actual) == (None, None, None)


def test_year_limits_the_reports_used():
    reports = (
        report(2022, **HIGH_TECH_OK),
        report(2023, **HIGH_TECH_OK | {"hightech_income": 10}),
        report(2024, **HIGH_TECH_OK),
    )
    assert run("high_tech", *reports).year == 2024
    limited = run("high_tech", *reports, year=2023)
    assert limited.year == 2023
    assert check(limited, "hightech_income_ratio").status == "fail"
    assert run("high_tech", *reports, year=2021).year is None


# --- champion -------------------------------------------------------------------------


def test_champion_all_good_is_eligible_with_srdi_for_review():
    evaluation = run("champion", report(**CHAMPION_OK))
    assert evaluation.eligible
    srdi = check(evaluation, "srdi_score")
    assert (srdi.status, srdi.alternative, srdi.required, srdi.actual) == (
        "manual",
        "direct_route",
        60,
        None,
    )


@pytest.mark.parametrize(
    ("current_rank", "prerequisite_rank", "status"),
    [(None, 1, "fail"), (1, 1, "pass"), (2, 1, "pass"), (3, 3, "pass"), (2, 3, "fail")],
)
def test_prerequisite_by_rank(current_rank, prerequisite_rank, status):
    rule = replace(tier("champion"), prerequisite_rank=prerequisite_rank)
    evaluation = evaluate(
        rule, replace(SUBJECT, current_rank=current_rank), [report(**CHAMPION_OK)], reference=NOW
    )
    prerequisite = check(evaluation, "prerequisite")
    assert (prerequisite.status, prerequisite.required, prerequisite.actual) == (
        status,
        prerequisite_rank,
        current_rank,
    )


def test_navigator_needs_champion_rank():
    below = run("navigator", report(), subject=replace(SUBJECT, current_rank=2))
    assert check(below, "prerequisite").status == "fail"
    at = run("navigator", report(), subject=replace(SUBJECT, current_rank=3))
    assert check(at, "prerequisite").status == "pass"


@pytest.mark.parametrize(
    ("code", "figure", "bar", "unit"),
    [
        ("niche_years", "niche_years", 2, "years"),
        ("rd_expense_min", "rd_expense", 1_000_000, "CNY"),
    ],
)
def test_champion_minimums(code, figure, bar, unit):
    at = check(run("champion", report(**CHAMPION_OK | {figure: bar})), code)
    assert (at.status, at.required, at.unit) == ("pass", bar, unit)
    below = check(run("champion", report(**CHAMPION_OK | {figure: bar - 1})), code)
    assert below.status == "fail"


@pytest.mark.parametrize(
    ("rd", "revenue", "status"),
    [(3, 100, "pass"), (2_999_999, 100_000_000, "fail"), (1_000_000, 0, "unknown")],
)
def test_champion_rd_revenue_ratio_latest_year(rd, revenue, status):
    figures = CHAMPION_OK | {"rd_expense": rd, "revenue": revenue}
    assert check(run("champion", report(**figures)), "rd_revenue_ratio").status == status


def test_champion_low_revenue_goes_to_equity_financing_review():
    at = check(run("champion", report(**CHAMPION_OK)), "revenue_min")
    assert (at.status, at.alternative) == ("pass", None)
    below = check(run("champion", report(**CHAMPION_OK | {"revenue": 9_999_999})), "revenue_min")
    assert (below.status, below.alternative, below.actual) == (
        "manual",
        "equity_financing",
        9_999_999,
    )
    missing = check(run("champion", report(**CHAMPION_OK | {"revenue": None})), "revenue_min")
    assert (missing.status, missing.alternative) == ("unknown", None)


def test_champion_shows_global_market_rank_as_info_not_a_check():
    evaluation = run("champion", report(**CHAMPION_OK | {"global_market_rank": 2}))
    assert evaluation.info == {"global_market_rank": 2}
    assert "global_market_rank" not in {c.code for c in evaluation.checks}
    assert evaluation.to_dict()["info"] == {"global_market_rank": 2}
    assert "info" not in run("navigator", report()).to_dict()


def test_champion_score_is_the_part_computable_from_figures():
    evaluation = run("champion", report(**CHAMPION_OK))
    assert evaluation.score is not None
    assert [(p.code, p.points, p.max) for p in evaluation.score.parts] == [
        ("main_business_share", 5, 5),
        ("niche_years", 1, 5),
        ("debt_ratio", 5, 5),
        ("rd_investment", 10, 10),  # 1 000 000 is only 2 points, but 10 % of revenue is 10
        ("rd_staff_ratio", 5, 5),
    ]
    assert (evaluation.score.total, evaluation.score.pass_mark) == (26, 60)
    partial = run("champion", report(**CHAMPION_OK | {"debt_ratio": None}))
    assert partial.score is not None and partial.score.total is None
    assert check(partial, "srdi_score").status == "manual"


@pytest.mark.parametrize(
    ("debt_ratio", "expected"),
    [
        (Decimal("49.99"), 5),
        (50, 5),  # "50 %以下" includes 50 %
        (Decimal("50.01"), 3),
        (59.99, 3),
        (Decimal("60.00"), 3),
        (60.01, 1),
        (70, 1),
        (Decimal("70.01"), 0),
    ],
)
def test_champion_score_debt_ratio_bands_from_decimal_and_float(debt_ratio, expected):
    evaluation = run("champion", report(**CHAMPION_OK | {"debt_ratio": debt_ratio}))
    assert points(evaluation)["debt_ratio"] == expected


@pytest.mark.parametrize(
    ("rd", "revenue", "expected"),
    [
        (5_000_000, 10**12, 10),
        (4_999_999, 10**12, 8),
        (1_000_000, 10_000_000, 10),
        (999_999, 10**12, 0),
    ],
)
def test_champion_score_rd_takes_amount_or_ratio(rd, revenue, expected):
    evaluation = run("champion", report(**CHAMPION_OK | {"rd_expense": rd, "revenue": revenue}))
    assert points(evaluation)["rd_investment"] == expected


# --- navigator and chain_leader --------------------------------------------------------


def test_navigator_revenue_and_rd():
    ok = {"revenue": 1_000_000_000, "rd_expense": 30_000_000}
    evaluation = run("navigator", report(**ok), subject=replace(SUBJECT, current_rank=3))
    assert evaluation.eligible
    assert check(evaluation, "revenue_min").required == 1_000_000_000
    low = run("navigator", report(**ok | {"revenue": 999_999_999}))
    assert check(low, "revenue_min").status == "fail"
    thin = run("navigator", report(**ok | {"rd_expense": 29_999_999}))
    assert check(thin, "rd_revenue_ratio").status == "fail"


@pytest.mark.parametrize(
    ("group", "revenue", "status", "required"),
    [
        ("advantage", 5_000_000_000, "pass", 5_000_000_000),
        ("advantage", 4_999_999_999, "fail", 5_000_000_000),
        ("growth", 1_000_000_000, "pass", 1_000_000_000),
        ("growth", 999_999_999, "fail", 1_000_000_000),
        ("future", 1_000_000_000, "pass", 1_000_000_000),
        (None, 10**12, "unknown", None),
    ],
)
def test_chain_leader_revenue_by_industry_group(group, revenue, status, required):
    subject = replace(SUBJECT, industry_group=group, current_rank=3)
    figures = {"revenue": revenue, "rd_expense": revenue // 10}
    evaluation = run("chain_leader", report(**figures), subject=subject)
    revenue_min = check(evaluation, "revenue_min")
    assert (revenue_min.status, revenue_min.required, revenue_min.actual) == (
        status,
        required,
        revenue,
    )
    assert evaluation.eligible is (status == "pass")


def test_percent_threshold_as_decimal_string_is_exact():
    rule = tier("navigator", rd_revenue_ratio_min="2.5")

    def ratio(rd: int, revenue: int) -> Check:
        figures = report(revenue=revenue, rd_expense=rd)
        return check(evaluate(rule, SUBJECT, [figures], reference=NOW), "rd_revenue_ratio")

    assert ratio(25, 1_000).status == "pass"
    assert ratio(2_499_999, 100_000_000).status == "fail"
    assert ratio(25, 1_000).required == 2.5


# --- labels and shape -------------------------------------------------------------------


def test_labels_in_both_languages_for_every_code():
    every = TSME_OK | HIGH_TECH_OK | CHAMPION_OK
    for code in TIERS:
        zh = run(code, report(**every))
        en = run(code, report(**every), lang="en")
        other = run(code, report(**every), lang="fr")
        for c_zh, c_en, c_other in zip(zh.checks, en.checks, other.checks, strict=True):
            assert c_zh.label == LABELS[c_zh.code][0] != ""
            assert c_en.label == LABELS[c_en.code][1] != ""
            assert c_other.label == c_zh.label
        codes = [p.code for p in zh.score.parts] if zh.score else []
        for part in codes:
            assert label(part, "zh") and label(part, "en")
    for alternative in ("direct_pass", "equity_financing", "direct_route", "global_market_rank"):
        assert label(alternative) != label(alternative, "en")
    assert label("tsme_score", "en") == "Tech-based SME evaluation score"
    assert label("tsme_score") == "科技型中小企业评价得分"


def test_to_dict_has_the_api_shape():
    reference = datetime(2025, 6, 1, 12, 0, 5, 987_654, tzinfo=timezone(timedelta(hours=8)))
    figures = TSME_OK | {"tech_staff": 1, "employees": 3, "rd_expense": 2, "revenue": 3}
    data = run("tech_sme", report(**figures), reference=reference).to_dict()
    assert list(data) == [
        "tier",
        "year",
        "evaluated_at",
        "eligible",
        "checks",
        "score",
        "route",
        "criteria_version",
    ]
    assert (data["tier"], data["year"], data["evaluated_at"]) == (
        "tech_sme",
        2024,
        "2025-06-01T04:00:05Z",
    )
    assert data["eligible"] is True
    assert data["checks"][0] == {
        "code": "employees_max",
        "label": "职工总数",
        "status": "pass",
        "operator": "<=",
        "required": 500,
        "actual": 3,
        "unit": "person",
        "alternative": None,
    }
    assert [c["code"] for c in data["checks"]][-1] == "tsme_score"
    assert data["score"] == {
        "total": 100,
        "pass_mark": 60,
        "parts": [
            {"code": "staff", "points": 20, "max": 20},
            {"code": "rd", "points": 50, "max": 50},
            {"code": "ip", "points": 30, "max": 30},
        ],
    }
    assert json.loads(json.dumps(data)) == data


def test_to_dict_rounds_ratios_toward_the_failing_side_for_display_only():
    figures = HIGH_TECH_OK | {
        "tech_staff": 1,
        "employees": 3,
        "hightech_income": 2,
        "total_income": 3,
    }
    data = run("high_tech", report(**figures)).to_dict()
    by_code = {c["code"]: c for c in data["checks"]}
    assert by_code["tech_staff_ratio"]["actual"] == 33.33
    assert by_code["hightech_income_ratio"]["actual"] == 66.66  # 66.666… against ≥ 60 %
    assert by_code["rd_revenue_ratio"]["actual"] == 4
    assert data["score"] is None
    # 59.999999 % is short of 60 % and shows so; the verdict is the exact comparison.
    figures = HIGH_TECH_OK | {"hightech_income": 59_999_999, "total_income": 100_000_000}
    shown = check(run("high_tech", report(**figures)), "hightech_income_ratio")
    assert (shown.status, shown.actual) == ("fail", 59.99)
    figures = HIGH_TECH_OK | {"hightech_income": 60_000_000, "total_income": 100_000_000}
    shown = check(run("high_tech", report(**figures)), "hightech_income_ratio")
    assert (shown.status, shown.actual) == ("pass", 60)


@pytest.mark.parametrize(
    ("value", "op", "expected"),
    [
        # "≥ X": round down, so a figure short of X never shows as X.
        (Fraction(299_999_997, 100_000_000), ">=", 2.99),
        (Fraction(3), ">=", 3),
        (Fraction(300_001, 100_000), ">=", 3),
        (Fraction(2, 3) * 100, ">=", 66.66),
        (Fraction(-1, 1000), ">=", -0.01),
        # "≤ X": round up, so a figure over X never shows as X.
        (Fraction(50_004, 1000), "<=", 50.01),
        (Fraction(50), "<=", 50),
        (Fraction(49_999, 1000), "<=", 50),
        (Fraction(1, 3) * 100, "<=", 33.34),
        # No comparison: half up, as before.
        (Fraction(2, 3) * 100, None, 66.67),
        (None, ">=", None),
    ],
)
def test_as_read_rounds_toward_the_failing_side(value, op, expected):
    shown = as_read(value, op)
    assert shown == expected
    assert type(shown) is type(expected)


@pytest.mark.parametrize(
    ("op", "actual", "status", "shown"),
    [
        (">=", Fraction(299_999_997, 100_000_000), "fail", 2.99),
        (">=", Fraction(3), "pass", 3),
        ("<=", Fraction(50_004, 1000), "fail", 50.01),
        ("<=", Fraction(50), "pass", 50),
    ],
)
def test_a_check_at_its_bound_shows_the_side_it_falls_on(op, actual, status, shown):
    facts = Facts(
        tier=tier("champion"),
        subject=SUBJECT,
        latest=None,
        window=(),
        today=NOW.date(),
        label=lambda code: code,
    )
    bound = Fraction(3) if op == ">=" else Fraction(50)
    result = compared(facts, "rd_revenue_ratio", op, actual, bound, "percent")
    assert (result.status, result.actual, result.required) == (status, shown, int(bound))


def test_reference_must_be_aware_and_tier_known():
    with pytest.raises(ValueError, match="aware"):
        evaluate(tier("tech_sme"), SUBJECT, [], reference=datetime(2025, 6, 1))
    with pytest.raises(ValueError, match="no eligibility rules"):
        evaluate(replace(tier("tech_sme"), code="unicorn"), SUBJECT, [], reference=NOW)


def test_report_factory_covers_every_api_figure():
    names = {f.name for f in fields(Figures)} - {"year"}
    assert len(names) == 21
