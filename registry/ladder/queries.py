"""Read side of the ladder: occupancy, calendars, expiring designations, replay."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import exists, func, select

from registry.core.dbsession import DbSession
from registry.enterprises.models import AnnualReport, Enterprise, Industry
from registry.ladder import criteria_versions, dates
from registry.ladder.dates import WorkCalendar
from registry.ladder.eligibility import Evaluation, Subject, TierRule, evaluate
from registry.ladder.models import (
    CalendarDay,
    CalendarYear,
    EventKind,
    PlanSettings,
    RenewalHold,
    Reservation,
    Tier,
    TierEvent,
)


@dataclass(frozen=True)
class Occupancy:
    quota: int
    holders: int
    reserved: int

    @property
    def occupancy(self) -> int:
        return self.holders + self.reserved

    @property
    def remaining(self) -> int:
        return max(0, self.quota - self.occupancy)

    @property
    def percent(self) -> float:
        return round(100 * self.occupancy / self.quota, 2) if self.quota else 0.0


#: The plan's first year (赣府厅字〔2022〕69号 covers 2022–2025; DOMAIN.md §1).
PLAN_FIRST_YEAR = 2022
#: Its last day ("到2025年底") until the seed or an admin says otherwise.
DEFAULT_PLAN_PERIOD_END = date(2025, 12, 31)


@dataclass(frozen=True)
class PlanPeriod:
    """The plan's period as of ``today``: once it has ended, its targets (the quotas)
    stand until the province sets new ones."""

    first_year: int
    end: date
    ended: bool
    edited_at: datetime | None = None


def plan_period(session: DbSession, today: date) -> PlanPeriod:
    settings = session.get(PlanSettings, 1)
    end = settings.plan_period_end if settings else DEFAULT_PLAN_PERIOD_END
    edited = settings.edited_at if settings else None
    return PlanPeriod(PLAN_FIRST_YEAR, end, today > end, edited)


def tiers(session: DbSession) -> list[Tier]:
    """All tiers, lowest rung first."""
    return list(session.scalars(select(Tier).order_by(Tier.rank)))


def applicable_tiers(session: DbSession, enterprise: Enterprise) -> list[tuple[Tier, bool]]:
    """The tiers the enterprise may apply for itself: those above its rung, and its own
    for renewal (True) while it holds one."""
    ranked = tiers(session)
    current = next((t.rank for t in ranked if t.code == enterprise.tier), 0)
    return [
        (t, t.code == enterprise.tier)
        for t in ranked
        if t.self_apply and (t.rank > current or t.code == enterprise.tier)
    ]


def tier_names(session: DbSession, lang: str) -> dict[str, str]:
    """Each tier's name in ``lang``, by code, in rank order."""
    return {tier.code: tier.name(lang) for tier in tiers(session)}


def rank_names(session: DbSession, lang: str) -> dict[int, str]:
    """Each tier's name in ``lang``, by rank (how an evaluation names the rungs)."""
    return {tier.rank: tier.name(lang) for tier in tiers(session)}


def tier_ranks(session: DbSession) -> dict[str, int]:
    return dict(session.execute(select(Tier.code, Tier.rank)).all())


def occupancy(session: DbSession, tier: Tier) -> Occupancy:
    """Holders (stored tier, expired or not until `tick` lapses it) plus reservations."""
    holders = session.scalar(select(func.count()).where(Enterprise.tier == tier.code))
    reserved = session.scalar(select(func.count()).where(Reservation.tier == tier.code))
    return Occupancy(tier.quota, holders or 0, reserved or 0)


def ladder_overview(session: DbSession) -> list[tuple[Tier, Occupancy]]:
    """Every tier with its occupancy, in two grouped queries rather than two per tier."""
    holders = dict(
        session.execute(
            select(Enterprise.tier, func.count())
            .where(Enterprise.tier.is_not(None))
            .group_by(Enterprise.tier)
        ).all()
    )
    reserved = dict(
        session.execute(select(Reservation.tier, func.count()).group_by(Reservation.tier)).all()
    )
    return [
        (t, Occupancy(t.quota, holders.get(t.code, 0), reserved.get(t.code, 0)))
        for t in tiers(session)
    ]


