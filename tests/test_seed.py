"""``flask registry seed``: loads seeds/ once, changes nothing when run again, keeps an
admin's edits unless ``--force`` (PRODUCT.md "The ladder", "Operation")."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import delete, func, select

from registry.core.models import AuditEntry, ChangeLogEntry
from registry.enterprises.models import City, Industry
from registry.ladder import operations as ladder
from registry.ladder.models import CalendarDay, CalendarYear, CriteriaVersion, PlanSettings, Tier
from registry.ladder.settings import set_plan_period_end
from registry.reports.models import PlanTarget
from tests.factories import TEST_ACTOR

SEEDED = (City, Industry, Tier, CalendarYear, CalendarDay, PlanTarget, PlanSettings)


def seed(runner, *args: str):
    result = runner.invoke(args=["registry", "seed", *args])
    assert result.exit_code == 0, result.output
    return result


def snapshot(session) -> dict:
    """Row counts and the tier settings: what a seed run could change."""
    session.expire_all()
    counts = {
        model.__tablename__: session.scalar(select(func.count()).select_from(model))
        for model in (*SEEDED, AuditEntry, ChangeLogEntry)
    }
    tiers = {
        t.code: (t.quota, t.validity, t.notice_days, t.approvals_required, t.edited_at)
        for t in session.scalars(select(Tier))
    }
    return {"counts": counts, "tiers": tiers}


def empty_seeded_tables(session) -> None:
    session.execute(delete(CalendarDay))
    session.execute(delete(CalendarYear))
    session.execute(delete(CriteriaVersion))
    session.execute(delete(Tier))
    session.execute(delete(PlanTarget))
    session.execute(delete(PlanSettings))
    session.execute(delete(Industry))
    session.execute(delete(City))
    session.execute(delete(AuditEntry))
    session.commit()


def test_first_run_loads_everything_and_the_second_changes_nothing(runner, session):
    empty_seeded_tables(session)

    first = seed(runner)
    for line in (
        "inserted 11 cities",
        "inserted 15 industries",
        "inserted 5 tiers",
        "inserted 6 calendar years",
        "inserted 7 plan targets",
        "inserted 1 plan settings",
    ):
        assert line in first.stdout
    after_first = snapshot(session)
    # One tier_settings.create per tier, one criteria.create per criteria version.
    assert after_first["counts"]["audit_log"] == 5 + 6

    second = seed(runner)
    assert second.stdout.strip() == "Seed data already loaded; nothing changed."
    assert snapshot(session) == after_first


def test_seed_on_the_seeded_test_database_changes_nothing(runner, session):
    before = snapshot(session)
    assert "nothing changed" in seed(runner).stdout
    assert snapshot(session) == before


def test_admin_quota_edit_is_kept_by_seed_and_overwritten_by_force(runner, session):
    ladder.set_quota(session, "champion", 120, actor=TEST_ACTOR, reason="provincial decision")
    session.commit()
    edited = snapshot(session)

    kept = seed(runner)
    assert "kept admin-edited settings of champion (use --force to overwrite)" in kept.stdout
    assert snapshot(session) == edited
    assert session.get(Tier, "champion").quota == 120

    forced = seed(runner, "--force")
    assert "updated 1 tiers" in forced.stdout
    session.expire_all()
    champion = session.get(Tier, "champion")
    assert champion.quota == 100 and champion.edited_at is None
    entry = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "tier_settings.update")
        .order_by(AuditEntry.id.desc())
    ).first()
    assert entry.object_id == "champion"
    assert entry.changes == {"quota": [120, 100]}
    assert entry.reason == "seed --force"
    assert entry.via == "cli"
    # The other tiers were not edited and stay as they were.
    others = {k: v for k, v in snapshot(session)["tiers"].items() if k != "champion"}
    assert others == {k: v for k, v in edited["tiers"].items() if k != "champion"}

    assert "nothing changed" in seed(runner).stdout


def test_the_plans_period_ends_with_2025_and_an_admins_day_is_kept_unless_forced(runner, session):
    assert session.get_one(PlanSettings, 1).plan_period_end == date(2025, 12, 31)
    set_plan_period_end(session, "2026-06-30", actor=TEST_ACTOR, reason="extended")
    session.commit()

    kept = seed(runner)
    assert "kept admin-edited settings of plan (use --force to overwrite)" in kept.stdout
    session.expire_all()
    assert session.get_one(PlanSettings, 1).plan_period_end == date(2026, 6, 30)

    forced = seed(runner, "--force")
    assert "updated 1 plan settings" in forced.stdout
    session.expire_all()
    settings = session.get_one(PlanSettings, 1)
    assert (settings.plan_period_end, settings.edited_at) == (date(2025, 12, 31), None)
    entry = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "plan.update").order_by(AuditEntry.id)
    ).all()[-1]
    assert (entry.changes, entry.reason) == (
        {"plan_period_end": ["2026-06-30", "2025-12-31"]},
        "seed --force",
    )
    assert "nothing changed" in seed(runner).stdout


@pytest.mark.parametrize(
    ("code", "rank", "quota", "validity", "notice", "approvals", "self_apply", "prereq", "prefix"),
    [
        ("tech_sme", 1, 5000, "calendar_year", 10, 1, True, None, "JX-TS"),
        ("high_tech", 2, 3000, "3", 10, 1, True, None, "JX-HT"),
        ("champion", 3, 100, "3", 5, 2, True, "tech_sme", "JX-CH"),
        ("navigator", 4, 15, "3", 5, 2, False, "champion", "JX-NV"),
        ("chain_leader", 5, 8, "3", 5, 2, False, "champion", "JX-CL"),
    ],
)
def test_tier_settings_follow_the_plan(
    session, code, rank, quota, validity, notice, approvals, self_apply, prereq, prefix
):
    tier = session.get(Tier, code)
    assert tier.rank == rank
    assert tier.quota == quota
    assert tier.validity == validity
    assert tier.notice_days == notice
    assert tier.approvals_required == approvals
    assert tier.self_apply is self_apply
    assert tier.prerequisite == prereq
    assert tier.registration_pattern == prefix + "-{year}-{seq:05d}"
    assert tier.name_zh and tier.name_en
    assert tier.edited_at is None


def test_prerequisites_rank_lower(session):
    tiers = {t.code: t for t in session.scalars(select(Tier))}
    assert len(tiers) == 5
    for tier in tiers.values():
        if tier.prerequisite is not None:
            assert tiers[tier.prerequisite].rank < tier.rank


def test_cities_industries_and_calendar(session):
    cities = session.scalars(select(City.code).order_by(City.code)).all()
    assert cities == [f"36{n:02d}00" for n in range(1, 12)]
    assert session.get(City, "360100").name_zh == "南昌市"

    groups: dict[str, int] = {}
    for industry in session.scalars(select(Industry)):
        groups[industry.group] = groups.get(industry.group, 0) + 1
    assert groups == {"advantage": 6, "growth": 4, "future": 5}
    positions = session.scalars(select(Industry.position).order_by(Industry.position)).all()
    assert positions == list(range(15))

    years = session.scalars(select(CalendarYear.year).order_by(CalendarYear.year)).all()
    assert years == list(range(2022, 2028))
    # The 2025 Spring Festival (PRODUCT.md "Dates, times and working days"): holidays 01-28 …
    # 02-04, make-up working days Sunday 01-26 and Saturday 02-08.
    assert session.get(CalendarDay, date(2025, 1, 28)).kind == "holiday"
    assert session.get(CalendarDay, date(2025, 2, 4)).kind == "holiday"
    assert session.get(CalendarDay, date(2025, 1, 26)).kind == "workday"
    assert session.get(CalendarDay, date(2025, 2, 8)).kind == "workday"
    assert session.get(CalendarDay, date(2025, 2, 5)) is None


#: DOMAIN.md §1: the plan's 2025 scale targets in 亿元.
HUNDRED_MILLION = 100_000_000


def test_the_plans_scale_targets_in_yuan_and_its_rd_intensity(session):
    targets = {t.code: t for t in session.scalars(select(PlanTarget))}
    scale = {code: (t.industries, t.revenue) for code, t in targets.items() if t.revenue}
    assert scale == {
        "electronic_info": (["electronic_info"], 12000 * HUNDRED_MILLION),
        "equipment": (["equipment"], 8000 * HUNDRED_MILLION),
        "new_materials": (["new_materials"], 6000 * HUNDRED_MILLION),
        "aviation": (["aviation"], 2600 * HUNDRED_MILLION),
        "new_energy": (["new_energy"], 2500 * HUNDRED_MILLION),
        # One target for both: the plan counts them together.
        "tcm_biomedicine": (["tcm", "biomedicine"], 2000 * HUNDRED_MILLION),
    }
    intensity = targets["emerging_industries"]
    assert (intensity.industries, intensity.revenue, intensity.rd_intensity) == ([], None, 2)
    # Every industry named is a seeded one, and in one scale target at most.
    named = [code for industries, _revenue in scale.values() for code in industries]
    assert len(named) == len(set(named))
    assert set(named) <= set(session.scalars(select(Industry.code)))


#: The 2027 source as the seed once wrote it, a note in English inside it, which the
#: admin's tiers page showed on Chinese pages (issue 12).
OLD_2027_SOURCE = "《全国年节及纪念日放假办法》 (estimate; the 2027 notice is not yet published)"


def test_a_loaded_years_description_follows_the_seed_when_its_days_do(runner, session):
    """A database loaded before the seed's source was corrected takes the correction on
    the next plain ``seed``; the year stays provisional for check-deploy."""
    session.get_one(CalendarYear, 2027).source = OLD_2027_SOURCE
    session.get_one(CalendarYear, 2026).provisional = True
    session.commit()
    assert "updated 2 calendar years" in seed(runner).stdout
    session.expire_all()
    assert session.get_one(CalendarYear, 2027).source == "《全国年节及纪念日放假办法》"
    assert session.get_one(CalendarYear, 2027).provisional is True
    assert session.get_one(CalendarYear, 2026).provisional is False
    assert "nothing changed" in seed(runner).stdout


def test_a_year_whose_days_differ_keeps_its_description_unless_forced(runner, session):
    """Days changed since (an operator's own calendar) keep the year as it is, source
    and flag with them: only ``--force`` makes it the seed's."""
    session.get_one(CalendarYear, 2027).source = OLD_2027_SOURCE
    session.add(CalendarDay(day=date(2027, 3, 1), kind="holiday"))
    session.commit()
    assert "nothing changed" in seed(runner).stdout
    session.expire_all()
    assert session.get_one(CalendarYear, 2027).source == OLD_2027_SOURCE
    assert "updated 1 calendars" in seed(runner, "--force").stdout
    session.expire_all()
    assert session.get_one(CalendarYear, 2027).source == "《全国年节及纪念日放假办法》"
    assert session.get(CalendarDay, date(2027, 3, 1)) is None
