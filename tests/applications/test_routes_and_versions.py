"""The champion rung's routes and the criteria versions at the operations layer and in
the API: a submission keeps the version it was judged by when a new one is seeded, a
resubmission is judged on its own date, an admin's threshold edit is a new version that
day, and a grant records its route and the reviewers' "little giant" confirmation on
the published list."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from registry import seeding
from registry.applications import decisions, notice_ends
from registry.applications import operations as apps
from registry.applications.models import State
from registry.core import clock
from registry.core.errors import NotEligible, ValidationFailed
from registry.core.models import AuditEntry
from registry.ladder import criteria_versions, listing, queries
from registry.ladder import operations as ladder
from registry.ladder.models import CriteriaVersion
from registry.ladder.settings import edit_thresholds
from tests.factories import TEST_ACTOR
from tests.fixtures.api import API, refused_fields

NOW = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)  # Wed 2026-03-04 in Shanghai
SRDI_CONFIRMED = {"srdi_score": True}
SINGLE_CONFIRMED = {"manufacturing": True, "global_market_rank": True, "years_in_field": True}


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.pinned(NOW):
        yield


def champion_draft(session, world, route=None):
    ladder.grant_tier(session, world["enterprise"], "tech_sme", actor=TEST_ACTOR, reason="x")
    return apps.create(
        session,
        world["enterprise"],
        "champion",
        "promotion",
        user=world["owner"],
        via="web",
        route=route,
    )


def submit(session, world, application):
    return apps.submit(session, application, user=world["owner"], via="web", declaration=True)


def approve(session, application, reviewer, confirmed):
    return decisions.decide(
        session, application, "approve", user=reviewer, via="web", manual_checks=confirmed
    )


def seeds_with(tmp_path: Path, version: dict) -> Path:
    """The shipped seeds with one more champion version."""
    directory = tmp_path / "seeds"
    shutil.copytree(seeding.SEEDS, directory)
    path = directory / "criteria.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["champion"]["versions"].append(version)
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return directory


def test_the_seed_refuses_a_tier_without_versions_and_loads_nothing(app, session, tmp_path):
    directory = seeds_with(tmp_path, {"effective_from": "2026-03-04", "niche_years_min": 3})
    path = directory / "criteria.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["navigator"]
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(seeding.SeedError, match="no versions for the tiers navigator"):
        seeding.seed(session, directory=directory)
    session.rollback()
    assert len(criteria_versions.versions(session, "champion")) == 2
    result = app.test_cli_runner().invoke(args=["registry", "seed"], env={})
    assert result.exit_code == 0  # the shipped seeds are whole


def test_the_version_in_force_on_a_date(session):
    def version_on(day):
        return criteria_versions.in_force(session, "champion", day).effective_from

    assert version_on(date(2023, 9, 13)) == date(2022, 8, 1)
    assert version_on(date(2023, 9, 14)) == date(2023, 9, 14)
    assert version_on(date(2026, 3, 4)) == date(2023, 9, 14)
    assert version_on(date(2020, 1, 1)) == date(2022, 8, 1)  # before the first: the first
    assert [v.effective_from for v in criteria_versions.versions(session, "champion")] == [
        date(2023, 9, 14),
        date(2022, 8, 1),
    ]


def test_a_submission_keeps_its_version_when_a_new_one_is_seeded(session, world, tmp_path):
    application = submit(session, world, champion_draft(session, world))
    snapshot = dict(application.eligibility)
    assert (snapshot["route"], snapshot["criteria_version"]) == ("srdi", "2023-09-14")
    assert snapshot["eligible"] is True
    session.commit()

    # The rules change from today: five years in the niche are no longer enough.
    stricter = {"effective_from": "2026-03-04", "_basis": "a stricter rule", "niche_years_min": 20}
    report = seeding.seed(session, directory=seeds_with(tmp_path, stricter))
    assert report.inserted == {"criteria versions": 1}
    session.commit()
    created = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "criteria.create")
    ).all()[-1]
    assert created.changes == {"effective_from": [None, "2026-03-04"]}

    session.refresh(application)
    assert application.eligibility == snapshot  # never re-judged
    assert application.criteria["niche_years_min"] == 2  # the thresholds it was judged by
    today = queries.evaluate_enterprise(session, world["enterprise"], "champion", reference=NOW)
    assert today.criteria_version == date(2026, 3, 4) and not today.eligible
    niche = next(c for c in today.checks if c.code == "niche_years")
    assert (niche.status, niche.required) == ("fail", 20)

    # A resubmission after changes is judged on its own date, by the new version.
    apps.claim(session, application, user=world["reviewer"], via="web")
    decisions.decide(
        session, application, "request_changes", user=world["reviewer"], via="web", comment="年报"
    )
    with pytest.raises(NotEligible):
        submit(session, world, application)
    # The seed run again changes nothing.
    assert not seeding.seed(session, directory=seeds_with(tmp_path / "again", stricter)).changed


def test_the_single_champion_route_is_judged_by_its_own_rules(session, world):
    (figures,) = world["enterprise"].reports
    figures.global_market_rank, figures.years_in_field = 2, 6
    figures.revenue, figures.total_income, figures.main_business_share = (
        500_000_000,
        520_000_000,
        90,
    )
    session.flush()
    application = submit(session, world, champion_draft(session, world, "single_champion"))
    checks = {c["code"]: c for c in application.eligibility["checks"]}
    assert application.route == "single_champion" == application.eligibility["route"]
    assert checks["years_in_field"]["alternative"] == "new_product"
    assert checks["main_revenue_avg"]["status"] == "pass"
    apps.claim(session, application, user=world["reviewer"], via="web")
    approve(session, application, world["reviewer"], SINGLE_CONFIRMED | {"new_product": True})
    approve(session, application, world["second"], SINGLE_CONFIRMED)
    assert application.state == State.IN_NOTICE
    notice_ends.end_notice(session, application.id, datetime(2026, 3, 20, tzinfo=UTC))
    enterprise = world["enterprise"]
    assert (enterprise.tier, enterprise.tier_route, enterprise.little_giant) == (
        "champion",
        "single_champion",
        False,
    )


@pytest.mark.parametrize(("second_confirms", "expected"), [(True, True), (False, False)])
def test_little_giant_is_recorded_when_every_approver_confirms_it(
    session, world, second_confirms, expected
):
    application = submit(session, world, champion_draft(session, world))
    apps.claim(session, application, user=world["reviewer"], via="web")
    approve(session, application, world["reviewer"], SRDI_CONFIRMED | {"little_giant": True})
    second = SRDI_CONFIRMED | ({"little_giant": True} if second_confirms else {})
    approve(session, application, world["second"], second)
    notice_ends.end_notice(session, application.id, datetime(2026, 3, 20, tzinfo=UTC))
    session.commit()
    enterprise = world["enterprise"]
    assert (enterprise.tier_route, enterprise.little_giant) == ("srdi", expected)
    (row,) = listing.published_rows(session, "champion", limit=10)
    assert (row.uscc, row.route, row.little_giant) == (enterprise.uscc, "srdi", expected)
    # A demotion drops both with the rung.
    ladder.demote(session, enterprise, "tech_sme", actor=TEST_ACTOR, reason="figures fell")
    assert (enterprise.tier_route, enterprise.little_giant) == (None, False)


def test_an_admin_threshold_edit_is_a_new_version_from_that_day(session, world):
    changed = edit_thresholds(
        session,
        "champion",
        {"niche_years_min": 3, "single_champion.new_product_years_min": 4},
        actor=TEST_ACTOR,
        reason="省厅通知",
    )
    assert changed == {
        "niche_years_min": [2, 3],
        "single_champion.new_product_years_min": [5, 4],
    }
    version = criteria_versions.in_force(session, "champion", date(2026, 3, 4))
    assert (version.effective_from, version.basis) == (date(2026, 3, 4), "省厅通知")
    assert version.edited_at is not None
    assert version.criteria["niche_years_min"] == 3
    assert version.criteria["single_champion"]["new_product_years_min"] == 4
    assert version.criteria["single_champion"]["years_in_field_min"] == 10  # kept
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "criteria.edit")).one()
    assert entry.changes["effective_from"] == ["2023-09-14", "2026-03-04"]
    assert entry.reason == "省厅通知"
    # A second edit the same day amends that day's version.
    edit_thresholds(session, "champion", {"niche_years_min": 4}, actor=TEST_ACTOR, reason="更正")
    count = session.scalars(select(CriteriaVersion).where(CriteriaVersion.tier == "champion"))
    assert len(count.all()) == 3
    # The seed leaves an admin's version alone.
    seeding.seed(session)
    assert (
        criteria_versions.in_force(session, "champion", date(2026, 3, 4)).criteria[
            "niche_years_min"
        ]
        == 4
    )


def test_an_amendment_the_same_day_leaves_a_submission_its_thresholds(session, world):
    edit_thresholds(session, "champion", {"rd_expense_min": 900_000}, actor=TEST_ACTOR, reason="a")
    application = submit(session, world, champion_draft(session, world))
    assert application.eligibility["criteria_version"] == "2026-03-04"
    edit_thresholds(session, "champion", {"rd_expense_min": 800_000}, actor=TEST_ACTOR, reason="b")
    assert (
        criteria_versions.in_force(session, "champion", date(2026, 3, 4)).criteria["rd_expense_min"]
        == 800_000
    )
    assert application.criteria["rd_expense_min"] == 900_000
    assert criteria_versions.of_snapshot(session, application)["rd_expense_min"] == 900_000
    rd = next(c for c in application.eligibility["checks"] if c["code"] == "rd_expense_min")
    assert rd["required"] == 900_000


def test_threshold_edit_refusals_name_every_wrong_value(session):
    with pytest.raises(ValidationFailed) as refused:
        edit_thresholds(
            session,
            "champion",
            {"niche_years_min": -1, "rd_expense_min": "many", "revenue_min": 10**13},
            actor=TEST_ACTOR,
            reason="x",
        )
    assert sorted(e["field"] for e in refused.value.errors) == [
        "niche_years_min",
        "rd_expense_min",
        "revenue_min",
    ]
    with pytest.raises(ValidationFailed):
        edit_thresholds(session, "champion", {"srdi_bands": 1}, actor=TEST_ACTOR, reason="x")
    assert (
        edit_thresholds(session, "champion", {"niche_years_min": 2}, actor=TEST_ACTOR, reason="")
        == {}
    )
    assert len(criteria_versions.versions(session, "champion")) == 2


# --- the API --------------------------------------------------------------------------------


def test_api_eligibility_by_route_and_applications_with_a_route(api_client, session, api_world):
    client, world = api_client, api_world
    ladder.grant_tier(session, world.a, "tech_sme", actor=TEST_ACTOR, reason="x")
    session.commit()
    owner = world.headers["owner"]
    path = f"{API}/enterprises/{world.a.uscc}/eligibility?tier=champion"
    default = client.get(path, headers=owner).json
    assert (default["route"], default["criteria_version"]) == ("srdi", "2023-09-14")
    single = client.get(f"{path}&route=single_champion", headers=owner).json
    assert single["route"] == "single_champion"
    assert "years_in_field" in {c["code"] for c in single["checks"]}
    assert refused_fields(client.get(f"{path}&route=gold", headers=owner)) == [
        ("route", "invalid_choice")
    ]
    other = client.get(
        f"{API}/enterprises/{world.a.uscc}/eligibility?tier=high_tech", headers=owner
    )
    assert other.json["route"] is None and other.json["criteria_version"] == "2016-01-01"

    created = client.post(
        f"{API}/applications",
        json={"tier": "champion", "kind": "promotion", "route": "single_champion"},
        headers=owner,
    )
    assert created.status_code == 201 and created.json["route"] == "single_champion"
    # A draft changes its route (If-Match); the submission is judged by it.
    path_ = f"{API}/applications/{created.json['id']}"
    changed = client.patch(
        path_, json={"route": "srdi"}, headers={**owner, "If-Match": created.headers["ETag"]}
    )
    assert changed.status_code == 200 and changed.json["route"] == "srdi"
    submitted = client.post(f"{path_}/submit", json={"declaration": True}, headers=owner)
    assert submitted.status_code == 200, submitted.json
    snapshot = submitted.json["eligibility"]
    assert (snapshot["route"], snapshot["criteria_version"]) == ("srdi", "2023-09-14")
    bad = client.post(
        f"{API}/applications",
        json={"tier": "champion", "kind": "promotion", "route": "gold"},
        headers=world.headers["other"],
    )
    assert refused_fields(bad) == [("route", "invalid_choice")]
    tech = client.post(
        f"{API}/applications",
        json={"tier": "high_tech", "kind": "promotion"},
        headers=world.headers["other"],
    )
    assert tech.status_code == 201 and tech.json["route"] is None
