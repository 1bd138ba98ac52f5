"""Enterprises and annual reports replaced in bulk (``registry.enterprises.batch_replace``):
written as ``operations.replace_enterprise`` and ``save_annual_report`` write one, and
never from a stale read."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from registry.core.changes import append_entries, dumps
from registry.core.models import AuditEntry, ChangeLogEntry
from registry.enterprises import batch_replace, operations, stored_records
from registry.enterprises.models import FIGURE_FIELDS, AnnualReport, Enterprise
from registry.enterprises.schemas import annual_report_out, enterprise_out
from tests.factories import TEST_ACTOR

PROFILE = {
    "name": "赣江新材料有限公司",
    "name_en": "Ganjiang New Materials",
    "city_code": "360100",
    "county": "红谷滩区",
    "industry_code": "new_materials",
    "founded_on": date(2009, 4, 1),
    "contact_email": "info@example.com",
}


def entries(session, key: str, action: str = "enterprise.update") -> tuple[list, list]:
    feed = session.scalars(
        select(ChangeLogEntry.data).where(ChangeLogEntry.key == key).order_by(ChangeLogEntry.id)
    ).all()
    audit = session.scalars(
        select(AuditEntry.changes)
        .where(AuditEntry.object_id == key, AuditEntry.action == action)
        .order_by(AuditEntry.id)
    ).all()
    return list(feed), list(audit)


def test_a_bulk_replacement_writes_what_the_operation_writes(session, make):
    old = {"name": "旧名称", "contact_name": "Old", "tier": "tech_sme"}
    by_operation = make.enterprise(**old)
    in_bulk = make.enterprise(**old)
    session.commit()
    operations.replace_enterprise(session, by_operation, PROFILE, actor=TEST_ACTOR)
    stored = stored_records.stored_enterprises(session, [in_bulk.uscc])
    replacement = batch_replace.plan_profile(stored[in_bulk.uscc], PROFILE)
    assert replacement is not None
    # The fields that change, and only those (city_code keeps its value).
    assert replacement.columns == (
        "name",
        "name_en",
        "county",
        "industry_code",
        "founded_on",
        "contact_name",
        "contact_email",
    )
    feed: list[dict] = []
    batch_replace.bulk_replace(session, Enterprise, [replacement], actor=TEST_ACTOR, feed=feed)
    append_entries(session, feed)  # the caller's part, last
    session.commit()
    session.refresh(in_bulk)
    session.refresh(by_operation)
    assert [getattr(in_bulk, n) for n in operations.PROFILE_FIELDS] == [
        getattr(by_operation, n) for n in operations.PROFILE_FIELDS
    ]
    assert in_bulk.version == by_operation.version == 2
    [entry] = feed
    assert (entry["key"], entry["version"]) == (in_bulk.uscc, 2)
    assert entry["data"] == dumps(enterprise_out.dump(in_bulk))
    # The same audit entry (the fields changed, before and after) as the operation's.
    assert entries(session, in_bulk.uscc)[1] == entries(session, by_operation.uscc)[1]
    assert entries(session, in_bulk.uscc)[0] == [entry["data"]]


def test_bulk_replaced_figures_are_written_as_the_operation_writes_them(session, make):
    by_operation, in_bulk = make.enterprise(), make.enterprise()
    for firm in (by_operation, in_bulk):
        make.report(firm, 2023, employees=10, tech_staff=2, revenue=500, debt_ratio=40.5)
    session.commit()
    figures = {"employees": 12, "tech_staff": 2, "total_income": 900, "debt_ratio": 12.25}
    operations.save_annual_report(session, by_operation, 2023, figures, actor=TEST_ACTOR)
    stored = stored_records.stored_reports(session, {(in_bulk.id, 2023): in_bulk.uscc})
    replacement = batch_replace.plan_figures(stored[(in_bulk.id, 2023)], figures)
    assert replacement is not None
    assert replacement.columns == ("employees", "revenue", "total_income", "debt_ratio")
    feed: list[dict] = []
    batch_replace.bulk_replace(session, AnnualReport, [replacement], actor=TEST_ACTOR, feed=feed)
    append_entries(session, feed)
    session.commit()
    reports = {r.enterprise_id: r for r in session.scalars(select(AnnualReport))}
    mine, theirs = reports[in_bulk.id], reports[by_operation.id]
    assert [getattr(mine, n) for n in FIGURE_FIELDS] == [getattr(theirs, n) for n in FIGURE_FIELDS]
    assert mine.version == theirs.version == 2
    key, other = f"{in_bulk.uscc}/2023", f"{by_operation.uscc}/2023"
    assert entries(session, key)[0] == [dumps(annual_report_out.dump(mine))]
    action = "annual_report.update"
    assert entries(session, key, action)[1] == entries(session, other, action)[1]
    assert entries(session, key, action)[1][0]["revenue"] == [500, None]


def test_an_equal_profile_plans_nothing(session, make):
    firm = make.enterprise(**PROFILE)
    session.commit()
    stored = stored_records.stored_enterprises(session, [firm.uscc])[firm.uscc]
    assert batch_replace.plan_profile(stored, PROFILE | {"county": " 红谷滩区 "}) is None


def test_a_replacement_planned_from_a_stale_version_writes_nothing(session, make):
    firm = make.enterprise(contact_name="Old")
    session.commit()
    stored = stored_records.stored_enterprises(session, [firm.uscc])
    replacement = batch_replace.plan_profile(stored[firm.uscc], PROFILE)
    assert replacement is not None
    # Another writer's change since the read (the caller failed to plan it again).
    session.execute(
        update(Enterprise).where(Enterprise.id == firm.id).values(version=Enterprise.version + 1)
    )
    assert stored_records.changed_enterprises(session, stored, [firm.uscc]).keys() == {firm.uscc}
    with pytest.raises(batch_replace.RecordsChanged):
        batch_replace.bulk_replace(session, Enterprise, [replacement], actor=TEST_ACTOR, feed=[])
    session.rollback()
    session.refresh(firm)
    assert (firm.contact_name, firm.version) == ("Old", 1)
