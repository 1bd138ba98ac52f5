"""``flask registry demo``: the ladder history it writes (``registry.demo.history``) —
every tier event by the ladder's rules, spread over the last 24 Beijing months with
gains and losses, the quotas kept at every moment — and the holders' three years of
annual reports."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from registry.applications.models import Application, State
from registry.core import clock
from registry.enterprises.models import AnnualReport, Enterprise
from registry.ladder import dates, queries
from registry.ladder.models import RegistrationCounter, RegistrationNumber, Tier, TierEvent
from tests.enterprises.demo_runs import NOW, run_demo

#: The 24 Beijing months that end with NOW's (May 2026), oldest first.
MONTHS = [f"{2024 + (5 + i) // 12}-{(5 + i) % 12 + 1:02d}" for i in range(24)]
LATEST = NOW.year - 1  # the latest completed year


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.pinned(NOW):
        yield


@pytest.fixture
def demo(runner, session):
    """A demo of 2 000 enterprises (200 on the ladder): its tier events in id order."""
    run_demo(runner, "--count", "2000", "--random-seed", "8")
    return session.scalars(select(TierEvent).order_by(TierEvent.id)).all()


def month(at) -> str:
    return f"{dates.shanghai_date(at):%Y-%m}"


def check_move(event: TierEvent, before: TierEvent | None, tiers: dict[str, Tier]) -> None:
    """``event`` follows ``registry.ladder.operations`` from the state ``before`` left."""
    held = before is not None and before.to_tier is not None
    if held:
        assert event.from_tier == before.to_tier
    if event.kind in ("grant", "demote"):
        tier = tiers[event.to_tier]
        since = event.tier_since
        assert since == dates.shanghai_date(event.effective_at)
        pattern = tier.registration_pattern
        assert event.registration_number.startswith(pattern.format(year=since.year, seq=0)[:-5])
    if event.kind == "grant":
        assert event.effective_at == dates.shanghai_midnight(event.tier_since)
        assert event.tier_expires_at == dates.expires_at(tier.validity_value, event.tier_since)
        if held:  # a promotion, while the lower designation is valid
            assert tier.rank > tiers[before.to_tier].rank
            assert event.effective_at < before.tier_expires_at
        else:
            assert event.from_tier is None
    elif event.kind == "demote":
        assert held and tier.rank < tiers[before.to_tier].rank
        assert event.effective_at < before.tier_expires_at
        expected = dates.demoted_expiry(before.tier_expires_at, tier.validity_value, since)
        assert event.tier_expires_at == expected
        assert event.registration_number != before.registration_number
    elif event.kind == "renew":
        assert held and event.to_tier == before.to_tier
        expires = before.tier_expires_at
        # In the 90 days before the expiry; since and number kept, one period added.
        assert expires - timedelta(days=90) <= event.effective_at < expires
        assert (event.tier_since, event.registration_number) == (
            before.tier_since,
            before.registration_number,
        )
        validity = tiers[event.to_tier].validity_value
        assert event.tier_expires_at == dates.renewed_expiry(validity, expires)
    elif event.kind == "revoke":
        assert held and event.to_tier is None and event.effective_at < before.tier_expires_at
        assert event.ban_until is None or event.ban_until > dates.shanghai_date(event.effective_at)
    else:
        assert event.kind == "lapse" and held and event.to_tier is None
        assert event.effective_at == before.tier_expires_at


def test_the_history_follows_the_rules_moves_each_month_and_keeps_the_cap(demo, session):
    """One demo (seconds to write), looked at three ways."""
    every_event_follows_the_ladder_rules(demo, session)
    moves_are_spread_over_24_months_with_gains_and_losses(demo, session)
    no_tier_passes_the_demo_cap_at_any_moment(demo, session)


def every_event_follows_the_ladder_rules(demo, session):
    tiers = {t.code: t for t in session.scalars(select(Tier))}
    by_enterprise = defaultdict(list)
    for event in demo:
        by_enterprise[event.enterprise_id].append(event)
        assert event.effective_at <= NOW and event.recorded_at <= NOW
    for enterprise_id, events in by_enterprise.items():
        enterprise = session.get(Enterprise, enterprise_id)
        assert queries.ladder_fields(enterprise) == queries.replay(events)
        before = None
        for event in events:
            assert before is None or before.effective_at < event.effective_at
            check_move(event, before, tiers)
            before = event
        if events[-1].kind == "revoke":
            assert enterprise.ban_until == events[-1].ban_until
    # Every kind of move, promotions (a grant from a lower rung) among them.
    kinds = Counter(event.kind for event in demo)
    assert set(kinds) == {"grant", "renew", "demote", "revoke", "lapse"}
    assert any(e.kind == "grant" and e.from_tier is not None for e in demo)
    # Enterprises that left the ladder; tech_sme designations end on 1 January: those
    # not renewed lapse then.
    assert any(events[-1].to_tier is None for events in by_enterprise.values())
    assert any(e.kind == "renew" and e.to_tier == "tech_sme" for e in demo)
    lapses = [e for e in demo if e.kind == "lapse" and e.from_tier == "tech_sme"]
    assert lapses and {f"{dates.shanghai_date(e.effective_at):%m-%d}" for e in lapses} == {"01-01"}

    # Registration numbers: one per grant and demotion, per tier and year 1, 2, …
    # without gaps, as recorded.
    issued = defaultdict(list)
    for event in demo:
        if event.kind in ("grant", "demote"):
            issued[(event.to_tier, event.tier_since.year)].append(event.registration_number)
    counters = {(c.tier, c.year): c.last_seq for c in session.scalars(select(RegistrationCounter))}
    assert counters.keys() == issued.keys()
    for (code, year), numbers in issued.items():
        pattern = tiers[code].registration_pattern
        assert sorted(numbers) == [
            pattern.format(year=year, seq=s) for s in range(1, len(numbers) + 1)
        ]
        assert counters[(code, year)] == len(numbers)
    recorded = session.scalars(select(RegistrationNumber.number)).all()
    assert sorted(recorded) == sorted(n for numbers in issued.values() for n in numbers)


def moves_are_spread_over_24_months_with_gains_and_losses(demo, session):
    moved_on, moved_off = Counter(), Counter()
    for event in demo:
        if event.from_tier != event.to_tier:  # a renewal is not a move (API.md, Report)
            moved_on[month(event.effective_at)] += event.to_tier is not None
            moved_off[month(event.effective_at)] += event.from_tier is not None
    net = [moved_on[m] - moved_off[m] for m in MONTHS]
    assert sum(1 for m in MONTHS if moved_on[m] + moved_off[m]) >= 20
    assert len(set(net)) > 5 and min(net) < 0 < max(net)  # months of losses too
    # The ladder grows: more holders at the end of the months than at their start.
    first = dates.shanghai_midnight(date(2024, 6, 1))
    holders_then = sum(
        1
        for events in _by_enterprise(demo).values()
        if (last := [e for e in events if e.effective_at < first]) and last[-1].to_tier
    )
    holders_now = session.scalars(select(Enterprise.id).where(Enterprise.tier.is_not(None))).all()
    assert holders_then < 0.7 * len(holders_now)


def no_tier_passes_the_demo_cap_at_any_moment(demo, session):
    """Replaying every event in time order, no tier ever has more holders than now, and
    so never 80 % of its quota (the plan's cap, registry.demo.plan)."""
    quotas = dict(session.execute(select(Tier.code, Tier.quota)).all())
    now = Counter(session.scalars(select(Enterprise.tier).where(Enterprise.tier.is_not(None))))
    tier_of: dict[int, str | None] = {}
    count: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    for event in sorted(demo, key=lambda e: (e.effective_at, e.id)):
        old = tier_of.get(event.enterprise_id)
        if old is not None:
            count[old] -= 1
        if event.to_tier is not None:
            count[event.to_tier] += 1
            peak[event.to_tier] = max(peak[event.to_tier], count[event.to_tier])
        tier_of[event.enterprise_id] = event.to_tier
    assert count == now
    for code, most in peak.items():
        assert most <= now[code] and most < 0.8 * quotas[code], code


def test_holders_report_the_last_three_years_others_one(runner, session):
    run_demo(runner, "--count", "300", "--random-seed", "4")
    applicants = {
        a.enterprise_id: a.state
        for a in session.scalars(select(Application))
        if a.tier != "champion"
    }
    years: dict[int, list[int]] = defaultdict(list)
    for enterprise_id, year in session.execute(
        select(AnnualReport.enterprise_id, AnnualReport.year)
    ):
        years[enterprise_id].append(year)
    holders = 0
    for e in session.scalars(select(Enterprise)):
        state = applicants.get(e.id)
        if e.tier is None and state != State.IN_NOTICE:
            assert years[e.id] == [LATEST]
            continue
        holders += 1
        first = LATEST - 2 if state is None else max(LATEST - 2, e.founded_on.year)
        assert sorted(years[e.id]) == list(range(first, LATEST + 1)), e.uscc
        if state is None:  # the demo's own holders were founded before their first year
            assert e.founded_on < date(LATEST - 2, 1, 1)
    assert holders > 30
    # The earlier years of the demo's holders grew into the latest: the same enterprise,
    # smaller or a little larger, its R&D ratio where it was.
    e = session.scalars(
        select(Enterprise).where(
            Enterprise.tier == "high_tech", Enterprise.id.not_in(list(applicants))
        )
    ).first()
    reports = {r.year: r for r in e.reports}
    for year in (LATEST - 2, LATEST - 1):
        older, newer = reports[year], reports[year + 1]
        assert 0.7 * newer.revenue < older.revenue < 1.1 * newer.revenue
        assert abs(older.rd_expense / older.revenue - newer.rd_expense / newer.revenue) < 0.001


def _by_enterprise(events):
    grouped = defaultdict(list)
    for event in events:
        grouped[event.enterprise_id].append(event)
    return grouped
