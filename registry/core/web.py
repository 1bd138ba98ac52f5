"""What every HTML response shares: error pages and security headers.

Error pages are rendered in the request's language for every path outside ``/api/``;
under ``/api/`` the error is left to the API's own handlers (problem+json).

Security headers (QUALITY.md S11) are set on every response unless a view already set
them: a Content-Security-Policy that allows scripts and styles only from this origin
(no inline script, no inline style: pages use ``static/`` files and classes), no
framing, ``nosniff``, a same-origin referrer policy, and HSTS when served over TLS.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from flask import (
    Flask,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug import Response as WerkzeugResponse
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter, Map
from wtforms import Form
from wtforms.fields import SelectFieldBase
from wtforms.validators import ValidationError

from registry.core.audit_labels import actor_text, reason_text
from registry.core.errors import Codes, DomainError
from registry.core.i18n import current_language

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


def render_error(error: HTTPException) -> HTTPException | WerkzeugResponse:
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


def public(view: Any) -> Any:
    """Mark a page as public: the same for everyone, so an anonymous visitor's copy may
    be kept by the browser. Every other page is private (``Cache-Control: no-store``)."""
    view.public = True
    return view


def _is_public_response() -> bool:
    if request.endpoint == "static":
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    if not getattr(view, "public", False):
        return False
    # Nobody is signed in on the API, which reads no session cookie.
    return is_api_path(request.path) or not current_user.is_authenticated


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not _is_public_response():
        # Private pages (and anything a signed-in user sees) are never stored.
        response.headers["Cache-Control"] = "no-store"
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if response.mimetype == "text/html" and not is_api_path(request.path):
        # Pages are in the language the browser asked for.
        response.vary.add("Accept-Language")
    return response


# --- forms ------------------------------------------------------------------------------------


def error_text(error: DomainError) -> str:
    """A refusal's message in the request's language."""
    return translate(error.template, error.params)


#: A function naming a code in a language ("zh" or "en"): None for a code it does not know.
CodeNamer = Callable[[str, str], str | None]
#: Message parameters whose values are codes a person knows by a name (``tier``: a tier's
#: code; ``state``: a state): the functions that name them. Each domain declares its own
#: beside its labels (:func:`name_codes`); ``core`` knows none of them.
CODE_NAMES: dict[str, list[CodeNamer]] = {}
#: How a list of names is written in each language.
LIST_SEPARATORS = {"zh": "；", "en": "; "}


def name_codes(params: Collection[str], namer: CodeNamer) -> None:
    """The values of ``params`` in a refusal or message are codes ``namer`` names: a page
    or an API answer says the name in its reader's language (the command line, which
    prints the message as it is, keeps the code)."""
    for param in params:
        if namer not in CODE_NAMES.setdefault(param, []):
            CODE_NAMES[param].append(namer)


def _named(param: str, value: object, lang: str) -> object:
    """A code parameter's value by its name (a :class:`~registry.core.errors.Codes`
    list: each code by its name, listed as the language lists them); any other value
    as it is, like a code no namer knows."""
    namers = CODE_NAMES.get(param, ())
    if not namers or not isinstance(value, str):
        return value

    def name(code: str) -> str:
        return next((n for namer in namers if (n := namer(code, lang)) is not None), code)

    if isinstance(value, Codes):
        return LIST_SEPARATORS[lang].join(name(code) for code in value.codes)
    return name(value)


def translate(template: str, params: dict[str, Any]) -> str:
    """``template`` in the request's language with ``params`` filled in. A parameter that
    is itself a message with its own ``template`` and ``params`` (a USCC's fault given as
    the ``reason`` of a refusal) is translated too, and a code is said by its name
    (:func:`name_codes`), so that no sentence mixes languages or shows a code."""
    if not params:
        return str(gettext(template))  # flask-babel has no type hints
    lang = current_language()
    values = {
        name: translate(value.template, value.params)
        if isinstance(getattr(value, "template", None), str)
        and isinstance(getattr(value, "params", None), dict)
        else _named(name, value, lang)
        for name, value in params.items()
    }
    return str(gettext(template, **values))


def strip_text(value: object) -> object:
    """A form filter: blanks around a text removed (other values as they are)."""
    return value.strip() if isinstance(value, str) else value


def one_of_the_choices(message: str) -> Callable[[Form, SelectFieldBase], None]:
    """A WTForms validator: a select's value must be one of its choices (an empty value is
    left to ``InputRequired`` or means "all")."""

    def check(_form: Form, field: SelectFieldBase) -> None:
        if field.data and field.data not in {str(choice[0]) for choice in field.iter_choices()}:
            raise ValidationError(message)

    return check


def form_page(
    template: str, form: Form, status: int | None = None, **context: Any
) -> tuple[str, int]:
    """Render a page with its form: 422 after a POST that failed validation."""
    if status is None:
        status = 422 if request.method == "POST" and form.errors else 200
    return render_template(template, form=form, **context), status


def refuse(form: Form, error: DomainError, field: str | None = None) -> None:
    """Show a refusal of the operations layer on the form: on the field it names (or
    ``field``) when the form has it, else above the form. Refusals gathered into one
    (its ``causes``) go each to its own field. A field the form itself refused already
    keeps that message alone: one message per field."""
    for refusal in error.causes or (error,):
        names = [e.get("field") for e in refusal.errors] + [field]
        target = next((form[n] for n in names if n and n in form), None)
        if target is None:
            form.form_errors.append(error_text(refusal))
        elif not target.errors:
            target.errors = [error_text(refusal)]


def refuse_also(form: Form, check: Callable[[], object]) -> None:
    """After the form's own validation failed: the registry's checks of the same values
    too (``check``, which saves nothing), so that one answer names every wrong field
    (QUALITY.md U2) rather than revealing the registry's faults on the next attempt."""
    try:
        check()
    except DomainError as error:
        refuse(form, error)


