"""The kinds of record a bulk import knows, the checks their rows share, and
enterprises (annual reports: ``annual_reports.py``; designations: ``designations.py``).

Rows are checked with the API's own rules: the marshmallow input schemas
(``registry.enterprises.api_schemas``), the API's checks of choices that live in the
database and of status changes, ``report_values`` (the consistency rules) and the
ladder's rules of ``bulk_grant``. Each check gives :class:`RowError` items and plans
the writes from the records it read; a file without any is written by the batch
operations ``registry demo`` uses (new records), the bulk replacements of
``registry.enterprises.batch_replace`` (records that exist, updated like a PUT) and,
for a status change, the operation the API uses — all of which write change-log and
audit entries.

Records that exist: a local enterprise or annual report is replaced as a PUT replaces
it (a column left out, or an empty cell, clears that field; an empty or missing
``status`` keeps the stored one); a mirrored one (origin ≠ local) is the row error
``read_only_origin``. Designations only put enterprises on a higher rung (``grant``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select

from registry.core import clock
from registry.core.audit import Actor
from registry.core.changes import append_entries
from registry.core.db import for_update, in_chunks
from registry.core.dbsession import DbSession
from registry.core.errors import DomainError, Message, refusal
from registry.core.problems import field_errors
from registry.enterprises import batch_operations as bulk
from registry.enterprises import batch_replace, operations, queries, stored_records
from registry.enterprises import uscc as uscc_codes
from registry.enterprises.api_schemas import EnterpriseIn, ReadOnly, status_change
from registry.enterprises.batches import (
    prepare_enterprises,
)
from registry.enterprises.models import (
    LOCAL_ORIGIN,
    Enterprise,
    Status,
)

_INTEGER = re.compile(r"[+-]?\d+\Z")
_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)\Z")


@dataclass(frozen=True)
class Row:
    """A data row: its number in the file (header = 1) and its cells by column."""

    number: int
    cells: dict[str, Any]


@dataclass(frozen=True)
class RowError:
    """One line of the error report (``row`` None: about the file as a whole); the
    message is a :class:`~registry.core.errors.Message` or one of marshmallow's."""

    row: int | None
    column: str
    code: str
    message: str


#: The message of an empty cell that needs a value, in the words of every form
#: (``core.forms.REQUIRED``).
REQUIRED_CELL = Message("This field is required.")


class RowsRefused(Exception):
    """Rows refused while the file is written: a record they depend on changed, since
    they were checked, into one the checks refuse (e.g. mirrored meanwhile)."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} rows refused")
        self.errors = errors


@dataclass
class Plan:
    """The outcome of checking a file's rows: errors, or what to write."""

    errors: list[RowError] = field(default_factory=list)
    write: Callable[[DbSession, Actor, str], None] = lambda *_: None


@dataclass(frozen=True)
class Kind:
    name: str
    order: tuple[str, ...]
    required: frozenset[str]
    check: Callable[[DbSession, list[Row]], Plan]

    @property
    def columns(self) -> frozenset[str]:
        return frozenset(self.order)


# --- shared checks -------------------------------------------------------------------------


def text_cell(value: Any) -> Any:
    """A text field's cell: numbers from a spreadsheet as their text."""
    return value if value is None or isinstance(value, str) else str(value)


def number_cell(value: Any, decimal: bool) -> Any:
    """A figure's cell: numeric text as a number; anything else is left for the
    schema to refuse."""
    if isinstance(value, str) and (_DECIMAL if decimal else _INTEGER).match(value):
        return float(value) if decimal else int(value)
    return value


def schema_errors(number: int, exc: ValidationError) -> list[RowError]:
    return [
        RowError(number, e["field"], e["code"], e["message"]) for e in field_errors(exc.messages)
    ]


def domain_errors(number: int, error: DomainError, column: str) -> list[RowError]:
    items = error.errors or [refusal(column, error.code, error.template, **error.params)]
    message = Message(error.template, **error.params)
    return [RowError(number, i.get("field") or column, i["code"], message) for i in items]


