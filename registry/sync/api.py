"""The change feed and the snapshot in the REST API (API.md "Sync"), for reviewers and
admins whose token carries ``changes:read`` (other registries' machine users).

Both answer from stored JSON through dedicated serializers rather than marshmallow
(QUALITY.md allows it for speed): ``tests/sync/test_feed.py`` shows that a page equals
``ChangesOut``'s output for the same entries. Neither counts against the token rate
limit (``registry.core.ratelimit``).
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, request, stream_with_context
from marshmallow import Schema, fields, validate

from registry.applications.models import Application
from registry.core.api import (
    API_PREFIX,
    ApiBlueprint,
    requires,
)
from registry.core.api_lists import (
    link_next,
)
from registry.core.changes import FEED_TYPES
from registry.core.schemas import OutputSchema, Timestamp
from registry.extensions import db
from registry.ladder.models import TierEvent
from registry.sync import feed, snapshot

blp = ApiBlueprint(
    "sync_api",
    __name__,
    url_prefix=API_PREFIX,
    description="The change feed and the snapshot, for registries that keep a copy.",
)

TYPES_HELP = "Comma-separated (or repeated): " + ", ".join(FEED_TYPES) + ". Default: all."
SMALL_TYPES = {"tier_event": TierEvent, "application": Application}


class ChangesArgs(Schema):
    after = fields.String(
        load_default=None,
        metadata={"description": "The cursor to read after; omitted: the start of history"},
    )
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))
    types = fields.List(fields.String(), metadata={"description": TYPES_HELP})
    wait = fields.Float(
        load_default=0,
        validate=validate.Range(min=0, max=30),
        metadata={"description": "Seconds to wait for a matching entry when there is none"},
    )


class ExportArgs(Schema):
    types = fields.List(fields.String(), metadata={"description": TYPES_HELP})


class ChangeEntryOut(OutputSchema):
    cursor = fields.String(metadata={"description": "The position after this entry"})
    type = fields.String(validate=validate.OneOf(FEED_TYPES))
    key = fields.String(metadata={"description": 'The USCC, "<uscc>/<year>", or the decimal id'})
    op = fields.String(validate=validate.OneOf(["upsert", "delete"]))
    version = fields.Integer()
    occurred_at = Timestamp()
    data = fields.Dict(
        allow_none=True,
        metadata={"description": "The resource as a reviewer's GET showed it then"},
    )


class ChangesOut(OutputSchema):
    data = fields.List(fields.Nested(ChangeEntryOut))
    next_cursor = fields.String(
        metadata={"description": "The position after the last entry examined; never null"}
    )
    has_more = fields.Boolean(metadata={"description": "More entries were committed beyond it"})


@blp.get("/changes")
@requires("changes:read")
@blp.arguments(ChangesArgs, location="query")
@blp.response(200, ChangesOut)
@blp.alt_response(410, description="cursor_expired: another epoch or older than the history kept")
@blp.alt_response(422, description="A malformed cursor, or a parameter out of range")
def changes(args: dict[str, Any]) -> Response:
    """Every committed change to enterprises, annual reports, tier events and
    applications, in commit order. Follow ``next_cursor``; with ``wait`` the answer comes
    as soon as a matching entry is committed, or after ``wait`` seconds."""
    types = feed.parse_types(args.get("types"))
    wait = min(args["wait"], current_app.config["FEED_WAIT_CAP_SECONDS"])
    # The token is checked: end the request's read (and free its connection) before a
    # long-poll; the feed reads on connections of its own.
    db.session.rollback()
    page = feed.follow(
        db.engine,
        args["after"],
        limit=args["limit"],
        types=types,
        wait=wait,
        poll_seconds=current_app.config["FEED_POLL_SECONDS"],
    )
    if page.has_more:
        link_next(feed.cursor(page.position.epoch, page.next_after))
    response = Response(feed.page_json(page), mimetype="application/json")
    return response


@blp.get("/export")
@requires("changes:read")
@blp.arguments(ExportArgs, location="query")
@blp.response(
    200,
    description="NDJSON: {as_of}, then {type, key, version, data} per resource, then "
    "{end: true, as_of, count}. Gzip when the request accepts it.",
)
@blp.doc(responses={200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}}}})
@blp.alt_response(422, description="An unknown type")
def export(args: dict[str, Any]) -> Response:
    """A snapshot of every resource, read in one consistent transaction. Load it, then
    follow ``/changes?after=<as_of>``."""
    types = feed.parse_types(args.get("types"))
    db.session.rollback()
    body = snapshot.chunked(snapshot.lines(db.engine, types, SMALL_TYPES))
    headers = {"Vary": "Accept-Encoding", "X-Accel-Buffering": "no"}
    if request.accept_encodings["gzip"] > 0:
        body = snapshot.gzipped(body)
        headers["Content-Encoding"] = "gzip"
    return Response(stream_with_context(body), mimetype="application/x-ndjson", headers=headers)
