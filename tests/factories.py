"""Small factory functions building valid records for tests."""

from __future__ import annotations

import itertools
import random

from registry.core.audit import Actor
from registry.enterprises.models import AnnualReport, Enterprise
from registry.enterprises.uscc import make_uscc

_serial = itertools.count(1)
TEST_ACTOR = Actor(None, "test", "cli")


def new_uscc(area: str = "360100") -> str:
    rng = random.Random(next(_serial))
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return make_uscc(area, "".join(rng.choice(alphabet) for _ in range(8)))


class Factories:
    def __init__(self, session) -> None:
        self.session = session

    def enterprise(self, **fields) -> Enterprise:
        n = next(_serial)
        values = {
            "uscc": new_uscc(fields.pop("area", "360100")),
            "name": f"测试企业{n}有限公司",
            "city_code": "360100",
            "industry_code": "electronic_info",
        }
        values.update(fields)
        enterprise = Enterprise(**values)
        self.session.add(enterprise)
        self.session.flush()
        return enterprise

    def report(self, enterprise: Enterprise, year: int, **figures) -> AnnualReport:
        report = AnnualReport(
            enterprise=enterprise, enterprise_id=enterprise.id, year=year, **figures
        )
        self.session.add(report)
        self.session.flush()
        return report

    def eligible_report(self, enterprise: Enterprise, year: int) -> AnnualReport:
        """Figures that pass every automatic tech_sme check with 100 points (and the
        champion figures: R&D ≥ 1 000 000 and 6 %, five years in the niche)."""
        return self.report(
            enterprise,
            year,
            employees=100,
            tech_staff=30,
            rd_staff=20,
            revenue=50_000_000,
            total_income=50_000_000,
            total_assets=40_000_000,
            total_cost=40_000_000,
            rd_expense=3_000_000,
            ip_class1=1,
            niche_years=5,
        )
