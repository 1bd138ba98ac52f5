"""What the pull client accepts from a peer (API.md "Sync"), checked strictly: anything
off the contract fails the whole page or snapshot before a row is written.

The envelopes — a ``/changes`` page and its entries, a snapshot's first and last
lines — are marshmallow schemas with ``unknown=RAISE``. The resources inside (``data``
of an enterprise or an annual report) and the snapshot's record lines are checked by
:func:`check_record` (:mod:`registry.sync.records`, whose names are also given here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from registry.sync.records import _TIMESTAMP, CURSOR_PATTERN
from registry.sync.records import ENTERPRISE_CHECKS as ENTERPRISE_CHECKS
from registry.sync.records import ENTERPRISE_DATES as ENTERPRISE_DATES
from registry.sync.records import ENTERPRISE_VALUES as ENTERPRISE_VALUES
from registry.sync.records import MIRRORED_TYPES as MIRRORED_TYPES
from registry.sync.records import OPTIONAL_MEMBERS as OPTIONAL_MEMBERS
from registry.sync.records import REPORT_CHECKS as REPORT_CHECKS
from registry.sync.records import OffContract as OffContract
from registry.sync.records import Record as Record
from registry.sync.records import ReportValues as ReportValues
from registry.sync.records import check_record as check_record

# --- envelopes -----------------------------------------------------------------------------


class StrictInteger(fields.Integer):
    """A JSON integer: no string, float or boolean."""

    def _validated(self, value: Any) -> int:
        if type(value) is not int:
            raise self.make_error("invalid")
        return super()._validated(value)


class StrictBoolean(fields.Boolean):
    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> bool:
        if type(value) is not bool:
            raise self.make_error("invalid")
        return value


class Cursor(fields.String):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=validate.Regexp(CURSOR_PATTERN), **kwargs)


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class FeedEntryIn(StrictSchema):
    cursor = Cursor(required=True)
    type = fields.String(required=True, validate=validate.OneOf(MIRRORED_TYPES))
    key = fields.String(required=True, validate=validate.Length(min=1, max=40))
    op = fields.String(required=True, validate=validate.OneOf(["upsert", "delete"]))
    version = StrictInteger(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    occurred_at = fields.String(required=True, validate=validate.Regexp(_TIMESTAMP))
    data = fields.Raw(required=True, allow_none=True)

    @validates_schema
    def _data_with_upserts(self, entry: dict[str, Any], **_kwargs: Any) -> None:
        if (entry["op"] == "upsert") == (entry["data"] is None):
            raise ValidationError("An upsert carries data; a delete carries null.", "data")


class FeedPageIn(StrictSchema):
    data = fields.List(fields.Nested(FeedEntryIn), required=True)
    next_cursor = Cursor(required=True)
    has_more = StrictBoolean(required=True)


class SnapshotHeadIn(StrictSchema):
    as_of = Cursor(required=True)


class SnapshotEndIn(StrictSchema):
    end = StrictBoolean(required=True, validate=validate.Equal(True))
    as_of = Cursor(required=True)
    count = StrictInteger(required=True, validate=validate.Range(min=0))


SNAPSHOT_LINE_MEMBERS = frozenset({"type", "key", "version", "data"})


def load(schema: Schema, value: Any, what: str) -> dict[str, Any]:
    """``schema.load(value)``, a refusal turned into OffContract naming ``what``."""
    try:
        return schema.load(value)
    except ValidationError as exc:
        raise OffContract(
            "%(what)s is off the contract: %(problems)s", what=what, problems=_short(exc)
        ) from None


def _short(exc: ValidationError) -> str:
    text = str(exc.messages)
    return text if len(text) <= 300 else text[:300] + "…"


feed_page_in = FeedPageIn()
snapshot_head_in = SnapshotHeadIn()
snapshot_end_in = SnapshotEndIn()
