"""Tier settings an admin edits (PRODUCT.md "The ladder"): quota, validity, notice length,
approvals required, self-application, prerequisite and registration pattern; and the
last day of the plan's period (:func:`set_plan_period_end`); an edit of a tier's
thresholds, which adds a criteria version effective that day (:func:`edit_thresholds`).

One operation, :func:`update_tier_settings`: it checks every value, writes the changed
ones and one ``tier_settings.update`` audit entry with the old and new value of each,
and marks the tier as edited so that ``registry seed`` keeps the edit unless
``--force``. It flushes, never commits. Applications copy approvals and notice length
at submission, and a grant reads validity and pattern when it happens, so an edit
applies to what comes later and changes nothing already decided.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import select

from registry.core import clock
from registry.core.audit import Actor, diff, record_audit
from registry.core.dbsession import DbSession
from registry.core.errors import PreconditionFailed, Refusals, field_error
from registry.ladder import criteria_versions
from registry.ladder.dates import CALENDAR_YEAR
from registry.ladder.locks import lock_tier
from registry.ladder.models import CriteriaVersion, PlanSettings, Tier
from registry.ladder.numbers import pattern_regex
from registry.ladder.operations import require_reason
from registry.ladder.queries import DEFAULT_PLAN_PERIOD_END, PLAN_FIRST_YEAR

EDITABLE = (
    "quota",
    "validity",
    "notice_days",
    "approvals_required",
    "self_apply",
    "prerequisite",
    "registration_pattern",
)
#: Bounds of the whole-number settings (the upper ones keep values within reason and
#: within a 32-bit integer column).
LIMITS = {
    "quota": (0, 2**31 - 1),
    "notice_days": (1, 60),
    "approvals_required": (1, 9),
}
MAX_VALIDITY_YEARS = 10
#: Column widths of ``Tier.registration_pattern`` and of a registration number.
MAX_PATTERN_LENGTH = 60
MAX_NUMBER_LENGTH = 40
#: ``{seq}`` may be zero-padded to a width (``{seq:05d}``), nothing else: the number
#: must read back through :func:`registry.ladder.numbers.pattern_regex`.
_SEQ_SPEC = re.compile(r"(0[1-9]\d?d)?\Z")


def _whole_number(field: str, value: Any) -> int:
    low, high = LIMITS[field]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise field_error(
            field,
            "out_of_range",
            "Enter a whole number from %(min)s to %(max)s.",
            min=low,
            max=high,
        )
    return value


def _validity(value: Any) -> str:
    text = str(value).strip()
    if text == CALENDAR_YEAR:
        return text
    if text.isdigit() and 1 <= int(text) <= MAX_VALIDITY_YEARS:
        return str(int(text))
    raise field_error(
        "validity",
        "invalid_choice",
        "Validity is the calendar year or 1 to %(n)s years.",
        n=MAX_VALIDITY_YEARS,
    )


def check_registration_pattern(pattern: str) -> str:
    """A pattern of registration numbers: ``{seq}`` once (optionally ``{seq:05d}``),
    ``{year}`` at most once, literal text otherwise (``{{`` and ``}}`` for braces); the
    numbers it makes must read back as the same year and sequence."""
    pattern = pattern.strip()
    refusal = field_error(
        "registration_pattern",
        "invalid_pattern",
        "The pattern must contain {seq} once and may contain {year}, e.g. %(example)s.",
        example="JX-TS-{year}-{seq:05d}",
    )
    if not pattern or len(pattern) > MAX_PATTERN_LENGTH:
        raise refusal
    try:
        fields = [
            (name, spec, conversion)
            for _text, name, spec, conversion in string.Formatter().parse(pattern)
            if name is not None
        ]
        names = [name for name, _spec, _conversion in fields]
        if names.count("seq") != 1 or names.count("year") > 1 or set(names) - {"seq", "year"}:
            raise refusal
        for name, spec, conversion in fields:
            if conversion or (spec if name == "year" else not _SEQ_SPEC.match(spec or "")):
                raise refusal
        regex = pattern_regex(pattern)
        for year, seq in ((2026, 1), (2099, 123456)):
            number = pattern.format(year=year, seq=seq)
            match = regex.match(number)
            if not match or int(match["seq"]) != seq or len(number) > MAX_NUMBER_LENGTH:
                raise refusal
            if "year" in names and int(match["year"]) != year:
                raise refusal
    except (ValueError, IndexError, KeyError, re.error):
        raise refusal from None
    return pattern


def _prerequisite(session: DbSession, tier: Tier, value: Any) -> str | None:
    if value in (None, ""):
        return None
    other = session.get(Tier, value)
    if other is None or other.rank >= tier.rank:
        raise field_error(
            "prerequisite",
            "invalid_prerequisite",
            "The prerequisite must be a tier ranked below %(tier)s.",
            tier=tier.code,
        )
    return other.code


def _self_apply(value: Any) -> bool:
    if not isinstance(value, bool):
        raise field_error("self_apply", "invalid_choice", "Choose yes or no.")
    return value


def _pattern_free(session: DbSession, tier: Tier, pattern: str) -> None:
    if pattern == tier.registration_pattern:
        return
    shared = session.scalar(
        select(Tier.code).where(Tier.registration_pattern == pattern, Tier.code != tier.code)
    )
    if shared:
        raise field_error(
            "registration_pattern",
            "taken",
            "%(tier)s already uses this pattern.",
            tier=shared,
        )


def check_tier_settings(session: DbSession, tier: Tier, changes: dict[str, Any]) -> dict[str, Any]:
    """The settings of ``changes`` as the tier would store them, every value checked
    before any refusal (QUALITY.md U2). Saves nothing."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise field_error(
            unknown[0], "not_editable", "%(name)s is not a tier setting.", name=unknown[0]
        )
    refusals = Refusals()
    wanted: dict[str, Any] = {}
    for field, value in changes.items():
        if field in LIMITS:
            wanted[field] = refusals.check(_whole_number, field, value)
        elif field == "validity":
            wanted[field] = refusals.check(_validity, value)
        elif field == "self_apply":
            wanted[field] = refusals.check(_self_apply, value)
        elif field == "prerequisite":
            wanted[field] = refusals.check(_prerequisite, session, tier, value)
        else:
            wanted[field] = refusals.check(check_registration_pattern, str(value))
            if wanted[field] is not None:
                refusals.check(_pattern_free, session, tier, wanted[field])
    refusals.raise_any()
    return wanted


