"""The REST API's shared plumbing (API.md): flask-smorest for routes, schemas and the
OpenAPI document; by hand only what it lacks — problem details for every 4xx/5xx under
``/api/`` (:mod:`registry.core.problems`), access by token scope, the caller behind the
token and the problems each route documents. List envelopes with opaque cursors are in
:mod:`registry.core.api_lists`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from apispec import BasePlugin
from flask import Flask, Request, Response, current_app, g, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from flask_smorest import Api, Blueprint
from marshmallow import Schema
from webargs.core import missing
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug import Response as WerkzeugResponse
from werkzeug.exceptions import HTTPException

from registry.core.apidoc import (
    BEARER,
    PROBLEM_TYPE,
    ProblemSchema,
    QueryTextPlugin,
    add_problems,
    mark_access,
)
from registry.core.audit import Actor
from registry.core.idempotency import idempotent
from registry.core.jsonbody import MAX_JSON_BYTES
from registry.core.problems import field_errors, problem
from registry.core.web import is_api_path, render_error

if TYPE_CHECKING:
    from webargs.core import ArgMap

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

#: A view as flask-smorest calls it: URL values as keywords, and a return value that its
#: response schema serialises (a row, a dict) or a ready response.
View = Callable[..., Any]


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

    def operation_helper(
        self,
        path: str | None = None,
        operations: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        post = (operations or {}).get("post")
        if post is not None:
            post.setdefault("parameters", []).append(dict(self.PARAMETER))


class RegistryApi(Api):  # type: ignore[misc]  # flask-smorest ships no type hints
    """flask-smorest with the registry's problem details under ``/api/``; every other
    path keeps the HTML error pages. Each operation lists its problems in the
    document (:mod:`registry.core.apidoc`), so there is no catch-all ``default``."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = None

    def __init__(self, app: Flask | None = None, **kwargs: Any) -> None:
        plugins = [IdempotencyKeyPlugin(), QueryTextPlugin()]
        kwargs.setdefault("spec_kwargs", {"extra_plugins": plugins})
        super().__init__(app, **kwargs)

    def init_app(self, app: Flask, *args: Any, **kwargs: Any) -> None:
        super().init_app(app, *args, **kwargs)
        self.spec.components.security_scheme(BEARER, {"type": "http", "scheme": "bearer"})

    def handle_http_exception(self, error: HTTPException) -> HTTPException | WerkzeugResponse:
        if isinstance(error, BodyRefused):
            return error.response
        if not is_api_path(request.path):
            return render_error(error)
        data = getattr(error, "data", None) or {}
        errors = field_errors(data["messages"]) if "messages" in data else data.get("errors")
        status = error.code or 500
        detail = data.get("message") or (
            gettext("Some values sent are not valid.") if status == 422 else None
        )
        headers = dict(data.get("headers") or {})
        valid_methods = getattr(error, "valid_methods", None)  # a 405's
        if valid_methods:
            headers["Allow"] = ", ".join(valid_methods)
        return problem(status, data.get("code"), detail, errors, headers)


# --- access by token scope ------------------------------------------------------------------


JSON_TYPES = ("application/json", "application/merge-patch+json")


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


def requires(
    scope: str, *, accepts: str = "json", roles: Collection[str] | None = None
) -> Callable[[View], View]:
    """The caller's token must carry ``scope`` and its user's role must have it (one of
    ``roles`` when given, for a route that gives the scope's right to some of the roles
    only): no token → 401, a token without the right → 403. The object's existence (404,
    the view's loaders) follows, then the body's size and type (413, 415) when the body
    is parsed (:class:`BodyParser`), then its JSON and fields (400, 422)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.get("api_user") is None:
                return problem(401, detail=gettext("A bearer token is required."))
            if not has_right(scope, roles):
                return problem(403, detail=gettext("This token does not give that right."))
            return _act(view, accepts, args, kwargs)

        mark_access(wrapped, token=True, accepts=accepts)
        return wrapped

    return decorate


def public_body(accepts: str = "json") -> Callable[[View], View]:
    """A public route's body: 413 or 415 and ``Idempotency-Key`` as for the routes
    behind a token."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            return _act(view, accepts, args, kwargs)

        mark_access(wrapped, token=False, accepts=accepts)
        return wrapped

    return decorate


