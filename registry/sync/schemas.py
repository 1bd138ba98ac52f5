"""What the pull client accepts from a peer (API.md "Sync"), checked strictly: anything
off the contract fails the whole page or snapshot before a row is written.

The envelopes — a ``/changes`` page and its entries, a snapshot's first and last
lines — are marshmallow schemas with ``unknown=RAISE``. The resources inside (``data``
of an enterprise or an annual report) and the snapshot's record lines are checked by
:func:`check_record`, a table of typed field checks: a snapshot of a 1M-enterprise peer
has two million of them, and a marshmallow ``load`` per line (~70 µs measured) would
alone take most of QUALITY.md P6's budget. Its tables name exactly the members of the
output schemas (``tests/sync/test_schemas.py`` holds them together).

A checked record is the :class:`Record` ``(type, key, version, values)`` the operations
apply: ``values`` are an enterprise's :data:`ENTERPRISE_VALUES` (typed), or an annual
report's :class:`ReportValues` (its USCC and its figures in ``REPORT_FIELDS`` order).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, NamedTuple

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from registry.core.errors import DomainError, ValidationFailed
from registry.enterprises.api_schemas import MAX_AMOUNT
from registry.enterprises.batches import report_values, uscc_warnings
from registry.enterprises.checks import MAX_COUNT
from registry.enterprises.models import (
    CHAMPION_FIELDS,
    COUNT_FIELDS,
    FIGURE_FIELDS,
    MONEY_FIELDS,
    PERCENT_FIELDS,
    Status,
)
from registry.enterprises.operations import PROFILE_FIELDS

#: The types a pull mirrors (PRODUCT.md "Sync with other registries": the ladder stays local).
MIRRORED_TYPES = ("enterprise", "annual_report")
#: The enterprise members a mirror takes, in this order (tier fields are ignored).
ENTERPRISE_VALUES = (*PROFILE_FIELDS, "status", "merged_into")
#: A cursor is opaque: printable ASCII without spaces, as long as the column holds.
CURSOR_PATTERN = re.compile(r"[!-~]{1,200}\Z")
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z")
_DATE = re.compile(r"\d{4}-\d\d-\d\d\Z")
_STATUSES = frozenset(s.value for s in Status)


class ReportValues(NamedTuple):
    """What a mirror takes from a peer's annual report."""

    uscc: str
    #: The year, then the figures in ``FIGURE_FIELDS`` order (``REPORT_FIELDS``).
    figures: tuple[Any, ...]

    @property
    def year(self) -> int:
        return self.figures[0]


class Record(NamedTuple):
    """One resource a peer sent, checked by :func:`check_record`."""

    type: str  # one of MIRRORED_TYPES
    key: str  # the USCC, or ``<USCC>/<year>`` of an annual report
    version: int  # the peer's version of it
    #: An enterprise's ENTERPRISE_VALUES (a tuple in that order), or ReportValues.
    values: tuple[Any, ...]


class OffContract(DomainError):
    """The peer sent something the contract does not allow."""

    code, status = "peer_off_contract", 502


# --- field checks (value → typed value, or ValueError with the reason) -----------------------


def _text(limit: int, nullable: bool = True) -> Callable[[Any], Any]:
    shortest = 0 if nullable else 1

    def check(value: Any) -> Any:
        if value is None and nullable:
            return None
        if type(value) is not str or not shortest <= len(value) <= limit or "\x00" in value:
            raise ValueError(f"a string of {shortest} to {limit} characters")
        return value

    return check


def _date(value: Any) -> Any:
    if value is None:
        return None
    if type(value) is not str or not _DATE.match(value):
        raise ValueError("a date YYYY-MM-DD or null")
    return date.fromisoformat(value)


def _timestamp(nullable: bool) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is None and nullable:
            return None
        if type(value) is not str or not _TIMESTAMP.match(value):
            raise ValueError("an RFC 3339 UTC timestamp")
        return value

    return check


def _integer(low: int, high: int, nullable: bool = True) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is None and nullable:
            return None
        if type(value) is not int or not low <= value <= high:
            raise ValueError(f"a whole number from {low} to {high}")
        return value

    return check


def _percent(value: Any) -> Any:
    if value is None:
        return None
    if type(value) not in (int, float) or not math.isfinite(value) or not 0 <= value <= 100:
        raise ValueError("a number from 0 to 100 or null")
    return value


