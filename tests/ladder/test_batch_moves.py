"""Tier events in bulk (``registry.ladder.batch_moves``) and designations that ended
already (``DesignationRequest(held=False)``): a history written in one go, as
``flask registry demo`` writes its holders' histories."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from registry.core import clock
from registry.core.audit import Actor
from registry.core.changes import dumps
from registry.core.errors import QuotaFull
from registry.core.models import AuditEntry, ChangeLogEntry
from registry.ladder import batch_moves, dates, queries
from registry.ladder import batch_operations as ladder
from registry.ladder import operations as ladder_ops
from registry.ladder.batch_moves import Move, record_moves
from registry.ladder.models import EventKind, TierEvent
from registry.ladder.schemas import tier_event_out
from tests.factories import TEST_ACTOR

NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.pinned(NOW):
        yield


def grant(enterprise, tier: str, since: date, expires: date, number: str) -> Move:
    """A grant onto ``tier`` taking effect at the start of ``since`` in Beijing."""
    return Move(
        enterprise.id,
        enterprise.uscc,
        EventKind.GRANT,
        None,
        tier,
        dates.shanghai_midnight(since),
        since,
        expires,
        number,
    )


def test_ended_designations_take_numbers_but_no_place_in_the_quota(session):
    ladder_ops.set_quota(session, "chain_leader", 2, actor=TEST_ACTOR, reason="test")
    held = ladder.DesignationRequest("chain_leader", date(2025, 1, 5))
    ended = ladder.DesignationRequest("chain_leader", date(2024, 3, 1), held=False)
    with pytest.raises(QuotaFull):
        ladder.issue_designations(session, [held] * 3)
    issued = ladder.issue_designations(session, [ended, ended, ended, held, held])
    assert [d.registration_number for d in issued] == [
        "JX-CL-2024-00001",
        "JX-CL-2024-00002",
        "JX-CL-2024-00003",
        "JX-CL-2025-00001",
        "JX-CL-2025-00002",
    ]


def test_a_history_in_one_go_events_audit_and_feed(session, make):
    e = make.enterprise()
    session.flush()
    since = date(2023, 3, 1)
    first = dates.expires_at(3, since)
    renewed = dates.renewed_expiry(3, first)
    demoted_on = date(2026, 2, 10)
    demoted_until = dates.demoted_expiry(renewed, dates.CALENDAR_YEAR, demoted_on)
    revoked_at = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
    ids = record_moves(
        session,
        [
            grant(e, "high_tech", since, first, "JX-HT-2023-00001"),
            Move(
                e.id,
                e.uscc,
                EventKind.RENEW,
                "high_tech",
                "high_tech",
                datetime(2026, 1, 10, 7, 0, tzinfo=UTC),
                since,
                renewed,
                "JX-HT-2023-00001",
            ),
            Move(
                e.id,
                e.uscc,
                EventKind.DEMOTE,
                "high_tech",
                "tech_sme",
                datetime(2026, 2, 10, 2, 0, tzinfo=UTC),
                demoted_on,
                demoted_until,
                "JX-TS-2026-00001",
            ),
            Move(
                e.id,
                e.uscc,
                EventKind.REVOKE,
                "tech_sme",
                None,
                revoked_at,
                ban_until=date(2027, 4, 1),
            ),
        ],
        actor=TEST_ACTOR,
        reason="history",
    )
    session.commit()
    events = queries.tier_events(session, e.id)
    assert [ev.id for ev in events] == ids
    assert [str(ev.kind) for ev in events] == ["grant", "renew", "demote", "revoke"]
    assert queries.replay(events) == queries.LadderFields()
    assert events[-1].ban_until == date(2027, 4, 1) and events[1].recorded_at == NOW

    # One audit entry per move with the fields that move changed, from off the ladder.
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.reason == "history").order_by(AuditEntry.id)
    ).all()
    assert [(a.action, a.object_id) for a in audit] == [
        ("tier.grant", e.uscc),
        ("tier.renew", e.uscc),
        ("tier.demote", e.uscc),
        ("tier.revoke", e.uscc),
    ]
    assert audit[0].changes["tier"] == [None, "high_tech"]
    assert sorted(audit[1].changes) == ["tier_expires_at"]
    assert sorted(audit[2].changes) == [
        "registration_number",
        "tier",
        "tier_expires_at",
        "tier_since",
    ]
    assert audit[3].changes["tier"] == ["tech_sme", None]
    assert audit[3].changes["ban_until"] == [None, "2027-04-01"]

    # One feed entry per event (version 1), as the output schema renders it.
    entries = {
        x.key: x
        for x in session.scalars(select(ChangeLogEntry).where(ChangeLogEntry.type == "tier_event"))
    }
    for event in session.scalars(select(TierEvent)):
        assert entries[str(event.id)].version == 1
        assert entries[str(event.id)].data == dumps(tier_event_out.dump(event))


def test_the_feed_json_equals_the_schema_on_unusual_values(session, make):
    e = make.enterprise()
    user = make.user(role="reviewer")
    session.flush()
    reason = 'Quote " back\\slash \n\t\u2028 <b>&amp;</b> 😀 理由 ' + "\x01"
    since = date(2024, 2, 29)
    [event_id] = record_moves(
        session,
        [grant(e, "champion", since, dates.expires_at(3, since), "JX-CH-2024-00001")],
        actor=Actor.of(user, "web"),
        reason=reason,
    )
    session.commit()
    event = session.get(TierEvent, event_id)
    data = session.scalars(
        select(ChangeLogEntry.data).where(
            ChangeLogEntry.type == "tier_event", ChangeLogEntry.key == str(event_id)
        )
    ).one()
    assert data == dumps(tier_event_out.dump(event))
    assert event.actor_id == user.id and event.reason == reason.strip()


def test_the_sqlite_rows_name_every_column_of_a_tier_event():
    assert set(batch_moves._COLUMNS) == set(TierEvent.__table__.columns.keys())
