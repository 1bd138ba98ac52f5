"""RFC 9457 problem details: the answer to every 4xx/5xx under ``/api/``.

A problem is ``{"type", "title", "status", "detail", "code", "errors", "request_id"}``
with ``Content-Type: application/problem+json``; ``title`` and ``detail`` follow
``Accept-Language``, ``code`` never changes, and no traceback, SQL or path leaks.
"""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, g, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug import Response as WerkzeugResponse
from werkzeug.exceptions import HTTPException

from registry.core.apidoc import PROBLEM_TYPE
from registry.core.errors import DomainError
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
            "message": str(e.get("message", "")),
        }
        for e in error.errors
    ]
    headers = {}
    retry_after = getattr(error, "retry_after", None)  # a Throttled's
    if retry_after:
        headers["Retry-After"] = str(retry_after)
    return problem(error.status, error.code, error_text(error), errors, headers)
