"""Sync sources and the mirror of a peer's enterprises and annual reports (API.md §Sync
client rules, PRODUCT.md §7). Operations flush, never commit: the pull commits once
per feed page (with its cursor) and once per snapshot batch.

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

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from registry.core import clock
from registry.core.audit import Actor, diff, record_audit
from registry.core.changes import append_entries, changed
from registry.core.db import in_chunks
from registry.core.errors import NotFound, field_error
from registry.enterprises import batch_operations as bulk
from registry.enterprises.models import (
    FIGURE_FIELDS,
    LOCAL_ORIGIN,
    AnnualReport,
    Enterprise,
    Status,
)
from registry.enterprises.operations import PROFILE_FIELDS, change_status
from registry.sync.crypto import encrypt_token
from registry.sync.models import SyncConflict, SyncSource

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}\Z")
MAX_URL_LENGTH = 500
MAX_TOKEN_LENGTH = 1000
#: A mirrored enterprise's row (ENTERPRISE_FIELDS order) is its USCC, the values the peer
#: gives (ENTERPRISE_VALUES), origin, source_version, then this: verified, an empty ladder.
_LADDER_TAIL = (True, None, None, None, None, None)  # verified, tier … ban_until

Record = tuple  # (type, key, version, values) from registry.sync.schemas.check_record


# --- sources -------------------------------------------------------------------------------


def check_name(session: Session, name: str) -> str:
    """A new source's name: a slug of 1–64 characters (lowercase letters, digits, ``-``,
    ``_``), not ``local`` and not taken. It becomes its records' ``origin``."""
    name = (name or "").strip().lower()
    if not NAME_PATTERN.match(name):
        raise field_error(
            "name",
            "invalid_format",
            "A source name is 1 to 64 lowercase letters, digits, - or _, starting with a "
            "letter or digit.",
        )
    if name == LOCAL_ORIGIN:
        raise field_error("name", "invalid_choice", '"local" is the origin of local records.')
    if session.scalar(select(SyncSource.id).where(SyncSource.name == name)):
        raise field_error("name", "taken", "A source named %(name)s exists.", name=name)
    return name


def check_base_url(url: str) -> str:
    """The peer's base URL: http or https, a host, an optional port and path prefix
    (without ``/api/v1``), no credentials, query or fragment; trailing slashes removed."""
    url = (url or "").strip()
    problem = None
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        parts, port_ok = None, False
    if not url or len(url) > MAX_URL_LENGTH or any(c.isspace() for c in url):
        problem = "Give a URL of at most 500 characters, without spaces."
    elif parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        problem = "Give an http:// or https:// URL with a host."
    elif not port_ok:
        problem = "The port is not valid."
    elif "?" in url or "#" in url:
        problem = "The URL may not have a query or a fragment."
    elif parts.username is not None or parts.password is not None:
        problem = "Give the token separately, not in the URL."
    elif parts.path.rstrip("/").endswith("/api/v1"):
        problem = "Give the base URL without /api/v1: the client appends it."
    if problem:
        raise field_error("base_url", "invalid_format", problem)
    return url.rstrip("/")


def check_token(token: str) -> str:
    token = (token or "").strip()
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isprintable() or " " in token:
        raise field_error("token", "invalid_format", "Give the bearer token the peer issued.")
    return token


def add_source(session: Session, name: str, base_url: str, token: str, *, actor: Actor):
    """A new peer to pull from. The token is stored encrypted (``SYNC_SECRET_KEY``) and
    never shown again; the audit entry names the source and its URL, not the token."""
    source = SyncSource(
        name=check_name(session, name),
        base_url=check_base_url(base_url),
        token_encrypted=encrypt_token(check_token(token)),
        records_applied=0,
    )
    session.add(source)
    session.flush()
    record_audit(
        session,
        actor,
        "sync_source.create",
        "sync_source",
        source.name,
        diff({}, {"name": source.name, "base_url": source.base_url}),
    )
    return source