def calendar_years(session: DbSession) -> list[CalendarYear]:
    """The years the seeded working-day calendar covers, in order (provisional ones
    flagged): notices are counted on these years only."""
    return list(session.scalars(select(CalendarYear).order_by(CalendarYear.year)))


def work_calendar(session: DbSession) -> WorkCalendar:
    holidays: set[date] = set()
    workdays: set[date] = set()
    for day, kind in session.execute(select(CalendarDay.day, CalendarDay.kind)):
        (holidays if kind == "holiday" else workdays).add(day)
    years = dict(session.execute(select(CalendarYear.year, CalendarYear.provisional)).all())
    provisional = frozenset(year for year, estimated in years.items() if estimated)
    return WorkCalendar(frozenset(holidays), frozenset(workdays), frozenset(years), provisional)


def expired_enterprise_ids(session: DbSession, now: datetime, limit: int = 1000) -> list[int]:
    """Enterprises whose designation has expired and that `tick` has not lapsed yet."""
    return list(
        session.scalars(
            select(Enterprise.id)
            .where(
                Enterprise.tier_expires_at <= now,
                Enterprise.tier.is_not(None),
                ~exists().where(RenewalHold.enterprise_id == Enterprise.id),
            )
            .order_by(Enterprise.tier_expires_at, Enterprise.id)
            .limit(limit)
        )
    )


def tier_events(session: DbSession, enterprise_id: int) -> list[TierEvent]:
    return list(
        session.scalars(
            select(TierEvent).where(TierEvent.enterprise_id == enterprise_id).order_by(TierEvent.id)
        )
    )


@dataclass(frozen=True)
class LadderFields:
    tier: str | None = None
    tier_since: date | None = None
    tier_expires_at: datetime | None = None
    registration_number: str | None = None


def replay(events: list[TierEvent]) -> LadderFields:
    """The ladder fields an enterprise must have after its events, in id order."""
    fields = LadderFields()
    for event in events:
        if event.kind in (EventKind.REVOKE, EventKind.LAPSE):
            fields = LadderFields()
        else:
            fields = LadderFields(
                event.to_tier, event.tier_since, event.tier_expires_at, event.registration_number
            )
    return fields


def ladder_fields(enterprise: Enterprise) -> LadderFields:
    return LadderFields(
        enterprise.tier,
        enterprise.tier_since,
        enterprise.tier_expires_at,
        enterprise.registration_number,
    )


def evaluate_enterprise(
    session: DbSession,
    enterprise: Enterprise,
    tier_code: str,
    *,
    reference: datetime,
    lang: str = "zh",
    year: int | None = None,
    route: str | None = None,
) -> Evaluation:
    """The eligibility of ``enterprise`` for ``tier_code`` (PRODUCT.md "Eligibility") by
    ``route`` (the champion rung's; default ``srdi``, an unknown one refused), with the
    tier's criteria version in force on ``reference``'s Beijing date."""
    tier = session.get_one(Tier, tier_code)
    ranks = tier_ranks(session)
    industry = session.get(Industry, enterprise.industry_code) if enterprise.industry_code else None
    subject = Subject(
        founded_on=enterprise.founded_on,
        industry_group=industry.group if industry else None,
        current_rank=ranks.get(enterprise.tier) if enterprise.tier else None,
    )
    version = criteria_versions.in_force(session, tier.code, dates.shanghai_date(reference))
    rule = TierRule(
        code=tier.code,
        rank=tier.rank,
        prerequisite_code=tier.prerequisite,
        prerequisite_rank=ranks.get(tier.prerequisite) if tier.prerequisite else None,
        criteria=version.criteria,
        criteria_version=version.effective_from,
        route=criteria_versions.route_of(tier.code, route),
    )
    reports = session.scalars(
        select(AnnualReport).where(AnnualReport.enterprise_id == enterprise.id)
    ).all()
    return evaluate(rule, subject, reports, reference=reference, lang=lang, year=year)
