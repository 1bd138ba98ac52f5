"""Read side of applications for the reviewers' pages: the queue with its counts, and
what the application, enterprise and account-claim pages show beside it.

The queue is a keyset list ordered by ``(submitted_at, id)``; drafts (never submitted)
come last, by id. Pages never count and never use OFFSET.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Exists,
    Row,
    Select,
    String,
    and_,
    cast,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import InstrumentedAttribute, aliased

from registry.accounts.models import AccountClaim, ClaimState, User
from registry.applications.models import (
    Application,
    Attachment,
    Decision,
    Objection,
    ObjectionState,
    State,
)
from registry.core import audit
from registry.core.dbsession import DbSession
from registry.core.models import WORKFLOW_OBJECTS, AuditEntry
from registry.enterprises import uscc as uscc_codes
from registry.enterprises.models import AnnualReport, City, Enterprise, Industry
from registry.enterprises.queries import name_starts_with as _name_starts_with

#: The states in which an application waits for a reviewer: the queue's default.
NEEDS_REVIEWER = (State.SUBMITTED, State.IN_REVIEW)
#: Who leads the review: the signed-in reviewer, nobody yet, or anyone.
ASSIGNEES = ("anyone", "me", "none")
#: Where the approvals stand: any, "mine" (waits for an approval the signed-in reviewer
#: may give) or "second" (has an approval and needs another).
APPROVALS = ("", "mine", "second")

#: The sort key of a queue row: (submitted_at or None for a draft, id).
QueueKey = tuple[datetime | None, int]

#: A SELECT of any columns (the queue's rows, its counts).
S = TypeVar("S", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True)
class QueueFilter:
    """What the queue shows. ``user_id`` is the reviewer that ``assignee="me"`` means."""

    states: tuple[State, ...] = NEEDS_REVIEWER
    tier: str | None = None
    city: str | None = None
    assignee: str = "anyone"
    user_id: int | None = None
    #: One of APPROVALS ("" = any); "mine" needs ``user_id`` (and the reviewer's own
    #: enterprise, if any, in ``user_enterprise_id``).
    approval: str = ""
    user_enterprise_id: int | None = None


def _counting_approval() -> ColumnElement[bool]:
    """SQL: a decision is an approval of the queue row's application that counts (not
    voided by a later request for changes)."""
    return and_(
        Decision.application_id == Application.id,
        Decision.decision == "approve",
        Decision.void.is_(False),
    )


def _approval_count() -> ColumnElement[int]:
    """SQL: how many approvals of the queue row's application count."""
    return select(func.count(Decision.id)).where(_counting_approval()).scalar_subquery()


def _approved_by(reviewer_id: Any) -> Exists:
    """SQL: ``reviewer_id`` (a user id or a column) gave one of those approvals."""
    return exists().where(_counting_approval(), Decision.reviewer_id == reviewer_id)


def _needs_approval() -> ColumnElement[bool]:
    """In review with fewer approvals than the tier asked for at submission."""
    return and_(
        Application.state == State.IN_REVIEW,
        _approval_count() < func.coalesce(Application.approvals_required, 1),
    )


def _submitted_by(reviewer_id: Any) -> Exists:
    """SQL: ``reviewer_id`` (a user id or a column) submitted the queue row's application
    at some time (every submission is audited)."""
    return exists().where(
        WORKFLOW_OBJECTS,
        AuditEntry.object_type == "application",
        AuditEntry.object_id == cast(Application.id, String),
        AuditEntry.action == "application.submit",
        AuditEntry.actor_id == reviewer_id,
    )


def _four_eyes_allow(reviewer_id: Any) -> ColumnElement[bool]:
    """SQL: the four-eyes rules of ``decisions.approve`` let ``reviewer_id`` approve the
    queue row's application: they did not create it, never submitted it and have not
    approved it already."""
    return and_(
        or_(Application.created_by.is_(None), Application.created_by != reviewer_id),
        ~_submitted_by(reviewer_id),
        ~_approved_by(reviewer_id),
    )


def _needs_my_approval(user_id: int | None, enterprise_id: int | None) -> ColumnElement[bool]:
    """Waits for an approval this reviewer may give (the four-eyes rules, and not an
    application of their own enterprise), and is not waiting for its lead: a review
    another reviewer claimed is theirs to approve first, unless they have approved it
    already or may not approve it at all (then the approval still missing is anyone's)."""
    lead_to_approve = and_(
        Application.claimed_by.is_not(None),
        Application.claimed_by != user_id,
        _four_eyes_allow(Application.claimed_by),
    )
    conditions = [_needs_approval(), _four_eyes_allow(user_id), ~lead_to_approve]
    if enterprise_id is not None:
        conditions.append(Application.enterprise_id != enterprise_id)
    return and_(*conditions)


