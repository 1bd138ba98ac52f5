"""What every HTML response shares: error pages and security headers.

Error pages are rendered in the request's language for every path outside ``/api/``;
under ``/api/`` the error is left to the API's own handlers (problem+json).

Security headers (QUALITY.md S11) are set on every response unless a view already set
them: a Content-Security-Policy that allows scripts and styles only from this origin
(no inline script, no inline style: pages use ``static/`` files and classes), no
framing, ``nosniff``, a same-origin referrer policy, and HSTS when served over TLS.
"""

from __future__ import annotations

from flask import Flask, Response, g, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

API_PREFIX = "/api/"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"

# Title and explanation per status; anything else falls back to its HTTP name.
ERROR_TEXTS = {
    400: (
        _l("Bad request"),
        _l("The request could not be understood. Check the address and try again."),
    ),
    403: (
        _l("Access denied"),
        _l("You do not have permission to see this page."),
    ),
    404: (
        _l("Page not found"),
        _l(
            "The page you asked for does not exist or has moved. Check the address, "
            "or start again from the home page."
        ),
    ),
    405: (
        _l("Method not allowed"),
        _l("This address does not accept that kind of request."),
    ),
    413: (
        _l("Request too large"),
        _l("What was sent is larger than the registry accepts."),
    ),
    422: (
        _l("The request could not be processed"),
        _l("Some of the values sent are not valid. Go back, correct them and try again."),
    ),
    429: (
        _l("Too many requests"),
        _l("Too many requests came from your address. Wait a moment and try again."),
    ),
    500: (
        _l("Something went wrong"),
        _l(
            "The registry could not complete your request. The problem has been "
            "recorded; please try again later."
        ),
    ),
}
GENERIC_ERROR = (
    _l("The request could not be completed"),
    _l("Please try again later, or start again from the home page."),
)


def is_api_path(path: str) -> bool:
    return path == API_PREFIX.rstrip("/") or path.startswith(API_PREFIX)


def render_error(error: HTTPException):
    """The HTML error page for ``error``; paths under ``/api/`` are left untouched."""
    if is_api_path(request.path) or error.code is None or error.response is not None:
        return error
    title, explanation = ERROR_TEXTS.get(error.code, GENERIC_ERROR)
    body = render_template(
        "errors/error.html",
        status=error.code,
        title=title,
        explanation=explanation,
        request_id=g.get("request_id"),
    )
    response = error.get_response()
    # Keep what the error's own response carries (e.g. ``Allow`` on a 405).
    response.set_data(body)
    response.mimetype = "text/html"
    return response


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if response.mimetype == "text/html" and not is_api_path(request.path):
        # Pages are in the language the browser asked for.
        response.vary.add("Accept-Language")
    return response


def init_app(app: Flask) -> None:
    # Block tags leave no blank lines behind in the HTML sent.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.register_error_handler(HTTPException, render_error)
    app.after_request(add_security_headers)