def _status(value: Any) -> Any:
    if value not in _STATUSES:
        raise ValueError(f"one of {', '.join(sorted(_STATUSES))}")
    return value


def _uscc(value: Any) -> Any:
    if value is None:
        raise ValueError("a USCC")
    return _uscc_or_null(value)


def _uscc_or_null(value: Any) -> Any:
    if value is None:
        return None
    if type(value) is not str:
        raise ValueError("a USCC")
    try:
        uscc_warnings(value)
    except ValidationFailed:
        raise ValueError("a valid, normalised USCC") from None
    return value


def _warnings(value: Any) -> Any:
    if type(value) is not list or any(type(v) is not str for v in value):
        raise ValueError("a list of strings")
    return value


_VERSION = _integer(1, 2**31 - 1, nullable=False)

#: Every member of an enterprise's representation (EnterpriseOut) and its check.
ENTERPRISE_CHECKS: dict[str, Callable[[Any], Any]] = {
    "uscc": _uscc,
    "name": _text(200, nullable=False),
    "name_en": _text(200),
    "city_code": _text(6),  # a code the local seed may not know: stored as received
    "county": _text(64),
    "industry_code": _text(40),
    "founded_on": _date,
    "legal_representative": _text(100),
    "contact_name": _text(100),
    "contact_phone": _text(40),
    "contact_email": _text(254),
    "address": _text(300),
    "main_products": _text(2000),
    "status": _status,
    "merged_into": _uscc_or_null,
    "uscc_warnings": _warnings,
    "origin": _text(64, nullable=False),
    "source_version": _integer(1, 2**31 - 1),
    # The peer's ladder: checked for type, never applied.
    "tier": _text(40),
    "tier_since": _date,
    "tier_expires_at": _timestamp(nullable=True),
    "registration_number": _text(40),
    "version": _VERSION,
    "created_at": _timestamp(nullable=False),
    "updated_at": _timestamp(nullable=False),
}

#: Every member of an annual report's representation (AnnualReportOut) and its check.
REPORT_CHECKS: dict[str, Callable[[Any], Any]] = {
    "enterprise_uscc": _uscc,
    "year": _integer(1990, 9999, nullable=False),
    "version": _VERSION,
    "created_at": _timestamp(nullable=False),
    "updated_at": _timestamp(nullable=False),
    **{name: _integer(0, MAX_COUNT) for name in COUNT_FIELDS},
    **{name: _integer(0, MAX_AMOUNT) for name in MONEY_FIELDS},
    **{name: _percent for name in PERCENT_FIELDS},
}
#: Members a peer may leave out (read as null): the single-champion figures, which
#: registries built before them, and API.md's list of report fields, do not have.
OPTIONAL_MEMBERS = frozenset(CHAMPION_FIELDS)

#: The positions in ENTERPRISE_VALUES that hold a date (or None).
ENTERPRISE_DATES = tuple(
    i for i, name in enumerate(ENTERPRISE_VALUES) if ENTERPRISE_CHECKS[name] is _date
)


def _checked(
    type_: str, key: str, data: Any, checks: dict[str, Callable[[Any], Any]]
) -> dict[str, Any]:
    if type(data) is not dict:
        raise OffContract("%(type)s %(key)s: data is not an object.", type=type_, key=key)
    missing_optional = (checks.keys() - data.keys()) & OPTIONAL_MEMBERS
    if missing_optional:
        data = {**data, **dict.fromkeys(missing_optional)}
    if data.keys() != checks.keys():
        extra = sorted(data.keys() - checks.keys())
        missing = sorted(checks.keys() - data.keys())
        raise OffContract(
            "%(type)s %(key)s: unknown members %(extra)s, missing members %(missing)s.",
            type=type_,
            key=key,
            extra=extra,
            missing=missing,
        )
    typed = {}
    for name, check in checks.items():
        try:
            typed[name] = check(data[name])
        except ValueError as exc:
            raise OffContract(
                "%(type)s %(key)s: %(field)s must be %(expected)s.",
                type=type_,
                key=key,
                field=name,
                expected=str(exc),
            ) from None
    return typed


