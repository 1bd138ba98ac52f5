"""For random sequences of ladder operations, every enterprise's ladder fields equal
the replay of its tier events, and occupancy never exceeds a quota that was not
lowered (QUALITY.md R7, ladder part)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.core import clock
from registry.core.errors import DomainError
from registry.ladder import operations as ops
from registry.ladder import queries
from registry.ladder.models import Tier
from tests.factories import TEST_ACTOR

TIERS = ["tech_sme", "high_tech", "champion", "navigator", "chain_leader"]
START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
EXAMPLES = int(os.environ.get("HYPOTHESIS_EXAMPLES", "25"))

step = st.one_of(
    st.tuples(st.just("grant"), st.integers(0, 3), st.sampled_from(TIERS)),
    st.tuples(st.just("demote"), st.integers(0, 3), st.sampled_from(TIERS)),
    st.tuples(st.just("revoke"), st.integers(0, 3), st.none()),
    st.tuples(st.just("renew"), st.integers(0, 3), st.none()),
    st.tuples(st.just("wait"), st.integers(1, 800), st.none()),
    st.tuples(st.just("quota"), st.integers(0, 3), st.sampled_from(TIERS)),
    st.tuples(st.just("grant"), st.integers(0, 3), st.sampled_from(TIERS)),
)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(step, min_size=1, max_size=25))
def test_ladder_fields_equal_replay(session, make, steps):
    now = START
    enterprises = [make.enterprise() for _ in range(4)]
    lowered: set[str] = set()
    try:
        for kind, n, tier in steps:
            if kind == "wait":
                now += timedelta(days=n)
                with clock.pinned(now):
                    ops.lapse_expired(session, now)
                continue
            target = enterprises[n % len(enterprises)]
            savepoint = session.begin_nested()
            try:
                with clock.pinned(now):
                    if kind == "grant":
                        ops.grant_tier(session, target, tier, actor=TEST_ACTOR, reason="r")
                    elif kind == "demote":
                        ops.demote(session, target, tier, actor=TEST_ACTOR, reason="r")
                    elif kind == "revoke":
                        ops.revoke(session, target, actor=TEST_ACTOR, reason="r")
                    elif kind == "renew":
                        ops.renew_tier(session, target, actor=TEST_ACTOR, reason="r")
                    else:
                        tier_row = session.get(Tier, tier)
                        held = queries.occupancy(session, tier_row).occupancy
                        ops.set_quota(session, tier, n, actor=TEST_ACTOR, reason="r")
                        # Lowering below occupancy is allowed; the cap holds again
                        # once a later quota is at least the occupancy.
                        (lowered.add if n < held else lowered.discard)(tier)
                savepoint.commit()
            except DomainError:
                savepoint.rollback()
            for enterprise in enterprises:
                events = queries.tier_events(session, enterprise.id)
                assert queries.replay(events) == queries.ladder_fields(enterprise)
            for t, occ in queries.ladder_overview(session):
                assert t.code in lowered or occ.occupancy <= t.quota
    finally:
        session.rollback()
