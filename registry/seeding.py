"""Loading ``seeds/`` (tiers, criteria versions, cities, industries, calendar, the plan's
targets and period) into the database.

Idempotent: a second run changes nothing. Tier settings and the plan's period an admin
has edited since (``edited_at``) are left alone unless ``force``; ``force`` also rewrites the
calendar years already loaded, whose description alone (source, provisional) follows the
seed without it. Every settings change is audited.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select

from registry.core.audit import Actor, diff, record_audit
from registry.core.db import Model
from registry.core.dbsession import DbSession
from registry.enterprises.models import City, Industry
from registry.ladder import criteria_versions
from registry.ladder.models import CalendarDay, CalendarYear, CriteriaVersion, PlanSettings, Tier
from registry.reports.models import PlanTarget

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
TIER_FIELDS = (
    "rank",
    "name_zh",
    "name_en",
    "quota",
    "validity",
    "notice_days",
    "approvals_required",
    "self_apply",
    "prerequisite",
    "registration_pattern",
)


class SeedError(ValueError):
    """The seed files contradict each other or lack what the registry needs; nothing of
    the run is kept (the caller rolls back)."""


def load(name: str, directory: Path = SEEDS) -> Any:
    return json.loads((directory / name).read_text(encoding="utf-8"))


@dataclass
class SeedReport:
    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)

    def count(self, kind: str, what: str) -> None:
        target = self.inserted if kind == "inserted" else self.updated
        target[what] = target.get(what, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated)


def _upsert_reference(
    session: DbSession,
    model: type[Model],
    key: str,
    rows: list[dict[str, Any]],
    report: SeedReport,
    what: str,
) -> None:
    for row in rows:
        current = session.get(model, row[key])
        if current is None:
            session.add(model(**row))
            report.count("inserted", what)
        elif any(getattr(current, k) != v for k, v in row.items()):
            for k, v in row.items():
                setattr(current, k, v)
            report.count("updated", what)


def _seed_tiers(
    session: DbSession, report: SeedReport, *, force: bool, actor: Actor, directory: Path
) -> None:
    for row in sorted(load("tiers.json", directory)["tiers"], key=lambda r: r["rank"]):
        wanted = {k: row[k] for k in TIER_FIELDS}
        wanted["validity"] = str(wanted["validity"])
        tier = session.get(Tier, row["code"])
        if tier is None:
            session.add(Tier(code=row["code"], **wanted))
            session.flush()
            record_audit(
                session,
                actor,
                "tier_settings.create",
                "tier",
                row["code"],
                diff({}, wanted),
            )
            report.count("inserted", "tiers")
            continue
        before = {k: getattr(tier, k) for k in TIER_FIELDS}
        if before == wanted:
            continue
        if tier.edited_at is not None and not force:
            report.kept.append(row["code"])
            continue
        for k, v in wanted.items():
            setattr(tier, k, v)
        tier.edited_at = None
        session.flush()
        record_audit(
            session,
            actor,
            "tier_settings.update",
            "tier",
            tier.code,
            diff(before, wanted),
            reason="seed --force" if force else "seed",
        )
        report.count("updated", "tiers")


def _seed_criteria(
    session: DbSession, report: SeedReport, *, actor: Actor, directory: Path
) -> None:
    """Each tier's seeded criteria versions: a new one is added, a seeded one whose
    thresholds or basis changed is updated (audited, the changed thresholds named); a
    version an admin made (``edited_at``) is never touched, even at the same date."""
    seeded = {k: v for k, v in load("criteria.json", directory).items() if not k.startswith("_")}
    tiers = set(session.scalars(select(Tier.code)))
    if unversioned := sorted(tiers - seeded.keys()):
        raise SeedError(f"criteria.json has no versions for the tiers {', '.join(unversioned)}")
    for code, entry in seeded.items():
        versions = criteria_versions.seeded_versions(entry)
        if code == criteria_versions.ROUTED_TIER and not all(
            "single_champion" in criteria for _when, criteria, _basis in versions
        ):
            raise SeedError("criteria.json: every champion version needs its single_champion")
        for effective_from, criteria, basis in versions:
            version = session.scalars(
                select(CriteriaVersion).where(
                    CriteriaVersion.tier == code, CriteriaVersion.effective_from == effective_from
                )
            ).first()
            when = effective_from.isoformat()
            if version is None:
                session.add(
                    CriteriaVersion(
                        tier=code, effective_from=effective_from, criteria=criteria, basis=basis
                    )
                )
                created = {"effective_from": [None, when]}
                record_audit(session, actor, "criteria.create", "tier", code, created)
                report.count("inserted", "criteria versions")
                continue
            if version.edited_at is not None:
                continue
            if version.criteria == criteria and version.basis == basis:
                continue
            updated = {"effective_from": [when, when], "criteria": [version.criteria, criteria]}
            version.criteria, version.basis = criteria, basis
            record_audit(session, actor, "criteria.update", "tier", code, updated, reason="seed")
            report.count("updated", "criteria versions")


def _calendar_rows(
    years: dict,
) -> tuple[dict[int, dict[date, str]], dict[int, tuple[str | None, bool]]]:
    """The days each seeded year lists (a block may start in the previous year: 2023's
    New Year holds 2022-12-31) and each year's (source, provisional)."""
    listed: dict[int, dict[date, str]] = {}
    for year, spec in years.items():
        days = listed.setdefault(int(year), {})
        for kind, dates in (
            ("holiday", spec.get("holidays", [])),
            ("workday", spec.get("workdays", [])),
        ):
            days.update({date.fromisoformat(d): kind for d in dates})
    meta = {
        int(y): (spec.get("source"), bool(spec.get("provisional", False)))
        for y, spec in years.items()
    }
    return listed, meta