def check_record(type_: Any, key: Any, version: Any, data: Any) -> Record:
    """The :class:`Record` of one resource a peer sent, or OffContract.

    The key must name the resource in ``data`` and the version must be its version."""
    if type_ not in MIRRORED_TYPES:
        raise OffContract(
            "Unexpected type %(type)s (asked for enterprise, annual_report).", type=type_
        )
    if type(key) is not str or not 0 < len(key) <= 40:
        raise OffContract("%(type)s: the key must be a string of 1 to 40 characters.", type=type_)
    try:
        version = _VERSION(version)
    except ValueError:
        raise OffContract(
            "%(type)s %(key)s: the version must be a positive integer.", type=type_, key=key
        ) from None
    if type_ == "enterprise":
        typed = _checked(type_, key, data, ENTERPRISE_CHECKS)
        expected_key = typed["uscc"]
        merged = typed["status"] == "merged"
        if merged != (typed["merged_into"] is not None) or typed["merged_into"] == key:
            raise OffContract("enterprise %(key)s: merged_into contradicts status.", key=key)
        values = tuple(typed[name] for name in ENTERPRISE_VALUES)
    else:
        typed = _checked(type_, key, data, REPORT_CHECKS)
        expected_key = f"{typed['enterprise_uscc']}/{typed['year']}"
        figures = [typed["year"], *(typed[name] for name in FIGURE_FIELDS)]
        try:
            values = ReportValues(typed["enterprise_uscc"], report_values(figures))
        except ValidationFailed as exc:
            raise OffContract(
                "annual_report %(key)s: %(reason)s", key=key, reason=str(exc)
            ) from None
    if key != expected_key:
        raise OffContract("%(type)s %(key)s: the key does not name its data.", type=type_, key=key)
    if typed["version"] != version:
        raise OffContract("%(type)s %(key)s: the version differs from data's.", type=type_, key=key)
    return Record(type_, key, version, values)


# --- envelopes -----------------------------------------------------------------------------


class StrictInteger(fields.Integer):
    """A JSON integer: no string, float or boolean."""

    def _validated(self, value: Any) -> int:
        if type(value) is not int:
            raise self.make_error("invalid")
        return super()._validated(value)


class StrictBoolean(fields.Boolean):
    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> bool:
        if type(value) is not bool:
            raise self.make_error("invalid")
        return value


class Cursor(fields.String):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Regexp(CURSOR_PATTERN), **kwargs)


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class FeedEntryIn(StrictSchema):
    cursor = Cursor(required=True)
    type = fields.String(required=True, validate=validate.OneOf(MIRRORED_TYPES))
    key = fields.String(required=True, validate=validate.Length(min=1, max=40))
    op = fields.String(required=True, validate=validate.OneOf(["upsert", "delete"]))
    version = StrictInteger(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    occurred_at = fields.String(required=True, validate=validate.Regexp(_TIMESTAMP))
    data = fields.Raw(required=True, allow_none=True)

    @validates_schema
    def _data_with_upserts(self, entry: dict[str, Any], **_kwargs: Any) -> None:
        if (entry["op"] == "upsert") == (entry["data"] is None):
            raise ValidationError("An upsert carries data; a delete carries null.", "data")


class FeedPageIn(StrictSchema):
    data = fields.List(fields.Nested(FeedEntryIn), required=True)
    next_cursor = Cursor(required=True)
    has_more = StrictBoolean(required=True)


class SnapshotHeadIn(StrictSchema):
    as_of = Cursor(required=True)


class SnapshotEndIn(StrictSchema):
    end = StrictBoolean(required=True, validate=validate.Equal(True))
    as_of = Cursor(required=True)
    count = StrictInteger(required=True, validate=validate.Range(min=0))


SNAPSHOT_LINE_MEMBERS = frozenset({"type", "key", "version", "data"})


def load(schema: Schema, value: Any, what: str) -> dict[str, Any]:
    """``schema.load(value)``, a refusal turned into OffContract naming ``what``."""
    try:
        return schema.load(value)
    except ValidationError as exc:
        raise OffContract(
            "%(what)s is off the contract: %(problems)s", what=what, problems=_short(exc)
        ) from None


def _short(exc: ValidationError) -> str:
    text = str(exc.messages)
    return text if len(text) <= 300 else text[:300] + "…"


feed_page_in = FeedPageIn()
snapshot_head_in = SnapshotHeadIn()
snapshot_end_in = SnapshotEndIn()
