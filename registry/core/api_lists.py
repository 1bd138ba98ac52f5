"""List envelopes of the REST API (API.md "Lists"): ``?limit=`` and ``?after=``, the
``{"data", "next_cursor", "has_more"}`` envelope (from rows, or from items a dedicated
serializer has written), the ``Link: rel="next"`` header and opaque cursors."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from flask import Response, current_app, g, request
from marshmallow import Schema, fields, validate

from registry.core.errors import refusal
from registry.core.pagination import InvalidCursor, decode_cursor
from registry.core.web import is_api_path


class PageArgs(Schema):
    """``?limit=`` (1–500, default 50) and ``?after=<opaque cursor>`` (API.md Lists)."""

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    after = fields.String(load_default=None)


def list_schema(item: type[Schema], name: str) -> type[Schema]:
    """``{"data": [item], "next_cursor", "has_more"}`` for ``item``."""
    return type(
        name,
        (Schema,),
        {
            "data": fields.List(fields.Nested(item)),
            "next_cursor": fields.String(allow_none=True),
            "has_more": fields.Boolean(),
        },
    )


def list_body(items: list[Any], next_cursor: str | None) -> dict[str, Any]:
    """A page as the envelope, with ``Link: <…>; rel="next"`` when there is more."""
    if next_cursor is not None:
        link_next(next_cursor)
    return {"data": items, "next_cursor": next_cursor, "has_more": next_cursor is not None}


def raw_list_body(items: list[bytes], next_cursor: str | None) -> Response:
    """:func:`list_body` of items already serialized (UTF-8 JSON), as the response: the
    lists clients page through skip the output schema's dump, whose equal their
    dedicated serializers are."""
    if next_cursor is not None:
        link_next(next_cursor)
    cursor = b"null" if next_cursor is None else json.dumps(next_cursor).encode()
    more = b"false" if next_cursor is None else b"true"
    body = b'{"data":[%s],"next_cursor":%s,"has_more":%s}' % (b",".join(items), cursor, more)
    return Response(body, mimetype="application/json")


def link_next(next_cursor: str) -> None:
    """``Link: <this request with after=next_cursor>; rel="next"`` on the response."""
    args = request.args.to_dict(flat=False)
    args["after"] = [next_cursor]
    g.link_next = f'<{link_to(request.path)}?{urlencode(args, doseq=True)}>; rel="next"'


def link_to(path: str) -> str:
    """``path`` of this registry as a link for clients to follow: under ``EXTERNAL_URL``
    (its public address, path prefix included) when it is set, else a reference relative
    to the origin the request came to. Never built from the Host header, which the
    client chooses."""
    external = current_app.config.get("EXTERNAL_URL")
    base = external.rstrip("/") if external else request.script_root
    return base + quote(path)


def add_link_header(response: Response) -> Response:
    link = g.pop("link_next", None)
    if link and is_api_path(request.path):
        response.headers["Link"] = link
    return response


def bad_cursor() -> InvalidCursor:
    """The refusal of an ``after`` cursor the registry did not write (422)."""
    return InvalidCursor(
        "The page cursor is malformed.", errors=[refusal("after", "invalid_cursor", "Malformed.")]
    )


def page_cursor(raw: str | None, *types: type) -> tuple[Any, ...] | None:
    """The values of the ``after`` cursor (None without one); a bad one is 422."""
    if raw is None:
        return None
    try:
        return decode_cursor(raw, *types)
    except InvalidCursor:
        raise bad_cursor() from None