def _as_seeded(
    year: int, listed: dict[date, str], days: dict[date, str], stored: dict[date, str]
) -> bool:
    """Whether the stored days of ``year`` are the ones the seed gives it: each day it
    lists, and no other special day within the year."""
    return all(stored.get(day) == kind for day, kind in listed.items()) and all(
        day in days for day in stored if day.year == year
    )


def _seed_calendar(session: DbSession, report: SeedReport, *, force: bool, directory: Path) -> None:
    """Add the seeded years not loaded yet; with ``force``, make the stored calendar
    exactly the seed's (rewritten only when it differs). Without it, a loaded year whose
    days are the seed's takes the seed's source and provisional flag (a description
    corrected in the seed, such as a note once written into a source, reaches the
    databases loaded before); a year whose days differ keeps them all."""
    listed, meta = _calendar_rows(load("calendar.json", directory)["years"])
    days = {day: kind for year_days in listed.values() for day, kind in year_days.items()}
    stored_days = dict(session.execute(select(CalendarDay.day, CalendarDay.kind)).all())
    stored_years = {
        y.year: (y.source, y.provisional) for y in session.scalars(select(CalendarYear))
    }
    if force and (stored_days != days or stored_years != meta):
        session.execute(delete(CalendarDay))
        session.execute(delete(CalendarYear))
        session.flush()
        stored_days, known = {}, set()
        report.count("updated", "calendars")
    else:
        known = set(stored_years)
        for year in sorted(known & set(meta)):
            if stored_years[year] != meta[year] and _as_seeded(
                year, listed[year], days, stored_days
            ):
                described = session.get_one(CalendarYear, year)
                described.source, described.provisional = meta[year]
                report.count("updated", "calendar years")
    new_years = sorted(set(meta) - known)
    for day, kind in days.items():
        if day not in stored_days and (day.year in new_years or day.year + 1 in new_years):
            session.add(CalendarDay(day=day, kind=kind))
    for year in new_years:
        source, provisional = meta[year]
        session.add(CalendarYear(year=year, source=source, provisional=provisional))
        if known or not force:
            report.count("inserted", "calendar years")
    session.flush()


def _seed_plan_settings(
    session: DbSession, report: SeedReport, *, force: bool, actor: Actor, directory: Path
) -> None:
    end = date.fromisoformat(load("plan_targets.json", directory)["plan_period_end"])
    settings = session.get(PlanSettings, 1)
    if settings is None:
        session.add(PlanSettings(id=1, plan_period_end=end))
        report.count("inserted", "plan settings")
        return
    if settings.plan_period_end == end:
        return
    if settings.edited_at is not None and not force:
        report.kept.append("plan")
        return
    changes = diff({"plan_period_end": settings.plan_period_end}, {"plan_period_end": end})
    settings.plan_period_end, settings.edited_at = end, None
    session.flush()
    reason = "seed --force" if force else "seed"
    record_audit(session, actor, "plan.update", "plan", 1, changes, reason=reason)
    report.count("updated", "plan settings")


def seed(
    session: DbSession, *, force: bool = False, actor: Actor | None = None, directory: Path = SEEDS
) -> SeedReport:
    """Load every seed file; flushes, never commits."""
    actor = actor or Actor.system("cli")
    report = SeedReport()
    _upsert_reference(session, City, "code", load("cities.json", directory), report, "cities")
    industries = load("industries.json", directory)["industries"]
    rows = [{**row, "position": i} for i, row in enumerate(industries)]
    _upsert_reference(session, Industry, "code", rows, report, "industries")
    targets = [
        {
            "code": row["code"],
            "industries": row["industries"],
            "revenue": row.get("revenue"),
            "rd_intensity": row.get("rd_intensity"),
        }
        for row in load("plan_targets.json", directory)["targets"]
    ]
    _upsert_reference(session, PlanTarget, "code", targets, report, "plan targets")
    _seed_plan_settings(session, report, force=force, actor=actor, directory=directory)
    session.flush()
    _seed_tiers(session, report, force=force, actor=actor, directory=directory)
    session.flush()
    _seed_criteria(session, report, actor=actor, directory=directory)
    _seed_calendar(session, report, force=force, directory=directory)
    session.flush()
    return report
