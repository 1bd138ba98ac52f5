"""Marshmallow building blocks shared by every domain's schemas."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from typing import Any, overload

from marshmallow import Schema, ValidationError, fields, validate

#: Tier, city, industry and USCC values are short codes; longer input is refused first.
CODE_LENGTH = 40


@overload
def rfc3339(value: datetime) -> str: ...
@overload
def rfc3339(value: None) -> None: ...
def rfc3339(value: datetime | None) -> str | None:
    """UTC, whole seconds, with ``Z`` (API.md wire conventions)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=4096)
def stored_rfc3339(value: str | datetime) -> str:
    """:func:`rfc3339` of a timestamp as a driver returns it without SQLAlchemy's
    conversion: SQLite's stored UTC text (``2026-11-28 10:00:00.123456``), or an aware
    datetime from PostgreSQL. Cached: rows written together share their instants."""
    if isinstance(value, str):
        return f"{value[:10]}T{value[11:19]}Z"
    return rfc3339(value)


def stored_datetime(value: str | datetime) -> datetime:
    """A timestamp as a driver returns it without SQLAlchemy's conversion (SQLite's
    stored UTC text, or PostgreSQL's datetime), as the aware UTC datetime the column
    type gives."""
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso_date(value: str | date) -> str:
    """A date as the driver returns it (SQLite text, else a date) in ISO form."""
    return value if isinstance(value, str) else value.isoformat()


class Timestamp(fields.Field[datetime]):
    """A timestamp on the wire: RFC 3339 in UTC with ``Z``, whole seconds."""

    def _serialize(
        self, value: datetime | None, attr: str | None, obj: Any, **kwargs: Any
    ) -> str | None:
        return rfc3339(value)


class ActorField(fields.Field[dict[str, Any]]):
    """``{"id", "name"}`` of a user, or ``{"id": null, "name": "system"}``."""

    def __init__(
        self, id_attr: str = "actor_id", name_attr: str = "actor_name", **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.id_attr = id_attr
        self.name_attr = name_attr

    def get_value(
        self, obj: Any, attr: str, accessor: Any = None, default: Any = None
    ) -> dict[str, Any]:
        return {"id": getattr(obj, self.id_attr), "name": getattr(obj, self.name_attr)}

    def _serialize(
        self, value: dict[str, Any] | None, attr: str | None, obj: Any, **kwargs: Any
    ) -> dict[str, Any] | None:
        return value


class OutputSchema(Schema):
    """Output schemas render every declared field, in declaration order."""

    class Meta:
        ordered = True


def no_nul(value: str) -> None:
    """Refuse U+0000, which PostgreSQL cannot store in text."""
    if "\x00" in value:
        raise ValidationError("Must not contain the NUL character.")


def text_field(limit: int, **kwargs: Any) -> fields.String:
    """Free text the registry stores: at most ``limit`` characters, no NUL."""
    return fields.String(validate=[validate.Length(max=limit), no_nul], **kwargs)


def code_field(**kwargs: Any) -> fields.String:
    """A short code (tier, city, industry, USCC): at most ``CODE_LENGTH`` characters."""
    return fields.String(validate=validate.Length(max=CODE_LENGTH), **kwargs)
