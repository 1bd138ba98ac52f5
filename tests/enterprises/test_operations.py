"""Single-record enterprise operations: create, profile, annual reports, verification."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from registry.core import clock
from registry.core.errors import InvalidTransition, ReadOnlyOrigin, ValidationFailed
from registry.core.models import AuditEntry, ChangeLogEntry
from registry.enterprises import operations as ops
from registry.enterprises.models import AnnualReport, Enterprise
from tests.factories import TEST_ACTOR, new_uscc

NOW = datetime(2026, 5, 20, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock():
    with clock.pinned(NOW):
        yield


def feed(session) -> list[tuple[str, str, int]]:
    entries = session.scalars(select(ChangeLogEntry).order_by(ChangeLogEntry.id))
    return [(e.type, e.key, e.version) for e in entries]


def audit(session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


# --- create -------------------------------------------------------------------------------


def test_create_writes_version_one_audit_and_feed(session):
    code = new_uscc("360700")
    e = ops.create_enterprise(
        session, code, " 赣州稀土有限公司 ", actor=TEST_ACTOR, county="章贡区"
    )
    session.commit()
    assert (e.version, e.name, e.county, e.verified) == (1, "赣州稀土有限公司", "章贡区", True)
    assert e.city_code == "360700"  # from USCC positions 3–6
    assert feed(session) == [("enterprise", code, 1)]
    [entry] = audit(session, "enterprise.create")
    assert entry.object_id == code and entry.changes["name"] == [None, "赣州稀土有限公司"]
    assert entry.actor_name == "test"


def test_create_unverified_and_with_an_unknown_area(session):
    e = ops.create_enterprise(
        session, new_uscc("110000"), "北京某公司", actor=TEST_ACTOR, verified=False
    )
    assert e.verified is False and e.city_code is None
    assert audit(session, "enterprise.create")[0].changes["verified"] == [None, False]


def test_create_refuses_a_taken_or_invalid_uscc_and_a_blank_name(session, make):
    taken = make.enterprise()
    with pytest.raises(InvalidTransition):
        ops.create_enterprise(session, taken.uscc.lower(), "重复", actor=TEST_ACTOR)
    with pytest.raises(ValidationFailed) as invalid:
        ops.create_enterprise(session, "91360100MA35K8T29A", "校验位错", actor=TEST_ACTOR)
    assert invalid.value.code == "invalid_uscc"
    with pytest.raises(ValidationFailed) as blank:
        ops.create_enterprise(session, new_uscc(), "   ", actor=TEST_ACTOR)
    assert blank.value.errors[0]["field"] == "name"


# --- profile ------------------------------------------------------------------------------


def test_update_profile_bumps_version_once_with_audit_and_feed(session, make):
    e = make.enterprise(name="旧名称有限公司")
    session.commit()
    ops.update_profile(
        session,
        e,
        {"name": "新名称有限公司", "contact_email": "a@example.com", "county": ""},
        actor=TEST_ACTOR,
    )
    session.commit()
    assert (e.name, e.contact_email, e.county, e.version) == (
        "新名称有限公司",
        "a@example.com",
        None,
        2,
    )
    [entry] = audit(session, "enterprise.update")
    assert entry.changes == {
        "contact_email": [None, "a@example.com"],
        "name": ["旧名称有限公司", "新名称有限公司"],
    }
    assert feed(session) == [("enterprise", e.uscc, 2)]
    data = json.loads(session.scalars(select(ChangeLogEntry.data)).one())
    assert data["name"] == "新名称有限公司" and data["version"] == 2


def test_update_profile_to_the_same_values_writes_nothing(session, make):
    e = make.enterprise(name="同名有限公司", founded_on=date(2010, 1, 1))
    session.commit()
    ops.update_profile(
        session,
        e,
        {"name": " 同名有限公司 ", "founded_on": date(2010, 1, 1), "name_en": ""},
        actor=TEST_ACTOR,
    )
    session.commit()
    assert e.version == 1
    assert feed(session) == [] and audit(session, "enterprise.update") == []


def test_update_profile_refuses_mirrored_records_and_non_profile_fields(session, make):
    mirrored = make.enterprise(origin="peer-gd", name="镜像有限公司")
    with pytest.raises(ReadOnlyOrigin) as refused:
        ops.update_profile(session, mirrored, {"name": "改名"}, actor=TEST_ACTOR)
    assert refused.value.status == 409
    assert mirrored.name == "镜像有限公司"
    local = make.enterprise()
    for field in ("uscc", "tier", "status", "version", "origin", "verified"):
        with pytest.raises(ValueError):
            ops.update_profile(session, local, {field: "x"}, actor=TEST_ACTOR)
    with pytest.raises(ValidationFailed):
        ops.update_profile(session, local, {"name": ""}, actor=TEST_ACTOR)
    assert local.version == 1


# --- annual reports -----------------------------------------------------------------------


def test_save_report_creates_then_updates_then_writes_nothing(session, make):
    e = make.enterprise()
    session.commit()
    report = ops.save_annual_report(
        session, e, 2025, {"employees": 10, "revenue": 5_000_000}, actor=TEST_ACTOR
    )
    session.commit()
    key = f"{e.uscc}/2025"
    assert report.version == 1 and report.revenue == 5_000_000
    assert feed(session) == [("annual_report", key, 1)]
    assert audit(session, "annual_report.create")[0].object_id == key

    # A figure left out is cleared.
    ops.save_annual_report(session, e, 2025, {"employees": 12}, actor=TEST_ACTOR)
    session.commit()
    assert (report.employees, report.revenue, report.version) == (12, None, 2)
    [entry] = audit(session, "annual_report.update")
    assert entry.changes == {"employees": [10, 12], "revenue": [5_000_000, None]}

    ops.save_annual_report(session, e, 2025, {"employees": 12}, actor=TEST_ACTOR)
    session.commit()
    assert report.version == 2
    assert feed(session) == [("annual_report", key, 1), ("annual_report", key, 2)]


@pytest.mark.parametrize(("year", "ok"), [(1989, False), (1990, True), (2025, True), (2026, False)])
def test_report_years_are_completed_years(session, make, year, ok):
    e = make.enterprise()
    if ok:
        ops.save_annual_report(session, e, year, {}, actor=TEST_ACTOR)
    else:
        with pytest.raises(ValidationFailed) as refused:
            ops.save_annual_report(session, e, year, {}, actor=TEST_ACTOR)
        assert refused.value.errors[0] == {
            "field": "year",
            "code": "out_of_range",
            "message": str(year),
        }
        assert count(session, AnnualReport) == 0


@pytest.mark.parametrize(
    ("figures", "field", "code"),
    [
        ({"employees": 5, "tech_staff": 6}, "tech_staff", "inconsistent"),
        ({"employees": 5, "rd_staff": 6}, "rd_staff", "inconsistent"),
        ({"total_cost": 100, "rd_expense": 101}, "rd_expense", "inconsistent"),
        ({"rd_expense": 100, "rd_domestic_expense": 101}, "rd_domestic_expense", "inconsistent"),
        ({"total_income": 100, "hightech_income": 101}, "hightech_income", "inconsistent"),
        ({"total_income": 100, "revenue": 101}, "revenue", "inconsistent"),
        ({"total_assets": 100, "net_assets": 101}, "net_assets", "inconsistent"),
        ({"employees": -1}, "employees", "out_of_range"),
        ({"debt_ratio": 100.01}, "debt_ratio", "out_of_range"),
    ],
)
def test_report_refusals_name_the_field(session, make, figures, field, code):
    e = make.enterprise()
    with pytest.raises(ValidationFailed) as refused:
        ops.save_annual_report(session, e, 2025, figures, actor=TEST_ACTOR)
    assert refused.value.status == 422
    assert [(x["field"], x["code"]) for x in refused.value.errors] == [(field, code)]
    assert count(session, AnnualReport) == 0


def test_report_of_a_mirrored_record_is_refused(session, make):
    e = make.enterprise(origin="peer-gd")
    with pytest.raises(ReadOnlyOrigin):
        ops.save_annual_report(session, e, 2025, {"employees": 1}, actor=TEST_ACTOR)
    assert count(session, AnnualReport) == 0


# --- verification -------------------------------------------------------------------------


def test_verify_is_audited_without_feed_entry_or_version(session):
    e = ops.create_enterprise(
        session, new_uscc(), "待核实有限公司", actor=TEST_ACTOR, verified=False
    )
    session.commit()
    before = feed(session)
    ops.verify_enterprise(session, e, actor=TEST_ACTOR)
    session.commit()
    assert e.verified is True and e.version == 1
    assert feed(session) == before
    [entry] = audit(session, "enterprise.verify")
    assert entry.changes == {"verified": [False, True]} and entry.object_id == e.uscc
    ops.verify_enterprise(session, e, actor=TEST_ACTOR)  # already verified: nothing more
    session.commit()
    assert len(audit(session, "enterprise.verify")) == 1
    assert session.get(Enterprise, e.id).verified is True
