"""Domain errors: one class per refusal the contract names, with its code and status.

Messages are English templates; pages and API answers translate them through the
message catalogue (``registry.core.i18n``), the CLI prints them as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


class DomainError(Exception):
    """A business rule refused the operation; nothing was changed."""

    code = "bad_request"
    status = 400
    #: The refusals gathered into this one (see :class:`Refusals`), each with its own
    #: message for the page to show beside its field; empty for a single refusal.
    causes: tuple[DomainError, ...] = ()

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


class Message(str):
    """A message with its values filled in (English, as the command line prints it) that
    keeps its ``template`` and ``params``, so that a page, an API answer or an import's
    error report says it in its reader's language (``core.field_messages.say``). A value
    may itself be a message (or anything with a ``template`` and ``params``)."""

    template: str
    params: dict[str, Any]

    def __new__(cls, template: str, /, **params: Any) -> Message:
        message = super().__new__(cls, template % params if params else template)
        message.template, message.params = template, params
        return message


class Codes(str):
    """Codes listed in a message (the checks still to confirm): "a, b" as the command
    line prints it; a page or an API answer names each code in its reader's language
    (``core.web.name_codes``)."""

    codes: tuple[str, ...]

    def __new__(cls, codes: Sequence[str]) -> Codes:
        listed = super().__new__(cls, ", ".join(codes))
        listed.codes = tuple(codes)
        return listed


def refusal(field: str, code: str, message: str, **params: Any) -> dict[str, str]:
    """One item of a problem's ``errors``: the field, its API.md code and a message (an
    English template, translated where it is read, with ``params`` filled in)."""
    return {"field": field, "code": code, "message": Message(message, **params)}


def field_error(field: str, code: str, message: str, **params: Any) -> ValidationFailed:
    """A refusal of one field's value: 422 with that field's error (API.md codes)."""
    return ValidationFailed(message, errors=[refusal(field, code, message, **params)], **params)


def required(field: str) -> ValidationFailed:
    """An empty field that needs a value, in the words every form uses for it."""
    return field_error(field, "required", "This field is required.")


class Refusals:
    """Independent checks of several values, each run to the end, so that one answer
    names every wrong value rather than the first (QUALITY.md U2)::

        refusals = Refusals()
        code = refusals.check(valid_uscc, raw)
        refusals.check(check_password_rules, password)
        refusals.raise_any()

    A refusal that names no field (of the operation as a whole) is raised at once.
    """

    def __init__(self) -> None:
        self.found: list[DomainError] = []

    def check(self, check: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        """``check(*args, **kwargs)``, or None when it refused a field (kept for later)."""
        try:
            return check(*args, **kwargs)
        except DomainError as error:
            if not error.errors:
                raise
            self.found.append(error)
            return None

    def add(self, error: DomainError) -> None:
        """A refusal found otherwise, to answer with the others."""
        self.found.append(error)

    def raise_any(self) -> None:
        """Refuse with what was found: a single refusal as it is, several as one."""
        if len(self.found) == 1:
            raise self.found[0]
        if self.found:
            raise refused_together(self.found)


def refused_together(refusals: Sequence[DomainError]) -> ValidationFailed:
    """Several refusals as one ``validation_failed``: their field errors together, and
    each refusal kept in ``causes``; as text, their messages one after the other."""
    together = ValidationFailed(
        "Several values are not valid.", errors=[item for e in refusals for item in e.errors]
    )
    together.causes = tuple(refusals)
    together.args = (" ".join(str(e) for e in refusals),)
    return together


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


class MalformedJson(DomainError):
    code, status = "malformed_json", 400


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


class CalendarNotCovered(DomainError):
    code, status = "calendar_not_covered", 409


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
