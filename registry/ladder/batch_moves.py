"""Tier events written in bulk: ladder moves of enterprises whose rows already carry
where the moves led (a designations import's grants, the demo's histories).

Each move gets its tier event, its feed entry (version 1) and the audit entry its
operation in :mod:`registry.ladder.operations` writes (``tier.grant``, ``tier.renew``,
``tier.demote``, ``tier.revoke``, ``tier.lapse``) with the ladder fields it changed.
Flushes nothing and never commits; the caller's transaction holds it all.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, insert

from registry.core import clock
from registry.core.audit import Actor, audit_row, diff, record_audit_rows
from registry.core.changes import append_entries
from registry.core.db import is_postgres
from registry.core.dbsession import DbSession
from registry.core.schemas import rfc3339
from registry.enterprises.batch_operations import new_ids
from registry.enterprises.batches import sqlite_date, sqlite_time
from registry.ladder.models import EventKind, TierEvent
from registry.ladder.operations import LADDER_FIELDS, require_reason

_OFF_THE_LADDER = dict.fromkeys(LADDER_FIELDS)
# The C string encoder json.dumps(..., ensure_ascii=False) itself uses: identical output.
_quote = json.encoder.encode_basestring


@dataclass(frozen=True)
class Move:
    """One ladder move of an enterprise and its ladder fields after it (all None after
    a revocation or a lapse; ``ban_until`` set by a revocation)."""

    enterprise_id: int
    uscc: str
    kind: EventKind
    from_tier: str | None
    to_tier: str | None
    effective_at: datetime
    tier_since: date | None = None
    tier_expires_at: datetime | None = None
    registration_number: str | None = None
    ban_until: date | None = None


def record_moves(
    session: DbSession,
    moves: Sequence[Move],
    *,
    actor: Actor,
    reason: str,
    feed: list[dict[str, Any]] | None = None,
) -> list[int]:
    """Write the tier events of ``moves`` in the order given (an enterprise's in the
    order they happened, so that replaying them gives its ladder fields), with their
    feed and audit entries. An enterprise's first move here starts off the ladder; each
    audit entry holds the fields that move changed. Returns the event ids.

    ``feed``: a list to collect the feed entries in for the caller to write last
    (``append_entries``) instead of writing them here.
    """
    reason = require_reason(reason)
    if not moves:
        return []
    now = clock.now()
    rows = [
        {
            "enterprise_id": m.enterprise_id,
            "kind": m.kind,
            "from_tier": m.from_tier,
            "to_tier": m.to_tier,
            "effective_at": m.effective_at,
            "recorded_at": now,
            "tier_since": m.tier_since,
            "tier_expires_at": m.tier_expires_at,
            "registration_number": m.registration_number,
            "ban_until": m.ban_until,
            "actor_id": actor.user_id,
            "actor_name": actor.name,
            "reason": reason,
            "application_id": None,
        }
        for m in moves
    ]
    ids = new_ids(session, "tier_events", len(rows))
    _insert_events(session, ids, rows)
    entries = []
    audits = []
    fields: dict[int, dict[str, Any]] = {}
    recorded = rfc3339(now)
    for event_id, row, m in zip(ids, rows, moves, strict=True):
        data = event_data(event_id, m.uscc, row, recorded)
        entries.append(
            {"type": "tier_event", "key": str(event_id), "op": "upsert", "version": 1}
            | {"occurred_at": now, "data": data}
        )
        before = fields.get(m.enterprise_id, _OFF_THE_LADDER)
        after = {
            "tier": m.to_tier,
            "tier_since": m.tier_since,
            "tier_expires_at": m.tier_expires_at,
            "registration_number": m.registration_number,
            # Only a revocation sets a ban; the other moves leave it as it was.
            "ban_until": m.ban_until if m.kind == EventKind.REVOKE else before["ban_until"],
        }
        fields[m.enterprise_id] = after
        audits.append(
            audit_row(actor, f"tier.{m.kind}", "enterprise", m.uscc, diff(before, after), reason)
        )
    if feed is None:
        append_entries(session, entries)
    else:
        feed.extend(entries)
    record_audit_rows(session, audits)
    return ids


#: The columns of a tier event, in the order of the SQLite rows below.
_COLUMNS = (
    "id",
    "enterprise_id",
    "kind",
    "from_tier",
    "to_tier",
    "effective_at",
    "recorded_at",
    "tier_since",
    "tier_expires_at",
    "registration_number",
    "ban_until",
    "actor_id",
    "actor_name",
    "reason",
    "application_id",
)

_SQLITE_INSERT = (
    "INSERT INTO tier_events"  # nosec B608 # constant columns, placeholders
    f" ({', '.join(_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(_COLUMNS))})"
)


def _insert_events(session: DbSession, ids: list[int], rows: list[dict[str, Any]]) -> None:
    if is_postgres(session):
        session.execute(
            insert(cast(Table, TierEvent.__table__)),
            [{"id": i, **row} for i, row in zip(ids, rows, strict=True)],
        )
        return
    # On SQLite the values as SQLAlchemy itself stores them, in one executemany: the
    # ORM's type handling would cost more than the rest of the moves.
    session.connection().exec_driver_sql(
        _SQLITE_INSERT,
        [
            (
                i,
                r["enterprise_id"],
                str(r["kind"]),
                r["from_tier"],
                r["to_tier"],
                sqlite_time(r["effective_at"]),
                sqlite_time(r["recorded_at"]),
                sqlite_date(r["tier_since"]),
                sqlite_time(r["tier_expires_at"]),
                r["registration_number"],
                sqlite_date(r["ban_until"]),
                r["actor_id"],
                r["actor_name"],
                r["reason"],
                r["application_id"],
            )
            for i, r in zip(ids, rows, strict=True)
        ],
    )


def _text(value: str | None) -> str:
    return "null" if value is None else _quote(value)


def _day(value: date | None) -> str:
    return "null" if value is None else f'"{value.isoformat()}"'


def _number(value: int | None) -> str:
    return "null" if value is None else str(int(value))


def event_data(event_id: int, uscc: str, row: dict[str, Any], recorded: str) -> str:
    """The feed JSON of a tier event written here, equal to
    ``dumps(tier_event_out.dump(event))`` (tests/ladder/test_batch_moves.py) at a
    fraction of its cost: a demo writes tens of thousands. ``row`` holds the event's
    columns, ``recorded`` its ``recorded_at`` in RFC 3339."""
    expires = row["tier_expires_at"]
    return (
        f'{{"id":{int(event_id)},"enterprise_uscc":{_quote(uscc)},'
        f'"kind":{_quote(str(row["kind"]))},"from_tier":{_text(row["from_tier"])},'
        f'"to_tier":{_text(row["to_tier"])},"effective_at":"{rfc3339(row["effective_at"])}",'
        f'"recorded_at":"{recorded}","tier_since":{_day(row["tier_since"])},'
        f'"tier_expires_at":{"null" if expires is None else _quote(rfc3339(expires))},'
        f'"registration_number":{_text(row["registration_number"])},'
        f'"ban_until":{_day(row["ban_until"])},'
        f'"actor":{{"id":{_number(row["actor_id"])},"name":{_quote(row["actor_name"])}}},'
        f'"reason":{_quote(row["reason"])},"application_id":{_number(row["application_id"])}}}'
    )
