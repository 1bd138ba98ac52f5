"""A registry worth a report page, for the pages' tests in the test client and in the
browser: holders designated over the months before the pinned clock's now
(2026-03-04), in three cities and two of the plan's industries and outside them, with
2025 annual reports, and one open application."""

from __future__ import annotations

from datetime import date

import pytest

from registry.ladder import operations as ladder
from tests.factories import TEST_ACTOR

#: (tier, designated on, city, industry, 2025 revenue, 2025 R&D expense). The three in
#: electronic information pass the small-cell rule; the two in new materials and the one
#: outside the plan's industries do not.
HOLDERS = (
    ("tech_sme", date(2025, 6, 10), "360100", "electronic_info", 4_000_000, 200_000),
    ("tech_sme", date(2025, 9, 15), "360100", "electronic_info", 3_000_000, 150_000),
    ("tech_sme", date(2025, 10, 20), "360100", "electronic_info", 5_000_000, 300_000),
    ("tech_sme", date(2025, 12, 1), "360700", "new_materials", 2_000_000, 40_000),
    ("tech_sme", date(2026, 1, 5), "360700", "new_materials", 1_000_000, 30_000),
    ("high_tech", date(2025, 11, 3), "360400", None, 9_000_000, 500_000),
)


@pytest.fixture
def report_world(session, make) -> dict:
    """The holders of :data:`HOLDERS` and a draft application for tech_sme; the
    applicant's email as ``applicant``."""
    for tier, since, city, industry, revenue, rd in HOLDERS:
        enterprise = make.enterprise(city_code=city, industry_code=industry)
        ladder.grant_tier(session, enterprise, tier, actor=TEST_ACTOR, reason="x", since=since)
        make.report(enterprise, 2025, revenue=revenue, rd_expense=rd)
    applicant = make.enterprise()
    owner = make.user(enterprise=applicant)
    make.application(applicant, owner)
    session.commit()
    return {"applicant": owner.email}
