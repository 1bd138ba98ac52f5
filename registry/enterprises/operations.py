"""Operations on one enterprise or one annual report (flush, never commit).

Bulk loads live in :mod:`registry.enterprises.batch_operations`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from registry.core import clock
from registry.core.audit import Actor, diff, record_audit
from registry.core.changes import changed
from registry.core.dbsession import DbSession
from registry.core.errors import (
    InvalidTransition,
    ReadOnlyOrigin,
    ValidationFailed,
    refusal,
    required,
)
from registry.enterprises import uscc as uscc_codes
from registry.enterprises.batches import REPORT_FIELDS, report_values
from registry.enterprises.models import FIGURE_FIELDS, AnnualReport, City, Enterprise, Status
from registry.enterprises.queries import valid_uscc
from registry.enterprises.signals import status_changed

#: What an enterprise keeps current itself (PRODUCT.md "Enterprises"); the USCC, status, origin and
#: ladder fields are not among them.
PROFILE_FIELDS = (
    "name",
    "name_en",
    "city_code",
    "county",
    "industry_code",
    "founded_on",
    "legal_representative",
    "contact_name",
    "contact_phone",
    "contact_email",
    "address",
    "main_products",
)
#: The earliest year an annual report may be for.
FIRST_REPORT_YEAR = 1990  # API.md: year ≥ 1990 and before the current year


def require_local(enterprise: Enterprise) -> None:
    """A record mirrored from a sync source is read-only here (PRODUCT.md "Sync with other
    registries")."""
    if not enterprise.is_local:
        raise ReadOnlyOrigin(
            "%(uscc)s is mirrored from %(origin)s and is read-only here.",
            uscc=enterprise.uscc,
            origin=enterprise.origin,
        )


def _profile(enterprise: Enterprise) -> dict[str, Any]:
    return {name: getattr(enterprise, name) for name in PROFILE_FIELDS}


def clean_profile(values: Mapping[str, Any]) -> dict[str, Any]:
    """Profile values as stored: text stripped (empty → None); a name is required."""
    unknown = set(values) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not profile fields: {', '.join(sorted(unknown))}")
    cleaned = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in values.items()}
    if "name" in cleaned and not cleaned["name"]:
        raise required("name")
    return cleaned


def create_enterprise(
    session: DbSession,
    uscc: str,
    name: str,
    *,
    actor: Actor,
    verified: bool = True,
    **profile: Any,
) -> Enterprise:
    """A new local enterprise (version 1). The city comes from the USCC when it names a
    seeded city and none is given. ``verified`` is False for a web sign-up until a
    reviewer confirms it."""
    code = valid_uscc(uscc)
    if session.scalar(select(Enterprise.id).where(Enterprise.uscc == code)):
        raise InvalidTransition("An enterprise with USCC %(uscc)s exists.", uscc=code)
    values = clean_profile({"name": name, **profile})
    if not values.get("city_code"):
        values["city_code"] = uscc_codes.city_code(code, set(session.scalars(select(City.code))))
    enterprise = Enterprise(uscc=code, verified=verified, **values)
    session.add(enterprise)
    session.flush()
    changed(session, enterprise)
    record_audit(
        session,
        actor,
        "enterprise.create",
        "enterprise",
        code,
        diff({}, {**values, "uscc": code, "verified": verified}),
    )
    return enterprise


def update_profile(
    session: DbSession, enterprise: Enterprise, values: Mapping[str, Any], *, actor: Actor
) -> Enterprise:
    """Change profile fields (only those given). A change to nothing writes nothing."""
    require_local(enterprise)
    before = _profile(enterprise)
    after = {**before, **clean_profile(values)}
    changes = diff(before, after)
    if not changes:
        return enterprise
    for name in PROFILE_FIELDS:
        setattr(enterprise, name, after[name])
    changed(session, enterprise)
    record_audit(session, actor, "enterprise.update", "enterprise", enterprise.uscc, changes)
    session.flush()
    return enterprise


def register_enterprise(
    session: DbSession,
    uscc: str,
    profile: Mapping[str, Any],
    *,
    actor: Actor,
    status: Status = Status.ACTIVE,
    merged_into: str | None = None,
) -> Enterprise:
    """A new local enterprise with its whole profile (a field left out is empty) and
    its status: one record at version 1 (the API's PUT that creates)."""
    values: dict[str, Any] = {name: profile.get(name) for name in PROFILE_FIELDS}
    enterprise = create_enterprise(session, uscc, values.pop("name"), actor=actor, **values)
    change_status(session, enterprise, status, actor=actor, merged_into=merged_into)
    return enterprise


