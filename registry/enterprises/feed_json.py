"""The feed JSON of enterprises and annual reports, rendered by dedicated serializers
instead of marshmallow: bulk writes (a demo, an import, a sync) render it for hundreds of
thousands of records. ``tests/enterprises/test_bulk.py`` shows that their output equals
the output schemas' (``enterprise_out``, ``annual_report_out``) for generated records.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from registry.core.schemas import iso_date, stored_rfc3339
from registry.enterprises import uscc as uscc_codes
from registry.enterprises.models import FIGURE_FIELDS

_ORG_CODE_WARNINGS = (uscc_codes.WARNING_ORG_CODE_CHECK,)

# The C string encoder json.dumps(..., ensure_ascii=False) itself uses: identical output.
quote = _quote = json.encoder.encode_basestring


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

    ``values`` are in ENTERPRISE_FIELDS order (strings already ``str``); dates and
    timestamps typed, or as SQLite stores them (ISO text); ``created``/``updated`` in
    RFC 3339; ``warnings`` those of the USCC when known.
    """
    return enterprise_data_head(values, created, version, warnings) + f'{updated}"}}'


def enterprise_data_head(
    values: Sequence[Any],
    created: str,
    version: int = 1,
    warnings: tuple[str, ...] | None = None,
) -> str:
    """:func:`enterprise_data` but for its last value, ``updated_at`` (and the closing
    ``"}``): rendered before the time of the write is known (an import's replacements)."""
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
    expires = "null" if tier_expires_at is None else _quote(stored_rfc3339(tier_expires_at))
    return (
        f'{{"uscc":{_quote(code)},"name":{_quote(name)},"name_en":{_s(name_en)},'
        f'"city_code":{_s(city)},"county":{_s(county)},"industry_code":{_s(industry)},'
        f'"founded_on":{"null" if founded_on is None else _quote(iso_date(founded_on))},'
        f'"legal_representative":{_s(legal)},"contact_name":{_s(contact)},'
        f'"contact_phone":{_s(phone)},"contact_email":{_s(email)},"address":{_s(address)},'
        f'"main_products":{_s(products)},"status":{_quote(status)},'
        f'"merged_into":{_s(merged_into)},"uscc_warnings":{shown},'
        f'"origin":{_quote(origin)},'
        f'"source_version":{"null" if source_version is None else int(source_version)},'
        f'"tier":{_s(tier)},'
        f'"tier_since":{"null" if tier_since is None else _quote(iso_date(tier_since))},'
        f'"tier_expires_at":{expires},'
        f'"registration_number":{_s(number)},"version":{int(version)},'
        f'"created_at":"{created}","updated_at":"'
    )


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
