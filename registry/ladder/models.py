"""The ladder: tiers and their settings, their criteria versions, tier events, quota
reservations, registration numbers and the working-day calendar."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core import clock
from registry.core.db import Model, UtcDateTime, enum_type
from registry.enterprises.models import Enterprise


class Tier(Model):
    """A rung of the ladder with its settings (seeded; admins edit them, audited)."""

    __tablename__ = "tiers"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, unique=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))
    quota: Mapped[int] = mapped_column(Integer)
    # "calendar_year" or a whole number of years, as text ("3").
    validity: Mapped[str] = mapped_column(String(20))
    notice_days: Mapped[int] = mapped_column(Integer)
    approvals_required: Mapped[int] = mapped_column(Integer)
    self_apply: Mapped[bool] = mapped_column(Boolean)
    prerequisite: Mapped[str | None] = mapped_column(ForeignKey("tiers.code"))
    registration_pattern: Mapped[str] = mapped_column(String(60))
    # Set when an admin edits the settings; `seed` then leaves them alone unless --force.
    edited_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh

    @property
    def validity_value(self) -> str | int:
        return self.validity if self.validity == "calendar_year" else int(self.validity)


class CriteriaVersion(Model):
    """One version of a tier's eligibility thresholds (``seeds/criteria.json``, data not
    code), in force from ``effective_from`` (a Beijing date) until the next version's.

    ``seed`` adds and updates the seeded versions; an admin's edit of a threshold adds a
    version effective that day (``edited`` set), which ``seed`` leaves alone. For the
    champion tier, ``criteria["single_champion"]`` holds that route's thresholds.
    """

    __tablename__ = "criteria_versions"
    __table_args__ = (UniqueConstraint("tier", "effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tier: Mapped[str] = mapped_column(ForeignKey("tiers.code"))
    effective_from: Mapped[date] = mapped_column(Date)
    criteria: Mapped[dict] = mapped_column(JSON)
    # The rule text it follows (the seed's _basis), or an admin's reason.
    basis: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    # Set for a version an admin made (an edited threshold); seeded versions have none.
    edited_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class EventKind(enum.StrEnum):
    GRANT = "grant"
    RENEW = "renew"
    DEMOTE = "demote"
    REVOKE = "revoke"
    LAPSE = "lapse"


class TierEvent(Model):
    """An append-only ladder move, carrying the enterprise's ladder fields after it."""

    __tablename__ = "tier_events"
    __table_args__ = (
        Index("ix_tier_events_enterprise_id_id", "enterprise_id", "id"),
        # The reports' moves per month and holders at past month ends read the events of
        # the last two years from this index alone, however long the ledger grows.
        Index("ix_tier_events_effective_at", "effective_at", "from_tier", "to_tier"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    kind: Mapped[EventKind] = mapped_column(enum_type(EventKind, "kind", 10))
    from_tier: Mapped[str | None] = mapped_column(String(20))
    to_tier: Mapped[str | None] = mapped_column(String(20))
    effective_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    tier_since: Mapped[date | None] = mapped_column(Date)
    tier_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    registration_number: Mapped[str | None] = mapped_column(String(40))
    ban_until: Mapped[date | None] = mapped_column(Date)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(254))
    reason: Mapped[str] = mapped_column(Text)
    # The application that led to this move, if any. A plain integer: the ladder does
    # not depend on the applications package.
    application_id: Mapped[int | None] = mapped_column(Integer)

    enterprise: Mapped[Enterprise] = relationship()


class Reservation(Model):
    """A quota slot held for a promotion in notice. Counted in the tier's occupancy."""

    __tablename__ = "reservations"

    id: Mapped[int] = mapped_column(primary_key=True)
    tier: Mapped[str] = mapped_column(ForeignKey("tiers.code"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), unique=True)
    application_id: Mapped[int] = mapped_column(Integer, unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)


class RenewalHold(Model):
    """A renewal application submitted in its window: while it is open, the designation
    does not lapse (PRODUCT.md "The ladder"). Set and cleared by applications through the ladder's
    operations, like reservations, so the ladder never queries applications."""

    __tablename__ = "renewal_holds"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), unique=True)
    application_id: Mapped[int] = mapped_column(Integer, unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)


class RegistrationNumber(Model):
    """Every registration number ever issued or recorded; a number is never reused."""

    __tablename__ = "registration_numbers"

    number: Mapped[str] = mapped_column(String(40), primary_key=True)
    tier: Mapped[str] = mapped_column(ForeignKey("tiers.code"))
    year: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)


class RegistrationCounter(Model):
    """The last sequence number handed out per tier and year (taken under the quota lock)."""

    __tablename__ = "registration_counters"

    tier: Mapped[str] = mapped_column(ForeignKey("tiers.code"), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)


class PlanSettings(Model):
    """Settings of the plan whose targets are the quotas (one row, ``id`` 1; seeded,
    admins edit it, audited): the last day of the plan's period. After it the targets
    stand as quotas until the province sets new ones."""

    __tablename__ = "plan_settings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    plan_period_end: Mapped[date] = mapped_column(Date)
    # Set when an admin edits it; `seed` then leaves it alone unless --force.
    edited_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class CalendarDay(Model):
    """A seeded exception to Monday–Friday: a holiday, or a make-up working day."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "holiday" | "workday"


class CalendarYear(Model):
    """A year the seeded calendar covers (a missing year counts every Monday–Friday)."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str | None] = mapped_column(String(200))
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