def _display_name(user: type[User]) -> ColumnElement[str]:
    """SQL for ``User.display_name``: the name, else the email."""
    return func.coalesce(func.nullif(user.name, ""), user.email)


def _filtered(stmt: S, filters: QueueFilter, *, by_state: bool = True, by_tier: bool = True) -> S:
    if by_state:
        stmt = stmt.where(Application.state.in_(filters.states))
    if by_tier and filters.tier:
        stmt = stmt.where(Application.tier == filters.tier)
    if filters.city:
        stmt = stmt.where(Enterprise.city_code == filters.city)
    if filters.assignee == "me":
        stmt = stmt.where(Application.claimed_by == filters.user_id)
    elif filters.assignee == "none":
        stmt = stmt.where(Application.claimed_by.is_(None))
    return stmt


def queue(
    session: DbSession, filters: QueueFilter, *, limit: int, after: QueueKey | None = None
) -> list[Row]:
    """Up to ``limit`` applications matching ``filters`` after the key ``after``, oldest
    submission first. Each row has the application's columns, the enterprise's name,
    USCC, ``verified`` and city, ``claimed_by_name``, and ``approvals`` (those that
    count) beside ``approvals_required``. The approval filter applies here only: the
    counts show the whole pipeline."""
    claimer = aliased(User)
    stmt = (
        select(
            Application.id,
            Application.tier,
            Application.kind,
            Application.state,
            Application.submitted_at,
            Application.nominated_by,
            Enterprise.uscc,
            Enterprise.name,
            Enterprise.verified,
            Enterprise.city_code,
            _display_name(claimer).label("claimed_by_name"),
            Application.approvals_required,
            _approval_count().label("approvals"),
        )
        .join(Enterprise, Enterprise.id == Application.enterprise_id)
        .outerjoin(claimer, claimer.id == Application.claimed_by)
    )
    stmt = _filtered(stmt, filters)
    if filters.approval == "mine":
        stmt = stmt.where(_needs_my_approval(filters.user_id, filters.user_enterprise_id))
    elif filters.approval == "second":
        stmt = stmt.where(_needs_approval(), _approval_count() >= 1)
    if after is not None:
        at, last_id = after
        if at is None:
            stmt = stmt.where(Application.submitted_at.is_(None), Application.id > last_id)
        else:
            stmt = stmt.where(
                or_(
                    Application.submitted_at > at,
                    and_(Application.submitted_at == at, Application.id > last_id),
                    Application.submitted_at.is_(None),
                )
            )
    stmt = stmt.order_by(Application.submitted_at.asc().nulls_last(), Application.id)
    return list(session.execute(stmt.limit(limit)))


def queue_key(row: Row) -> QueueKey:
    return row.submitted_at, row.id


def counts(session: DbSession, filters: QueueFilter) -> dict[tuple[str, str], int]:
    """``{(state, tier): n}`` over every state and tier, under the city and assignee
    filters (the table shows the whole pipeline of the reviewer's selection)."""
    stmt = select(Application.state, Application.tier, func.count()).join(
        Enterprise, Enterprise.id == Application.enterprise_id
    )
    stmt = _filtered(stmt, filters, by_state=False, by_tier=False)
    stmt = stmt.group_by(Application.state, Application.tier)
    return {(str(state), tier): n for state, tier, n in session.execute(stmt)}


# --- one application ---------------------------------------------------------------------


def history(session: DbSession, application_id: int) -> list[AuditEntry]:
    """The audit entries of an application, oldest first."""
    return list(session.scalars(audit.history("application", application_id)))


def attachments(session: DbSession, application_id: int) -> list[Attachment]:
    """The attachments of an application (their content stays unloaded)."""
    return list(
        session.scalars(
            select(Attachment)
            .where(Attachment.application_id == application_id)
            .order_by(Attachment.id)
        )
    )


def objections(session: DbSession, application_id: int) -> list[Objection]:
    return list(
        session.scalars(
            select(Objection)
            .where(Objection.application_id == application_id)
            .order_by(Objection.id)
        )
    )


