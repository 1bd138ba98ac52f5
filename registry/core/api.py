"""The REST API's shared plumbing (API.md): flask-smorest for routes, schemas and the
OpenAPI document; by hand only what it lacks — RFC 9457 problem details for every
4xx/5xx under ``/api/``, list envelopes with opaque cursors, and access by token scope.

A problem is ``{"type", "title", "status", "detail", "code", "errors", "request_id"}``
with ``Content-Type: application/problem+json``; ``title`` and ``detail`` follow
``Accept-Language``, ``code`` never changes, and no traceback, SQL or path leaks.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlencode

from apispec import BasePlugin
from flask import Response, current_app, g, jsonify, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields, validate
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from registry.core.apidoc import (
    BEARER,
    PROBLEM_TYPE,
    ProblemSchema,
    QueryTextPlugin,
    add_problems,
    mark_access,
)
from registry.core.errors import DomainError
from registry.core.idempotency import idempotent
from registry.core.web import error_text, is_api_path, render_error

API_PREFIX = "/api/v1"
#: Which roles a scope gives anything to (API.md's table). Effective rights are the
#: user's role ∩ the token's scopes; a scope the role lacks has no effect.
SCOPE_ROLES = {
    "registry:read": {"enterprise", "reviewer", "admin"},
    "registry:write": {"enterprise", "reviewer", "admin"},
    "changes:read": {"reviewer", "admin"},
    "workflow:apply": {"enterprise"},
    "workflow:review": {"reviewer", "admin"},
    "admin": {"admin"},
}
#: The code and title of a status when nothing more precise is known.
STATUS_CODES = {
    400: ("bad_request", _l("Bad request")),
    401: ("unauthenticated", _l("Authentication required")),
    403: ("forbidden", _l("Forbidden")),
    404: ("not_found", _l("Not found")),
    405: ("method_not_allowed", _l("Method not allowed")),
    409: ("invalid_transition", _l("Conflict")),
    410: ("cursor_expired", _l("Gone")),
    412: ("precondition_failed", _l("Precondition failed")),
    413: ("payload_too_large", _l("Payload too large")),
    415: ("unsupported_media_type", _l("Unsupported media type")),
    422: ("validation_failed", _l("Validation failed")),
    428: ("precondition_required", _l("Precondition required")),
    429: ("rate_limited", _l("Too many requests")),
    500: ("internal_error", _l("Internal error")),
    503: ("unavailable", _l("Service unavailable")),
}
#: marshmallow's messages → API.md field-error codes.
_FIELD_CODES = (
    ("Unknown field", "unknown_field"),
    ("Read-only", "read_only"),
    ("Missing data", "required"),
    ("Field may not be null", "required"),
    ("Not a valid", "invalid_type"),
    ("Must be one of", "invalid_choice"),
    ("Longer than", "too_long"),
    ("Length must be", "too_long"),
    ("Must be greater", "out_of_range"),
    ("Must be less", "out_of_range"),
)


def problem(
    status: int,
    code: str | None = None,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    default_code, title = STATUS_CODES.get(status, ("internal_error", _l("Error")))
    code = code or default_code
    body = {
        "type": current_app.config.get("PROBLEM_TYPE_BASE", "https://registry.invalid/problems/")
        + code,
        "title": str(title),
        "status": status,
        "detail": detail or str(title),
        "code": code,
        "errors": errors or [],
        "request_id": g.get("request_id"),
    }
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_TYPE
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


def _field_code(message: str) -> str:
    return next(
        (code for start, code in _FIELD_CODES if message.startswith(start)), "invalid_format"
    )


def field_errors(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    """webargs / marshmallow messages (nested dicts, by location) → API.md's list."""
    found: list[dict[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key in ("json", "query", "form", "files", "headers", "view_args") and not prefix:
                found += field_errors(value, "")
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
                found += field_errors(value, name)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        found += [{"field": prefix, "code": _field_code(m), "message": m} for m in messages]
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            found += field_errors(value, f"{prefix}.{index}" if prefix else str(index))
    else:
        found.append(
            {"field": prefix, "code": _field_code(str(messages)), "message": str(messages)}
        )
    return found


class IdempotencyKeyPlugin(BasePlugin):
    """Documents the optional ``Idempotency-Key`` header on every POST operation."""

    PARAMETER = {
        "in": "header",
        "name": "Idempotency-Key",
        "required": False,
        "description": "Send the same key again to get the first response back without "
        "repeating the action (kept 24 h; scoped to the caller, method and path).",
        # Printable ASCII; no space at either end (HTTP strips it from header values).
        "schema": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "pattern": "^[!-~]([ -~]*[!-~])?$",
        },
    }

    def operation_helper(self, path=None, operations=None, **kwargs):
        post = (operations or {}).get("post")
        if post is not None:
            post.setdefault("parameters", []).append(dict(self.PARAMETER))


class RegistryApi(Api):
    """flask-smorest with the registry's problem details under ``/api/``; every other
    path keeps the HTML error pages. Each operation lists its problems in the
    document (:mod:`registry.core.apidoc`), so there is no catch-all ``default``."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def __init__(self, app=None, **kwargs):
        plugins = [IdempotencyKeyPlugin(), QueryTextPlugin()]
        kwargs.setdefault("spec_kwargs", {"extra_plugins": plugins})
        super().__init__(app, **kwargs)

    def init_app(self, app, *args, **kwargs):
        super().init_app(app, *args, **kwargs)
        self.spec.components.security_scheme(BEARER, {"type": "http", "scheme": "bearer"})

    def handle_http_exception(self, error: HTTPException):
        if isinstance(error, BodyRefused):
            return error.response
        if not is_api_path(request.path):
            return render_error(error)
        data = getattr(error, "data", None) or {}
        errors = field_errors(data["messages"]) if "messages" in data else data.get("errors")
        status = error.code or 500
        if status == 400 and "json" in (data.get("messages") or {}):
            # webargs could not read the body as JSON.
            return problem(400, "malformed_json", gettext("The body is not valid JSON."))
        detail = data.get("message") or (
            gettext("Some values sent are not valid.") if status == 422 else None
        )
        headers = dict(data.get("headers") or {})
        if getattr(error, "valid_methods", None):
            headers["Allow"] = ", ".join(error.valid_methods)
        return problem(status, data.get("code"), detail, errors, headers)


def handle_domain_error(error: DomainError):
    """A refusal of the operations layer: under ``/api/`` its problem, elsewhere (only
    reached by a view that did not handle it) a 4xx page."""
    if not is_api_path(request.path):
        from werkzeug.exceptions import default_exceptions

        return render_error(default_exceptions.get(error.status, HTTPException)())
    errors = [
        {
            "field": e.get("field", ""),
            "code": e.get("code", "invalid_format"),
            "message": str(e.get("message", "")),
        }
        for e in error.errors
    ]
    headers = {}
    if getattr(error, "retry_after", None):
        headers["Retry-After"] = str(error.retry_after)
    return problem(error.status, error.code, error_text(error), errors, headers)


# --- lists ------------------------------------------------------------------------------------


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


def list_body(items: list, next_cursor: str | None) -> dict:
    """A page as the envelope, with ``Link: <…>; rel="next"`` when there is more."""
    if next_cursor is not None:
        link_next(next_cursor)
    return {"data": items, "next_cursor": next_cursor, "has_more": next_cursor is not None}


def link_next(next_cursor: str) -> None:
    """``Link: <this request with after=next_cursor>; rel="next"`` on the response."""
    args = request.args.to_dict(flat=False)
    args["after"] = [next_cursor]
    g.link_next = f'<{request.base_url}?{urlencode(args, doseq=True)}>; rel="next"'


# --- access by token scope ------------------------------------------------------------------


JSON_TYPES = ("application/json", "application/merge-patch+json")
#: Request bodies: JSON ≤ 1 MB; multipart uploads ≤ 10 MB + 64 KB (MAX_CONTENT_LENGTH).
MAX_JSON_BYTES = 1024 * 1024


def body_problem(accepts: str = "json") -> Response | None:
    """413 or 415 for the body of a POST, PUT or PATCH, else None. An empty body is
    always accepted (actions without input); ``accepts`` is ``"json"`` or
    ``"multipart"``."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    length = request.content_length
    if not length and not request.headers.get("Transfer-Encoding"):
        return None
    wanted = JSON_TYPES if accepts == "json" else ("multipart/form-data",)
    if request.mimetype not in wanted:
        return problem(415, detail=gettext("Send %(types)s.", types=" or ".join(wanted)))
    if accepts == "json" and (length or 0) > MAX_JSON_BYTES:
        return problem(413, detail=gettext("A JSON body is at most 1 MB."))
    return None


def requires(scope: str, *, accepts: str = "json"):
    """The caller's token must carry ``scope`` and its user's role must have it:
    no token → 401, a token without the right → 403. The object's existence (404, the
    view's loaders) follows, then the body's size and type (413, 415) when the body is
    parsed (:class:`BodyParser`), then its JSON and fields (400, 422)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            user = g.get("api_user")
            if user is None:
                return problem(401, detail=gettext("A bearer token is required."))
            if scope not in g.api_scopes or str(user.role) not in SCOPE_ROLES[scope]:
                return problem(403, detail=gettext("This token does not give that right."))
            return _act(view, accepts, args, kwargs)

        return mark_access(wrapped, token=True, accepts=accepts)

    return decorate


def public_body(accepts: str = "json"):
    """A public route's body: 413 or 415 and ``Idempotency-Key`` as for the routes
    behind a token."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            return _act(view, accepts, args, kwargs)

        return mark_access(wrapped, token=False, accepts=accepts)

    return decorate


def _act(view, accepts: str, args, kwargs):
    g.body_accepts = accepts
    return idempotent(lambda: view(*args, **kwargs))


class BodyRefused(HTTPException):
    """413 or 415, raised when the body is about to be parsed."""

    def __init__(self, response: Response) -> None:
        super().__init__(response=response)


def check_body() -> None:
    """413 or 415 for the request's body (the kind its route accepts), raised."""
    refused = body_problem(g.get("body_accepts", "json"))
    if refused is not None:
        raise BodyRefused(refused)


class BodyParser(FlaskParser):
    """webargs' parser, checking a request body's size and type (413, 415) just before
    reading it — after the view's loaders have answered 404 for a missing object."""

    BODY_LOCATIONS = frozenset({"json", "files", "form", "json_or_form"})

    def parse(self, argmap, req=None, *, location=None, **kwargs):
        if (location or self.location) in self.BODY_LOCATIONS:
            check_body()
        return super().parse(argmap, req, location=location, **kwargs)


class ApiBlueprint(Blueprint):
    """The registry's API blueprints: flask-smorest's, with :class:`BodyParser`, and
    problems in the document (:mod:`registry.core.apidoc`)."""

    ARGUMENTS_PARSER = BodyParser()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(add_problems)

    def alt_response(self, status_code, response=None, *, schema=None, content_type=None, **kw):
        """A 4xx or 5xx answer without a schema of its own is a problem."""
        if response is None and schema is None and int(status_code) >= 400:
            schema, content_type = ProblemSchema, PROBLEM_TYPE
        return super().alt_response(
            status_code, response, schema=schema, content_type=content_type, **kw
        )


def has_right(scope: str) -> bool:
    user = g.get("api_user")
    return user is not None and scope in g.api_scopes and str(user.role) in SCOPE_ROLES[scope]


def add_link_header(response: Response) -> Response:
    link = g.pop("link_next", None)
    if link and is_api_path(request.path):
        response.headers["Link"] = link
    return response
