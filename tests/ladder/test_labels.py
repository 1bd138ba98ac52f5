"""The words of the eligibility checks on pages (registry.ladder.labels.check_words):
what each rule asks and what was found, the route a score-or-route rule took, in both
languages (DOMAIN.md "Tier criteria")."""

from __future__ import annotations

import pytest
from flask_babel import refresh

from registry.ladder.labels import check_words

RANKS = {
    "en": {1: "Technology-based SME", 2: "High-tech enterprise", 3: "Specialised champion"},
    "zh": {1: "科技型中小企业", 2: "高新技术企业", 3: "单项冠军企业和“专精特新”中小企业"},
}


@pytest.fixture
def words(app):
    def say(check, lang="en", *, tier="champion", score=None, criteria=None):
        full = {"operator": ">=", "required": None, "actual": None, "unit": None, **check}
        full.setdefault("alternative", None)
        with app.test_request_context(f"/?lang={lang}"):
            refresh()  # the locale is chosen per request; the app context outlives one
            said = check_words(
                full, tier=tier, score=score, rank_names=RANKS[lang], criteria=criteria
            )
        return said.required, said.actual

    return say


def test_a_prerequisite_names_the_rungs(words):
    passed = {"code": "prerequisite", "status": "pass", "required": 1, "actual": 2}
    assert words(passed) == (
        "Holds Technology-based SME or a higher rung",
        "Yes: holds High-tech enterprise",
    )
    assert words(passed, "zh") == ("已认定为科技型中小企业或更高梯度", "是：现为高新技术企业")
    lower = {"code": "prerequisite", "status": "fail", "required": 3, "actual": 2}
    assert words(lower, tier="navigator")[1] == "No: holds High-tech enterprise"
    off = {"code": "prerequisite", "status": "fail", "required": 1, "actual": None}
    assert words(off, "zh")[1] == "否：未列入梯度"


def tsme_score(total, staff):
    parts = [{"code": "staff", "points": staff, "max": 20}]
    return {"total": total, "pass_mark": 60, "parts": parts}


def test_the_tech_sme_score_says_which_route_is_left(words):
    check = {"code": "tsme_score", "required": 60, "unit": "points"}
    rule = "At least 60 of 100 points with technical staff points above 0, or a direct pass"
    below = words(
        {**check, "status": "manual", "actual": 45, "alternative": "direct_pass"},
        tier="tech_sme",
        score=tsme_score(45, 8),
    )
    assert below == (rule, "45 points, below 60: the reviewer judges the direct pass")
    no_staff = words(
        {**check, "status": "manual", "actual": 80, "alternative": "direct_pass"},
        "zh",
        tier="tech_sme",
        score=tsme_score(80, 0),
    )
    assert (
        no_staff[1] == "科技人员指标未得分，不能按评价得分认定：由审核人员判定是否符合直接认定条件"
    )
    unknown = words({**check, "status": "unknown"}, tier="tech_sme", score=tsme_score(None, 8))
    assert unknown == (rule, "")


def test_the_champion_revenue_rule_names_its_equity_route(words):
    criteria = {"revenue_min": 10_000_000, "equity_financing_alternative": 20_000_000}
    check = {
        "code": "revenue_min",
        "status": "manual",
        "required": 10_000_000,
        "actual": 8_000_000,
        "unit": "CNY",
        "alternative": "equity_financing",
    }
    assert words(check, criteria=criteria) == (
        "≥ 1,000 × 10,000 yuan, or new equity financing of at least 2,000 × 10,000 yuan"
        " in two years",
        "800 × 10,000 yuan, below the threshold: the reviewer checks the equity financing",
    )
    assert words(check, "zh", criteria=criteria) == (
        "≥ 1,000 万元，或近两年新增股权融资不少于 2,000 万元",
        "800 万元，未达到：由审核人员核查股权融资情况",
    )
    # A navigator's revenue rule has no other route: a plain figure check.
    plain = {**check, "status": "pass", "actual": 2_000_000_000, "alternative": None}
    assert words(plain, tier="navigator", criteria=criteria) == (
        "≥ 1,000 × 10,000 yuan",
        "200,000 × 10,000 yuan",
    )


def test_the_srdi_score_is_the_reviewers_with_the_figures_points_for_information(words):
    check = {"code": "srdi_score", "status": "manual", "required": 60, "unit": "points"}
    score = {
        "total": 25,
        "pass_mark": 60,
        "parts": [{"code": "rd_investment", "points": 10, "max": 10}] * 2
        + [{"code": "niche_years", "points": 5, "max": 10}],
    }
    assert words(check, score=score) == (
        "An SRDI score of at least 60 of 100, or a direct route",
        "The reviewer judges the score or the direct route; "
        "the recorded figures give 25 of the 30 points they can decide",
    )
    assert words(check, "zh", score=None)[1] == "由审核人员按评价得分或直通条件判定"
