"""Applications in the REST API (API.md): the list, one application with its edits
and the applicant side's actions. Attachments are in :mod:`registry.applications.api_files`;
the reviewers' counts, claims and decisions in :mod:`registry.applications.api_review`.
Every change goes through the operations the web pages use: there is no second way
around the state machine.

Rights (API.md's table): an enterprise's users read their own applications with
``registry:read``, reviewers read every application with ``registry:read`` or
``workflow:review`` (either is enough); the applicant side acts with
``workflow:apply`` (an enterprise's users, on its own applications) or
``workflow:review`` (reviewers, on their nominations); claims and decisions need
``workflow:review``. Another enterprise's application is 404 with nothing of it in the
body (QUALITY.md S1), checked before the body is read: 401 → 403 → 413/415 → 404 → 400
→ 428/412 → 422 → 409.

PATCH changes ``tier`` and ``kind`` of a draft (the rules of create apply again); in
changes_requested the application itself is fixed (the applicant changes figures and
files), so only a PATCH that changes nothing succeeds there. It needs ``If-Match`` with
the application's version (``ETag`` on every response carrying one application).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Container
from datetime import datetime
from typing import Any, NamedTuple

from flask import Response, url_for
from sqlalchemy import ColumnElement, and_, case, false, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from registry.applications import api_json, operations
from registry.applications import api_schemas as schemas
from registry.applications.models import Application
from registry.core.api import (
    API_PREFIX,
    ApiBlueprint,
    View,
    caller,
    has_right,
    loads,
    requires,
)
from registry.core.api_lists import (
    list_schema,
    raw_list_body,
)
from registry.core.errors import NotFound, field_error, found, required
from registry.core.pagination import InvalidCursor, decode_cursor, page_of
from registry.core.preconditions import check_write, reject_malformed_json
from registry.enterprises import uscc as uscc_codes
from registry.enterprises.models import Enterprise
from registry.extensions import db
from registry.ladder import listing
from registry.ladder import queries as ladder_queries

blp = ApiBlueprint(
    "applications_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Applications and their workflow.",
)

VIA = "api"
#: The applicant side: an enterprise's users (workflow:apply), reviewers for their
#: nominations (workflow:review); the operations decide who is which.
APPLICANT = ("workflow:apply", "workflow:review")
#: A response carrying one application: the application, the status and the headers.
OneApplication = tuple[Application, int, dict[str, str]]


class Right(NamedTuple):
    """A scope a route accepts, for the roles given (None: every role the scope gives
    something to, as :data:`registry.core.api.SCOPE_ROLES` says)."""

    scope: str
    roles: frozenset[str] | None = None


#: Reviewers and admins (admins hold every reviewer right).
STAFF = frozenset({"reviewer", "admin"})
#: Reading applications: an enterprise's users with registry:read (their own), reviewers
#: with registry:read or workflow:review — either is enough (API.md).
READERS = ("registry:read", "workflow:review")


def requires_any(*rights: str | Right, accepts: str = "json") -> Callable[[View], View]:
    """:func:`registry.core.api.requires` for the first of ``rights`` (scopes, or scopes
    for some roles only) the caller holds (401 without a token, 403 when it holds none
    of them)."""
    wanted = [right if isinstance(right, Right) else Right(right) for right in rights]

    def decorate(view: View) -> View:
        gated = [
            (right, requires(right.scope, accepts=accepts, roles=right.roles)(view))
            for right in wanted
        ]

        # Wraps a gated view: its documentation says the route needs a token.
        @functools.wraps(gated[0][1])
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            held = (gate for right, gate in gated if has_right(right.scope, right.roles))
            return next(held, gated[0][1])(*args, **kwargs)

        return wrapped

    return decorate


def visible_application(application_id: int) -> Application:
    """The application if the caller may see it, else 404 (S1)."""
    return found(
        db.session.get(Application, application_id),
        "No such application.",
        lambda application: application.visible_to(caller()),
    )


#: The route's ``application_id`` → ``application`` (404 first: before the body).
with_application = loads("application_id", "application", visible_application)


def one(application: Application, status: int = 200, **headers: str) -> OneApplication:
    """A response carrying one application, with its version as a strong ``ETag``."""
    return application, status, {"ETag": f'"{application.version}"', **headers}


def known(field: str, value: str, choices: Container[str]) -> str:
    if value not in choices:
        raise field_error(field, "invalid_choice", "Unknown value %(value)s.", value=value)
    return value


def valid_uscc(field: str, raw: str) -> str:
    try:
        return uscc_codes.validate(raw).code
    except uscc_codes.InvalidUSCC as exc:
        # The fault itself, not its English text: the problem's detail translates both.
        raise field_error(field, "invalid_uscc", "Invalid USCC: %(reason)s", reason=exc) from None


# --- preconditions ------------------------------------------------------------------------

#: The header :func:`if_match` checks, in the OpenAPI document (without it: 428).
IF_MATCH = {
    "in": "header",
    "name": "If-Match",
    "required": True,
    "description": "The ETag of the version the edit is based on",
    "schema": {"type": "string"},
}


def if_match(view: View) -> View:
    """Compare ``If-Match`` with the version under the application's lock, so that no
    other change can come between the check and the edit."""

    @functools.wraps(view)
    def wrapped(*args: Any, application: Application, **kwargs: Any) -> Any:
        reject_malformed_json()
        application = operations.lock_application(db.session, application)
        check_write(application.version)
        return view(*args, application=application, **kwargs)

    return wrapped


# --- the list -----------------------------------------------------------------------------

#: Submitted applications first by (submitted_at, id), then those never submitted
#: (drafts, and drafts withdrawn) by (created_at, id).
_NEVER_SUBMITTED = case((Application.submitted_at.is_(None), 1), else_=0)
_SINCE = func.coalesce(Application.submitted_at, Application.created_at)


def _list_key(application: Application) -> tuple[int, str, int]:
    never = application.submitted_at is None
    at = application.submitted_at or application.created_at
    return int(never), at.isoformat(), application.id


def _after(raw: str | None) -> ColumnElement[bool] | None:
    """The SQL condition for rows after the cursor ``raw``."""
    if raw is None:
        return None
    never, at_text, last_id = decode_cursor(raw, int, str, int)
    try:
        at = datetime.fromisoformat(at_text)
    except ValueError:
        raise InvalidCursor("The page cursor is malformed.") from None
    if never not in (0, 1) or at.tzinfo is None:
        raise InvalidCursor("The page cursor is malformed.")
    same_at = and_(_SINCE == at, Application.id > last_id)
    return or_(_NEVER_SUBMITTED > never, and_(_NEVER_SUBMITTED == never, or_(_SINCE > at, same_at)))


def _claimed_by(raw: str | None) -> ColumnElement[bool] | None:
    if raw is None:
        return None
    if raw == "none":
        return Application.claimed_by.is_(None)
    if raw != "me" and not caller().is_reviewer:
        # Whom a reviewer's id belongs to is not for enterprise callers to probe.
        raise field_error("claimed_by", "invalid_choice", "Reviewers only filter by a user.")
    return Application.claimed_by == (caller().id if raw == "me" else int(raw))


def _list_conditions(args: dict) -> list:
    user = caller()
    conditions = []
    if not user.is_reviewer:
        # Enterprise callers see only their own (none while their claim waits).
        own = user.enterprise_id
        conditions.append(Application.enterprise_id == own if own else false())
    if args.get("state"):
        conditions.append(Application.state.in_(args["state"]))
    if args.get("kind"):
        conditions.append(Application.kind.in_(args["kind"]))
    if args.get("tier"):
        tiers = ladder_queries.tier_ranks(db.session)
        conditions.append(Application.tier.in_([known("tier", t, tiers) for t in args["tier"]]))
    if args.get("city"):
        cities = city_codes()
        chosen = [known("city", c, cities) for c in args["city"]]
        conditions.append(Enterprise.city_code.in_(chosen))
    if args.get("enterprise_uscc") is not None:
        conditions.append(Enterprise.uscc == valid_uscc("enterprise_uscc", args["enterprise_uscc"]))
    claimed = _claimed_by(args.get("claimed_by"))
    if claimed is not None:
        conditions.append(claimed)
    return conditions


@blp.get("/applications")
@requires_any(*READERS)
@blp.arguments(schemas.ApplicationListArgs, location="query")
@blp.response(200, list_schema(schemas.ApplicationResponse, "ApplicationList"))
@blp.alt_response(422, description="A filter value or the cursor is not valid")
def list_applications(args: dict[str, Any]) -> Response:
    """Applications, submitted ones by (submitted_at, id), then drafts by (created_at,
    id). Enterprise callers see only their own."""
    stmt = (
        select(Application)
        .join(Enterprise, Enterprise.id == Application.enterprise_id)
        .where(*_list_conditions(args))
        .options(joinedload(Application.enterprise), selectinload(Application.decisions))
        .order_by(_NEVER_SUBMITTED, _SINCE, Application.id)
        .limit(args["limit"] + 1)
    )
    after = _after(args["after"])
    if after is not None:
        stmt = stmt.where(after)
    page = page_of(list(db.session.scalars(stmt)), args["limit"], _list_key)
    names = api_json.user_names(db.session, page.items)
    sees = schemas.sees_reviewers()
    return raw_list_body(
        [api_json.application_json(a, names, sees_reviewers=sees) for a in page.items],
        page.next_cursor,
    )


def city_codes() -> set[str]:
    return {c.code for c in listing.cities(db.session)}


# --- one application ----------------------------------------------------------------------


def _target_enterprise(uscc: str | None) -> Enterprise:
    """The enterprise an application is for: an enterprise user's own by default."""
    user = caller()
    if uscc is None:
        if user.is_reviewer:
            raise required("enterprise_uscc")
        if user.enterprise_id is None:
            raise NotFound("No such enterprise.")
        return db.session.get_one(Enterprise, user.enterprise_id)
    code = valid_uscc("enterprise_uscc", uscc)
    enterprise = db.session.scalars(select(Enterprise).where(Enterprise.uscc == code)).first()
    if enterprise is None or not (user.is_reviewer or enterprise.id == user.enterprise_id):
        # The same answer for another enterprise's code and an unknown one (S1).
        raise NotFound("No such enterprise.")
    return enterprise


