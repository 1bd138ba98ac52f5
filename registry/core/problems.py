"""RFC 9457 problem details: the answer to every 4xx/5xx under ``/api/``.

A problem is ``{"type", "title", "status", "detail", "code", "errors", "request_id"}``
with ``Content-Type: application/problem+json``; ``title`` and ``detail`` follow
``Accept-Language``, and so does each ``message`` of ``errors`` (one language in one
answer); ``code`` never changes, and no traceback, SQL or path leaks.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug import Response as WerkzeugResponse
from werkzeug.exceptions import HTTPException

from registry.core.apidoc import PROBLEM_TYPE
from registry.core.errors import DomainError
from registry.core.field_messages import field_code, say
from registry.core.web import error_text, is_api_path, render_error

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


def problem(
    status: int,
    code: str | None = None,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    default_code, title = STATUS_CODES.get(status, ("internal_error", _l("Error")))
    code = code or default_code
    # Like the title and the detail, each field error's message follows Accept-Language.
    errors = [{**error, "message": say(error.get("message", ""))} for error in errors or []]
    body = {
        "type": current_app.config.get("PROBLEM_TYPE_BASE", "https://registry.invalid/problems/")
        + code,
        "title": str(title),
        "status": status,
        "detail": detail or str(title),
        "code": code,
        "errors": errors,
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


def field_errors(messages: Any, prefix: str = "") -> list[dict[str, str]]:
    """webargs / marshmallow messages (nested dicts, by location) → API.md's list, the
    messages as marshmallow wrote them (:func:`problem` translates them)."""
    found: list[dict[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key in ("json", "query", "form", "files", "headers", "view_args") and not prefix:
                found += field_errors(value, "")
            else:
                name = f"{prefix}.{key}" if prefix else str(key)
                found += field_errors(value, name)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        found += [{"field": prefix, "code": field_code(m), "message": m} for m in messages]
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            found += field_errors(value, f"{prefix}.{index}" if prefix else str(index))
    else:
        found.append({"field": prefix, "code": field_code(str(messages)), "message": str(messages)})
    return found


def handle_domain_error(error: DomainError) -> HTTPException | WerkzeugResponse:
    """A refusal of the operations layer: under ``/api/`` its problem, elsewhere (only
    reached by a view that did not handle it) a 4xx page."""
    if not is_api_path(request.path):
        from werkzeug.exceptions import default_exceptions

        return render_error(default_exceptions.get(error.status, HTTPException)())
    errors = [
        {
            "field": e.get("field", ""),
            "code": e.get("code", "invalid_format"),
            "message": e.get("message", ""),
        }
        for e in error.errors
    ]
    headers = {}
    retry_after = getattr(error, "retry_after", None)  # a Throttled's
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    return problem(error.status, error.code, error_text(error), errors, headers)
