"""The reviewers' side of the champion rung's routes: a nomination names its route, and
the snapshot of a single-champion application says its rules in words in both
languages."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from registry.applications import operations as apps
from registry.applications.models import Application
from registry.ladder import operations as ladder
from tests.applications import test_review as review
from tests.applications.test_review import eligibility_section, text
from tests.factories import TEST_ACTOR

# The reviewers' world of test_review: its fixtures, used here by name.
fixed_clock = review.fixed_clock
world = review.world


def test_a_champion_nomination_names_its_route(session, make, world):
    enterprise = make.enterprise(name="单项冠军候选", founded_on=date(2005, 1, 1))
    session.commit()
    wang = world["clients"]["wang"]
    form = text(wang.get("/review/nominate?lang=en"))
    assert 'value="champion:srdi"' in form and 'value="champion:single_champion"' in form
    assert 'value="champion"' not in form and 'value="tech_sme"' in form
    unknown = wang.post(
        "/review/nominate?lang=en", data={"uscc": enterprise.uscc, "tier": "champion:gold"}
    )
    assert unknown.status_code == 422 and "Unknown tier" in text(unknown)
    response = wang.post(
        "/review/nominate", data={"uscc": enterprise.uscc, "tier": "champion:single_champion"}
    )
    assert response.status_code == 303
    application = session.scalars(
        select(Application).where(Application.enterprise_id == enterprise.id)
    ).one()
    assert (application.tier, application.route) == ("champion", "single_champion")


def test_the_single_champion_snapshot_says_its_rules_in_words(session, world):
    ladder.grant_tier(session, world["a"], "tech_sme", actor=TEST_ACTOR, reason="held")
    latest = max(world["a"].reports, key=lambda r: r.year)
    latest.global_market_rank, latest.years_in_field = 2, 7
    session.commit()
    application = apps.create(
        session,
        world["a"],
        "champion",
        "promotion",
        user=world["owner"],
        via="web",
        route="single_champion",
    )
    session.commit()
    client = world["clients"]["wang"]
    # Not submitted: the average main-business revenue is unknown without the shares.
    assert application.eligibility is None
    latest.main_business_share = 100
    for report in world["a"].reports:
        report.main_business_share = 100
        report.revenue = report.total_income = 500_000_000
    session.commit()
    apps.submit(session, application, user=world["owner"], via="web", declaration=True)
    session.commit()
    en = eligibility_section(client, application, "en")
    assert "Among the top 3 in the world Rank 2: the reviewer confirms it" in en
    assert "At least 10 years, or 5 years for a new product" in en
    assert "7 years: the reviewer checks it is a new product" in en
    assert "≥ 40,000 × 10,000 yuan, or 20,000 × 10,000 yuan for a provincial" in en
    zh = eligibility_section(client, application, "zh")
    assert "全球前 3 位 第 2 位：由评审人员核实" in zh
    assert "不少于 10 年，新产品不少于 5 年" in zh
    assert re.findall(r"[A-Za-z]{2,}", zh) == []
