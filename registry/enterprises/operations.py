"""Enterprise and annual-report operations.

Batch operations (bulk loads: ``demo``, imports) write many records at once and still
record, for every record created, its change-log entry (the resource as a reviewer's
GET renders it, version 1) and its audit entry, in the caller's transaction. They flush
and never commit; the command commits per batch.

Two steps, so that a loader can run the first in another process while this one
writes: *prepare* (pure Python, no session: validation, typed values, the feed JSON and
the SQLite parameters) and *write* (``bulk_create_*``). The feed JSON comes from the
dedicated serializers below instead of marshmallow; ``tests/enterprises/test_bulk.py``
shows that their output equals the output schemas' (``enterprise_out``,
``annual_report_out``) for generated records.

Writing on SQLite goes through the raw driver: one executemany per table, with the
values every new record shares (status, origin, version, timestamps…) as SQL literals
rather than bound parameters, and the audit entries of a batch in one INSERT … SELECT
over a JSON array of their object ids. Ids are the rowids SQLite hands out, which are
consecutive because every write transaction holds the database write lock from
``BEGIN IMMEDIATE`` (``registry.core.db``; checked). Other engines use Core executemany
with ids drawn from the table's sequence.

(Measured for ``demo --count 1000000`` on SQLite, 2 cores: writing enterprises ~15 s,
reports ~6 s, their feed entries ~14 s through ``append_entries``, audit entries ~5 s,
the COMMITs — WAL and checkpoint I/O of ~2.6 GB — ~17 s.)
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from registry.core import clock
from registry.core.audit import Actor, audit_row, record_audit_rows
from registry.core.changes import append_entries
from registry.core.errors import ValidationFailed
from registry.core.schemas import rfc3339
from registry.enterprises import uscc as uscc_codes
from registry.enterprises.models import (
    FIGURE_FIELDS,
    LOCAL_ORIGIN,
    PERCENT_FIELDS,
    AnnualReport,
    Enterprise,
    Status,
)

#: The columns a bulk-created enterprise row gives, in this order. ``id``, ``version``,
#: ``created_at`` and ``updated_at`` are set by the operation.
ENTERPRISE_FIELDS = (
    "uscc",
    "name",
    "name_en",
    "city_code",
    "county",
    "industry_code",
    "founded_on",
    "legal_representative",
    "contact_name",
    "contact_phone",
    "contact_email",
    "address",
    "main_products",
    "status",
    "merged_into",
    "origin",
    "source_version",
    "verified",
    "tier",
    "tier_since",
    "tier_expires_at",
    "registration_number",
    "ban_until",
)
_DEFAULTS = {"status": Status.ACTIVE.value, "origin": LOCAL_ORIGIN, "verified": True}
#: The profile fields every row binds; the rest (index 13 on) is usually _PLAIN_TAIL.
_PROFILE = 13
_PLAIN_TAIL = (Status.ACTIVE.value, None, LOCAL_ORIGIN, None, True, None, None, None, None, None)
_STATUSES = frozenset(s.value for s in Status)

#: The columns of a bulk-created annual report (besides the enterprise), in this order.
REPORT_FIELDS = ("year", *FIGURE_FIELDS)
_REPORT_TYPES = tuple(float if name in PERCENT_FIELDS else int for name in REPORT_FIELDS)
_PERCENTS = frozenset(i for i, name in enumerate(REPORT_FIELDS) if name in PERCENT_FIELDS)
_RULES = (  # API.md: the part may not exceed the whole
    ("tech_staff", "employees"),
    ("rd_staff", "employees"),
    ("rd_expense", "total_cost"),
    ("rd_domestic_expense", "rd_expense"),
    ("hightech_income", "total_income"),
    ("revenue", "total_income"),
    ("net_assets", "total_assets"),
)
_RULE_INDEXES = tuple((REPORT_FIELDS.index(a), REPORT_FIELDS.index(b)) for a, b in _RULES)

_ORG_CODE_WARNINGS = (uscc_codes.WARNING_ORG_CODE_CHECK,)

# The C string encoder json.dumps(..., ensure_ascii=False) itself uses: identical output.
_quote = json.encoder.encode_basestring


# --- feed serializers ---------------------------------------------------------------------


def uscc_warnings(code: str) -> tuple[str, ...]:
    """The warnings ``uscc.validate`` gives a normalised code, or ValidationFailed.

    Cheaper than ``validate`` (no normalisation): bulk rows must be normalised already.
    """
    try:
        ok = len(code) == uscc_codes.LENGTH and uscc_codes.check_character(code[:-1]) == code[-1]
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValidationFailed(
            "Invalid USCC %(uscc)s.",
            code="invalid_uscc",
            errors=[{"field": "uscc", "code": "invalid_uscc", "message": f"{code!r}"}],
            uscc=code,
        )
    return () if uscc_codes.org_code_check_ok(code) else (uscc_codes.WARNING_ORG_CODE_CHECK,)


def _s(value: str | None) -> str:
    return "null" if value is None else _quote(value)


def enterprise_data(
    values: Sequence[Any],
    created: str,
    updated: str,
    version: int = 1,
    warnings: tuple[str, ...] | None = None,
) -> str:
    """The feed JSON of an enterprise, equal to ``dumps(enterprise_out.dump(e))``.

    ``values`` are typed, in ENTERPRISE_FIELDS order (strings already ``str``);
    ``created``/``updated`` in RFC 3339; ``warnings`` those of the USCC when known.
    """
    (
        code,
        name,
        name_en,
        city,
        county,
        industry,
        founded_on,
        legal,
        contact,
        phone,
        email,
        address,
        products,
        status,
        merged_into,
        origin,
        source_version,
        _verified,
        tier,
        tier_since,
        tier_expires_at,
        number,
        _ban_until,
    ) = values
    if warnings is None:
        warnings = () if uscc_codes.org_code_check_ok(code) else _ORG_CODE_WARNINGS
    shown = "[]" if not warnings else json.dumps(list(warnings))
    expires = "null" if tier_expires_at is None else _quote(rfc3339(tier_expires_at))
    return (
        f'{{"uscc":{_quote(code)},"name":{_quote(name)},"name_en":{_s(name_en)},'
        f'"city_code":{_s(city)},"county":{_s(county)},"industry_code":{_s(industry)},'
        f'"founded_on":{"null" if founded_on is None else _quote(founded_on.isoformat())},'
        f'"legal_representative":{_s(legal)},"contact_name":{_s(contact)},'
        f'"contact_phone":{_s(phone)},"contact_email":{_s(email)},"address":{_s(address)},'
        f'"main_products":{_s(products)},"status":{_quote(status)},'
        f'"merged_into":{_s(merged_into)},"uscc_warnings":{shown},'
        f'"origin":{_quote(origin)},'
        f'"source_version":{"null" if source_version is None else int(source_version)},'
        f'"tier":{_s(tier)},'
        f'"tier_since":{"null" if tier_since is None else _quote(tier_since.isoformat())},'
        f'"tier_expires_at":{expires},'
        f'"registration_number":{_s(number)},"version":{int(version)},'
        f'"created_at":"{created}","updated_at":"{updated}"}}'
    )


# %s renders an int or a float exactly as json.dumps does (str is repr for floats);
# report_values has made every figure an int, a finite float or None.
_REPORT_HEAD = '{"enterprise_uscc":%s,"year":%d,"version":%d,"created_at":"%s","updated_at":"%s",'
_REPORT_FIGURES = ",".join(f'"{name}":%s' for name in FIGURE_FIELDS) + "}"


def report_data(uscc: str, values: Sequence[Any], created: str, updated: str, version: int = 1):
    """The feed JSON of an annual report, equal to ``dumps(annual_report_out.dump(r))``.

    ``values`` come from :func:`report_values` (REPORT_FIELDS order).
    """
    head = _REPORT_HEAD % (_quote(uscc), values[0], version, created, updated)
    return head + _REPORT_FIGURES % tuple(["null" if v is None else v for v in values[1:]])


# --- prepared batches -------------------------------------------------------------------------


def _sqlite_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _sqlite_time(at: datetime | None) -> str | None:
    """The text SQLAlchemy stores for a UTC timestamp on SQLite (as core.changes does)."""
    if at is None:
        return None
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _check_enterprise(values: tuple) -> tuple[tuple, tuple[str, ...]]:
    """The row (status as plain text) and its USCC warnings, or ValidationFailed."""
    if len(values) != len(ENTERPRISE_FIELDS):
        raise ValueError(f"expected {len(ENTERPRISE_FIELDS)} enterprise values")
    if not values[1]:
        raise ValidationFailed("An enterprise needs a name (%(uscc)s).", uscc=values[0])
    status = values[13]
    if status not in _STATUSES:
        raise ValidationFailed("Unknown status %(status)s.", status=status)
    if type(status) is not str:  # a Status member: store and render its plain value
        values = (*values[:13], str(status), *values[14:])
    return values, uscc_warnings(values[0])


def _storage(values: tuple) -> tuple:
    """How a row travels and is written: a row whose tail is _PLAIN_TAIL (written as SQL
    literals) as its _PROFILE SQLite parameters; any other row as its typed values."""
    if values[_PROFILE:] != _PLAIN_TAIL:
        return values
    founded_on = values[6]
    if founded_on is None:
        return values[:_PROFILE]
    return (*values[:6], founded_on.isoformat(), *values[7:_PROFILE])


def _typed(stored: tuple) -> tuple:
    if len(stored) != _PROFILE:
        return stored
    founded_on = stored[6] and date.fromisoformat(stored[6])
    return (*stored[:6], founded_on, *stored[7:], *_PLAIN_TAIL)


@dataclass
class EnterpriseBatch:
    """Enterprise rows ready to write, with their feed JSON.

    Built by :func:`prepare_enterprises`; pure data, so it can be built in another
    process and sent here. ``stored`` keeps each row in the form it is written in (see
    :func:`_storage`), which is also the cheapest to send; :meth:`row` gives the typed
    values. :meth:`replace` changes fields of one row (re-rendering its JSON).
    """

    at: datetime
    stored: list[tuple] = field(default_factory=list)
    data: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stamp = rfc3339(self.at)

    def __len__(self) -> int:
        return len(self.stored)

    @property
    def usccs(self) -> list[str]:
        return [stored[0] for stored in self.stored]

    def row(self, index: int) -> tuple:
        """Row ``index`` as typed values in ENTERPRISE_FIELDS order."""
        return _typed(self.stored[index])

    @property
    def rows(self) -> list[tuple]:
        return [_typed(stored) for stored in self.stored]

    def append(self, values: Sequence[Any]) -> None:
        values, warnings = _check_enterprise(tuple(values))
        self.stored.append(_storage(values))
        self.data.append(enterprise_data(values, self._stamp, self._stamp, warnings=warnings))

    def replace(self, index: int, **changes: Any) -> None:
        row = dict(zip(ENTERPRISE_FIELDS, self.row(index), strict=True))
        unknown = changes.keys() - row.keys()
        if unknown:
            raise ValueError(f"unknown enterprise fields: {', '.join(sorted(unknown))}")
        row.update(changes)
        values, warnings = _check_enterprise(tuple(row.values()))
        self.stored[index] = _storage(values)
        self.data[index] = enterprise_data(values, self._stamp, self._stamp, warnings=warnings)


def enterprise_values(row: Mapping[str, Any]) -> tuple:
    """A row given as a mapping of ENTERPRISE_FIELDS, as a tuple in that order
    (status ``active``, origin ``local`` and verified when not given)."""
    unknown = row.keys() - set(ENTERPRISE_FIELDS)
    if unknown:
        raise ValueError(f"unknown enterprise fields: {', '.join(sorted(unknown))}")
    return tuple(row.get(name, _DEFAULTS.get(name)) for name in ENTERPRISE_FIELDS)


def prepare_enterprises(
    rows: Iterable[Mapping[str, Any] | Sequence[Any]], at: datetime
) -> EnterpriseBatch:
    """Validate enterprise rows and render their feed JSON; ``at`` becomes created_at
    and updated_at. A row is a mapping of ENTERPRISE_FIELDS, or a tuple of all of them
    in that order (the fast form). Values are typed (dates, aware datetimes) and USCCs
    normalised (``uscc.normalize``); an invalid code, a missing name, an unknown status
    or a code given twice raises ValidationFailed."""
    batch = EnterpriseBatch(at)
    for row in rows:
        batch.append(enterprise_values(row) if isinstance(row, Mapping) else row)
    codes = batch.usccs
    if len(set(codes)) != len(codes):
        twice = min(code for code, n in Counter(codes).items() if n > 1)
        raise ValidationFailed("USCC %(uscc)s appears twice.", uscc=twice)
    return batch


def report_values(row: Mapping[str, Any] | Sequence[Any]) -> tuple:
    """A report's figures as a typed tuple in REPORT_FIELDS order, checked against
    API.md: non-negative, percentages ≤ 100, and the consistency rules (each refusal
    a ValidationFailed with a field error ``out_of_range`` or ``inconsistent``)."""
    if isinstance(row, Mapping):
        unknown = row.keys() - set(REPORT_FIELDS) - {"enterprise_uscc"}
        if unknown:
            raise ValueError(f"unknown annual report fields: {', '.join(sorted(unknown))}")
        row = [row.get(name) for name in REPORT_FIELDS]
    values = [
        v if v is None or type(v) is kind else kind(v)
        for v, kind in zip(row, _REPORT_TYPES, strict=True)
    ]
    if values[0] is None:
        raise ValidationFailed("An annual report needs a year.")
    present = [v for v in values if v is not None]
    total = sum(present)  # NaN when a figure is NaN (v != v), which no comparison catches
    if min(present) < 0 or max((values[i] or 0) for i in _PERCENTS) > 100 or total != total:
        for i, v in enumerate(values):
            if v is not None and (v != v or v < 0 or (i in _PERCENTS and v > 100)):
                raise _report_error(i, "out_of_range", f"{REPORT_FIELDS[i]} = {v}")
    for part, whole in _RULE_INDEXES:
        if values[part] is not None and values[whole] is not None and values[part] > values[whole]:
            message = f"{REPORT_FIELDS[part]} > {REPORT_FIELDS[whole]}"
            raise _report_error(part, "inconsistent", message)
    return tuple(values)


def _report_error(index: int, code: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        "Annual report: %(detail)s.",
        errors=[{"field": REPORT_FIELDS[index], "code": code, "message": message}],
        detail=message,
    )


@dataclass
class ReportBatch:
    """Annual-report rows ready to write: the enterprise's USCC, typed values (which are
    also the SQLite parameters) and their feed JSON."""

    at: datetime
    usccs: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    data: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def replace_uscc(self, index: int, code: str) -> None:
        stamp = rfc3339(self.at)
        self.usccs[index] = code
        self.data[index] = report_data(code, self.rows[index], stamp, stamp)


def prepare_reports(
    rows: Iterable[Mapping[str, Any] | tuple[str, Sequence[Any]]], at: datetime
) -> ReportBatch:
    """Check annual-report rows and render their feed JSON (see :func:`report_values`).

    A row is a mapping with ``enterprise_uscc``, ``year`` and figures, or a pair
    (uscc, values in REPORT_FIELDS order). Money in integer 元, percentages 0–100.
    """
    stamp = rfc3339(at)
    batch = ReportBatch(at)
    for row in rows:
        code, row = (row["enterprise_uscc"], row) if isinstance(row, Mapping) else row
        values = report_values(row)
        batch.usccs.append(code)
        batch.rows.append(values)
        batch.data.append(report_data(code, values, stamp, stamp))
    return batch


# --- writing --------------------------------------------------------------------------------


def _sqlite(session: Session) -> bool:
    return session.get_bind().dialect.name == "sqlite"


def _write_locked(session: Session):
    connection = session.connection()
    if not connection.info.get("write_locked", False):
        raise RuntimeError("bulk writes on SQLite need the write lock (BEGIN IMMEDIATE)")
    return connection


#: Page cache of the connection of a bulk load on SQLite (KiB): the indexes it extends
#: stay in memory instead of being re-read for every batch (measured: 64 MiB is enough
#: for 1 000 000 enterprises; more only costs memory).
BULK_CACHE_KIB = 64 * 1024


@contextlib.contextmanager
def sqlite_bulk_load(session: Session) -> Iterator[None]:
    """A larger page cache (:data:`BULK_CACHE_KIB`) for the session's connection while
    a bulk load (many batches, each committed) runs on SQLite, restored afterwards: a
    pooled connection must not keep a bulk load's memory. Nothing on other engines.

    (Checkpointing the WAL from a background thread instead of inside each COMMIT was
    measured too: no faster at 1 000 000 enterprises, so COMMIT keeps doing it.)
    """
    if not _sqlite(session):
        yield
        return
    cache = session.connection().exec_driver_sql("PRAGMA cache_size").scalar()
    session.connection().exec_driver_sql(f"PRAGMA cache_size = {-BULK_CACHE_KIB}")
    try:
        yield
    finally:
        # Not transactional: it holds once run; the empty transaction is just closed.
        session.rollback()
        session.connection().exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")
        session.rollback()


def next_sqlite_id(session: Session, table: str) -> int:
    """The rowid SQLite gives the next row of ``table``; valid under the write lock."""
    connection = _write_locked(session)
    return (connection.exec_driver_sql(f"SELECT max(id) FROM {table}").scalar() or 0) + 1


def new_ids(session: Session, table: str, n: int) -> list[int]:
    """``n`` ids for new rows of ``table`` (integer ``id`` primary key): the next rowids
    on SQLite (under the write lock), values of the table's sequence elsewhere."""
    if n <= 0:
        return []
    if _sqlite(session):
        first = next_sqlite_id(session, table)
        return list(range(first, first + n))
    return sorted(
        session.scalars(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table, "n": n},
        )
    )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _audit(
    session: Session, actor: Actor, action: str, object_type: str, object_ids: Sequence[str]
) -> None:
    """One audit entry per created record. A creation's entry carries no field diff:
    the created state is the change-log entry written beside it."""
    template = audit_row(actor, action, object_type, "", None)
    if not _sqlite(session):
        record_audit_rows(session, ({**template, "object_id": i} for i in object_ids))
        return
    # One statement: the shared values bound once, the ids as one JSON array, in order.
    session.connection().exec_driver_sql(
        "INSERT INTO audit_log (at, actor_id, actor_name, via, action, object_type,"
        " object_id, changes, reason, request_id, client_address)"
        " SELECT ?, ?, ?, ?, ?, ?, value, 'null', ?, ?, ? FROM json_each(?) ORDER BY key",
        (
            _sqlite_time(template["at"]),
            template["actor_id"],
            template["actor_name"],
            template["via"],
            action,
            object_type,
            template["reason"],
            template["request_id"],
            template["client_address"],
            json.dumps(list(object_ids)),
        ),
    )


