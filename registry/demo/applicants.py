"""The enterprises that apply in ``flask registry demo``'s applications, and figures that
pass the automatic checks of the tiers they apply for (``registry.demo.applications``)."""

from __future__ import annotations

import random

from sqlalchemy import ColumnElement, exists, func, or_, select

from registry.accounts.models import User
from registry.applications.models import Application
from registry.core import clock
from registry.core.dbsession import DbSession
from registry.enterprises.models import LOCAL_ORIGIN, Enterprise, Status

#: At most this many random enterprise ids are looked at to find the applicants.
SAMPLE = 2000


def pick_applicants(
    session: DbSession, rng: random.Random, n: int, *criteria: ColumnElement[bool]
) -> list[Enterprise]:
    """``n`` enterprises that may apply and meet ``criteria``, spread over the registry:
    random ids first, the lowest ids when too few of those qualify."""
    today = clock.today()
    where = (
        *criteria,
        Enterprise.status == Status.ACTIVE,
        Enterprise.origin == LOCAL_ORIGIN,
        Enterprise.verified.is_(True),
        Enterprise.city_code.is_not(None),
        or_(Enterprise.ban_until.is_(None), Enterprise.ban_until <= today),
        ~exists().where(Application.enterprise_id == Enterprise.id),
        ~exists().where(User.enterprise_id == Enterprise.id),
    )
    low, high = session.execute(select(func.min(Enterprise.id), func.max(Enterprise.id))).one()
    if low is None or n <= 0:
        return []
    ids = range(low, high + 1)
    sample = rng.sample(ids, min(len(ids), SAMPLE))
    found = list(
        session.scalars(
            select(Enterprise.id).where(Enterprise.id.in_(sample), *where).order_by(Enterprise.id)
        )
    )
    if len(found) < n:
        found += session.scalars(
            select(Enterprise.id)
            .where(*where, Enterprise.id.not_in(found))
            .order_by(Enterprise.id)
            .limit(n - len(found))
        )
    chosen = rng.sample(found, min(n, len(found)))
    return [session.get_one(Enterprise, i) for i in chosen]


def passing_figures(rng: random.Random) -> dict[str, int | float | None]:
    """One year's figures passing tech_sme (score ≥ 60), high_tech and champion: 60–300
    employees, R&D 6–9 % of revenue, a class-I right, high-tech income ≥ 65 %."""
    employees = rng.randint(60, 300)
    revenue = employees * rng.randint(300_000, 450_000)
    total_income = revenue + revenue // 50
    rd_expense = revenue * rng.randint(60, 90) // 1000
    total_assets = revenue * rng.randint(60, 120) // 100
    net_assets = total_assets * rng.randint(40, 70) // 100
    tech_staff = employees * rng.randint(30, 50) // 100
    return {
        "employees": employees,
        "tech_staff": tech_staff,
        "rd_staff": tech_staff * 2 // 3,
        "ip_class1": rng.randint(1, 4),
        "ip_class2": rng.randint(2, 10),
        "ip_transfers": rng.randint(0, 2),
        "niche_years": rng.randint(3, 10),
        "global_market_rank": None,
        "years_in_field": None,
        "revenue": revenue,
        "total_income": total_income,
        "total_assets": total_assets,
        "net_assets": net_assets,
        "total_cost": revenue * 4 // 5,
        "rd_expense": rd_expense,
        "rd_domestic_expense": rd_expense * rng.randint(85, 100) // 100,
        "hightech_income": total_income * rng.randint(65, 90) // 100,
        "main_business_share": float(rng.randint(80, 98)),
        "debt_ratio": round((total_assets - net_assets) * 100 / total_assets, 2),
        "national_market_share": None,
        "product_revenue_share": None,
    }
