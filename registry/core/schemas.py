"""Marshmallow building blocks shared by every domain's schemas."""

from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import Schema, fields


def rfc3339(value: datetime | None) -> str | None:
    """UTC, whole seconds, with ``Z`` (API.md wire conventions)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Timestamp(fields.Field):
    """A timestamp on the wire: RFC 3339 in UTC with ``Z``, whole seconds."""

    def _serialize(self, value, attr, obj, **kwargs):
        return rfc3339(value)


class ActorField(fields.Field):
    """``{"id", "name"}`` of a user, or ``{"id": null, "name": "system"}``."""

    def __init__(self, id_attr: str = "actor_id", name_attr: str = "actor_name", **kwargs):
        super().__init__(**kwargs)
        self.id_attr = id_attr
        self.name_attr = name_attr

    def get_value(self, obj, attr, accessor=None, default=None):
        return {"id": getattr(obj, self.id_attr), "name": getattr(obj, self.name_attr)}

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class OutputSchema(Schema):
    """Output schemas render every declared field, in declaration order."""

    class Meta:
        ordered = True
