"""Tier-event representations, and the bodies and answers of the ladder's routes under
one enterprise in the API."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from registry.core import changes
from registry.core.schemas import ActorField, OutputSchema, Timestamp, code_field, text_field
from registry.ladder.models import TierEvent


class TierEventOut(OutputSchema):
    id = fields.Integer()
    enterprise_uscc = fields.Function(lambda e: e.enterprise.uscc)
    kind = fields.Function(lambda e: str(e.kind))
    from_tier = fields.String(allow_none=True)
    to_tier = fields.String(allow_none=True)
    effective_at = Timestamp()
    recorded_at = Timestamp()
    tier_since = fields.Date(allow_none=True)
    tier_expires_at = Timestamp(allow_none=True)
    registration_number = fields.String(allow_none=True)
    ban_until = fields.Date(allow_none=True)
    actor = ActorField()
    reason = fields.String()
    application_id = fields.Integer(allow_none=True)


tier_event_out = TierEventOut()

changes.register(TierEvent, "tier_event", lambda e: str(e.id), tier_event_out.dump)


# --- the ladder of one enterprise in the API: eligibility, demotions, revocations ---------


class EligibilityArgs(Schema):
    tier = code_field(required=True)
    year = fields.Integer(
        validate=validate.Range(min=1990, max=9999),
        metadata={"description": "Reports up to this year (default: the latest)"},
    )
    route = code_field(
        metadata={
            "description": "The champion rung's route: srdi (default) or single_champion; "
            "an unknown route is refused (422); other tiers have none (null)"
        }
    )


class DemotionIn(Schema):
    to_tier = code_field(required=True)
    reason = text_field(2000, required=True)


class RevocationIn(Schema):
    reason = text_field(2000, required=True)
    ban_until = fields.Date(
        allow_none=True, metadata={"description": "No application until this date"}
    )


class CheckOut(Schema):
    class Meta:
        ordered = True

    code = fields.String()
    label = fields.String()
    status = fields.String(metadata={"description": "pass, fail, unknown or manual"})
    operator = fields.String(allow_none=True)
    required = fields.Raw(allow_none=True)
    actual = fields.Raw(allow_none=True)
    unit = fields.String(allow_none=True)
    alternative = fields.String(allow_none=True)


class ScorePartOut(Schema):
    code = fields.String()
    points = fields.Integer(allow_none=True)
    max = fields.Integer()


class ScoreOut(Schema):
    total = fields.Integer(allow_none=True)
    pass_mark = fields.Integer()
    parts = fields.List(fields.Nested(ScorePartOut))


class EligibilityOut(Schema):
    """PRODUCT.md "Eligibility"'s evaluation, as ``Evaluation.to_dict`` gives it."""

    class Meta:
        ordered = True

    tier = fields.String()
    year = fields.Integer(allow_none=True)
    evaluated_at = fields.String()
    eligible = fields.Boolean()
    checks = fields.List(fields.Nested(CheckOut))
    score = fields.Nested(ScoreOut, allow_none=True)
    info = fields.Dict(metadata={"description": "Figures shown beside the checks, if any"})
    route = fields.String(
        allow_none=True,
        metadata={"description": "champion: srdi or single_champion; null for other tiers"},
    )
    criteria_version = fields.String(
        allow_none=True,
        metadata={"description": "effective_from (YYYY-MM-DD) of the criteria applied"},
    )
