"""A busy database: the answer to a request whose write could not have the lock in time.

A write waits for the database's lock at most ``DATABASE_LOCK_WAIT`` seconds (SQLite's
busy timeout, PostgreSQL's ``lock_timeout``: ``registry.core.db``). When the wait runs
out nothing of the request was written, and it answers 503 ``database_busy`` with
``Retry-After`` (API.md) rather than failing: problem details under ``/api/``; on the
web a page marked ``keeps_typed_values`` (``registry.core.expired_forms``) shows its
form again with what was typed and the message above it, any other page the 503 page.
Reads never wait for the lock (deferred transactions on SQLite, MVCC on PostgreSQL, and
their bookkeeping through ``write_at_once``), so they never get this answer.

``Retry-After`` is the lock wait rounded up to whole seconds (10 by default): the lock
has just been held that long, by a long write such as an import, and asking sooner
would most likely wait again.
"""

from __future__ import annotations

import math

from flask import Flask, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy.exc import OperationalError

from registry.core.db import is_lock_timeout, set_read_only
from registry.core.expired_forms import gives_typed_values_back, run_view_again
from registry.core.forms import refuse_forms, refusing_forms
from registry.core.problems import problem
from registry.core.web import is_api_path

TITLE = _l("The registry is busy")


def retry_after() -> int:
    """The seconds ``Retry-After`` asks for (see above)."""
    wait: float = current_app.config["DATABASE_LOCK_WAIT"]
    return max(1, math.ceil(wait))


def busy_text() -> str:
    """What the refused person reads, in the request's language."""
    return str(
        ngettext(
            "The registry is busy with other changes, so nothing was saved. "
            "Try again in %(num)s second.",
            "The registry is busy with other changes, so nothing was saved. "
            "Try again in %(num)s seconds.",
            retry_after(),
        )
    )


def handle_operational_error(error: OperationalError) -> ResponseReturnValue:
    """503 ``database_busy`` for a lock wait that ran out; any other database error goes
    on as it came (a 500)."""
    if not is_lock_timeout(error):
        raise error
    current_app.logger.warning(
        "database busy: %s %s refused after waiting %s s for the lock",
        request.method,
        request.path,
        current_app.config["DATABASE_LOCK_WAIT"],
    )
    # The transaction that waited is over (on PostgreSQL it is aborted). Whatever the
    # answer still reads (the signed-in user, the page around a form) is read without
    # asking for the write lock again.
    current_app.extensions["sqlalchemy"].session.rollback()
    set_read_only(True)
    headers = {"Retry-After": str(retry_after())}
    if is_api_path(request.path):
        return problem(503, "database_busy", busy_text(), headers=headers)
    if request.method == "POST" and gives_typed_values_back() and refusing_forms() is None:
        refuse_forms(busy_text())  # so the view acts on nothing this time
        response = run_view_again()
        if 400 <= response.status_code < 500:  # the form refused, as it had to
            response.status_code = 503
            response.headers.update(headers)
            return response
    page = render_template(
        "errors/error.html",
        status=503,
        title=TITLE,
        explanation=busy_text(),
        request_id=g.get("request_id"),
    )
    return page, 503, headers


def init_app(app: Flask) -> None:
    app.register_error_handler(OperationalError, handle_operational_error)