def _feed(
    session: Session,
    type_name: str,
    keys: Sequence[str],
    data: Sequence[str],
    at: datetime,
    into: list[dict] | None,
) -> None:
    """One feed entry (version 1) per created record, in the given order: written, or
    collected ``into`` a list the caller writes with ``append_entries`` itself."""
    entry = {"type": type_name, "op": "upsert", "version": 1, "occurred_at": at}
    rows = [{**entry, "key": key, "data": text} for key, text in zip(keys, data, strict=True)]
    if into is None:
        append_entries(session, rows)
    else:
        into.extend(rows)


_ENTERPRISE_COLUMNS = ", ".join(ENTERPRISE_FIELDS)


def _insert_enterprises_sqlite(session: Session, batch: EnterpriseBatch) -> list[int]:
    connection = _write_locked(session)
    stamp = _literal(_sqlite_time(batch.at))
    first = next_sqlite_id(session, "enterprises")
    plain = [stored for stored in batch.stored if len(stored) == _PROFILE]
    if plain:
        # SQLite gives them the rowids first, first + 1, … in this order: the write lock
        # is held (checked below).
        connection.exec_driver_sql(
            f"INSERT INTO enterprises ({_ENTERPRISE_COLUMNS}, version, created_at, updated_at)"
            f" VALUES ({', '.join('?' * _PROFILE)}, 'active', NULL, 'local', NULL, 1,"
            f" NULL, NULL, NULL, NULL, NULL, 1, {stamp}, {stamp})",
            plain,
        )
    ids = []
    plain_id, other_id = first, first + len(plain)
    others = []
    for stored in batch.stored:
        if len(stored) == _PROFILE:
            ids.append(plain_id)
            plain_id += 1
        else:
            ids.append(other_id)
            others.append((other_id, *_sqlite_values(stored)))
            other_id += 1
    if others:
        connection.exec_driver_sql(
            f"INSERT INTO enterprises (id, {_ENTERPRISE_COLUMNS}, version, created_at,"
            f" updated_at) VALUES ({', '.join('?' * (len(ENTERPRISE_FIELDS) + 1))}, 1,"
            f" {stamp}, {stamp})",
            others,
        )
    if next_sqlite_id(session, "enterprises") != first + len(batch.stored):
        raise RuntimeError("enterprise ids were not consecutive")
    return ids


