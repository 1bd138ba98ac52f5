"""Enterprises in the REST API (API.md): one record with its ``ETag``, full replacement
(PUT, which also creates) and JSON Merge Patch; the list is
:mod:`registry.enterprises.api_list`. What lies under one
enterprise is in :mod:`registry.enterprises.api_annual_reports` (annual reports) and
:mod:`registry.ladder.api_enterprise` (eligibility, tier events, demotions,
revocations). Every change goes through the operations the web pages use; responses are
the feed's representations, so the API shows what the feed does.

Rights (API.md's table): reading needs ``registry:read``, writing ``registry:write``.
An enterprise's users see and change only their own enterprise and its reports (another
one is 404 with nothing of it in the body, QUALITY.md S1), never its ``status`` and
never create an enterprise (403). Reviewers and admins see everything and write any
local record; a mirrored one is 409 ``read_only_origin``. Demotions and revocations need
``workflow:review``.

Writes check, in API.md's order: 401 → 403 → 413/415 → 404 → 400 → 428 → 412 → 422 →
409; the version check is part of the write itself (``registry.core.preconditions``).
"""

from __future__ import annotations

import functools
from typing import Any

from flask import request, url_for
from sqlalchemy import (
    select,
)
from sqlalchemy.exc import IntegrityError

from registry.core import clock
from registry.core.api import (
    API_PREFIX,
    ApiBlueprint,
    View,
    api_actor,
    caller,
    documented,
    loads,
    requires,
)
from registry.core.errors import (
    Forbidden,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
    field_error,
    found,
    refusal,
)
from registry.core.preconditions import conditional_write, tagged
from registry.enterprises import api_schemas as schemas
from registry.enterprises import operations, queries
from registry.enterprises.api_schemas import normalised_uscc
from registry.enterprises.models import City, Enterprise, Industry, Status
from registry.enterprises.schemas import EnterpriseOut
from registry.extensions import db

blp = ApiBlueprint(
    "enterprises_api",
    __name__,
    url_prefix=API_PREFIX,
    description="Enterprises.",
)

NOT_VISIBLE = (404, "No such enterprise (or not the caller's)")
WRITE_ERRORS = (
    (403, "An enterprise's users never create an enterprise"),
    NOT_VISIBLE,
    (409, "read_only_origin: the record is mirrored from a sync source"),
    (412, "If-Match names another version, or If-None-Match: * and the record exists"),
    (422, "The body is not valid"),
    (428, "Neither If-Match nor If-None-Match: *"),
)


def visible_enterprise(code: str | None) -> Enterprise | None:
    """The enterprise with this code if the caller may see it (an enterprise's users:
    their own only)."""
    if code is None:
        return None
    enterprise = db.session.scalars(select(Enterprise).where(Enterprise.uscc == code)).first()
    user = caller()
    if enterprise is None or not (user.is_reviewer or enterprise.id == user.enterprise_id):
        return None
    return enterprise


def _visible_or_404(raw: str) -> Enterprise:
    # The same answer for an unknown code and another enterprise's (S1).
    return found(visible_enterprise(normalised_uscc(raw)), "No such enterprise.")


#: The route's ``uscc`` → ``enterprise`` (404 first: before the body).
with_enterprise = loads("uscc", "enterprise", _visible_or_404)


def known_tier(field: str, code: str) -> str:
    """``code`` if it names a tier, else 422 on ``field``."""
    if code not in queries.tier_codes(db.session):
        raise field_error(field, "invalid_choice", "Unknown tier %(tier)s.", tier=code)
    return code


# --- one enterprise -----------------------------------------------------------------------


def enterprise_write(view: View) -> View:
    """PUT and PATCH: who may (403), the record (422 ``invalid_uscc`` on PUT, 404), then
    the body's JSON and the preconditions (400, 428, 412) before the body is validated."""

    @functools.wraps(view)
    def wrapped(*args: Any, uscc: str, **kwargs: Any) -> Any:
        user = caller()
        put = request.method == "PUT"
        if put and not user.is_reviewer and request.if_none_match.star_tag:
            raise Forbidden("An enterprise's users do not create enterprises.")
        code = queries.valid_uscc(uscc) if put else normalised_uscc(uscc)
        enterprise = visible_enterprise(code)
        if enterprise is None and not (put and user.is_reviewer):
            raise NotFound("No such enterprise.")
        conditional_write(db.session, enterprise)
        return view(*args, code=code, enterprise=enterprise, **kwargs)

    return wrapped


