"""Enterprises and annual reports as an import reads them before it replaces them
(:mod:`registry.enterprises.batch_replace`): read in the import's read-only transaction
with :func:`stored_enterprises` or :func:`stored_reports`, and checked again in its write
transaction by :func:`changed_enterprises` or :func:`changed_reports`, which give the
records that are no longer as read (another version, or created meanwhile) as they are
now, locked. Flushes nothing, never commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Select, Table, select, tuple_

from registry.core.db import for_update, in_chunks
from registry.core.dbsession import DbSession
from registry.enterprises.batch_operations import enterprise_ids
from registry.enterprises.batches import ENTERPRISE_FIELDS
from registry.enterprises.models import FIGURE_FIELDS, AnnualReport, Enterprise
from registry.enterprises.operations import PROFILE_FIELDS

K = TypeVar("K")
S = TypeVar("S", "StoredEnterprise", "StoredReport")

ENTERPRISES = cast(Table, Enterprise.__table__)
REPORTS = cast(Table, AnnualReport.__table__)

#: Where the profile's fields lie in ENTERPRISE_FIELDS (after the USCC).
PROFILE = slice(1, 1 + len(PROFILE_FIELDS))
if ENTERPRISE_FIELDS[PROFILE] != PROFILE_FIELDS:
    raise RuntimeError("ENTERPRISE_FIELDS must hold PROFILE_FIELDS after the USCC")
_STATUS, _MERGED_INTO, _ORIGIN = (
    ENTERPRISE_FIELDS.index(name) for name in ("status", "merged_into", "origin")
)


@dataclass(frozen=True, slots=True)
class StoredEnterprise:
    """An enterprise as read: its id, version, creation time and every column of
    ENTERPRISE_FIELDS (typed; the status as its text)."""

    id: int
    version: int
    created_at: datetime
    values: tuple[Any, ...]

    @property
    def uscc(self) -> str:
        return cast(str, self.values[0])

    @property
    def origin(self) -> str:
        return cast(str, self.values[_ORIGIN])

    @property
    def status(self) -> tuple[str, str | None]:
        """(status, merged_into) as stored."""
        return self.values[_STATUS], self.values[_MERGED_INTO]

    def profile(self) -> dict[str, Any]:
        return dict(zip(PROFILE_FIELDS, self.values[PROFILE], strict=True))


@dataclass(frozen=True, slots=True)
class StoredReport:
    """An annual report as read: its id, version, creation time, its enterprise's id
    and USCC, and its figures (FIGURE_FIELDS)."""

    id: int
    version: int
    created_at: datetime
    enterprise_id: int
    uscc: str
    year: int
    figures: dict[str, Any]


_ENTERPRISE_COLUMNS = (
    ENTERPRISES.c.id,
    ENTERPRISES.c.version,
    ENTERPRISES.c.created_at,
    *(ENTERPRISES.c[name] for name in ENTERPRISE_FIELDS),
)


def stored_enterprises(
    session: DbSession, codes: Iterable[str], *, lock: bool = False
) -> dict[str, StoredEnterprise]:
    """``{uscc: StoredEnterprise}`` of those of ``codes`` in the registry; ``lock``: in
    a write transaction, their rows locked until it ends (PostgreSQL; SQLite's write
    transaction holds the database), taken in id order."""
    found: dict[str, StoredEnterprise] = {}
    for chunk in in_chunks(sorted(set(codes))):
        stmt = select(*_ENTERPRISE_COLUMNS).where(ENTERPRISES.c.uscc.in_(chunk))
        for row in session.execute(for_update(session, stmt.order_by(ENTERPRISES.c.id), lock=lock)):
            id_, version, created_at, *values = row
            values[_STATUS] = str(values[_STATUS])
            found[values[0]] = StoredEnterprise(id_, version, created_at, tuple(values))
    return found


def stored_reports(
    session: DbSession, places: Mapping[tuple[int, int], str], *, lock: bool = False
) -> dict[tuple[int, int], StoredReport]:
    """``{(enterprise id, year): StoredReport}`` of those of ``places`` (each with its
    enterprise's USCC) that hold a report; ``lock`` as for :func:`stored_enterprises`."""
    columns = [REPORTS.c[name] for name in FIGURE_FIELDS]
    place = tuple_(REPORTS.c.enterprise_id, REPORTS.c.year)
    found: dict[tuple[int, int], StoredReport] = {}
    for chunk in in_chunks(sorted(places)):
        stmt = (
            select(
                REPORTS.c.id,
                REPORTS.c.version,
                REPORTS.c.created_at,
                REPORTS.c.enterprise_id,
                REPORTS.c.year,
                *columns,
            )
            .where(place.in_(chunk))
            .order_by(REPORTS.c.id)
        )
        for id_, version, created_at, owner, year, *figures in session.execute(
            for_update(session, stmt, lock=lock)
        ):
            found[(owner, year)] = StoredReport(
                id_,
                version,
                created_at,
                owner,
                places[(owner, year)],
                year,
                dict(zip(FIGURE_FIELDS, figures, strict=True)),
            )
    return found


def _stale_ids(session: DbSession, table: Table, versions: Mapping[int, int]) -> set[int]:
    """Those of the rows ``{id: version}`` whose version is another now; locked first,
    in id order (PostgreSQL), so that none changes before the transaction ends."""
    now: dict[int, int] = {}
    for chunk in in_chunks(sorted(versions)):
        stmt: Select[Any] = (
            select(table.c.id, table.c.version).where(table.c.id.in_(chunk)).order_by(table.c.id)
        )
        now.update(session.execute(for_update(session, stmt)).all())
    return {id_ for id_, version in versions.items() if now.get(id_) != version}


def _changed(
    stored: Mapping[K, S],
    stale: set[int],
    keys: Iterable[K],
    exists: Callable[[list[K]], Iterable[K]],
) -> list[K]:
    """The keys to read again: those of stored records of ``stale`` ids, and those not
    stored that ``exists`` finds now."""
    missing = [key for key in keys if key not in stored]
    return [key for key, s in stored.items() if s.id in stale] + list(exists(missing))


def changed_enterprises(
    session: DbSession, stored: Mapping[str, StoredEnterprise], codes: Iterable[str]
) -> dict[str, StoredEnterprise]:
    """In the write transaction: those of ``codes`` whose enterprise is no longer as
    ``stored`` holds it — another version, or created since (absent from ``stored``) —
    each as it is now (locked)."""
    stale = _stale_ids(session, ENTERPRISES, {s.id: s.version for s in stored.values()})
    again = _changed(stored, stale, codes, lambda missing: enterprise_ids(session, missing))
    return stored_enterprises(session, again, lock=True)


def changed_reports(
    session: DbSession,
    stored: Mapping[tuple[int, int], StoredReport],
    places: Mapping[tuple[int, int], str],
) -> dict[tuple[int, int], StoredReport]:
    """As :func:`changed_enterprises`, for the annual reports of ``places``."""
    stale = _stale_ids(session, REPORTS, {s.id: s.version for s in stored.values()})

    def exists(missing: list[tuple[int, int]]) -> Iterable[tuple[int, int]]:
        return stored_reports(session, {key: places[key] for key in missing}).keys()

    again = _changed(stored, stale, places, exists)
    return stored_reports(session, {key: places[key] for key in again}, lock=True)
