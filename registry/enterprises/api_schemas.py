"""Schemas of the enterprises API (API.md "Resource shapes"): request bodies and query
strings. Responses are the feed's own representations (``registry.enterprises.schemas``).

Input schemas keep marshmallow's ``unknown=RAISE``: a member nobody may send is
``unknown_field``; a member of the representation that the client may not write
(``uscc``, ``version``, the ladder fields, …) is ``read_only``, and so are ``status``
and ``merged_into`` from an enterprise's token (QUALITY.md S2). Choices that live in the
database (cities, industries, tiers) and USCCs are checked by the views.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask import g
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from marshmallow.utils import missing

from registry.core.api_lists import (
    PageArgs,
)
from registry.core.errors import refusal
from registry.core.forms import decimal_places
from registry.core.schemas import code_field, no_nul, text_field
from registry.enterprises import uscc as uscc_codes
from registry.enterprises.checks import MAX_COUNT, PHONE_FAULT, PHONE_PATTERN, least_count
from registry.enterprises.forms import PERCENT_DECIMALS
from registry.enterprises.models import COUNT_FIELDS, MONEY_FIELDS, PERCENT_FIELDS, Status

STATUSES = [str(s) for s in Status]
#: The largest amount a BIGINT column holds.
MAX_AMOUNT = 2**63 - 1


#: Free text; null clears it.
_text = functools.partial(text_field, allow_none=True)


class ReadOnly(fields.Field):
    """A member of the representation that the client may not send: any value, null
    included, is refused with ``read_only``."""

    def __init__(self, description: str = "Read-only", **kwargs: Any) -> None:
        super().__init__(metadata={"readOnly": True, "description": description}, **kwargs)

    def deserialize(
        self,
        value: Any,
        attr: str | None = None,
        data: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        if value is missing:
            return missing
        raise ValidationError("Read-only: this member cannot be written.")


class Percentage(fields.Float):
    """A JSON number from 0 to 100 with at most two decimals (a string is refused)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_none=True, validate=validate.Range(min=0, max=100), **kwargs)

    def _validated(self, value: Any) -> float:
        if isinstance(value, str | bool):
            raise self.make_error("invalid")
        number = super()._validated(value)
        if decimal_places(Decimal(str(value))) > PERCENT_DECIMALS:
            raise ValidationError(f"Use at most {PERCENT_DECIMALS} decimals.")
        return number


def _whole(maximum: int, least: int = 0) -> fields.Integer:
    return fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=least, max=maximum)
    )


# --- enterprises ---------------------------------------------------------------------------


class EnterpriseIn(Schema):
    """The writable members of an enterprise (a PUT replaces them all: one left out is
    cleared). ``status`` and ``merged_into`` are for reviewers; left out, the stored
    status stays."""

    name = _text(200, required=True, allow_none=False)
    name_en = _text(200)
    city_code = code_field(allow_none=True, metadata={"description": "A seeded city, or null"})
    county = _text(64)
    industry_code = code_field(
        allow_none=True, metadata={"description": "One of the industries, or null (other)"}
    )
    founded_on = fields.Date(allow_none=True)
    legal_representative = _text(100)
    contact_name = _text(100)
    contact_phone = fields.String(
        allow_none=True,
        validate=[
            validate.Length(max=40),
            no_nul,
            validate.Regexp(PHONE_PATTERN, error=PHONE_FAULT),
        ],
        metadata={
            "description": "Digits (at least five), an optional leading +, and spaces, "
            "hyphens or brackets between them"
        },
    )
    contact_email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    address = _text(300)
    main_products = _text(2000)
    status = fields.String(
        validate=validate.OneOf(STATUSES), metadata={"description": "Reviewers only"}
    )
    merged_into = code_field(
        allow_none=True,
        metadata={"description": "The USCC it merged into; required when status is merged"},
    )

    uscc = ReadOnly("From the path")
    uscc_warnings = ReadOnly()
    origin = ReadOnly()
    source_version = ReadOnly()
    tier = ReadOnly()
    tier_since = ReadOnly()
    tier_expires_at = ReadOnly()
    registration_number = ReadOnly()
    version = ReadOnly("Send it as If-Match")
    created_at = ReadOnly()
    updated_at = ReadOnly()

    @validates_schema(skip_on_field_errors=False)
    def _status_for_reviewers(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if g.api_user.is_reviewer:
            return
        sent = [name for name in ("status", "merged_into") if name in data]
        if sent:
            raise ValidationError({name: ["Read-only for an enterprise's users."] for name in sent})


class EnterprisePatch(EnterpriseIn):
    """A JSON Merge Patch of the writable members: those sent replace the stored ones,
    null clears an optional member."""

    name = _text(200, allow_none=False)


class EnterpriseListArgs(PageArgs):
    """Filters of ``GET /enterprises``; repeating one ORs its values."""

    tier = fields.List(code_field(), metadata={"description": 'A tier code, or "none"'})
    city = fields.List(code_field())
    industry = fields.List(code_field(), metadata={"description": 'An industry, or "none"'})
    status = fields.List(fields.String(validate=validate.OneOf(STATUSES)))
    q = fields.String(
        validate=[validate.Length(min=1, max=200), no_nul],
        metadata={"description": "A USCC prefix, or else a name prefix"},
    )
    updated_after = fields.AwareDateTime(
        metadata={"description": "Exclusive; the list is then ordered by (updated_at, uscc)"}
    )


# --- annual reports ------------------------------------------------------------------------


class AnnualReportIn(Schema):
    """One year's figures (a PUT replaces them all: one left out is cleared). Counts are
    whole numbers, amounts integer 元, percentages 0–100 with at most two decimals."""

    year = ReadOnly("From the path")
    enterprise_uscc = ReadOnly("From the path")
    version = ReadOnly("Send it as If-Match")
    created_at = ReadOnly()
    updated_at = ReadOnly()


for _name in COUNT_FIELDS:
    AnnualReportIn._declared_fields[_name] = _whole(MAX_COUNT, least_count(_name))
for _name in MONEY_FIELDS:
    AnnualReportIn._declared_fields[_name] = _whole(MAX_AMOUNT)
for _name in PERCENT_FIELDS:
    AnnualReportIn._declared_fields[_name] = Percentage()


# --- refusals shared by the API and imports -----------------------------------------------


def normalised_uscc(raw: str) -> str | None:
    """The normalised code, or None when it is not a valid USCC."""
    try:
        return uscc_codes.validate(raw).code
    except uscc_codes.InvalidUSCC:
        return None


def status_change(code: str, doc: dict, sent: dict, errors: list) -> tuple:
    """(status, merged_into) to set from a document (an API body, an import row); status
    None leaves both as stored (a PUT without ``status``, or an enterprise's user).
    Refusals are added to ``errors``."""
    status = Status(doc["status"]) if doc.get("status") is not None else None
    if status != Status.MERGED:
        if sent.get("merged_into") is not None:
            errors.append(refusal("merged_into", "inconsistent", "Only with status merged."))
        return status, None
    merged_into = normalised_uscc(doc.get("merged_into") or "")
    if not doc.get("merged_into"):
        errors.append(refusal("merged_into", "required", "This field is required."))
    elif merged_into is None:
        errors.append(refusal("merged_into", "invalid_uscc", "Not a valid USCC."))
    elif merged_into == code:
        errors.append(refusal("merged_into", "inconsistent", "Not the enterprise itself."))
    return status, merged_into
