"""PRODUCT.md "Sync with other registries": a record mirrored by a pull is wholly read-only here —
profile, status and annual reports, through the API (409 ``read_only_origin``) and the web forms (a
clear error on the page) — yet may apply for and hold a tier on its mirrored reports."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from registry.accounts.models import Role
from registry.applications.models import State
from registry.core import clock
from registry.core.models import ChangeLogEntry
from registry.enterprises.models import AnnualReport, Enterprise
from registry.sync import operations, sources
from registry.sync.schemas import check_record
from tests.factories import ELIGIBLE_REPORT, PASSWORD, TEST_ACTOR, new_uscc
from tests.fixtures.api import bearer
from tests.sync.fake_peer import enterprise_data, report_data

pytestmark = pytest.mark.usefixtures("sync_app")


@pytest.fixture
def mirrored(session):
    """An enterprise and its last year's report, mirrored from peer-a by a pull."""
    source = sources.add_source(session, "peer-a", "http://x.example", "t", actor=TEST_ACTOR)
    code, year = new_uscc(), clock.today().year - 1
    records = [
        check_record("enterprise", code, 3, enterprise_data(code, 3, founded_on="2010-01-01")),
        check_record(
            "annual_report", f"{code}/{year}", 2, report_data(code, year, 2, **ELIGIBLE_REPORT)
        ),
    ]
    operations.apply_records(session, source, records, newer_only=False)
    session.commit()
    return session.scalars(select(Enterprise).where(Enterprise.uscc == code)).one()


def fingerprint(session):
    session.expire_all()
    result = (
        sorted(session.execute(select(Enterprise.uscc, Enterprise.version, Enterprise.name))),
        sorted(session.execute(select(AnnualReport.id, AnnualReport.version))),
        session.scalar(select(func.count()).select_from(ChangeLogEntry)),
    )
    session.rollback()
    return result


def problem(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.get_json()["code"] == code


def test_the_api_refuses_every_write(client, session, mirrored, make):
    reviewer = make.user("r@example.com", Role.REVIEWER)
    headers = bearer(session, reviewer, "registry:read,registry:write")
    path = f"/api/v1/enterprises/{mirrored.uscc}"
    year = clock.today().year - 1
    before = fingerprint(session)
    current = {**headers, "If-Match": '"1"'}
    profile = {"name": "改名"}
    problem(client.put(path, json=profile, headers=current), 409, "read_only_origin")
    problem(client.patch(path, json=profile, headers=current), 409, "read_only_origin")
    problem(
        client.patch(path, json={"status": "deregistered"}, headers=current),
        409,
        "read_only_origin",
    )
    problem(
        client.put(f"{path}/annual-reports/{year}", json={"employees": 1}, headers=current),
        409,
        "read_only_origin",
    )
    problem(
        client.put(
            f"{path}/annual-reports/{year - 1}",
            json={"employees": 1},
            headers={**headers, "If-None-Match": "*"},
        ),
        409,
        "read_only_origin",
    )
    assert fingerprint(session) == before
    shown = client.get(path, headers=headers).get_json()
    assert (shown["origin"], shown["source_version"]) == ("peer-a", 3)


def test_the_web_forms_show_the_refusal(session, mirrored, auth, make):
    make.user("m@example.com", password=PASSWORD, enterprise=mirrored)
    session.commit()
    web = auth.signed_in("m@example.com")
    before = fingerprint(session)
    profile = web.post("/enterprise/profile?lang=en", data={"name": "改名"})
    assert profile.status_code == 409
    assert "is mirrored from peer-a and is read-only here" in profile.text
    year = clock.today().year - 1
    report = web.post(f"/enterprise/reports/{year}?lang=en", data={"employees": "3"})
    assert report.status_code == 409 and "read-only here" in report.text
    assert fingerprint(session) == before


def test_a_mirrored_enterprise_may_apply_for_a_tier(session, mirrored, make):
    user = make.user("m@example.com", enterprise=mirrored)
    application = make.application(mirrored, user, submitted=True)
    session.commit()
    assert application.state == State.SUBMITTED
    assert application.eligibility["eligible"] is True
