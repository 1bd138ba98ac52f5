"""The mirror of a peer's enterprises and annual reports (API.md "Sync" client rules,
PRODUCT.md "Sync with other registries"); the sources pulled from are in
:mod:`registry.sync.sources`. Operations flush, never commit: the pull commits once per feed page
(with its cursor) and once per snapshot batch.

Rules a pull follows here:

* A record takes its writable fields, status and ``merged_into`` from the peer's data;
  ``origin`` is the source's name and ``source_version`` the peer's version. The peer's
  ladder fields are ignored (the ladder is local). Codes this registry's seed does not
  know (city, industry) are stored as received.
* From the feed, an entry is applied only when its version is newer than the
  ``source_version`` held; a snapshot replaces what is held whatever the version.
* A record of another origin (local, or another source) is never overwritten: the entry
  is skipped and listed in ``sync_conflicts``. An annual report whose enterprise is not
  held from this source (another origin's, or none at all: ``local_origin`` empty) is a
  conflict too — it cannot be mirrored under a record the source does not own.
* Records applied get their change-log entries (this registry's own feed republishes
  them with their origin) and audit entries with ``via = "sync"``. New records go in
  bulk through the batch operations ``demo`` uses; held ones are updated one by one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import func, select, tuple_

from registry.core import clock
from registry.core.audit import Actor, diff, record_audit
from registry.core.changes import append_entries, changed
from registry.core.db import in_chunks
from registry.core.dbsession import DbSession
from registry.enterprises import batch_operations as bulk
from registry.enterprises.batches import checked_reports
from registry.enterprises.models import (
    FIGURE_FIELDS,
    AnnualReport,
    Enterprise,
    Status,
)
from registry.enterprises.operations import PROFILE_FIELDS, change_status
from registry.sync.models import SyncConflict, SyncSource
from registry.sync.schemas import Record, ReportValues
from registry.sync.sources import sync_actor

#: A mirrored enterprise's row (ENTERPRISE_FIELDS order) is its USCC, the values the peer
#: gives (ENTERPRISE_VALUES), origin, source_version, then this: verified, an empty ladder.
_LADDER_TAIL = (True, None, None, None, None, None)  # verified, tier … ban_until


class Held(NamedTuple):
    """An enterprise held here, as a pull sees it."""

    id: int
    origin: str
    source_version: int | None


# --- applying records ----------------------------------------------------------------------


@dataclass
class Outcome:
    applied: int = 0
    conflicts: int = 0

    def add(self, other: Outcome) -> None:
        self.applied += other.applied
        self.conflicts += other.conflicts


#: A record skipped, and the origin of what it would have overwritten ("" for none).
Conflict = tuple[Record, str]


def _report(record: Record) -> ReportValues:
    """The values of an ``annual_report`` record (:func:`registry.sync.schemas.check_record`
    gives such a record ReportValues)."""
    return cast(ReportValues, record.values)


def _latest(records: Iterable[Record]) -> list[Record]:
    """One record per (type, key): the newest (a page may change a record twice; the
    transaction bumps its local version once anyway)."""
    latest: dict[tuple[str, str], Record] = {}
    for record in records:
        held = latest.get((record.type, record.key))
        if held is None or record.version >= held.version:
            latest[(record.type, record.key)] = record
    return list(latest.values())


def _held_enterprises(session: DbSession, codes: Sequence[str]) -> dict[str, Held]:
    """``{uscc: Held}`` of those held here."""
    found: dict[str, Held] = {}
    for chunk in in_chunks(codes):
        rows = session.execute(
            select(
                Enterprise.uscc, Enterprise.id, Enterprise.origin, Enterprise.source_version
            ).where(Enterprise.uscc.in_(chunk))
        ).all()
        found.update({uscc: Held(id_, origin, version) for uscc, id_, origin, version in rows})
    return found


def apply_records(
    session: DbSession, source: SyncSource, records: Iterable[Record], *, newer_only: bool
) -> Outcome:
    """Apply checked records of ``source`` (see the module's rules). ``newer_only``: the
    feed's rule; a snapshot applies whatever the version. Flushes, never commits."""
    records = _latest(records)
    actor = sync_actor(source)
    feed: list[dict[str, Any]] = []
    outcome = Outcome()
    conflicts: list[Conflict] = []
    enterprises = [r for r in records if r.type == "enterprise"]
    reports = [r for r in records if r.type == "annual_report"]
    held = _held_enterprises(
        session, sorted({r.key for r in enterprises} | {_report(r).uscc for r in reports})
    )

    new, changes = [], []
    for record in enterprises:
        mine = held.get(record.key)
        if mine is None:
            new.append(record)
        elif mine.origin != source.name:
            conflicts.append((record, mine.origin))
        elif not newer_only or mine.source_version is None or record.version > mine.source_version:
            changes.append(record)
    if new:
        rows = [(r.key, *r.values, source.name, r.version, *_LADDER_TAIL) for r in new]
        ids = bulk.bulk_create_enterprises(session, rows, actor=actor, feed=feed)
        for record, id_ in zip(new, ids, strict=True):
            held[record.key] = Held(id_, source.name, record.version)
        outcome.applied += len(new)
    outcome.applied += _update_enterprises(session, changes, actor)

    outcome.applied += _apply_reports(session, source, reports, held, conflicts, feed, newer_only)
    outcome.conflicts = _record_conflicts(session, source, conflicts)
    # The bulk rows' feed entries last: on PostgreSQL the feed counter is then locked
    # only for the COMMIT (API.md "How the order is kept").
    session.flush()
    append_entries(session, feed)
    return outcome


def _update_enterprises(session: DbSession, records: list[Record], actor: Actor) -> int:
    if not records:
        return 0
    by_uscc: dict[str, Enterprise] = {}
    for chunk in in_chunks([r.key for r in records]):
        by_uscc.update(
            (e.uscc, e)
            for e in session.scalars(select(Enterprise).where(Enterprise.uscc.in_(chunk)))
        )
    return sum(
        _update_enterprise(session, by_uscc[r.key], r.values, r.version, actor) for r in records
    )


def _update_enterprise(
    session: DbSession, enterprise: Enterprise, values: tuple[Any, ...], version: int, actor: Actor
) -> bool:
    """The peer's state onto a mirrored enterprise; False when it already holds it."""
    profile = dict(zip(PROFILE_FIELDS, values, strict=False))
    status, merged_into = values[len(PROFILE_FIELDS) :]
    before = {name: getattr(enterprise, name) for name in PROFILE_FIELDS}
    before["source_version"] = enterprise.source_version
    changes = diff(before, {**profile, "source_version": version})
    if changes:
        for name, value in profile.items():
            setattr(enterprise, name, value)
        enterprise.source_version = version
        changed(session, enterprise)
        record_audit(session, actor, "enterprise.update", "enterprise", enterprise.uscc, changes)
    moved = (str(enterprise.status), enterprise.merged_into) != (status, merged_into)
    if moved:
        # Through the operation: leaving ``active`` ends a local designation too.
        change_status(session, enterprise, Status(status), actor=actor, merged_into=merged_into)
    return bool(changes) or moved


def _apply_reports(
    session: DbSession,
    source: SyncSource,
    reports: list[Record],
    held: dict[str, Held],
    conflicts: list[Conflict],
    feed: list[dict[str, Any]],
    newer_only: bool,
) -> int:
    mine = []
    for record in reports:
        owner = held.get(_report(record).uscc)
        if owner is None or owner.origin != source.name:
            conflicts.append((record, "" if owner is None else owner.origin))
        else:
            mine.append(record)
    if not mine:
        return 0
    # (enterprise id, year) → (report id, source_version), looked up by enterprise: a
    # plain IN list, cheaper to build and to run than one of (enterprise, year) pairs.
    existing: dict[tuple[int, int], tuple[int, int | None]] = {}
    wanted = [(held[_report(r).uscc].id, _report(r).year) for r in mine]
    for chunk in in_chunks(sorted({enterprise_id for enterprise_id, _year in wanted})):
        rows = session.execute(
            select(
                AnnualReport.enterprise_id,
                AnnualReport.year,
                AnnualReport.id,
                AnnualReport.source_version,
            ).where(AnnualReport.enterprise_id.in_(chunk))
        ).all()
        existing.update({(e, y): (i, v) for e, y, i, v in rows})
    new: list[Record] = []
    changes: list[tuple[int, Record]] = []
    for record, place in zip(mine, wanted, strict=True):
        held_report = existing.get(place)
        if held_report is None:
            new.append(record)
            continue
        report_id, held_version = held_report
        if not newer_only or held_version is None or record.version > held_version:
            changes.append((report_id, record))
    if new:
        bulk.bulk_create_reports(
            session,
            # Figures check_record gave: report_values' already (no second check).
            checked_reports([_report(r) for r in new], clock.now()),
            actor=sync_actor(source),
            ids={_report(r).uscc: held[_report(r).uscc].id for r in new},
            feed=feed,
            source_versions=[r.version for r in new],
        )
    updated = 0
    actor = sync_actor(source)
    for report_id, record in changes:
        report = session.get_one(AnnualReport, report_id)
        before = {name: getattr(report, name) for name in FIGURE_FIELDS}
        before["source_version"] = report.source_version
        figures = dict(zip(FIGURE_FIELDS, _report(record).figures[1:], strict=True))
        after = {**figures, "source_version": record.version}
        delta = diff(before, after)
        if delta:
            for name, value in after.items():
                setattr(report, name, value)
            changed(session, report)
            record_audit(session, actor, "annual_report.update", "annual_report", record.key, delta)
            updated += 1
    return len(new) + updated


def _record_conflicts(session: DbSession, source: SyncSource, conflicts: list[Conflict]) -> int:
    """Upsert one ``sync_conflicts`` row per skipped record."""
    if not conflicts:
        return 0
    now = clock.now()
    keys = [(record.type, record.key) for record, _origin in conflicts]
    rows: dict[tuple[str, str], SyncConflict] = {}
    for chunk in in_chunks(keys):
        rows.update(
            ((c.type, c.key), c)
            for c in session.scalars(
                select(SyncConflict).where(
                    SyncConflict.source_id == source.id,
                    tuple_(SyncConflict.type, SyncConflict.key).in_(chunk),
                )
            )
        )
    for record, origin in conflicts:
        row = rows.get((record.type, record.key))
        if row is None:
            row = rows[(record.type, record.key)] = SyncConflict(
                source_id=source.id, type=record.type, key=record.key, first_seen_at=now
            )
            session.add(row)
        row.source_version = record.version
        row.local_origin = origin
        row.last_seen_at = now
    return len(conflicts)


# --- checkpoints ---------------------------------------------------------------------------


def checkpoint(
    session: DbSession,
    source: SyncSource,
    outcome: Outcome,
    *,
    cursor: str | None = None,
    last_entry_at: datetime | None = None,
) -> None:
    """Count what a page or batch applied and, when given, store the peer's cursor after
    it — in the transaction that applied it."""
    now = clock.now()
    source.records_applied = (source.records_applied or 0) + outcome.applied
    source.last_run_at = now
    if cursor is not None:
        source.cursor = cursor
        source.last_success_at = now
    if last_entry_at is not None:
        source.last_entry_at = last_entry_at
    session.flush()


def record_failure(session: DbSession, source_id: int, message: str) -> None:
    """Note a failed run on the source (its own transaction: nothing else was written)."""
    source = session.get_one(SyncSource, source_id)
    now = clock.now()
    source.last_error = message[:2000]
    source.last_error_at = now
    source.last_run_at = now
    session.flush()


def conflicts_of(
    session: DbSession, source: SyncSource, limit: int = 500
) -> tuple[list[SyncConflict], int]:
    """The source's conflict report, most recently seen first (at most ``limit``), and
    how many there are."""
    total = session.execute(
        select(func.count()).select_from(SyncConflict).where(SyncConflict.source_id == source.id)
    ).scalar_one()
    rows = session.scalars(
        select(SyncConflict)
        .where(SyncConflict.source_id == source.id)
        .order_by(SyncConflict.last_seen_at.desc(), SyncConflict.id.desc())
        .limit(limit)
    ).all()
    return list(rows), total
