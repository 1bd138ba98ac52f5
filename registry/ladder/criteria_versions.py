"""The versions of the tiers' eligibility thresholds (DOMAIN.md "Tier criteria"): which
version is in force on a date, the versions of a tier, the champion rung's routes. An
admin's edit of a threshold adds a version effective that day
(:func:`registry.ladder.settings.edit_thresholds`).

Rules change over time; an evaluation uses the version in force on its date (the
self-check: today; a submission: its submission date, whose snapshot keeps the version's
``effective_from`` as ``criteria_version``), so a new version never re-judges what was
submitted before it. Before a tier's first version the first applies (the seed dates the
first version by its rule text, which may postdate the oldest figures on file).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date
from typing import Any, cast

from sqlalchemy import select

from registry.core import clock
from registry.core.dbsession import DbSession
from registry.core.errors import field_error
from registry.ladder.dates import shanghai_date
from registry.ladder.models import CriteriaVersion

#: The champion rung's routes (API.md "Eligibility"); the first is the default.
ROUTES = ("srdi", "single_champion")
ROUTED_TIER = "champion"


def merged(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` laid over it, objects merged key by key (a later seed
    version lists only what it changes)."""
    result = dict(base)
    for key, value in changes.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def seeded_versions(entry: Mapping[str, Any]) -> list[tuple[date, dict[str, Any], str]]:
    """A tier's seed entry (``{"versions": [...]}``) as whole versions, oldest first:
    (effective_from, thresholds, basis)."""
    result: list[tuple[date, dict[str, Any], str]] = []
    current: dict[str, Any] = {}
    for version in entry["versions"]:
        changes = {
            k: v for k, v in version.items() if k not in ("effective_from", "_basis", "_note")
        }
        current = merged(current, changes)
        when = date.fromisoformat(version["effective_from"])
        result.append((when, current, version.get("_basis", "")))
    return result


def versions(session: DbSession, tier_code: str) -> list[CriteriaVersion]:
    """The versions of a tier, newest first."""
    stmt = select(CriteriaVersion).where(CriteriaVersion.tier == tier_code)
    return list(session.scalars(stmt.order_by(CriteriaVersion.effective_from.desc())))


def in_force(session: DbSession, tier_code: str, on: date) -> CriteriaVersion:
    """The version of ``tier_code`` in force on ``on`` (a Beijing date): the latest one
    effective by then, else the first. Read afresh even when the session holds it (an
    edit re-reads it under the tier's lock)."""
    stmt = (
        select(CriteriaVersion)
        .where(CriteriaVersion.tier == tier_code)
        .execution_options(populate_existing=True)
    )
    latest = session.scalars(
        stmt.where(CriteriaVersion.effective_from <= on)
        .order_by(CriteriaVersion.effective_from.desc())
        .limit(1)
    ).first()
    if latest is not None:
        return latest
    return session.scalars(stmt.order_by(CriteriaVersion.effective_from).limit(1)).one()


def of_snapshot(session: DbSession, application: Any) -> Mapping[str, Any]:
    """The thresholds an application's snapshot was judged by: those it kept at its
    submission; for one submitted before they were kept, its version's (by
    ``criteria_version``, else in force at its submission, or today for a draft)."""
    if application.criteria:
        return cast(Mapping[str, Any], application.criteria)
    snapshot = application.eligibility or {}
    if snapshot.get("criteria_version"):
        on = date.fromisoformat(snapshot["criteria_version"])
    elif application.submitted_at is not None:
        on = shanghai_date(application.submitted_at)
    else:
        on = clock.today()
    return in_force(session, application.tier, on).criteria


def routes(tier_code: str) -> tuple[str | None, ...]:
    """The routes of ``tier_code``: the champion rung's two, else one without a name."""
    return ROUTES if tier_code == ROUTED_TIER else (None,)


def fingerprint(version: CriteriaVersion) -> str:
    """A short mark of a version's identity and thresholds: a form carries it, and an
    edit made on a page opened before another edit is refused rather than undoing it."""
    text = json.dumps(version.criteria, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return f"{version.id}-{digest}"


def route_of(tier_code: str, route: str | None) -> str | None:
    """The route an evaluation or application of ``tier_code`` takes: for the champion
    rung the one named (default ``srdi``), None for the other tiers, which have one
    way up. A name that is no route is refused (422 on ``route``)."""
    if route not in (None, "") and route not in ROUTES:
        raise field_error("route", "invalid_choice", "Unknown route %(route)s.", route=route)
    if tier_code != ROUTED_TIER:
        return None
    return route or ROUTES[0]


def editable_thresholds(criteria: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """The thresholds an admin may edit on the web: every whole-number value (bands,
    tables and decimal percentages stay in the seed), keyed by their path
    (``single_champion.years_in_field_min``)."""
    found: dict[str, Any] = {}
    for key, value in criteria.items():
        if key.startswith("_"):
            continue
        if isinstance(value, Mapping):
            found.update(editable_thresholds(value, f"{prefix}{key}."))
        elif isinstance(value, int) and not isinstance(value, bool):
            found[f"{prefix}{key}"] = value
    return found