def _act(
    view: View, accepts: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> ResponseReturnValue:
    g.body_accepts = accepts
    return idempotent(lambda: view(*args, **kwargs))


class BodyRefused(HTTPException):
    """413 or 415, raised when the body is about to be parsed."""

    response: Response

    def __init__(self, response: Response) -> None:
        super().__init__(response=response)


def check_body() -> None:
    """413 or 415 for the request's body (the kind its route accepts), raised."""
    refused = body_problem(g.get("body_accepts", "json"))
    if refused is not None:
        raise BodyRefused(refused)


class BodyParser(FlaskParser):
    """webargs' parser, checking a request body's size and type (413, 415) just before
    reading it — after the view's loaders have answered 404 for a missing object — and
    reading JSON as the request does (:mod:`registry.core.jsonbody`)."""

    BODY_LOCATIONS = frozenset({"json", "files", "form", "json_or_form"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._instances: dict[type[Schema], Schema] = {}

    def parse(
        self,
        argmap: ArgMap[Request],
        req: Request | None = None,
        *,
        location: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if (location or self.location) in self.BODY_LOCATIONS:
            check_body()
        return super().parse(argmap, req, location=location, **kwargs)

    def _get_schema(self, argmap: ArgMap[Request], req: Request) -> Schema:
        """One instance per argument schema class, made on first use: webargs makes a
        new one per request otherwise, which costs as much as the rest of the parsing.
        A schema instance keeps no state between loads; no argument schema has a
        context."""
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            schema = self._instances.get(argmap)
            if schema is None:
                schema = self._instances.setdefault(argmap, argmap())
            return schema
        return super()._get_schema(argmap, req)  # type: ignore[arg-type]  # narrowed above

    def _raw_load_json(self, req: Request) -> Any:
        """The body's JSON as the request reads it (``core.jsonbody``: a malformed body
        is 400 ``malformed_json``); none for an empty body or another type."""
        if not is_json_request(req) or not req.get_data(cache=True):
            return missing
        return req.get_json(cache=True)


class ApiBlueprint(Blueprint):  # type: ignore[misc]  # flask-smorest ships no type hints
    """The registry's API blueprints: flask-smorest's, with :class:`BodyParser`, and
    problems in the document (:mod:`registry.core.apidoc`)."""

    ARGUMENTS_PARSER = BodyParser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(add_problems)

    def alt_response(
        self,
        status_code: int | str,
        response: Any = None,
        *,
        schema: Any = None,
        content_type: str | None = None,
        **kw: Any,
    ) -> Callable[[View], View]:
        """A 4xx or 5xx answer without a schema of its own is a problem."""
        if response is None and schema is None and int(status_code) >= 400:
            schema, content_type = ProblemSchema, PROBLEM_TYPE
        decorate: Callable[[View], View] = super().alt_response(
            status_code, response, schema=schema, content_type=content_type, **kw
        )
        return decorate


def has_right(scope: str, roles: Collection[str] | None = None) -> bool:
    """The caller's token carries ``scope`` and its user's role has the scope's right
    (and is one of ``roles`` when given)."""
    user = g.get("api_user")
    if user is None or scope not in g.api_scopes:
        return False
    role = str(user.role)
    return role in SCOPE_ROLES[scope] and (roles is None or role in roles)


# --- the caller and the route's documented answers ----------------------------------------


def caller() -> Any:
    """The user behind the request's bearer token (an ``accounts`` user; routes behind
    :func:`requires` always have one), in the request's session: merged at the first
    call, without a query, from what the token's lookup found."""
    user = g.get("api_user_in_session")
    if user is None:
        # The app's Flask-SQLAlchemy (registry.extensions imports this module).
        session = current_app.extensions["sqlalchemy"].session
        user = g.api_user_in_session = session.merge(g.api_user, load=False)
    return user


def caller_columns() -> Any:
    """The caller's column values (``role``, ``enterprise_id``, ``is_reviewer`` …) in no
    session, at no cost: for deciding what the caller may see. It is shared by the
    worker's requests: never attach it or change it (operations take :func:`caller`)."""
    return g.api_user


def api_actor() -> Actor:
    """The caller as the audit log names it: acting through the API."""
    return Actor.of(caller(), "api")


def loads(url_name: str, as_name: str, find: Callable[[Any], Any]) -> Callable[[View], View]:
    """Route decorator: the URL's ``url_name`` → ``as_name=find(value)``, the row the
    view works on. ``find`` answers 404 (:func:`registry.core.errors.found`) before
    the body is read."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            kwargs[as_name] = find(kwargs.pop(url_name))
            return view(*args, **kwargs)

        return wrapped

    return decorate


#: The precondition headers of a conditional write, in the OpenAPI document.
CONDITIONAL_HEADERS = [
    {"in": "header", "name": name, "required": False, "schema": {"type": "string"}}
    for name in ("If-Match", "If-None-Match")
]
BAD_CURSOR = (422, "The cursor is not valid")


def documented(
    blueprint: ApiBlueprint, *errors: tuple[int, str], conditional: bool = False
) -> Callable[[View], View]:
    """The problem answers of a route (and its precondition headers) in the OpenAPI
    document."""

    def decorate(view: View) -> View:
        for status, description in errors:
            view = blueprint.alt_response(status, description=description)(view)
        if conditional:
            view = blueprint.doc(parameters=CONDITIONAL_HEADERS)(view)
        return view

    return decorate