def _sqlite_values(row: tuple) -> tuple:
    return (
        *row[:6],
        _sqlite_date(row[6]),
        *row[7:19],
        _sqlite_date(row[19]),
        _sqlite_time(row[20]),
        row[21],
        _sqlite_date(row[22]),
    )


def bulk_create_enterprises(
    session: Session,
    batch: EnterpriseBatch | Iterable[Mapping[str, Any] | Sequence[Any]],
    *,
    actor: Actor,
    feed: list[dict] | None = None,
) -> list[int]:
    """Create enterprises (a prepared batch, or rows as :func:`prepare_enterprises`
    takes them) with their change-log and audit entries (``enterprise.create``).
    Returns their ids in row order.

    ``feed``: a list to collect the change-log entries in instead of writing them, for
    a caller that writes all of a transaction's entries last, with ``append_entries``
    (on PostgreSQL the feed counter is then locked only for the COMMIT, as API.md
    requires; a batch writing several tables should do so).

    A USCC already in the registry raises IntegrityError (the caller rolls back the
    batch); loaders check with :func:`taken_usccs` first.
    """
    if not isinstance(batch, EnterpriseBatch):
        batch = prepare_enterprises(batch, clock.now())
    if not batch.stored:
        return []
    if _sqlite(session):
        ids = _insert_enterprises_sqlite(session, batch)
    else:
        ids = new_ids(session, "enterprises", len(batch))
        session.execute(
            insert(Enterprise.__table__),
            [
                {"id": i}
                | dict(zip(ENTERPRISE_FIELDS, row, strict=True))
                | {"version": 1, "created_at": batch.at, "updated_at": batch.at}
                for i, row in zip(ids, batch.rows, strict=True)
            ],
        )
    codes = batch.usccs
    _feed(session, "enterprise", codes, batch.data, batch.at, feed)
    _audit(session, actor, "enterprise.create", "enterprise", codes)
    return ids


