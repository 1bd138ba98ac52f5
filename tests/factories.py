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