def row_uscc(row: Row, errors: list[RowError]) -> str | None:
    """The row's USCC, normalised; None (with its error) when missing or invalid."""
    raw = text_cell(row.cells.get("uscc"))
    if raw is None:
        errors.append(RowError(row.number, "uscc", "required", REQUIRED_CELL))
        return None
    try:
        return uscc_codes.validate(raw).code
    except uscc_codes.InvalidUSCC as exc:
        message = Message("%(raw)s: %(reason)s", raw=raw, reason=exc)
        errors.append(RowError(row.number, "uscc", "invalid_uscc", message))
        return None


def first_time(key: Any, row: Row, seen: dict, errors: list[RowError], column: str) -> bool:
    """False (with an error) when ``key`` was on an earlier row of the file."""
    if key in seen:
        message = Message("Also on row %(row)s: a record appears once per file.", row=seen[key])
        errors.append(RowError(row.number, column, "duplicate", message))
        return False
    seen[key] = row.number
    return True


def stored_origins(session: DbSession, codes: Iterable[str]) -> dict[str, tuple[int, str]]:
    """``{uscc: (id, origin)}`` of those of ``codes`` that are in the registry."""
    found: dict[str, tuple[int, str]] = {}
    for chunk in in_chunks(list(codes)):
        stmt = select(Enterprise.uscc, Enterprise.id, Enterprise.origin).where(
            Enterprise.uscc.in_(chunk)
        )
        found.update((code, (i, origin)) for code, i, origin in session.execute(stmt))
    return found


def _records(session: DbSession, ids: list[int]) -> dict[int, Enterprise]:
    """The enterprises of ``ids`` (sorted), locked for the write transaction's rest."""
    found: dict[int, Enterprise] = {}
    for chunk in in_chunks(ids):
        stmt = select(Enterprise).where(Enterprise.id.in_(chunk)).order_by(Enterprise.id)
        found.update((e.id, e) for e in session.scalars(for_update(session, stmt)))
    return found


def read_only_error(number: int, code: str, origin: str) -> RowError:
    message = Message(
        "%(uscc)s is mirrored from %(origin)s and is read-only here.", uscc=code, origin=origin
    )
    return RowError(number, "uscc", "read_only_origin", message)


# --- enterprises ---------------------------------------------------------------------------


class EnterpriseRow(EnterpriseIn):
    """An enterprise row: the API's writable members (the USCC is the row's key)."""

    def _status_for_reviewers(self, data: dict[str, Any], **_kwargs: Any) -> None:
        # Imports are for admins, who may set the status.
        return None


ENTERPRISE_COLUMNS = (
    "uscc",
    *(name for name, f in EnterpriseIn._declared_fields.items() if not isinstance(f, ReadOnly)),
)


@dataclass(frozen=True)
class _EnterpriseRow:
    """A checked enterprise row: its USCC and what it sets."""

    number: int
    code: str
    doc: dict[str, Any]
    status: Status | None
    merged_into: str | None

    def moves(self, stored: stored_records.StoredEnterprise) -> bool:
        """Whether it changes the stored status (``change_status``, with its listeners)."""
        return self.status is not None and (str(self.status), self.merged_into) != stored.status


@dataclass
class _EnterpriseWrites:
    """What the checked rows write, given the records they replace as read: new
    records, profile replacements (in bulk) and replacements that change a status (one
    by one, through the operation), each by USCC; or the errors of rows whose record
    cannot be replaced."""

    new: dict[str, _EnterpriseRow] = field(default_factory=dict)
    profiles: dict[str, batch_replace.Replacement] = field(default_factory=dict)
    moves: dict[str, tuple[_EnterpriseRow, int]] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)

    def plan(self, row: _EnterpriseRow, stored: stored_records.StoredEnterprise | None) -> None:
        """Plan ``row`` (again) against its record as read."""
        for planned in (self.new, self.profiles, self.moves):
            planned.pop(row.code, None)
        if stored is None:
            self.new[row.code] = row
        elif stored.origin != LOCAL_ORIGIN:
            self.errors.append(read_only_error(row.number, row.code, stored.origin))
        elif row.moves(stored):
            self.moves[row.code] = (row, stored.id)
        else:
            replacement = batch_replace.plan_profile(stored, row.doc)
            if replacement is not None:
                self.profiles[row.code] = replacement


