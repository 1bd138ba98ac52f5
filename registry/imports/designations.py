"""Designations in a bulk import: each row is a ``grant`` (PRODUCT.md "Operation") of a tier to
an enterprise in the registry, with the rules of ``ladder.batch_operations.bulk_grant``
(active, on a lower rung or none, no promotion in notice, the tier's quota, a supplied
registration number canonical and free); the prerequisite rung is not required. The
rows are checked here one by one so that the report names each row; ``bulk_grant``
checks them again under the quota lock while it writes.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy import select

from registry.core import clock
from registry.core.audit import Actor
from registry.core.db import in_chunks
from registry.core.dbsession import DbSession
from registry.core.errors import DomainError, Message
from registry.enterprises.models import Enterprise, Status
from registry.imports.report import Named
from registry.imports.rows import (
    REQUIRED_CELL,
    Kind,
    Plan,
    Row,
    RowError,
    domain_errors,
    first_time,
    row_uscc,
    text_cell,
)
from registry.ladder import batch_operations as ladder_bulk
from registry.ladder import queries as ladder_queries
from registry.ladder.models import Reservation, Tier
from registry.ladder.numbers import check_supplied_number, number_taken

DESIGNATION_COLUMNS = ("uscc", "tier", "tier_since", "registration_number")

#: A checked row: the row, USCC, tier, start date, registration number (or None).
Checked = tuple[Row, str, str, date, str | None]


def _since(row: Row, today: date, errors: list[RowError]) -> date | None:
    raw = text_cell(row.cells.get("tier_since"))
    if raw is None:
        errors.append(RowError(row.number, "tier_since", "required", REQUIRED_CELL))
        return None
    try:
        since = date.fromisoformat(raw)
    except ValueError:
        message = Message("Must be a date written YYYY-MM-DD.")
        errors.append(RowError(row.number, "tier_since", "invalid_type", message))
        return None
    if since > today:
        message = Message("In the future.")
        errors.append(RowError(row.number, "tier_since", "out_of_range", message))
        return None
    return since


def _number(
    session: DbSession, row: Row, tier: Tier, since: date, errors: list[RowError]
) -> str | None:
    number = text_cell(row.cells.get("registration_number"))
    if number is None:
        return None
    try:
        check_supplied_number(tier, since.year, number)
    except DomainError as error:
        errors += domain_errors(row.number, error, "registration_number")
        return None
    if number_taken(session, number):
        message = Message("Registration number %(number)s is taken.", number=number)
        errors.append(RowError(row.number, "registration_number", "taken", message))
    return number


def _check_rows(
    session: DbSession, rows: list[Row], tiers: dict[str, Tier]
) -> tuple[list[Checked], list[RowError]]:
    """Each row on its own, and keys given twice in the file."""
    today = clock.today()
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    numbers: dict[str, int] = {}
    checked: list[Checked] = []
    for row in rows:
        found: list[RowError] = []
        code = row_uscc(row, found)
        tier = text_cell(row.cells.get("tier"))
        if not tier:
            found.append(RowError(row.number, "tier", "required", REQUIRED_CELL))
        elif tier not in tiers:
            message = Message("Unknown tier %(tier)s.", tier=tier)
            found.append(RowError(row.number, "tier", "invalid_choice", message))
        since = _since(row, today, found)
        number = None
        if tier in tiers and since is not None:
            number = _number(session, row, tiers[tier], since, found)
            if number is not None:
                first_time(number, row, numbers, found, "registration_number")
        if (
            code is not None
            and first_time(code, row, seen, found, "uscc")
            and not found
            and since is not None  # (None comes with an error in found)
        ):
            checked.append((row, code, tier, since, number))
        errors += found
    return checked, errors


#: An enterprise's status in words, as a value of a message.
_STATUS_WORDS = {
    Status.ACTIVE: Message("Active"),
    Status.DEREGISTERED: Message("Deregistered"),
    Status.MERGED: Message("Merged"),
}


def _name(tier: Tier) -> Named:
    return Named(tier.name("zh"), tier.name("en"))


def _enterprises(session: DbSession, codes: list[str]) -> dict[str, Enterprise]:
    records: dict[str, Enterprise] = {}
    for chunk in in_chunks(codes):
        stmt = select(Enterprise).where(Enterprise.uscc.in_(chunk))
        records.update((e.uscc, e) for e in session.scalars(stmt))
    return records


def _check_ladder(
    session: DbSession, checked: list[Checked], tiers: dict[str, Tier]
) -> tuple[list[tuple[str, ladder_bulk.DesignationRequest]], list[RowError]]:
    """The enterprises' state and the quotas: the grants to make (by USCC), or errors."""
    records = _enterprises(session, [c[1] for c in checked])
    in_notice: set[int] = set()
    for ids in in_chunks([e.id for e in records.values()]):
        stmt = select(Reservation.enterprise_id).where(Reservation.enterprise_id.in_(ids))
        in_notice.update(session.scalars(stmt))
    room = {code: ladder_queries.occupancy(session, tier).remaining for code, tier in tiers.items()}
    wanted: Counter[str] = Counter()
    errors: list[RowError] = []
    grants: list[tuple[str, ladder_bulk.DesignationRequest]] = []
    for row, code, tier, since, number in checked:
        enterprise = records.get(code)
        refusal: tuple[str, str, Message] | None = None
        if enterprise is None:
            refusal = ("uscc", "not_found", Message("No enterprise %(uscc)s.", uscc=code))
        elif enterprise.status != Status.ACTIVE:
            status = _STATUS_WORDS[enterprise.status]
            message = Message(
                "%(uscc)s is %(status)s: no tier is granted.", uscc=code, status=status
            )
            refusal = ("uscc", "invalid_transition", message)
        elif enterprise.tier is not None and tiers[enterprise.tier].rank >= tiers[tier].rank:
            message = Message(
                "%(uscc)s holds %(tier)s, this or a higher tier.",
                uscc=code,
                tier=_name(tiers[enterprise.tier]),
            )
            refusal = ("tier", "invalid_transition", message)
        elif enterprise.id in in_notice:
            message = Message("%(uscc)s has a promotion in notice.", uscc=code)
            refusal = ("uscc", "invalid_transition", message)
        else:
            wanted[tier] += 1
            if wanted[tier] > room[tier]:
                message = Message(
                    "The quota of %(tier)s is full (%(left)s places left).",
                    tier=_name(tiers[tier]),
                    left=room[tier],
                )
                refusal = ("tier", "quota_full", message)
        if refusal:
            errors.append(RowError(row.number, *refusal))
        else:
            grants.append((code, ladder_bulk.DesignationRequest(tier, since, number)))
    return grants, errors


def check_designations(session: DbSession, rows: list[Row]) -> Plan:
    """Check designation rows; the plan grants them all in one ``bulk_grant``."""
    tiers = {t.code: t for t in session.scalars(select(Tier))}
    checked, errors = _check_rows(session, rows, tiers)
    grants, ladder_errors = _check_ladder(session, checked, tiers)
    errors += ladder_errors
    if errors:
        return Plan(errors)

    def write(session: DbSession, actor: Actor, source: str) -> None:
        # The enterprises as they are now: bulk_grant checks every rule again under the
        # tier locks, and refuses the file if a change since makes a grant fail.
        records = _enterprises(session, [code for code, _request in grants])
        reason = f"Imported from {source}"[:2000]
        ladder_bulk.bulk_grant(
            session,
            [(records[code], request) for code, request in grants],
            actor=actor,
            reason=reason,
        )

    return Plan([], write)


DESIGNATIONS = Kind(
    "designations",
    DESIGNATION_COLUMNS,
    frozenset({"uscc", "tier", "tier_since"}),
    check_designations,
)
