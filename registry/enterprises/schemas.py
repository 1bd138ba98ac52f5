"""Enterprise and annual-report representations (as a reviewer's GET returns them)."""

from __future__ import annotations

from marshmallow import fields

from registry.core import changes
from registry.core.schemas import OutputSchema, Timestamp
from registry.enterprises import uscc as uscc_codes
from registry.enterprises.models import FIGURE_FIELDS, PERCENT_FIELDS, AnnualReport, Enterprise


class EnterpriseOut(OutputSchema):
    uscc = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    city_code = fields.String(allow_none=True)
    county = fields.String(allow_none=True)
    industry_code = fields.String(allow_none=True)
    founded_on = fields.Date(allow_none=True)
    legal_representative = fields.String(allow_none=True)
    contact_name = fields.String(allow_none=True)
    contact_phone = fields.String(allow_none=True)
    contact_email = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    main_products = fields.String(allow_none=True)
    status = fields.Function(lambda e: str(e.status))
    merged_into = fields.String(allow_none=True)
    uscc_warnings = fields.Function(lambda e: list(uscc_codes.validate(e.uscc).warnings))
    origin = fields.String()
    source_version = fields.Integer(allow_none=True)
    tier = fields.String(allow_none=True)
    tier_since = fields.Date(allow_none=True)
    tier_expires_at = Timestamp(allow_none=True)
    registration_number = fields.String(allow_none=True)
    version = fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()


class AnnualReportOut(OutputSchema):
    enterprise_uscc = fields.Function(lambda r: r.enterprise.uscc)
    year = fields.Integer()
    version = fields.Integer()
    created_at = Timestamp()
    updated_at = Timestamp()


for _name in FIGURE_FIELDS:
    AnnualReportOut._declared_fields[_name] = (
        fields.Float(allow_none=True)
        if _name in PERCENT_FIELDS
        else fields.Integer(allow_none=True)
    )

enterprise_out = EnterpriseOut()
annual_report_out = AnnualReportOut()

changes.register(Enterprise, "enterprise", lambda e: e.uscc, enterprise_out.dump)
changes.register(
    AnnualReport, "annual_report", lambda r: f"{r.enterprise.uscc}/{r.year}", annual_report_out.dump
)
