"""Prepared batches of enterprises and annual reports for the batch operations.

Pure Python, no session: validation, typed values, the SQLite parameters and the feed
JSON of each record (:mod:`registry.enterprises.feed_json`), so that a loader can
prepare the next batch in another process while :mod:`registry.enterprises.operations`
writes the current one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, overload

from registry.core.errors import ValidationFailed, refusal
from registry.core.schemas import rfc3339
from registry.enterprises import uscc as uscc_codes
from registry.enterprises.feed_json import enterprise_data, report_data
from registry.enterprises.models import (
    FIGURE_FIELDS,
    LOCAL_ORIGIN,
    PERCENT_FIELDS,
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
PROFILE_COLUMNS = 13
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
#: The rules as (part, whole) positions in REPORT_FIELDS.
RULE_INDEXES = tuple((REPORT_FIELDS.index(a), REPORT_FIELDS.index(b)) for a, b in _RULES)


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
            errors=[refusal("uscc", "invalid_uscc", f"{code!r}")],
            uscc=code,
        )
    return () if uscc_codes.org_code_check_ok(code) else (uscc_codes.WARNING_ORG_CODE_CHECK,)


# --- prepared batches -------------------------------------------------------------------------


def sqlite_date(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


@overload
def sqlite_time(at: datetime) -> str: ...
@overload
def sqlite_time(at: None) -> None: ...
def sqlite_time(at: datetime | None) -> str | None:
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
    literals) as its PROFILE_COLUMNS SQLite parameters; any other row as its typed values."""
    if values[PROFILE_COLUMNS:] != _PLAIN_TAIL:
        return values
    founded_on = values[6]
    if founded_on is None:
        return values[:PROFILE_COLUMNS]
    return (*values[:6], founded_on.isoformat(), *values[7:PROFILE_COLUMNS])


def _typed(stored: tuple) -> tuple:
    if len(stored) != PROFILE_COLUMNS:
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
    # Figures (int or float) and None, compared below once known to be there.
    values: list[Any] = [
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
    for part, whole in RULE_INDEXES:
        if values[part] is not None and values[whole] is not None and values[part] > values[whole]:
            message = f"{REPORT_FIELDS[part]} > {REPORT_FIELDS[whole]}"
            raise _report_error(part, "inconsistent", message)
    return tuple(values)


def parts_above_wholes(figures: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every consistency rule of :func:`report_values` (a part may not exceed its whole)
    that ``figures`` break, as (part, whole) names; a figure that is None breaks none."""
    return [
        (part, whole)
        for part, whole in _RULES
        if figures.get(part) is not None
        and figures.get(whole) is not None
        and figures[part] > figures[whole]
    ]


def _report_error(index: int, code: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        "Annual report: %(detail)s.",
        errors=[refusal(REPORT_FIELDS[index], code, message)],
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
        code, figures = (row["enterprise_uscc"], row) if isinstance(row, Mapping) else row
        values = report_values(figures)
        batch.usccs.append(code)
        batch.rows.append(values)
        batch.data.append(report_data(code, values, stamp, stamp))
    return batch


def checked_reports(rows: Iterable[tuple[str, tuple[Any, ...]]], at: datetime) -> ReportBatch:
    """A batch of rows (uscc, values) whose values :func:`report_values` gave already
    (e.g. a sync pull's checked records): their feed JSON, without checking them again."""
    stamp = rfc3339(at)
    batch = ReportBatch(at)
    for code, values in rows:
        batch.usccs.append(code)
        batch.rows.append(values)
        batch.data.append(report_data(code, values, stamp, stamp))
    return batch
