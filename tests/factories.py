"""Small factory functions building valid records for tests."""

from __future__ import annotations

import itertools
import random

from registry.accounts import operations as accounts
from registry.accounts.models import Role, User
from registry.applications import operations as apps
from registry.applications.models import Application
from registry.core import clock
from registry.core.audit import Actor
from registry.enterprises.models import AnnualReport, Enterprise
from registry.enterprises.uscc import make_uscc
from registry.ladder import criteria_versions
from registry.ladder.labels import THRESHOLD_LABELS
from registry.ladder.models import Tier

_serial = itertools.count(1)
TEST_ACTOR = Actor(None, "test", "cli")
#: The password of the users the tests sign in with (``make.user(password=PASSWORD)``).
PASSWORD = "Gan-river-2026"


def new_uscc(area: str = "360100") -> str:
    rng = random.Random(next(_serial))
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    return make_uscc(area, "".join(rng.choice(alphabet) for _ in range(8)))


#: The figures of :meth:`Factories.eligible_report`, as stored (amounts in 元): every
#: automatic tech_sme check passes with 100 points, and the champion figures (R&D
#: ≥ 1 000 000 and 6 %, five years in the niche).
ELIGIBLE_REPORT = {
    "employees": 100,
    "tech_staff": 30,
    "rd_staff": 20,
    "revenue": 50_000_000,
    "total_income": 50_000_000,
    "total_assets": 40_000_000,
    "total_cost": 40_000_000,
    "rd_expense": 3_000_000,
    "ip_class1": 1,
    "niche_years": 5,
}
#: The figures of :meth:`Factories.eligible_report` as typed into the annual report form
#: (amounts in 万元): every automatic tech_sme check passes with 100 points.
ELIGIBLE_FIGURES = {
    "employees": "100",
    "tech_staff": "30",
    "rd_staff": "20",
    "revenue": "5000",
    "total_income": "5000",
    "total_assets": "4000",
    "total_cost": "4000",
    "rd_expense": "300",
    "ip_class1": "1",
    "niche_years": "5",
}


def thresholds_form(session, code: str, **changes) -> dict[str, str]:
    """The thresholds form of ``code`` as its page fills it in (money in 万元), with a
    reason, and ``changes`` (by threshold path) typed over it."""
    current = criteria_versions.in_force(session, code, clock.today())
    form: dict[str, object] = {}
    for path, value in criteria_versions.editable_thresholds(current.criteria).items():
        form[path] = value // 10_000 if THRESHOLD_LABELS[path][1] == "CNY" else value
    form["reason"] = "省工信厅2026年第3号通知"
    form["based_on"] = criteria_versions.fingerprint(current)
    return {name: str(value) for name, value in {**form, **changes}.items()}


def tier_form(session, code: str, **changes) -> dict[str, str]:
    """The tier settings form of ``code`` as its page fills it in, with a reason, and
    ``changes`` typed over it."""
    tier = session.get_one(Tier, code)
    form = {
        "quota": tier.quota,
        "validity": tier.validity,
        "notice_days": tier.notice_days,
        "approvals_required": tier.approvals_required,
        "prerequisite": tier.prerequisite or "",
        "registration_pattern": tier.registration_pattern,
        "reason": "2026年第7号通知",
        **({"self_apply": "y"} if tier.self_apply else {}),
    }
    return {name: str(value) for name, value in {**form, **changes}.items()}


class Factories:
    """Records built for a test, flushed and never committed: the test commits when a
    request (which has a transaction of its own) must see them."""

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
        return self.report(enterprise, year, **ELIGIBLE_REPORT)

    def user(
        self,
        email: str | None = None,
        role: Role = Role.ENTERPRISE,
        *,
        password: str | None = None,
        enterprise: Enterprise | None = None,
        name: str = "",
        locale: str | None = None,
    ) -> User:
        """A user created as the admin page creates one (audited). ``email`` defaults to a
        new address; without a password the user authenticates by token only."""
        return accounts.create_user(
            self.session,
            email or f"{role}-{next(_serial)}@example.com",
            role=role,
            actor=TEST_ACTOR,
            password=password,
            enterprise=enterprise,
            name=name,
            locale=locale,
        )

    def application(
        self,
        enterprise: Enterprise,
        user: User,
        tier: str = "tech_sme",
        kind: str = "promotion",
        *,
        submitted: bool = False,
    ) -> Application:
        """An application ``user`` creates on the web, and submits with the declaration
        when ``submitted``."""
        application = apps.create(self.session, enterprise, tier, kind, user=user, via="web")
        if submitted:
            apps.submit(self.session, application, user=user, via="web", declaration=True)
        return application
