"""Enterprises, their annual reports, and the reference data they point at."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.core import clock
from registry.core.db import Model, UtcDateTime, enum_type


class Status(enum.StrEnum):
    ACTIVE = "active"
    DEREGISTERED = "deregistered"
    MERGED = "merged"


LOCAL_ORIGIN = "local"


class City(Model):
    """A 设区市 of the seeded province (GB/T 2260 code)."""

    __tablename__ = "cities"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


class Industry(Model):
    """One of the plan's emerging industries, in its group (advantage, growth, future)."""

    __tablename__ = "industries"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(80))
    group: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)

    def name(self, lang: str) -> str:
        return self.name_en if lang == "en" else self.name_zh


_HOLDERS_SQL = text("tier IS NOT NULL")


class Enterprise(Model):
    """An enterprise keyed by its USCC. Never hard-deleted.

    ``city_code`` and ``industry_code`` are plain codes, not foreign keys: a record
    mirrored from a peer may carry a code this registry's seed does not know.
    """

    __tablename__ = "enterprises"
    __table_args__ = (
        Index("ix_enterprises_tier_uscc", "tier", "uscc"),
        # The holders alone (a few thousand of a million rows) with what the statistics
        # and reports group them by: they count them from this small index and never
        # visit the table (PostgreSQL: an index-only scan; the id for coverage's probes).
        Index(
            "ix_enterprises_tier_city_code_industry_code_id",
            "tier",
            "city_code",
            "industry_code",
            "id",
            sqlite_where=_HOLDERS_SQL,
            postgresql_where=_HOLDERS_SQL,
        ),
        Index("ix_enterprises_city_code_uscc", "city_code", "uscc"),
        Index("ix_enterprises_industry_code_uscc", "industry_code", "uscc"),
        Index("ix_enterprises_updated_at_uscc", "updated_at", "uscc"),
        Index("ix_enterprises_name", "name"),
        Index("ix_enterprises_tier_expires_at", "tier_expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    city_code: Mapped[str | None] = mapped_column(String(6))
    county: Mapped[str | None] = mapped_column(String(64))
    industry_code: Mapped[str | None] = mapped_column(String(40))
    founded_on: Mapped[date | None] = mapped_column(Date)
    legal_representative: Mapped[str | None] = mapped_column(String(100))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))
    main_products: Mapped[str | None] = mapped_column(Text)
    status: Mapped[Status] = mapped_column(
        enum_type(Status, "status", 20),
        default=Status.ACTIVE,
    )
    merged_into: Mapped[str | None] = mapped_column(String(18))
    origin: Mapped[str] = mapped_column(String(64), default=LOCAL_ORIGIN)
    source_version: Mapped[int | None] = mapped_column(Integer)
    # Unverified until a reviewer confirms a web sign-up's claim to this USCC.
    verified: Mapped[bool] = mapped_column(Boolean, default=True)
    # The ladder fields: always the replay of this enterprise's tier events.
    tier: Mapped[str | None] = mapped_column(ForeignKey("tiers.code"))
    tier_since: Mapped[date | None] = mapped_column(Date)
    tier_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    registration_number: Mapped[str | None] = mapped_column(String(40))
    # The route of a champion holder's grant ("srdi" / "single_champion"), null otherwise;
    # and whether reviewers confirmed it a 专精特新"小巨人" enterprise at that grant.
    tier_route: Mapped[str | None] = mapped_column(String(20))
    little_giant: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    ban_until: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)

    reports: Mapped[list[AnnualReport]] = relationship(
        back_populates="enterprise", order_by="AnnualReport.year"
    )

    @property
    def is_local(self) -> bool:
        return self.origin == LOCAL_ORIGIN


MONEY_FIELDS = (
    "revenue",
    "total_income",
    "total_assets",
    "net_assets",
    "total_cost",
    "rd_expense",
    "rd_domestic_expense",
    "hightech_income",
)
COUNT_FIELDS = (
    "employees",
    "tech_staff",
    "rd_staff",
    "ip_class1",
    "ip_class2",
    "ip_transfers",
    "niche_years",
    "global_market_rank",
    "years_in_field",
)
PERCENT_FIELDS = (
    "main_business_share",
    "debt_ratio",
    "national_market_share",
    "product_revenue_share",
)
#: The single-champion route's figures (DOMAIN.md "Tier criteria"), a count and a share.
CHAMPION_FIELDS = ("years_in_field", "product_revenue_share")
#: Every figure, in the order of the API, the feed, imports and exports: the figures
#: added for the single-champion route come last, so earlier positions keep their places.
FIGURE_FIELDS = (
    tuple(
        name for name in COUNT_FIELDS + MONEY_FIELDS + PERCENT_FIELDS if name not in CHAMPION_FIELDS
    )
    + CHAMPION_FIELDS
)


class AnnualReport(Model):
    """Yearly figures of one enterprise for one completed year. Money in integer 元."""

    __tablename__ = "annual_reports"
    __table_args__ = (UniqueConstraint("enterprise_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"))
    year: Mapped[int] = mapped_column(Integer)
    employees: Mapped[int | None] = mapped_column(Integer)
    tech_staff: Mapped[int | None] = mapped_column(Integer)
    rd_staff: Mapped[int | None] = mapped_column(Integer)
    ip_class1: Mapped[int | None] = mapped_column(Integer)
    ip_class2: Mapped[int | None] = mapped_column(Integer)
    ip_transfers: Mapped[int | None] = mapped_column(Integer)
    niche_years: Mapped[int | None] = mapped_column(Integer)
    global_market_rank: Mapped[int | None] = mapped_column(Integer)
    # Years the main product's field has been worked (制造业单项冠军: ≥ 10, a new product less).
    years_in_field: Mapped[int | None] = mapped_column(Integer)
    revenue: Mapped[int | None] = mapped_column(BigInteger)
    total_income: Mapped[int | None] = mapped_column(BigInteger)
    total_assets: Mapped[int | None] = mapped_column(BigInteger)
    net_assets: Mapped[int | None] = mapped_column(BigInteger)
    total_cost: Mapped[int | None] = mapped_column(BigInteger)
    rd_expense: Mapped[int | None] = mapped_column(BigInteger)
    rd_domestic_expense: Mapped[int | None] = mapped_column(BigInteger)
    hightech_income: Mapped[int | None] = mapped_column(BigInteger)
    main_business_share: Mapped[float | None] = mapped_column(Numeric(5, 2, asdecimal=False))
    debt_ratio: Mapped[float | None] = mapped_column(Numeric(5, 2, asdecimal=False))
    national_market_share: Mapped[float | None] = mapped_column(Numeric(5, 2, asdecimal=False))
    # The main product's sales in percent of main-business revenue (制造业单项冠军, 2016: ≥ 70).
    product_revenue_share: Mapped[float | None] = mapped_column(Numeric(5, 2, asdecimal=False))
    # The peer's version of a report mirrored by a sync pull, else null.
    source_version: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)

    enterprise: Mapped[Enterprise] = relationship(back_populates="reports")