def user_names(session: DbSession, ids: Iterable[int | None]) -> dict[int, str]:
    """``{user id: display name}`` for the given ids (None ignored)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, _display_name(User)).where(User.id.in_(wanted)))
    return {user_id: name for user_id, name in rows}


# --- enterprises -----------------------------------------------------------------------


def reports(session: DbSession, enterprise_id: int, *, limit: int | None = None) -> list:
    """An enterprise's annual reports, latest year first (at most ``limit``)."""
    stmt = (
        select(AnnualReport)
        .where(AnnualReport.enterprise_id == enterprise_id)
        .order_by(AnnualReport.year.desc())
    )
    return list(session.scalars(stmt.limit(limit) if limit else stmt))


def place_names(session: DbSession, enterprise: Enterprise, lang: str) -> dict[str, str | None]:
    """``city_name`` and ``industry_name`` of an enterprise in ``lang``; a code the seed
    does not know stays as it is."""
    city = session.get(City, enterprise.city_code) if enterprise.city_code else None
    industry = session.get(Industry, enterprise.industry_code) if enterprise.industry_code else None
    return {
        "city_name": city.name(lang) if city else enterprise.city_code,
        "industry_name": industry.name(lang) if industry else enterprise.industry_code,
    }


def applications_of(session: DbSession, enterprise_id: int) -> list[Application]:
    """Every application of an enterprise, newest first."""
    return list(
        session.scalars(
            select(Application)
            .where(Application.enterprise_id == enterprise_id)
            .order_by(Application.id.desc())
        )
    )


def find_enterprises(session: DbSession, text: str, *, limit: int) -> list[Enterprise]:
    """At most ``limit`` enterprises whose USCC or name starts with ``text``, in USCC
    order.

    Both prefixes are walked as ranges of an index, so a search costs the same among a
    million records: USCC characters are digits and capitals, so every code starting
    with ``p`` lies between ``p`` and ``p`` padded with ``Z``; names, see
    :func:`_name_starts_with`.
    """
    text = text.strip()
    if not text:
        return []
    found: dict[str, Enterprise] = {}
    prefix = uscc_codes.normalize(text)
    if prefix.isascii() and prefix.isalnum() and len(prefix) <= 18:
        for enterprise in session.scalars(
            select(Enterprise)
            .where(Enterprise.uscc >= prefix, Enterprise.uscc <= prefix.ljust(18, "Z"))
            .order_by(Enterprise.uscc)
            .limit(limit)
        ):
            found[enterprise.uscc] = enterprise
    for enterprise in session.scalars(
        select(Enterprise)
        .where(_name_starts_with(session, text))
        .order_by(Enterprise.name)
        .limit(limit)
    ):
        found.setdefault(enterprise.uscc, enterprise)
    return [found[code] for code in sorted(found)][:limit]


# --- account claims ----------------------------------------------------------------------


def _claims(state_is_pending: bool) -> Select[AccountClaim, str, str, str, str]:
    decider = aliased(User)
    claimant = aliased(User)
    stmt = (
        select(
            AccountClaim,
            claimant.email.label("email"),
            Enterprise.name.label("enterprise_name"),
            Enterprise.uscc.label("uscc"),
            _display_name(decider).label("decided_by_name"),
        )
        .join(claimant, claimant.id == AccountClaim.user_id)
        .join(Enterprise, Enterprise.id == AccountClaim.enterprise_id)
        .outerjoin(decider, decider.id == AccountClaim.decided_by)
    )
    if state_is_pending:
        return stmt.where(AccountClaim.state == ClaimState.PENDING).order_by(AccountClaim.id)
    return stmt.where(AccountClaim.state != ClaimState.PENDING).order_by(
        AccountClaim.decided_at.desc(), AccountClaim.id.desc()
    )


def pending_claims(session: DbSession) -> list[Row]:
    """Claims waiting for a reviewer, oldest first: the claim, the account's email and
    the enterprise's registered name and USCC."""
    return list(session.execute(_claims(True)))


def decided_claims(session: DbSession, *, limit: int) -> list[Row]:
    """The latest decided claims, with who decided them."""
    return list(session.execute(_claims(False).limit(limit)))


# --- objections --------------------------------------------------------------------------


def open_objection(application_id: int | InstrumentedAttribute[int]) -> Exists:
    """SQL: an objection to this application (an id, or the ``Application.id`` column in
    a query over applications) is open."""
    return exists().where(
        Objection.application_id == application_id, Objection.state == ObjectionState.OPEN
    )


def is_held(session: DbSession, application: Application) -> bool:
    """In notice with an objection open (``held``): nobody grants it until the last
    open objection is dismissed; an upheld one rejects it."""
    return application.state == State.IN_NOTICE and bool(
        session.scalar(select(open_objection(application.id)))
    )