def _stored(enterprise: Enterprise) -> dict:
    """The writable members as stored: what a merge patch applies to (the status only
    for reviewers, who may change it)."""
    doc = {name: getattr(enterprise, name) for name in operations.PROFILE_FIELDS}
    if caller().is_reviewer:
        doc.update(status=str(enterprise.status), merged_into=enterprise.merged_into)
    return doc


def _value_errors(sent: dict) -> list[dict]:
    """What the schema cannot know: the seeded cities and industries, today."""
    errors = []
    for name, column in (("city_code", City.code), ("industry_code", Industry.code)):
        if sent.get(name) is not None and queries.unknown_codes(db.session, column, [sent[name]]):
            errors.append(refusal(name, "invalid_choice", "Unknown code."))
    if sent.get("founded_on") is not None and sent["founded_on"] > clock.today():
        errors.append(refusal("founded_on", "out_of_range", "In the future."))
    return errors


def _save(
    code: str, enterprise: Enterprise | None, doc: dict[str, Any], sent: dict[str, Any]
) -> tuple[Enterprise, int, dict[str, str]]:
    """Create (``enterprise`` None) or replace with ``doc``; ``sent`` is the body."""
    errors = _value_errors(sent)
    status, merged_into = schemas.status_change(code, doc, sent, errors)
    if errors:
        raise ValidationFailed("Some values sent are not valid.", errors=errors)
    if enterprise is not None:
        operations.replace_enterprise(
            db.session, enterprise, doc, actor=api_actor(), status=status, merged_into=merged_into
        )
        db.session.commit()
        return tagged(enterprise)
    try:
        enterprise = operations.register_enterprise(
            db.session,
            code,
            doc,
            actor=api_actor(),
            status=status or Status.ACTIVE,
            merged_into=merged_into,
        )
        db.session.commit()
    except IntegrityError:
        # Another request created it since this one looked (PostgreSQL).
        db.session.rollback()
        raise PreconditionFailed("The record exists already (If-None-Match).") from None
    return tagged(enterprise, 201, Location=url_for(".get_enterprise", uscc=code))


@blp.get("/enterprises/<uscc>")
@requires("registry:read")
@with_enterprise
@blp.response(200, EnterpriseOut)
@documented(blp, NOT_VISIBLE)
def get_enterprise(enterprise: Enterprise) -> tuple[Enterprise, int, dict[str, str]]:
    """One enterprise, with its version as a strong ``ETag``."""
    return tagged(enterprise)


@blp.put("/enterprises/<uscc>")
@requires("registry:write")
@enterprise_write
@blp.arguments(schemas.EnterpriseIn)
@blp.response(200, EnterpriseOut)
@blp.alt_response(201, schema=EnterpriseOut, description="Created", success=True)
@documented(blp, *WRITE_ERRORS, conditional=True)
def put_enterprise(
    body: dict[str, Any], code: str, enterprise: Enterprise | None
) -> tuple[Enterprise, int, dict[str, str]]:
    """Full replacement (``If-Match``), or creation by a reviewer (``If-None-Match: *``).
    A replacement equal to the stored record changes nothing."""
    return _save(code, enterprise, body, body)


@blp.patch("/enterprises/<uscc>")
@requires("registry:write")
@enterprise_write
@blp.arguments(schemas.EnterprisePatch)
@blp.response(200, EnterpriseOut)
@documented(blp, *WRITE_ERRORS[1:], conditional=True)
def patch_enterprise(
    patch: dict[str, Any], code: str, enterprise: Enterprise
) -> tuple[Enterprise, int, dict[str, str]]:
    """JSON Merge Patch (``If-Match`` required): members sent replace the stored ones,
    null clears an optional one."""
    return _save(code, enterprise, {**_stored(enterprise), **patch}, patch)
