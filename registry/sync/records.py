"""The resources a pull client accepts from a peer (API.md "Sync"): the ``data`` of an
enterprise or an annual report, and a snapshot's record lines, checked strictly by
:func:`check_record` — anything off the contract is refused before a row is written
(:mod:`registry.sync.schemas` holds the envelopes around them).

:func:`check_record` is a table of typed field checks: a snapshot of a 1M-enterprise peer
has two million records, and a marshmallow ``load`` per line (~70 µs measured) would
alone take most of QUALITY.md P6's budget. The tables name exactly the members of the
output schemas (``tests/sync/test_schemas.py`` holds them together). Each table also has
a plan (:class:`_Plan`): the same checks grouped by kind and run inline, without a call
or a ``try`` per field. A record that fails the plan is checked again field by field, so
that the refusal names the first field off the contract, as the table says.

A checked record is the :class:`Record` ``(type, key, version, values)`` the operations
apply: ``values`` are an enterprise's :data:`ENTERPRISE_VALUES` (typed), or an annual
report's :class:`ReportValues` (its USCC and its figures in ``REPORT_FIELDS`` order).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date
from operator import itemgetter
from typing import Any, NamedTuple

from registry.core.errors import DomainError, ValidationFailed
from registry.enterprises import uscc as uscc_codes
from registry.enterprises.api_schemas import MAX_AMOUNT
from registry.enterprises.batches import REPORT_FIELDS, RULE_INDEXES, report_values
from registry.enterprises.checks import MAX_COUNT
from registry.enterprises.models import (
    CHAMPION_FIELDS,
    COUNT_FIELDS,
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

#: The plan entry of a check made by a factory below: ("text", shortest, limit),
#: ("integer", low, high, nullable), ("timestamp", nullable) or ("date",). Any other check
#: is called by the plan as it is, and must return its value unchanged.
_PLANNED: dict[Callable[[Any], Any], tuple[Any, ...]] = {}


def _text(limit: int, nullable: bool = True) -> Callable[[Any], Any]:
    shortest = 0 if nullable else 1

    def check(value: Any) -> Any:
        if value is None and nullable:
            return None
        if type(value) is not str or not shortest <= len(value) <= limit or "\x00" in value:
            raise ValueError(f"a string of {shortest} to {limit} characters")
        return value

    _PLANNED[check] = ("text", shortest, limit)  # None allowed when shortest is 0
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

    _PLANNED[check] = ("timestamp", nullable)
    return check


def _integer(low: int, high: int, nullable: bool = True) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value is None and nullable:
            return None
        if type(value) is not int or not low <= value <= high:
            raise ValueError(f"a whole number from {low} to {high}")
        return value

    _PLANNED[check] = ("integer", low, high, nullable)
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


_PLANNED[_date] = ("date",)


def _uscc(value: Any) -> Any:
    if value is None:
        raise ValueError("a USCC")
    return _uscc_or_null(value)


def _uscc_or_null(value: Any) -> Any:
    if value is None:
        return None
    if type(value) is not str:
        raise ValueError("a USCC")
    if not _valid_uscc(value):
        raise ValueError("a valid, normalised USCC")
    return value


def _valid_uscc(code: str) -> bool:
    """Whether ``code`` is a valid, normalised USCC (as ``batches.uscc_warnings`` accepts,
    without working out the warnings, which a check does not need)."""
    try:
        return len(code) == uscc_codes.LENGTH and uscc_codes.check_character(code[:-1]) == code[-1]
    except ValueError:
        return False


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


class _Plan(NamedTuple):
    """A table of checks grouped by kind (see _PLANNED), run by :func:`_planned`."""

    texts: tuple[tuple[str, int, int], ...]
    integers: tuple[tuple[str, int, int, bool], ...]
    timestamps: tuple[tuple[str, bool], ...]
    dates: tuple[str, ...]
    others: tuple[tuple[str, Callable[[Any], Any]], ...]


def _plan(checks: dict[str, Callable[[Any], Any]]) -> _Plan:
    kinds: dict[str, list[Any]] = {"text": [], "integer": [], "timestamp": [], "date": []}
    others = []
    for name, check in checks.items():
        kind, *args = _PLANNED.get(check, ("other",))
        if kind == "other":
            others.append((name, check))
        else:
            kinds[kind].append((name, *args) if args else name)
    return _Plan(
        tuple(kinds["text"]),
        tuple(kinds["integer"]),
        tuple(kinds["timestamp"]),
        tuple(kinds["date"]),
        tuple(others),
    )


_PLANS = {id(ENTERPRISE_CHECKS): _plan(ENTERPRISE_CHECKS), id(REPORT_CHECKS): _plan(REPORT_CHECKS)}


def _planned(data: dict[str, Any], plan: _Plan) -> dict[str, Any] | None:
    """``data`` typed when every member passes its check, else None (the same checks as
    the table's, inline)."""
    for name, shortest, limit in plan.texts:
        value = data[name]
        if value is None:
            if shortest:
                return None
        elif type(value) is not str or not shortest <= len(value) <= limit or "\x00" in value:
            return None
    for name, low, high, nullable in plan.integers:
        value = data[name]
        if value is None:
            if not nullable:
                return None
        elif type(value) is not int or not low <= value <= high:
            return None
    for name, nullable in plan.timestamps:
        value = data[name]
        if value is None:
            if not nullable:
                return None
        elif type(value) is not str or not _TIMESTAMP.match(value):
            return None
    try:
        for name, check in plan.others:
            check(data[name])  # returns its value unchanged (_PLANNED)
        if not plan.dates:
            return data
        typed = dict(data)
        for name in plan.dates:
            value = typed[name]
            if value is not None:
                if type(value) is not str or not _DATE.match(value):
                    return None
                typed[name] = date.fromisoformat(value)
    except ValueError:
        return None
    return typed


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
    typed = _planned(data, _PLANS[id(checks)])
    if typed is not None:
        return typed
    typed = {}  # a member is off the contract: find the first, for the refusal
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
        values = _ENTERPRISE_VALUES_OF(typed)
    else:
        typed = _checked(type_, key, data, REPORT_CHECKS)
        expected_key = f"{typed['enterprise_uscc']}/{typed['year']}"
        try:
            values = ReportValues(typed["enterprise_uscc"], _figures(typed))
        except ValidationFailed as exc:
            raise OffContract(
                "annual_report %(key)s: %(reason)s", key=key, reason=str(exc)
            ) from None
    if key != expected_key:
        raise OffContract("%(type)s %(key)s: the key does not name its data.", type=type_, key=key)
    if typed["version"] != version:
        raise OffContract("%(type)s %(key)s: the version differs from data's.", type=type_, key=key)
    return Record(type_, key, version, values)


_ENTERPRISE_VALUES_OF = itemgetter(*ENTERPRISE_VALUES)
_FIGURES_OF = itemgetter(*REPORT_FIELDS)
_PERCENT_INDEXES = tuple(i for i, name in enumerate(REPORT_FIELDS) if name in PERCENT_FIELDS)


def _figures(typed: dict[str, Any]) -> tuple[Any, ...]:
    """What ``report_values`` gives the checked figures of a report (its types are
    checked already: only its consistency rules are left), or its ValidationFailed."""
    figures = list(_FIGURES_OF(typed))
    for i in _PERCENT_INDEXES:
        if type(figures[i]) is int:
            figures[i] = float(figures[i])
    for part, whole in RULE_INDEXES:
        if figures[part] is not None and figures[whole] is not None:
            if figures[part] > figures[whole]:
                return report_values(figures)  # raises, naming the first rule broken
    return tuple(figures)