def replace_token(session: Session, source: SyncSource, token: str, *, actor: Actor) -> None:
    """Store a new token for a source (e.g. the peer issued another, or the key changed)."""
    source.token_encrypted = encrypt_token(check_token(token))
    record_audit(session, actor, "sync_source.token", "sync_source", source.name)
    session.flush()


def source_named(session: Session, name: str) -> SyncSource:
    source = session.scalars(
        select(SyncSource).where(SyncSource.name == (name or "").strip().lower())
    ).one_or_none()
    if source is None:
        raise NotFound("No sync source named %(name)s.", name=name)
    return source


def sync_actor(source: SyncSource) -> Actor:
    return Actor(None, f"sync:{source.name}", "sync")


# --- applying records ----------------------------------------------------------------------


@dataclass
class Outcome:
    applied: int = 0
    conflicts: int = 0

    def add(self, other: Outcome) -> None:
        self.applied += other.applied
        self.conflicts += other.conflicts


def _latest(records: Iterable[Record]) -> list[Record]:
    """One record per (type, key): the newest (a page may change a record twice; the
    transaction bumps its local version once anyway)."""
    latest: dict[tuple[str, str], Record] = {}
    for record in records:
        held = latest.get((record[0], record[1]))
        if held is None or record[2] >= held[2]:
            latest[(record[0], record[1])] = record
    return list(latest.values())


def _held_enterprises(session: Session, codes: Sequence[str]) -> dict[str, tuple]:
    """``{uscc: (id, origin, source_version)}`` of those held here."""
    found = {}
    for chunk in in_chunks(codes):
        rows = session.execute(
            select(
                Enterprise.uscc, Enterprise.id, Enterprise.origin, Enterprise.source_version
            ).where(Enterprise.uscc.in_(chunk))
        ).all()
        found.update({uscc: (id_, origin, version) for uscc, id_, origin, version in rows})
    return found


def apply_records(
    session: Session, source: SyncSource, records: Iterable[Record], *, newer_only: bool
) -> Outcome:
    """Apply checked records of ``source`` (see the module's rules). ``newer_only``: the
    feed's rule; a snapshot applies whatever the version. Flushes, never commits."""
    records = _latest(records)
    actor = sync_actor(source)
    feed: list[dict] = []
    outcome, conflicts = Outcome(), []
    enterprises = [r for r in records if r[0] == "enterprise"]
    reports = [r for r in records if r[0] == "annual_report"]
    held = _held_enterprises(
        session, sorted({r[1] for r in enterprises} | {r[3][0] for r in reports})
    )

    new, changes = [], []
    for record in enterprises:
        _type, uscc, version, _values = record
        mine = held.get(uscc)
        if mine is None:
            new.append(record)
        elif mine[1] != source.name:
            conflicts.append((record, mine[1]))
        elif not newer_only or mine[2] is None or version > mine[2]:
            changes.append(record)
    if new:
        rows = [
            (uscc, *values, source.name, version, *_LADDER_TAIL)
            for _type, uscc, version, values in new
        ]
        ids = bulk.bulk_create_enterprises(session, rows, actor=actor, feed=feed)
        for (_type, uscc, version, _values), id_ in zip(new, ids, strict=True):
            held[uscc] = (id_, source.name, version)
        outcome.applied += len(new)
    outcome.applied += _update_enterprises(session, changes, actor)

    outcome.applied += _apply_reports(session, source, reports, held, conflicts, feed, newer_only)
    outcome.conflicts = _record_conflicts(session, source, conflicts)
    # The bulk rows' feed entries last: on PostgreSQL the feed counter is then locked
    # only for the COMMIT (API.md "How the order is kept").
    session.flush()
    append_entries(session, feed)
    return outcome


def _update_enterprises(session: Session, records: list[Record], actor: Actor) -> int:
    if not records:
        return 0
    by_uscc = {}
    for chunk in in_chunks([r[1] for r in records]):
        by_uscc.update(
            (e.uscc, e)
            for e in session.scalars(select(Enterprise).where(Enterprise.uscc.in_(chunk)))
        )
    return sum(
        _update_enterprise(session, by_uscc[uscc], values, version, actor)
        for _type, uscc, version, values in records
    )