def update_tier_settings(
    session: DbSession, code: str, changes: dict[str, Any], *, actor: Actor, reason: str
) -> dict[str, list[Any]]:
    """Change settings of tier ``code``; ``changes`` maps setting names (``EDITABLE``)
    to new values. Returns ``{setting: [old, new]}`` of what changed (empty when nothing
    did: then nothing is written and no reason is needed).

    The tier row is locked first (the quota lock of ``registry.ladder.locks``), so
    the old values are read under the lock and a quota change is ordered with the grants
    that count occupancy against it. Lowering a quota below occupancy is allowed: it
    blocks additions until occupancy falls below it; nobody is demoted. All settings
    change in one audit entry, with the reason, rather than one per setting (as
    ``set_quota`` alone would write for the quota).
    """
    tier = lock_tier(session, code)
    wanted = check_tier_settings(session, tier, changes)
    before = {field: getattr(tier, field) for field in wanted}
    changed = diff(before, wanted)
    if not changed:
        return {}
    reason = require_reason(reason)
    for field in changed:
        setattr(tier, field, wanted[field])
    tier.edited_at = clock.now()
    record_audit(session, actor, "tier_settings.update", "tier", tier.code, changed, reason=reason)
    session.flush()
    return changed


#: The days the plan's period may end on: within its first year or later, within reason.
PLAN_PERIOD_END_RANGE = (date(PLAN_FIRST_YEAR, 1, 1), date(2099, 12, 31))


