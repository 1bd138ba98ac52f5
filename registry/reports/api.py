"""The registry's statistics in the REST API (API.md, Stats): aggregate figures only,
for any caller whose token carries ``registry:read`` (every role)."""

from __future__ import annotations

from marshmallow import fields

from registry.core.api import API_PREFIX, ApiBlueprint, requires
from registry.core.schemas import OutputSchema, Timestamp
from registry.extensions import db
from registry.reports import stats

blp = ApiBlueprint(
    "stats_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Statistics: quotas, holders, the pipeline and monthly moves.",
)


class TierLoadOut(OutputSchema):
    code = fields.String()
    quota = fields.Integer()
    holders = fields.Integer()
    reserved = fields.Integer(metadata={"description": "slots held for promotions in notice"})
    occupancy = fields.Integer(metadata={"description": "holders + reserved"})
    remaining = fields.Integer()
    percent_of_quota = fields.Float(
        metadata={"description": "occupancy / quota, 0–100, 2 decimals"}
    )


class CityHoldersOut(OutputSchema):
    tier = fields.String()
    city_code = fields.String(attribute="code", allow_none=True)
    holders = fields.Integer()


class IndustryHoldersOut(OutputSchema):
    tier = fields.String()
    industry_code = fields.String(
        attribute="code", allow_none=True, metadata={"description": "null: other industries"}
    )
    holders = fields.Integer()


class PipelineOut(OutputSchema):
    tier = fields.String()
    state = fields.String(metadata={"description": "an open state of an application"})
    count = fields.Integer()


class MonthFlowOut(OutputSchema):
    month = fields.String(metadata={"description": "YYYY-MM, Asia/Shanghai"})
    tier = fields.String()
    grants = fields.Integer(metadata={"description": "moves onto the tier"})
    lapses = fields.Integer(metadata={"description": "moves off the tier"})


class StatsOut(OutputSchema):
    as_of = Timestamp()
    tiers = fields.List(fields.Nested(TierLoadOut))
    by_city = fields.List(fields.Nested(CityHoldersOut))
    by_industry = fields.List(fields.Nested(IndustryHoldersOut))
    pipeline = fields.List(fields.Nested(PipelineOut))
    monthly = fields.List(
        fields.Nested(MonthFlowOut), metadata={"description": "the last 24 months"}
    )


@blp.get("/stats")
@requires("registry:read")
@blp.response(200, StatsOut)
@blp.alt_response(401, description="No valid bearer token")
def registry_stats() -> stats.Stats:
    """Quota occupancy per tier, holders by city and industry, open applications per
    tier and state, and moves onto and off each tier in the last 24 months."""
    return stats.registry_stats(db.session)