def see_other(endpoint: str, **values: Any) -> WerkzeugResponse:
    """The redirect after a successful form post (303: the browser GETs the target)."""
    return redirect(url_for(endpoint, **values), 303)


# --- navigation ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    roles: frozenset[str]  # "anonymous" or role names
    order: int


NAVIGATION: list[NavItem] = []


def nav_item(endpoint: str, label: str, roles: set[str], order: int = 50) -> None:
    """Put a page in the main navigation for these roles (``anonymous`` for visitors).
    Each blueprint declares its own entries beside its views."""
    NAVIGATION.append(NavItem(endpoint, label, frozenset(roles), order))
    NAVIGATION.sort(key=lambda item: item.order)


def navigation() -> list[NavItem]:
    who = str(current_user.role) if current_user.is_authenticated else "anonymous"
    return [item for item in NAVIGATION if who in item.roles]


def digits_up_to(limit: int) -> str:
    """A regular expression matching the decimal numbers 0…``limit``."""
    digits = str(limit)
    shorter = [rf"\d{{1,{len(digits) - 1}}}"] if len(digits) > 1 else []
    # Equal to ``limit`` up to position i, smaller there, anything after.
    smaller = [
        rf"{digits[:i]}[0-{int(digit) - 1}]\d{{{len(digits) - i - 1}}}"
        for i, digit in enumerate(digits)
        if digit != "0"
    ]
    return "0*(?:" + "|".join([*shorter, *smaller, digits]) + ")"


class BoundedIntegerConverter(IntegerConverter):
    """``<int:…>`` in a URL: at most what an integer column holds, so that a huge id is
    a 404 like any other unknown one (Flask's own converter has no upper bound). The
    bound is in the pattern: a number that matches and is then refused would make
    werkzeug answer 405 when another rule has the same path for other methods."""

    MAX = 2**31 - 1
    regex = digits_up_to(MAX)

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", self.MAX)  # also the OpenAPI document's maximum
        super().__init__(url_map, *args, **kwargs)


def refuse_nul_characters() -> None:
    """No text the registry stores or looks up may hold U+0000 (PostgreSQL refuses it):
    a request carrying one in its path, query or form is refused as a whole, before any
    view. (In a JSON body it is refused field by field, ``core.schemas.no_nul``.)"""
    values = [request.path, *request.args.values(), *request.args.keys()]
    if request.method not in ("GET", "HEAD") and request.mimetype in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        values += [*request.form.values(), *request.form.keys()]
    if any("\x00" in value for value in values):
        abort(400)


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(reason_text=reason_text, actor_text=actor_text)
    # Block tags leave no blank lines behind in the HTML sent.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_env.add_extension("jinja2.ext.do")
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.before_request(refuse_nul_characters)
    app.register_error_handler(HTTPException, render_error)
    app.after_request(add_security_headers)
    app.jinja_env.globals.update(navigation=navigation)