def _update_enterprise(session, enterprise: Enterprise, values, version: int, actor) -> bool:
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


def _apply_reports(session, source, reports, held, conflicts, feed, newer_only) -> int:
    mine = []
    for record in reports:
        owner = held.get(record[3][0])
        if owner is None or owner[1] != source.name:
            conflicts.append((record, "" if owner is None else owner[1]))
        else:
            mine.append(record)
    if not mine:
        return 0
    existing = {}  # (enterprise id, year) → (report id, source_version)
    wanted = [(held[r[3][0]][0], r[3][1][0]) for r in mine]
    for chunk in in_chunks(wanted):
        rows = session.execute(
            select(
                AnnualReport.enterprise_id,
                AnnualReport.year,
                AnnualReport.id,
                AnnualReport.source_version,
            ).where(tuple_(AnnualReport.enterprise_id, AnnualReport.year).in_(chunk))
        ).all()
        existing.update({(e, y): (i, v) for e, y, i, v in rows})
    new, changes = [], []
    for record, place in zip(mine, wanted, strict=True):
        held_report = existing.get(place)
        if held_report is None:
            new.append(record)
        elif not newer_only or held_report[1] is None or record[2] > held_report[1]:
            changes.append((held_report[0], record))
    if new:
        bulk.bulk_create_reports(
            session,
            [(r[3][0], r[3][1]) for r in new],
            actor=sync_actor(source),
            ids={r[3][0]: held[r[3][0]][0] for r in new},
            feed=feed,
            source_versions=[r[2] for r in new],
        )
    updated = 0
    actor = sync_actor(source)
    for report_id, (_type, key, version, (_uscc, figures)) in changes:
        report = session.get(AnnualReport, report_id)
        before = {name: getattr(report, name) for name in FIGURE_FIELDS}
        before["source_version"] = report.source_version
        after = {**dict(zip(FIGURE_FIELDS, figures[1:], strict=True)), "source_version": version}
        delta = diff(before, after)
        if delta:
            for name, value in after.items():
                setattr(report, name, value)
            changed(session, report)
            record_audit(session, actor, "annual_report.update", "annual_report", key, delta)
            updated += 1
    return len(new) + updated


def _record_conflicts(session: Session, source: SyncSource, conflicts: list) -> int:
    """Upsert one ``sync_conflicts`` row per skipped record."""
    if not conflicts:
        return 0
    now = clock.now()
    keys = [(record[0], record[1]) for record, _origin in conflicts]
    rows = {}
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
    for (type_, key, version, _values), origin in conflicts:
        row = rows.get((type_, key))
        if row is None:
            row = rows[(type_, key)] = SyncConflict(
                source_id=source.id, type=type_, key=key, first_seen_at=now
            )
            session.add(row)
        row.source_version = version
        row.local_origin = origin
        row.last_seen_at = now
    return len(conflicts)


# --- checkpoints ---------------------------------------------------------------------------


def checkpoint(
    session: Session,
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


def record_failure(session: Session, source_id: int, message: str) -> None:
    """Note a failed run on the source (its own transaction: nothing else was written)."""
    source = session.get(SyncSource, source_id)
    now = clock.now()
    source.last_error = message[:2000]
    source.last_error_at = now
    source.last_run_at = now
    session.flush()


def conflicts_of(session: Session, source: SyncSource, limit: int = 500):
    """The source's conflict report, most recently seen first (at most ``limit``), and
    how many there are."""
    total = session.scalar(
        select(func.count()).select_from(SyncConflict).where(SyncConflict.source_id == source.id)
    )
    rows = session.scalars(
        select(SyncConflict)
        .where(SyncConflict.source_id == source.id)
        .order_by(SyncConflict.last_seen_at.desc(), SyncConflict.id.desc())
        .limit(limit)
    ).all()
    return list(rows), total
