"""Schemas of the applications API (API.md): request bodies and query strings, and the
representations only the API needs.

Input schemas keep marshmallow's ``unknown=RAISE``: a member the caller may not send
(``state``, ``claimed_by``, any reviewer field from an enterprise token) is refused with
422 ``unknown_field``, never ignored (QUALITY.md S2). Strings are bounded; booleans are
JSON booleans only.
"""

from __future__ import annotations

from typing import Any

from flask import g
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, post_dump, validate

from registry.accounts.models import AccountClaim, ClaimState
from registry.applications import objections
from registry.applications.models import Kind, ObjectionState, State
from registry.applications.schemas import ApplicationOut, user_ref
from registry.core.api_lists import (
    PageArgs,
)
from registry.core.schemas import CODE_LENGTH, OutputSchema, Timestamp, code_field, text_field
from registry.enterprises.models import Enterprise
from registry.extensions import db

STATES = [str(s) for s in State]
KINDS = [str(k) for k in Kind]
DECISIONS = ("approve", "reject", "request_changes")
#: Ids are integer columns (PostgreSQL: int4); a larger one is refused before any query.
MAX_ID = 2**31 - 1


def _strict_boolean(**kwargs: Any) -> fields.Boolean:
    """A JSON ``true`` or ``false``, not ``"yes"`` or ``1``."""
    return fields.Boolean(truthy={True}, falsy={False}, **kwargs)


def _id_in_range(value: str) -> None:
    if value.isdigit() and int(value) > MAX_ID:
        raise ValidationError(f"Must be less than or equal to {MAX_ID}.")


def _claimed_by() -> fields.String:
    return fields.String(
        validate=[validate.Regexp(r"^(me|none|[1-9][0-9]{0,9})$"), _id_in_range],
        metadata={"description": f'"me", "none" or a user id (at most {MAX_ID})'},
    )


# --- query strings -------------------------------------------------------------------------


class ApplicationListArgs(PageArgs):
    """Filters of ``GET /applications``; repeating ``state``, ``tier``, ``city`` or
    ``kind`` ORs its values."""

    state = fields.List(fields.String(validate=validate.OneOf(STATES)))
    tier = fields.List(code_field())
    city = fields.List(code_field())
    kind = fields.List(fields.String(validate=validate.OneOf(KINDS)))
    claimed_by = _claimed_by()
    enterprise_uscc = code_field()


class CountArgs(Schema):
    """The queue counts under the reviewer's selection (city and who leads)."""

    city = code_field()
    claimed_by = _claimed_by()


class ObjectionListArgs(PageArgs):
    state = fields.List(fields.String(validate=validate.OneOf([str(s) for s in ObjectionState])))
    application_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class ClaimListArgs(PageArgs):
    state = fields.List(fields.String(validate=validate.OneOf([str(s) for s in ClaimState])))


# --- request bodies ------------------------------------------------------------------------


class ApplicationCreate(Schema):
    enterprise_uscc = code_field(
        metadata={"description": "Required for reviewers; an enterprise user's own by default"}
    )
    tier = code_field(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    route = code_field(
        metadata={
            "description": "champion: srdi (default) or single_champion; an unknown route is "
            "refused (422); other tiers have none (null)"
        }
    )


class ApplicationPatch(Schema):
    """What the applicant side may change: tier, kind and route, in draft only."""

    tier = code_field()
    kind = fields.String(validate=validate.OneOf(KINDS))
    route = code_field(metadata={"description": "champion: srdi or single_champion"})


class Submission(Schema):
    declaration = _strict_boolean(
        load_default=False,
        metadata={"description": "Must be true, except for a nomination"},
    )


class NoInput(Schema):
    """An action without input: an empty body, or ``{}``."""


class DecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    comment = text_field(
        4000, allow_none=True, metadata={"description": "Required for reject and request_changes"}
    )
    manual_checks = fields.Dict(
        keys=fields.String(validate=validate.Length(max=CODE_LENGTH)),
        values=_strict_boolean(),
        allow_none=True,
        metadata={"description": "Each manual check of the snapshot confirmed as true"},
    )
    innovation_score = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=0, max=100)
    )


class UploadIn(Schema):
    file = Upload(required=True)


class ObjectionIn(Schema):
    name = text_field(objections.NAME_MAX, required=True)
    contact = text_field(objections.CONTACT_MAX, required=True)
    text = text_field(objections.GROUNDS_MAX, required=True)


class ResolutionIn(Schema):
    outcome = fields.String(
        required=True, validate=validate.OneOf([str(s) for s in objections.OUTCOMES])
    )
    comment = text_field(objections.COMMENT_MAX, required=True)


class ClaimDecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(("confirm", "refuse")))
    comment = text_field(2000, allow_none=True, metadata={"description": "Required to refuse"})


# --- representations -----------------------------------------------------------------------


def sees_reviewers() -> bool:
    user = g.get("api_user")
    return user is not None and user.is_reviewer


class ApplicationResponse(ApplicationOut):
    """An application as the caller may see it: enterprise callers get null for the
    reviewers' identities (API.md wire conventions)."""

    @post_dump
    def _hide_reviewers(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if not sees_reviewers():
            data["claimed_by"] = data["nominated_by"] = None
            for decision in data["decisions"]:
                decision["reviewer"] = None
        return data


class AttachmentOut(OutputSchema):
    id = fields.Integer()
    application_id = fields.Integer()
    label = fields.String(metadata={"description": "The client's file name, for display"})
    content_type = fields.String(metadata={"description": "As detected from the content"})
    size = fields.Integer()
    sha256 = fields.String()
    created_at = Timestamp()


class CountOut(OutputSchema):
    state = fields.String()
    tier = fields.String()
    count = fields.Integer()


class NoticeItemOut(OutputSchema):
    application_id = fields.Integer()
    enterprise_uscc = fields.String()
    name = fields.String()
    city_code = fields.String(allow_none=True)
    industry_code = fields.String(allow_none=True)
    tier = fields.String()
    notice_started_at = Timestamp()
    notice_ends_at = Timestamp()
    held = fields.Boolean()


class FiledObjectionOut(objections.ObjectionOut):
    class Meta:
        fields = ("id", "application_id", "state", "filed_at")


class ReviewerObjectionApiOut(objections.ReviewerObjectionOut):
    """API.md's objection: the client address stays on the reviewers' page."""

    class Meta:
        exclude = ("client_address",)


def _enterprise(claim: AccountClaim) -> Enterprise:
    return db.session.get_one(Enterprise, claim.enterprise_id)


class AccountClaimOut(OutputSchema):
    id = fields.Integer()
    state = fields.Function(lambda c: str(c.state))
    enterprise_uscc = fields.Function(lambda c: _enterprise(c).uscc)
    enterprise_name = fields.Function(
        lambda c: _enterprise(c).name, metadata={"description": "The registered name"}
    )
    stated_name = fields.String(metadata={"description": "The name the account typed"})
    user = fields.Function(lambda c: user_ref(c.user_id))
    email = fields.Function(lambda c: c.user.email)
    comment = fields.String(allow_none=True)
    decided_by = fields.Function(lambda c: user_ref(c.decided_by))
    decided_at = Timestamp(allow_none=True)
    created_at = Timestamp()
