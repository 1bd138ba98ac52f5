"""The feed JSON of enterprises and annual reports, rendered by dedicated serializers
instead of marshmallow: bulk writes (a demo, an import, a sync) render it for hundreds of
thousands of records. ``tests/enterprises/test_bulk.py`` shows that their output equals
the output schemas' (``enterprise_out``, ``annual_report_out``) for generated records.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import ColumnElement, FromClause, cast
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION

from registry.core.schemas import iso_date, stored_rfc3339
from registry.enterprises import uscc as uscc_codes
from registry.enterprises.models import FIGURE_FIELDS, PERCENT_FIELDS

_ORG_CODE_WARNINGS = (uscc_codes.WARNING_ORG_CODE_CHECK,)

# The C string encoder json.dumps(..., ensure_ascii=False) itself uses: identical output.
quote = _quote = json.encoder.encode_basestring


def enterprise_data(
    values: Sequence[Any],
    created: str,
    updated: str,
    version: int = 1,
    warnings: tuple[str, ...] | None = None,
) -> str:
    """:func:`enterprise_json` as text (what the feed stores)."""
    return enterprise_json(values, created, updated, version, warnings).decode()


def enterprise_json(
    values: Sequence[Any],
    created: str,
    updated: str,
    version: int = 1,
    warnings: tuple[str, ...] | None = None,
) -> bytes:
    """The feed JSON of an enterprise (UTF-8), equal to ``dumps(enterprise_out.dump(e))``.

    ``values`` are in ENTERPRISE_FIELDS order (strings already ``str``); dates and
    timestamps typed, or as SQLite stores them (ISO text); ``created``/``updated`` in
    RFC 3339; ``warnings`` those of the USCC when known. Written by orjson, whose
    strings are those of ``json.dumps(..., ensure_ascii=False)``.
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
    return orjson.dumps(
        {
            "uscc": code,
            "name": name,
            "name_en": name_en,
            "city_code": city,
            "county": county,
            "industry_code": industry,
            "founded_on": None if founded_on is None else iso_date(founded_on),
            "legal_representative": legal,
            "contact_name": contact,
            "contact_phone": phone,
            "contact_email": email,
            "address": address,
            "main_products": products,
            "status": status,
            "merged_into": merged_into,
            "uscc_warnings": warnings,
            "origin": origin,
            "source_version": None if source_version is None else int(source_version),
            "tier": tier,
            "tier_since": None if tier_since is None else iso_date(tier_since),
            "tier_expires_at": (
                None if tier_expires_at is None else stored_rfc3339(tier_expires_at)
            ),
            "registration_number": number,
            "version": int(version),
            "created_at": created,
            "updated_at": updated,
        }
    )


def enterprise_data_head(
    values: Sequence[Any],
    created: str,
    version: int = 1,
    warnings: tuple[str, ...] | None = None,
) -> str:
    """:func:`enterprise_data` but for its last value, ``updated_at`` (and the closing
    ``"}``): rendered before the time of the write is known (an import's replacements)."""
    return enterprise_data(values, created, "", version, warnings)[:-2]


# %s renders an int or a float exactly as json.dumps does (str is repr for floats);
# report_values has made every figure an int, a finite float or None.
_REPORT_HEAD = '{"enterprise_uscc":%s,"year":%d,"version":%d,"created_at":"%s","updated_at":"'
_REPORT_FIGURES = '",' + ",".join(f'"{name}":%s' for name in FIGURE_FIELDS) + "}"


def report_data(
    uscc: str, values: Sequence[Any], created: str, updated: str, version: int = 1
) -> str:
    """The feed JSON of an annual report, equal to ``dumps(annual_report_out.dump(r))``.

    ``values`` come from :func:`report_values` (REPORT_FIELDS order).
    """
    before, after = report_data_around(uscc, values, created, version)
    return before + updated + after


def report_data_around(
    uscc: str, values: Sequence[Any], created: str, version: int = 1
) -> tuple[str, str]:
    """:func:`report_data` as the text before and after its ``updated_at`` value:
    rendered before the time of the write is known (an import's replacements)."""
    return (
        _REPORT_HEAD % (_quote(uscc), values[0], version, created),
        _REPORT_FIGURES % tuple(["null" if v is None else v for v in values[1:]]),
    )


def report_columns(reports: FromClause) -> tuple[ColumnElement[Any], ...]:
    """The columns of ``reports`` (the annual reports' table, or an untyped ``table()``
    of it) that :func:`report_data` takes: the year and figures in REPORT_FIELDS order,
    then version, created_at and updated_at. Percentages are read as floats on both
    engines (SQLite may store 12.0 as the integer 12)."""
    return (
        reports.c.year,
        *(
            cast(reports.c[name], DOUBLE_PRECISION) if name in PERCENT_FIELDS else reports.c[name]
            for name in FIGURE_FIELDS
        ),
        reports.c.version,
        reports.c.created_at,
        reports.c.updated_at,
    )
