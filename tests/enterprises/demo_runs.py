"""What the tests of ``flask registry demo`` share: the clock they run at, the seeded
tiers as the plan sees them, running the command, and the occupancy rule."""

from __future__ import annotations

from datetime import UTC, datetime

from registry.demo.plan import TierRoom
from registry.ladder import queries

NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)
SEEDED = (
    TierRoom("tech_sme", 1, 5000, 0, "calendar_year"),
    TierRoom("high_tech", 2, 3000, 0, 3),
    TierRoom("champion", 3, 100, 0, 3),
    TierRoom("navigator", 4, 15, 0, 3),
    TierRoom("chain_leader", 5, 8, 0, 3),
)


def run_demo(runner, *args: str) -> str:
    result = runner.invoke(args=["registry", "demo", *args])
    assert result.exit_code == 0, result.output
    return result.output


def check_occupancy_rule(session) -> None:
    """PRODUCT.md "Operation": every tier non-empty and below 80 % of its quota."""
    for tier, occ in queries.ladder_overview(session):
        assert occ.holders >= 1, tier.code
        assert occ.occupancy < 0.8 * tier.quota, tier.code
