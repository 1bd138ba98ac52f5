"""A form sent with an expired or missing CSRF token keeps what was typed in it.

Such a post is refused with 400 before any view runs (QUALITY.md S5): an old tab, or a
session that ended while someone wrote an objection. On the pages where people type
text the refusal gives the form back: the view is run again, its own form validation
fails on the same token (so it acts on nothing), and the page shows the form with the
values kept, a fresh token in it and "The form has expired. Please submit it again."
above it (``macros/forms.html``), with status 400. Any other page gets the HTML 400 page.

A view opts in with :func:`keeps_typed_values`; its forms must be
``registry.core.forms.RegistryForm``\\ s validated before it acts (every one checks the
token while CSRF is on, and refuses while a busy database's answer is given:
``registry.core.busy`` gives the form back the same way, with status 503). The view is run
again only when no token sent is valid: a refusal for another reason (the referrer
check over HTTPS) is never retried, because the form's own check would let it through.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, make_response, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms.validators import ValidationError

from registry.core.web import render_error


def keeps_typed_values(view: Any) -> Any:
    """Mark a form page whose typed values come back after an expired token (put it
    right under the route decorator, as ``public``)."""
    view.keeps_typed_values = True
    return view


def _a_sent_token_is_valid() -> bool:
    name = current_app.config["WTF_CSRF_FIELD_NAME"]
    # A form with a prefix names its token "<prefix>-csrf_token".
    sent = [value for key, value in request.form.items(multi=True) if key.endswith(name)]
    sent += [request.headers.get(header, "") for header in current_app.config["WTF_CSRF_HEADERS"]]
    for token in filter(None, sent):
        try:
            validate_csrf(token)
        except ValidationError:
            continue
        return True
    return False


def gives_typed_values_back() -> bool:
    """Whether the request's page is marked :func:`keeps_typed_values`."""
    view = current_app.view_functions.get(request.endpoint or "")
    return view is not None and bool(getattr(view, "keeps_typed_values", False))


def run_view_again() -> Response:
    """The request's view run again: its forms' validation must fail this time (the
    caller sees to that), so it acts on nothing and shows them with what was typed."""
    view = current_app.view_functions[request.endpoint or ""]
    return make_response(current_app.ensure_sync(view)(**(request.view_args or {})))


def handle_csrf_error(error: CSRFError) -> ResponseReturnValue:
    """The form again for a page marked :func:`keeps_typed_values`, else the 400 page."""
    if not gives_typed_values_back() or _a_sent_token_is_valid():
        return render_error(error)
    response = run_view_again()
    if response.status_code == 422:  # the form refused: the token, perhaps more
        response.status_code = 400
    return response


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