def replace_enterprise(
    session: DbSession,
    enterprise: Enterprise,
    profile: Mapping[str, Any],
    *,
    actor: Actor,
    status: Status | None = None,
    merged_into: str | None = None,
) -> Enterprise:
    """Full replacement (the API's PUT and PATCH): every profile field takes its value
    in ``profile``, one left out is cleared; the status changes when ``status`` is given.
    A replacement equal to the stored record writes nothing (no version, feed or audit
    entry)."""
    values = {name: profile.get(name) for name in PROFILE_FIELDS}
    update_profile(session, enterprise, values, actor=actor)
    if status is not None:
        change_status(session, enterprise, status, actor=actor, merged_into=merged_into)
    return enterprise


def verify_enterprise(session: DbSession, enterprise: Enterprise, *, actor: Actor) -> Enterprise:
    """A reviewer confirms a web sign-up's enterprise (the *unverified* mark goes)."""
    if enterprise.verified:
        return enterprise
    enterprise.verified = True
    # Not in the resource's representation: audited, no feed entry.
    record_audit(
        session,
        actor,
        "enterprise.verify",
        "enterprise",
        enterprise.uscc,
        {"verified": [False, True]},
    )
    session.flush()
    return enterprise


def check_report_year(year: int) -> None:
    last = clock.today().year - 1
    if not FIRST_REPORT_YEAR <= year <= last:
        raise ValidationFailed(
            "An annual report is for a completed year from %(first)s to %(last)s.",
            errors=[refusal("year", "out_of_range", f"{year}")],
            first=FIRST_REPORT_YEAR,
            last=last,
        )


def save_annual_report(
    session: DbSession,
    enterprise: Enterprise,
    year: int,
    figures: Mapping[str, Any],
    *,
    actor: Actor,
) -> AnnualReport:
    """Create or replace the figures of one year (a figure left out is cleared). Checked
    as API.md says: non-negative, percentages ≤ 100, no part above its whole."""
    require_local(enterprise)
    check_report_year(year)
    values = dict(zip(REPORT_FIELDS, report_values({**figures, "year": year}), strict=True))
    values.pop("year")
    report = session.scalars(
        select(AnnualReport).where(
            AnnualReport.enterprise_id == enterprise.id, AnnualReport.year == year
        )
    ).one_or_none()
    if report is None:
        report = AnnualReport(enterprise=enterprise, enterprise_id=enterprise.id, year=year)
        for name in FIGURE_FIELDS:
            setattr(report, name, values[name])
        session.add(report)
        session.flush()
        changed(session, report)
        record_audit(
            session,
            actor,
            "annual_report.create",
            "annual_report",
            f"{enterprise.uscc}/{year}",
            diff({}, values),
        )
        return report
    before = {name: getattr(report, name) for name in FIGURE_FIELDS}
    changes = diff(before, values)
    if not changes:
        return report
    for name in FIGURE_FIELDS:
        setattr(report, name, values[name])
    changed(session, report)
    record_audit(
        session,
        actor,
        "annual_report.update",
        "annual_report",
        f"{enterprise.uscc}/{year}",
        changes,
    )
    session.flush()
    return report


def change_status(
    session: DbSession,
    enterprise: Enterprise,
    status: Status,
    *,
    actor: Actor,
    merged_into: str | None = None,
) -> Enterprise:
    """Set an enterprise's status (``active``, ``deregistered``, ``merged`` with the USCC
    it merged into). Leaving ``active`` ends its designation in the same transaction
    (the ladder listens to :data:`~registry.enterprises.signals.status_changed`)."""
    status = Status(status)
    if status == Status.MERGED:
        if not merged_into:
            raise required("merged_into")
        merged_into = valid_uscc(merged_into)
        if merged_into == enterprise.uscc:
            raise ValidationFailed("An enterprise cannot merge into itself.")
    else:
        merged_into = None
    if (enterprise.status, enterprise.merged_into) == (status, merged_into):
        return enterprise
    before = {"status": str(enterprise.status), "merged_into": enterprise.merged_into}
    enterprise.status = status
    enterprise.merged_into = merged_into
    changed(session, enterprise)
    record_audit(
        session,
        actor,
        "enterprise.status",
        "enterprise",
        enterprise.uscc,
        diff(before, {"status": str(status), "merged_into": merged_into}),
    )
    session.flush()
    status_changed.send(enterprise, session=session, actor=actor, status=status)
    return enterprise