@blp.post("/applications")
@requires_any(*APPLICANT)
@blp.arguments(schemas.ApplicationCreate)
@blp.response(201, schemas.ApplicationResponse)
@blp.alt_response(403, description="nomination_only: the tier is reached by nomination")
@blp.alt_response(404, description="No such enterprise (or not the caller's)")
@blp.alt_response(409, description="application_open, banned, invalid_transition, …")
@blp.alt_response(422, description="The body is not valid")
def create_application(body: dict[str, Any]) -> OneApplication:
    """A draft: an enterprise's own application, or a reviewer's nomination."""
    enterprise = _target_enterprise(body.get("enterprise_uscc"))
    tier = known("tier", body["tier"], ladder_queries.tier_ranks(db.session))
    application = operations.create(
        db.session, enterprise, tier, body["kind"], user=caller(), via=VIA, route=body.get("route")
    )
    db.session.commit()
    location = url_for(".get_application", application_id=application.id)
    return one(application, 201, Location=location)


@blp.get("/applications/<int:application_id>")
@requires_any(*READERS)
@with_application
@blp.response(200, schemas.ApplicationResponse)
@blp.alt_response(404, description="No such application (or another enterprise's)")
def get_application(application: Application) -> OneApplication:
    return one(application)


@blp.patch("/applications/<int:application_id>")
@requires_any(*APPLICANT)
@with_application
@if_match
@blp.arguments(schemas.ApplicationPatch)
@blp.response(200, schemas.ApplicationResponse)
@blp.alt_response(403, description="Not the applicant side, or nomination_only")
@blp.alt_response(404, description="No such application (or another enterprise's)")
@blp.alt_response(409, description="Tier and kind change in draft only")
@blp.alt_response(412, description="If-Match names an older version")
@blp.alt_response(422, description="The body is not valid")
@blp.alt_response(428, description="If-Match is missing")
@blp.doc(parameters=[IF_MATCH])
def edit_application(changes: dict[str, Any], application: Application) -> OneApplication:
    """Change a draft's ``tier``, ``kind`` or ``route`` (``If-Match`` required)."""
    tier = changes.get("tier", application.tier)
    known("tier", tier, ladder_queries.tier_ranks(db.session))
    application = operations.edit(
        db.session,
        application,
        tier,
        changes.get("kind", application.kind),
        user=caller(),
        via=VIA,
        route=changes.get("route"),
    )
    db.session.commit()
    return one(application)