def check_plan_period_end(value: Any) -> date:
    """The last day of the plan's period: a date (or its ISO text) within
    ``PLAN_PERIOD_END_RANGE``. Saves nothing."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise field_error(
                "plan_period_end", "invalid_date", "Enter a date as YYYY-MM-DD."
            ) from None
    if not isinstance(value, date):
        raise field_error("plan_period_end", "invalid_date", "Enter a date as YYYY-MM-DD.")
    first, last = PLAN_PERIOD_END_RANGE
    if not first <= value <= last:
        raise field_error(
            "plan_period_end",
            "out_of_range",
            "The plan's period ends on a day from %(min)s to %(max)s.",
            min=first.isoformat(),
            max=last.isoformat(),
        )
    return value


def set_plan_period_end(
    session: DbSession, value: Any, *, actor: Actor, reason: str
) -> dict[str, list[Any]]:
    """Set the last day of the plan's period. Returns ``{"plan_period_end": [old, new]}``,
    or nothing when it did not change (then nothing is written and no reason is needed).
    Audited with the reason; ``seed`` keeps the edit unless ``--force``. Flushes, never
    commits. Only the words of the home and report pages follow it: the quotas stay."""
    end = check_plan_period_end(value)
    settings = session.get(PlanSettings, 1)
    if settings is None:
        settings = PlanSettings(id=1, plan_period_end=DEFAULT_PLAN_PERIOD_END)
        session.add(settings)
    changed = diff({"plan_period_end": settings.plan_period_end}, {"plan_period_end": end})
    if not changed:
        return {}
    reason = require_reason(reason)
    settings.plan_period_end = end
    settings.edited_at = clock.now()
    record_audit(session, actor, "plan.update", "plan", 1, changed, reason=reason)
    session.flush()
    return changed


# --- an admin's edit of thresholds: a new criteria version ----------------------------


#: The largest threshold an admin may set (10¹² 元, a thousand billion).
MAX_THRESHOLD = 10**12


def _threshold(path: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_THRESHOLD:
        raise field_error(
            path,
            "out_of_range",
            "Enter a whole number from %(min)s to %(max)s.",
            min=0,
            max=f"{MAX_THRESHOLD:,}",
        )
    return value


def edit_thresholds(
    session: DbSession,
    tier_code: str,
    changes: Mapping[str, Any],
    *,
    actor: Actor,
    reason: str,
    based_on: str | None = None,
) -> dict[str, list[Any]]:
    """An admin's edit of thresholds of ``tier_code``: a new version effective today
    (Beijing), made from the version in force with ``changes`` (``{path: value}`` of
    :func:`editable_thresholds`) laid over it; a second edit the same day amends that
    day's version. Audited (``criteria.edit``, with both versions' thresholds). Returns
    ``{path: [old, new]}`` of what changed (empty: nothing written, no reason needed).
    ``based_on`` (``criteria_versions.fingerprint`` of the version a form showed) refuses
    an edit made on thresholds another edit has changed since (412), which would
    otherwise put that edit's values back."""
    lock_tier(session, tier_code)  # edits of one tier are ordered
    today = clock.today()
    current = criteria_versions.in_force(session, tier_code, today)  # read under the lock
    if based_on is not None and based_on != criteria_versions.fingerprint(current):
        raise PreconditionFailed(
            "The thresholds were changed after this page was opened: open it again to "
            "see them, then make your change."
        )
    before = criteria_versions.editable_thresholds(current.criteria)
    refusals = Refusals()
    wanted: dict[str, Any] = {}
    for path, value in changes.items():
        if path not in before:
            raise field_error(path, "not_editable", "%(name)s is not a threshold.", name=path)
        wanted[path] = refusals.check(_threshold, path, value)
    refusals.raise_any()
    changed = diff({p: before[p] for p in wanted}, wanted)
    if not changed:
        return {}
    reason = require_reason(reason)
    criteria = current_criteria = current.criteria
    for path in changed:
        *parents, key = path.split(".")
        overlay: dict[str, Any] = {key: wanted[path]}
        for parent in reversed(parents):
            overlay = {parent: overlay}
        criteria = criteria_versions.merged(criteria, overlay)
    if current.effective_from == today:
        current.criteria = criteria
        current.basis = reason
        current.edited_at = clock.now()
    else:
        session.add(
            CriteriaVersion(
                tier=tier_code,
                effective_from=today,
                criteria=criteria,
                basis=reason,
                edited_at=clock.now(),
            )
        )
    audited = {
        "effective_from": [current.effective_from.isoformat(), today.isoformat()],
        "criteria": [current_criteria, criteria],
    }
    record_audit(session, actor, "criteria.edit", "tier", tier_code, audited, reason=reason)
    session.flush()
    return changed