def taken_usccs(session: Session, codes: Iterable[str]) -> set[str]:
    """Which of ``codes`` are already in the registry."""
    return set(enterprise_ids(session, codes))


def enterprise_ids(session: Session, codes: Iterable[str]) -> dict[str, int]:
    """``{uscc: id}`` for those of ``codes`` that are in the registry."""
    codes = list(codes)
    found: dict[str, int] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        found.update(
            session.execute(
                select(Enterprise.uscc, Enterprise.id).where(Enterprise.uscc.in_(chunk))
            ).all()
        )
    return found


_REPORT_COLUMNS = ", ".join(REPORT_FIELDS)


def bulk_create_reports(
    session: Session,
    batch: ReportBatch | Iterable[Mapping[str, Any] | tuple[str, Sequence[Any]]],
    *,
    actor: Actor,
    ids: Mapping[str, int] | None = None,
    feed: list[dict] | None = None,
) -> int:
    """Create annual reports (a prepared batch, or rows as :func:`prepare_reports` takes
    them) with their change-log and audit entries (``annual_report.create``). ``ids``
    maps USCCs to enterprise ids when the caller knows them (e.g. just created); the
    others are looked up. ``feed`` as for :func:`bulk_create_enterprises`. Returns how
    many were created.

    A report that exists already raises IntegrityError (one per enterprise and year).
    """
    if not isinstance(batch, ReportBatch):
        batch = prepare_reports(batch, clock.now())
    if not batch.rows:
        return 0
    ids = dict(ids or {})
    missing = {code for code in batch.usccs if code not in ids}
    if missing:
        ids.update(enterprise_ids(session, missing))
        unknown = missing - ids.keys()
        if unknown:
            raise ValidationFailed("No enterprise with USCC %(uscc)s.", uscc=min(unknown))
    if _sqlite(session):
        stamp = _literal(_sqlite_time(batch.at))
        _write_locked(session).exec_driver_sql(
            f"INSERT INTO annual_reports (enterprise_id, {_REPORT_COLUMNS}, version,"
            f" created_at, updated_at) VALUES ({', '.join('?' * (len(REPORT_FIELDS) + 1))},"
            f" 1, {stamp}, {stamp})",
            [(ids[code], *row) for code, row in zip(batch.usccs, batch.rows, strict=True)],
        )
    else:
        session.execute(
            insert(AnnualReport.__table__),
            [
                {"enterprise_id": ids[code]}
                | dict(zip(REPORT_FIELDS, row, strict=True))
                | {"version": 1, "created_at": batch.at, "updated_at": batch.at}
                for code, row in zip(batch.usccs, batch.rows, strict=True)
            ],
        )
    keys = [f"{code}/{row[0]}" for code, row in zip(batch.usccs, batch.rows, strict=True)]
    _feed(session, "annual_report", keys, batch.data, batch.at, feed)
    _audit(session, actor, "annual_report.create", "annual_report", keys)
    return len(batch.rows)
