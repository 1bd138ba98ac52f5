"""A ladder's history for the reports' tests: the five rungs in rank order, each move
recorded with the clock at the instant it takes effect, and open applications in the
states asked for."""

from __future__ import annotations

from datetime import UTC, datetime

from registry.applications.models import Application
from registry.core import clock
from registry.ladder import operations as ladder
from tests.factories import TEST_ACTOR
from tests.fixtures.api import NOW

TIERS = ["tech_sme", "high_tech", "champion", "navigator", "chain_leader"]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def grant(session, enterprise, tier, at: datetime = NOW):
    """A grant taking effect at ``at``, recorded with the clock at that instant."""
    with clock.pinned(at):
        return ladder.grant_tier(session, enterprise, tier, actor=TEST_ACTOR, reason="x")


def demote(session, enterprise, tier, at: datetime) -> None:
    with clock.pinned(at):
        ladder.demote(session, enterprise, tier, actor=TEST_ACTOR, reason="x")


def renew(session, enterprise, at: datetime) -> None:
    with clock.pinned(at):
        ladder.renew_tier(session, enterprise, actor=TEST_ACTOR, reason="x")


def revoke(session, enterprise, at: datetime) -> None:
    with clock.pinned(at):
        ladder.revoke(session, enterprise, actor=TEST_ACTOR, reason="x")


def applications(session, make, tiers_and_states) -> None:
    """A promotion of a new enterprise in each (tier, state), flushed."""
    for tier, state in tiers_and_states:
        session.add(
            Application(
                enterprise_id=make.enterprise().id, tier=tier, kind="promotion", state=state
            )
        )
    session.flush()
