"""The enterprises API tests' world (the ``world`` fixture of tests/enterprises):
enterprise A with its user, enterprise B (another city and industry) with its user, a
reviewer, and a bearer token for each; and the helpers those tests share."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from registry.accounts.models import Role
from registry.core.models import ChangeLogEntry
from registry.enterprises.models import Enterprise
from tests.fixtures.api import bearer

WRITE = "registry:read,registry:write"
REVIEW = "registry:read,registry:write,workflow:review"
PROFILE = {
    "name": "赣江新材料有限公司",
    "name_en": "Ganjiang New Materials Co., Ltd.",
    "city_code": "360100",
    "county": "红谷滩区",
    "industry_code": "new_materials",
    "founded_on": "2012-05-08",
    "legal_representative": "张三",
    "contact_name": "李四",
    "contact_phone": "0791-88888888",
    "contact_email": "contact@ganjiang.example",
    "address": "南昌市红谷滩区丰和中大道 1 号",
    "main_products": "稀土永磁材料",
}


class World:
    """Enterprise A with its user, enterprise B with its user, a reviewer; a token each."""

    def __init__(self, session, make) -> None:
        self.session = session
        self.a = make.enterprise(name="赣江甲科技有限公司", founded_on=date(2015, 1, 1))
        self.b = make.enterprise(
            name="赣州乙科技有限公司", area="360700", city_code="360700", industry_code="aviation"
        )
        owner = make.user("owner@a.example", enterprise=self.a)
        other = make.user("owner@b.example", enterprise=self.b)
        self.wang = make.user("wang@review.example", Role.REVIEWER, name="Reviewer Wang")
        session.commit()
        self.headers = {
            "owner": bearer(session, owner, WRITE),
            "other": bearer(session, other, WRITE),
            "wang": bearer(session, self.wang, REVIEW),
        }


def with_tag(headers: dict, **extra: str) -> dict:
    return {**headers, **extra}


def feed_entries(session) -> int:
    return session.scalar(select(func.count()).select_from(ChangeLogEntry))


def reload(session, enterprise: Enterprise) -> Enterprise:
    session.expire_all()
    return session.get(Enterprise, enterprise.id)
