"""Replacing stored enterprises and annual reports in bulk (an import), as
``operations.replace_enterprise`` and ``operations.save_annual_report`` replace one, in a
few statements: one UPDATE per set of fields changed (executemany, in id order, setting
only those fields), each record's change-log entry and its audit entry
(``enterprise.update`` or ``annual_report.update``, the fields changed). A status change
is not made here: it goes through ``operations.change_status``, whose listeners end a
designation.

Planned in one transaction, written in another: a caller reads the records with
``stored_records.stored_enterprises`` or ``stored_reports`` while it checks its rows (a
read-only transaction, no lock) and plans each replacement from what it read
(:func:`plan_profile`, :func:`plan_figures`: the diff, the audit entry's JSON and the
feed JSON but for its ``updated_at`` are made then). In its write transaction it asks
``stored_records.changed_enterprises`` or ``changed_reports`` which records are no
longer as read — another version, or created meanwhile — plans those again from their
state now, and writes with :func:`bulk_replace`. Every UPDATE also requires the version it was
planned from, so nothing planned from a stale read is written. Flushes nothing, never
commits.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, update

from registry.core import clock
from registry.core.audit import Actor, audit_row, diff, record_audit_rows
from registry.core.db import is_postgres
from registry.core.dbsession import DbSession
from registry.core.errors import DomainError
from registry.core.schemas import rfc3339
from registry.enterprises.batches import (
    REPORT_FIELDS,
    report_values,
    sqlite_time,
)
from registry.enterprises.feed_json import enterprise_data_head, report_data_around
from registry.enterprises.models import AnnualReport, Enterprise
from registry.enterprises.operations import PROFILE_FIELDS, clean_profile
from registry.enterprises.stored_records import (
    ENTERPRISES,
    PROFILE,
    REPORTS,
    StoredEnterprise,
    StoredReport,
)


# The profile is ENTERPRISE_FIELDS[1:13]: a row's values are patched in place.
class RecordsChanged(DomainError):
    """A record was written between the re-check and the write (cannot happen under
    the locks taken; a refusal rather than a lost update if it ever does)."""

    status = 409
    code = "conflict"


# --- what is written -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Replacement:
    """A stored record's new values, planned from the version read, with what can be
    written before the time of the write is known: the audit entry's changes (also as
    the JSON column stores them) and the feed JSON before and after its ``updated_at``."""

    id: int
    #: The record's key in the feed and the audit log (``uscc``, ``uscc/year``).
    key: str
    #: The version it was planned from, and the one it writes.
    read_version: int
    version: int
    #: The fields it changes and their new values: the only ones its UPDATE sets (an
    #: indexed column set to its own value still costs its index an update).
    values: dict[str, Any]
    changes: dict[str, list[Any]]
    changes_json: str
    data_around: tuple[str, str]
    #: The UPDATE's parameters on SQLite: the new values (dates as the text SQLite
    #: stores), the new version, the id and the version planned from.
    sqlite_row: tuple[Any, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.values)


def _replacement(
    id_: int,
    key: str,
    read_version: int,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    data_around: Callable[[int], tuple[str, str]],
) -> Replacement | None:
    changes = diff(dict(before), dict(after))
    if not changes:
        return None
    values = {name: after[name] for name in after if name in changes}
    fields = [v.isoformat() if isinstance(v, date) else v for v in values.values()]
    # json.dumps: what the audit log's JSON column writes.
    return Replacement(
        id_,
        key,
        read_version,
        read_version + 1,
        values,
        changes,
        json.dumps(changes),
        data_around(read_version + 1),
        (*fields, read_version + 1, id_, read_version),
    )


def plan_profile(stored: StoredEnterprise, profile: Mapping[str, Any]) -> Replacement | None:
    """The replacement of ``stored``'s whole profile by ``profile`` (a field left out is
    cleared), or None when it changes nothing (nothing is written then, as by
    ``replace_enterprise``)."""
    after = clean_profile({name: profile.get(name) for name in PROFILE_FIELDS})
    values = list(stored.values)
    values[PROFILE] = [after[name] for name in PROFILE_FIELDS]
    created = rfc3339(stored.created_at)

    def around(version: int) -> tuple[str, str]:
        return enterprise_data_head(values, created, version), '"}'

    return _replacement(stored.id, stored.uscc, stored.version, stored.profile(), after, around)


def plan_figures(stored: StoredReport, figures: Mapping[str, Any]) -> Replacement | None:
    """The replacement of ``stored``'s figures by ``figures`` (one left out is cleared),
    checked as ``save_annual_report`` checks them; None when it changes nothing."""
    values = report_values({**figures, "year": stored.year})
    after = dict(zip(REPORT_FIELDS[1:], values[1:], strict=True))
    created = rfc3339(stored.created_at)

    def around(version: int) -> tuple[str, str]:
        return report_data_around(stored.uscc, values, created, version)

    key = f"{stored.uscc}/{stored.year}"
    return _replacement(stored.id, key, stored.version, stored.figures, after, around)


def bulk_replace(
    session: DbSession,
    model: type[Enterprise | AnnualReport],
    replacements: Sequence[Replacement],
    *,
    actor: Actor,
    feed: list[dict[str, Any]],
) -> None:
    """Write the replacements of ``model``'s records (enterprises or annual reports):
    each record's fields, its version + 1 and ``updated_at`` now, only where the version
    is still the one it was planned from (else :class:`RecordsChanged`, the caller rolls
    back); its audit entry, and its feed entry collected into ``feed`` for the caller
    to write last (``append_entries``)."""
    if not replacements:
        return
    table, kind = (ENTERPRISES, "enterprise") if model is Enterprise else (REPORTS, "annual_report")
    at = clock.now()
    by_columns: dict[tuple[str, ...], list[Replacement]] = {}
    for r in sorted(replacements, key=lambda r: r.id):  # the table's order on disk
        by_columns.setdefault(r.columns, []).append(r)
    update_rows = _update_postgres if is_postgres(session) else _update_sqlite
    written = [update_rows(session, table, c, rows, at) for c, rows in by_columns.items()]
    if None not in written and sum(cast(list[int], written)) != len(replacements):
        raise RecordsChanged("A record was written meanwhile; try again.")
    updated = rfc3339(at)
    feed.extend(
        {
            "type": kind,
            "key": r.key,
            "op": "upsert",
            "version": r.version,
            "occurred_at": at,
            "data": r.data_around[0] + updated + r.data_around[1],
        }
        for r in replacements
    )
    _audit(session, actor, at, f"{kind}.update", kind, replacements)


def _update_sqlite(
    session: DbSession,
    table: Table,
    columns: tuple[str, ...],
    replacements: Sequence[Replacement],
    at: datetime,
) -> int | None:
    result = session.connection().exec_driver_sql(
        # The registry's own table and column names, placeholders and a timestamp it
        # formats itself.
        f"UPDATE {table.name} SET "  # nosec B608
        + "".join(f"{name} = ?, " for name in columns)
        + f"version = ?, updated_at = '{sqlite_time(at)}' WHERE id = ? AND version = ?",
        [r.sqlite_row for r in replacements],
    )
    return result.rowcount


def _update_postgres(
    session: DbSession,
    table: Table,
    columns: tuple[str, ...],
    replacements: Sequence[Replacement],
    at: datetime,
) -> int | None:
    stmt = (
        update(table)
        .where(table.c.id == bindparam("_id"), table.c.version == bindparam("_version"))
        .values(
            {name: bindparam(name) for name in columns}
            | {"version": bindparam("_new_version"), "updated_at": at}
        )
    )
    result = session.connection().execute(
        stmt,
        [
            r.values | {"_id": r.id, "_version": r.read_version, "_new_version": r.version}
            for r in replacements
        ],
    )
    # The rows were locked when re-checked: the count is a second look where the
    # driver reports one for an executemany.
    return result.rowcount if session.get_bind().dialect.supports_sane_multi_rowcount else None


def _audit(
    session: DbSession,
    actor: Actor,
    at: datetime,
    action: str,
    object_type: str,
    replacements: Sequence[Replacement],
) -> None:
    template = audit_row(actor, action, object_type, "", None) | {"at": at}
    if is_postgres(session):
        record_audit_rows(
            session,
            ({**template, "object_id": r.key, "changes": r.changes} for r in replacements),
        )
        return
    shared = (
        sqlite_time(at),
        template["actor_id"],
        template["actor_name"],
        template["via"],
        action,
        object_type,
    )
    request = (template["reason"], template["request_id"], template["client_address"])
    session.connection().exec_driver_sql(
        "INSERT INTO audit_log (at, actor_id, actor_name, via, action, object_type,"
        " object_id, changes, reason, request_id, client_address)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*shared, r.key, r.changes_json, *request) for r in replacements],
    )
