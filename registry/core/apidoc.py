"""The problem answers in the OpenAPI document (API.md, Errors): one ``Problem`` schema
(RFC 9457, served as ``application/problem+json``) for every 4xx and 5xx, and with each
operation the problems it can give.

A route documents what only it knows — ``@blp.alt_response(404, description=…)`` is a
problem unless it names another schema. What follows from the shared plumbing of
:mod:`registry.core.api` is added here to every operation (to the description of a
status it documents itself):

* 400 ``bad_request`` everywhere (a NUL character in the path or the query string);
* 401 everywhere: a token that is sent must be valid, even on a public route; 403
  behind :func:`registry.core.api.requires` (the token or the role lacks the right);
  the operation's ``security`` says whether the bearer token is required or optional;
* for a request body 413, 415 and 422 (and 400 ``malformed_json`` for JSON); 422 for a
  query string;
* on POST, for ``Idempotency-Key``: 409 ``idempotency_key_in_progress`` and 422
  ``idempotency_key_reused`` or a malformed key;
* 429 (rate limits, with ``Retry-After``) and 500 everywhere;
* 503 ``database_busy`` (with ``Retry-After``) on every write: its lock could not be had
  within ``DATABASE_LOCK_WAIT`` (:mod:`registry.core.busy`; reads never wait for it).
"""

from __future__ import annotations

from typing import Any

from apispec import BasePlugin
from marshmallow import Schema, fields

from registry.core.jsonbody import MAX_DEPTH

PROBLEM_TYPE = "application/problem+json"
#: The security scheme of the bearer tokens.
BEARER = "bearerAuth"
#: The key of a view's flask-smorest ``_apidoc`` saying how the route is reached.
ACCESS = "registry_access"


class FieldErrorSchema(Schema):
    field = fields.String(
        required=True,
        metadata={"description": "The JSON member (dotted when nested) or the parameter"},
    )
    code = fields.String(
        required=True, metadata={"description": "required, unknown_field, read_only, …"}
    )
    message = fields.String(required=True)


class ProblemSchema(Schema):
    """RFC 9457 problem details; clients compare ``code``."""

    type = fields.String(required=True, metadata={"description": "PROBLEM_TYPE_BASE + code"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    code = fields.String(required=True, metadata={"description": "Stable: API.md lists the codes"})
    errors = fields.List(fields.Nested(FieldErrorSchema), required=True)
    request_id = fields.String(required=True, metadata={"description": "Also sent as X-Request-ID"})


class QueryTextPlugin(BasePlugin):
    """Documents that no text in a query string holds U+0000: the registry refuses such
    a request as a whole, 400 ``bad_request`` (``registry.core.web.refuse_nul_characters``)."""

    NO_NUL = "^[^\\u0000]*$"

    def operation_helper(
        self,
        path: str | None = None,
        operations: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        for operation in (operations or {}).values():
            for parameter in operation.get("parameters", []):
                if isinstance(parameter, dict) and parameter.get("in") == "query":
                    schema = parameter.get("schema", {})
                    self._no_nul(schema.get("items", schema))

    def _no_nul(self, schema: dict[str, Any]) -> None:
        if schema.get("type") == "string" and not {"pattern", "enum"} & set(schema):
            schema["pattern"] = self.NO_NUL


def mark_access(view: Any, *, token: bool, accepts: str | None) -> Any:
    """Record on ``view`` (a route's outermost decorator) whether it needs a token and
    which body it accepts (``"json"``, ``"multipart"``), for :func:`add_problems`."""
    view._apidoc = {**getattr(view, "_apidoc", {}), ACCESS: {"token": token, "accepts": accepts}}
    return view


def problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_TYPE: {"schema": ProblemSchema}}}


def _shared_problems(access: dict[str, Any], method: str, has_query: bool) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}

    def add(status: int, description: str) -> None:
        found.setdefault(status, []).append(description)

    if access["token"]:
        add(401, "unauthenticated: no valid bearer token")
        add(403, "forbidden: the token's scopes or the user's role lack the right")
    else:
        add(401, "unauthenticated: a bearer token was sent and is not valid")
    add(400, "bad_request: a NUL character in the path or the query string")
    if method in ("post", "put", "patch"):
        if access["accepts"] == "multipart":
            add(400, "bad_request: a NUL character in the form")
        else:
            add(
                400,
                "malformed_json: the body is not UTF-8 JSON, nests more than"
                f" {MAX_DEPTH} levels deep, or holds an unpaired surrogate",
            )
        add(413, "payload_too_large")
        add(415, "unsupported_media_type")
        add(422, "validation_failed: the body is not valid")
    if has_query:
        add(422, "validation_failed: a query parameter is not valid")
    if method == "post":
        add(409, "idempotency_key_in_progress: a request with this Idempotency-Key runs")
        add(422, "idempotency_key_reused: the Idempotency-Key came with another body")
        add(422, "validation_failed: the Idempotency-Key is malformed")
    add(429, "rate_limited: try again after Retry-After seconds")
    add(500, "internal_error")
    if method in ("post", "put", "patch", "delete"):
        add(503, "database_busy: the database's lock was not free in time; nothing was written")
    return found


def add_problems(
    doc: dict[str, Any], doc_info: dict[str, Any], *, method: str, **_kwargs: Any
) -> dict[str, Any]:
    """A flask-smorest doc callback: the shared problems and ``security`` of one
    operation (those it documents itself are kept)."""
    access = doc_info.get(ACCESS, {"token": False, "accepts": None})  # nosec B105 # a flag
    has_query = any(p.get("in") == "query" for p in doc.get("parameters", []))
    responses = {int(status): answer for status, answer in doc.get("responses", {}).items()}
    for status, descriptions in _shared_problems(access, method, has_query).items():
        own = responses.get(status)
        if own is None:
            responses[status] = problem_response("; ".join(descriptions))
        else:
            own["description"] = "; ".join([own["description"], *descriptions])
    doc["responses"] = dict(sorted(responses.items()))
    doc["security"] = [{BEARER: []}] if access["token"] else [{}, {BEARER: []}]
    return doc
