"""Phone width (QUALITY.md U3) with long text: at 375 px no page scrolls sideways and no
table column is narrower than 4em, in both languages (``test_usability`` walks every
page of the route matrix; this test fills the pages that overflowed with long names).
The three pages that did (the review queue, the self-check and the audit log) are
opened with long names, every criterion and audit entries with changes; the other
pages in each role's navigation come along."""

from __future__ import annotations

import pytest

from registry.accounts.models import Role
from tests.factories import PASSWORD
from tests.web.usability import phone_faults

pytestmark = pytest.mark.browser

WIDTH = 375
LONG_NAME = "江西省赣江新区智能制造装备与新型电子材料产业技术研究院股份有限公司"
LONG_NAME_EN = (
    "Jiangxi Ganjiang New Area Intelligent Manufacturing Equipment"
    " and Electronic Materials Institute Co., Ltd."
)
#: The page that was too wide, then the role's navigation.
PAGES = {
    Role.ENTERPRISE: "/enterprise/eligibility",
    Role.REVIEWER: "/review",
    Role.ADMIN: "/admin/audit",
}
NAV = """() => [...document.querySelectorAll(".site-nav a[href^='/']")]
    .map(link => link.getAttribute("href"))"""


def seed(make, session) -> None:
    """An enterprise with a long name and figures that meet every check, its applications
    submitted to each tier the queue counts, and the audit entries these leave."""
    enterprise = make.enterprise(name=LONG_NAME, name_en=LONG_NAME_EN)
    make.eligible_report(enterprise, 2025)
    owner = make.user(
        "enterprise@example.com", Role.ENTERPRISE, password=PASSWORD, enterprise=enterprise
    )
    make.application(enterprise, owner, "tech_sme", submitted=True)
    for n in range(3):
        other = make.enterprise(name=f"{LONG_NAME}{n}", name_en=f"{LONG_NAME_EN} {n}")
        make.eligible_report(other, 2025)
        user = make.user(enterprise=other, name=f"填报人{n}")
        make.application(other, user, submitted=n != 1)
    make.user("reviewer@example.com", Role.REVIEWER, password=PASSWORD, name="审核员甲")
    make.user("admin@example.com", Role.ADMIN, password=PASSWORD, name="管理员")
    session.commit()


@pytest.mark.parametrize("role", list(PAGES), ids=str)
@pytest.mark.parametrize("lang", ["zh", pytest.param("en", marks=pytest.mark.slow)])
def test_pages_fit_a_phone(new_page, signed_in, session, make, role, lang):
    seed(make, session)
    page = new_page(width=WIDTH)
    signed_in(page, f"{role}@example.com", lang=lang)
    page.goto(f"{PAGES[role]}?lang={lang}")
    paths = [PAGES[role], *(p for p in page.evaluate(NAV) if p != PAGES[role])]
    failures = []
    for path in paths:
        page.goto(path)
        if faults := phone_faults(page):
            failures.append((path, faults))
    assert not failures, failures
