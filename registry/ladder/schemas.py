"""Tier and tier-event representations."""

from __future__ import annotations

from marshmallow import fields

from registry.core import changes
from registry.core.schemas import ActorField, OutputSchema, Timestamp
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