def _check_enterprises(session: DbSession, rows: list[Row]) -> Plan:
    schema = EnterpriseRow()
    cities = {c.code for c in queries.cities(session)}
    industries = {i.code for i in queries.industries(session)}
    today = clock.today()
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    checked: list[_EnterpriseRow] = []
    for row in rows:
        found: list[RowError] = []
        status = merged_into = None
        code = row_uscc(row, found)
        sent = {k: text_cell(v) for k, v in row.cells.items() if k != "uscc"}
        if sent.get("status") is None:
            sent.pop("status", None)  # left empty: the stored status stays (new: active)
        try:
            doc = schema.load(sent)
        except ValidationError as exc:
            found += schema_errors(row.number, exc)
            doc = None
        if doc is not None:
            problems: list[dict] = []
            if doc.get("city_code") is not None and doc["city_code"] not in cities:
                problems.append(refusal("city_code", "invalid_choice", "Unknown code."))
            if doc.get("industry_code") is not None and doc["industry_code"] not in industries:
                problems.append(refusal("industry_code", "invalid_choice", "Unknown code."))
            if doc.get("founded_on") is not None and doc["founded_on"] > today:
                problems.append(refusal("founded_on", "out_of_range", "In the future."))
            status, merged_into = status_change(code or "", doc, doc, problems)
            found += [RowError(row.number, p["field"], p["code"], p["message"]) for p in problems]
        if code is not None and first_time(code, row, seen, found, "uscc") and not found:
            checked.append(_EnterpriseRow(row.number, code, doc, status, merged_into))
        errors += found
    stored = stored_records.stored_enterprises(session, [c.code for c in checked])
    writes = _EnterpriseWrites()
    for check in checked:
        writes.plan(check, stored.get(check.code))
    errors += writes.errors
    if errors:
        return Plan(errors)

    def write(session: DbSession, actor: Actor, _source: str) -> None:
        # What the plan rests on, again under the write lock: the rows whose record
        # changed since (another version, or created meanwhile) are planned again from
        # the record as it is now, as if the file were imported after that change.
        fresh = stored_records.changed_enterprises(session, stored, [c.code for c in checked])
        by_code = {c.code: c for c in checked}
        for code, record in fresh.items():
            writes.plan(by_code[code], record)
        if writes.errors:
            raise RowsRefused(writes.errors)
        batch = prepare_enterprises(
            (
                {
                    **{name: c.doc.get(name) for name in operations.PROFILE_FIELDS},
                    "uscc": c.code,
                    "city_code": c.doc.get("city_code") or uscc_codes.city_code(c.code, cities),
                    "status": str(c.status or Status.ACTIVE),
                    "merged_into": c.merged_into,
                }
                for c in writes.new.values()
            ),
            clock.now(),
        )
        feed: list[dict] = []
        bulk.bulk_create_enterprises(session, batch, actor=actor, feed=feed)
        profiles = list(writes.profiles.values())
        batch_replace.bulk_replace(session, Enterprise, profiles, actor=actor, feed=feed)
        records = _records(session, sorted(i for _c, i in writes.moves.values()))
        for c, enterprise_id in writes.moves.values():
            operations.replace_enterprise(
                session,
                records[enterprise_id],
                c.doc,
                actor=actor,
                status=c.status,
                merged_into=c.merged_into,
            )
        # The bulk rows' entries last: on PostgreSQL the feed counter is then locked only
        # for the COMMIT (API.md "How the order is kept").
        append_entries(session, feed)

    return Plan([], write)


ENTERPRISES = Kind(
    "enterprises", ENTERPRISE_COLUMNS, frozenset({"uscc", "name"}), _check_enterprises
)