ACTION_ERRORS = (
    (403, "Not the side that may act on it (four_eyes, conflict_of_interest, forbidden)"),
    (404, "No such application (or another enterprise's)"),
    (409, "invalid_transition, quota_full, …"),
    (422, "The body is not valid, or the rules refuse it"),
)


def action_errors(view: View) -> View:
    for status, description in ACTION_ERRORS:
        view = blp.alt_response(status, description=description)(view)
    return view


@blp.post("/applications/<int:application_id>/submit")
@requires_any(*APPLICANT)
@with_application
@blp.arguments(schemas.Submission)
@blp.response(200, schemas.ApplicationResponse)
@action_errors
def submit_application(body: dict[str, Any], application: Application) -> OneApplication:
    """draft → submitted, or changes_requested → in_review (422 ``not_eligible`` lists
    the checks not met)."""
    application = operations.submit(
        db.session, application, user=caller(), via=VIA, declaration=body["declaration"]
    )
    db.session.commit()
    return one(application)


@blp.post("/applications/<int:application_id>/withdraw")
@requires_any(*APPLICANT)
@with_application
@blp.arguments(schemas.NoInput)
@blp.response(200, schemas.ApplicationResponse)
@action_errors
def withdraw_application(_body: dict[str, Any], application: Application) -> OneApplication:
    """The applicant side takes it back (an empty body is accepted)."""
    application = operations.withdraw(db.session, application, user=caller(), via=VIA)
    db.session.commit()
    return one(application)
