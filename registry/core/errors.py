"""Domain errors: one class per refusal the contract names, with its code and status.

Messages are English templates; pages and API answers translate them through the
message catalogue (``registry.core.i18n``), the CLI prints them as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class DomainError(Exception):
    """A business rule refused the operation; nothing was changed."""

    code = "bad_request"
    status = 400

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        errors: list[dict[str, Any]] | None = None,
        **params: Any,
    ) -> None:
        self.template = message
        self.params = params
        self.errors = errors or []
        if code:
            self.code = code
        if status:
            self.status = status
        super().__init__(message % params if params else message)


def refusal(field: str, code: str, message: str) -> dict[str, str]:
    """One item of a problem's ``errors``: the field, its API.md code and a message."""
    return {"field": field, "code": code, "message": message}


def field_error(field: str, code: str, message: str, **params: Any) -> ValidationFailed:
    """A refusal of one field's value: 422 with that field's error (API.md codes)."""
    return ValidationFailed(message, errors=[refusal(field, code, message % params)], **params)


class NotFound(DomainError):
    code, status = "not_found", 404


def found(
    row: T | None, message: str = "Not found.", visible: Callable[[T], bool] | None = None
) -> T:
    """``row`` when it exists and, with ``visible``, the caller may see it; else
    :class:`NotFound` — one answer for both, so that nothing tells another's record from
    a missing one (a 404 page on the web, a problem under ``/api/``)."""
    if row is None or (visible is not None and not visible(row)):
        raise NotFound(message)
    return row


class ValidationFailed(DomainError):
    code, status = "validation_failed", 422


class InvalidTransition(DomainError):
    code, status = "invalid_transition", 409


class QuotaFull(DomainError):
    code, status = "quota_full", 409


class NotOnLadder(DomainError):
    code, status = "not_on_ladder", 409


class Banned(DomainError):
    code, status = "banned", 409


class RenewalWindowClosed(DomainError):
    code, status = "renewal_window_closed", 409


class Forbidden(DomainError):
    code, status = "forbidden", 403


class FourEyes(DomainError):
    code, status = "four_eyes", 403


class ConflictOfInterest(DomainError):
    code, status = "conflict_of_interest", 403


class NominationOnly(DomainError):
    code, status = "nomination_only", 403


class ApplicationOpen(DomainError):
    code, status = "application_open", 409


class PrerequisiteNotMet(DomainError):
    code, status = "prerequisite_not_met", 409


class EnterpriseUnverified(DomainError):
    code, status = "enterprise_unverified", 409


class NotEligible(DomainError):
    code, status = "not_eligible", 422


class ManualChecksUnconfirmed(DomainError):
    code, status = "manual_checks_unconfirmed", 422


class ReadOnlyOrigin(DomainError):
    code, status = "read_only_origin", 409


class NoticeClosed(DomainError):
    code, status = "notice_closed", 409


class PreconditionFailed(DomainError):
    code, status = "precondition_failed", 412


class PreconditionRequired(DomainError):
    code, status = "precondition_required", 428


class Throttled(DomainError):
    code, status = "rate_limited", 429
    #: Seconds until a new attempt may succeed, set by the operation that refuses.
    retry_after: int


class IdempotencyKeyReused(DomainError):
    code, status = "idempotency_key_reused", 422


class IdempotencyKeyInProgress(DomainError):
    code, status = "idempotency_key_in_progress", 409
