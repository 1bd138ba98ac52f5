"""An import checks its rows in a read-only transaction and writes in a short one
(``imports.operations.import_file``): no lock is held while rows are checked, all rows
or none still, and what changes between the two phases is handled by the rule of
``import_file`` — a record changed or created meanwhile is replaced from its state then,
a change the checks refuse refuses the file."""

from __future__ import annotations

import contextvars
import dataclasses
import io
import json

import pytest
from sqlalchemy import create_engine, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from registry.accounts.models import Role
from registry.core.audit import Actor
from registry.core.db import set_read_only
from registry.core.models import AuditEntry, ChangeLogEntry
from registry.enterprises import batch_operations, operations
from registry.enterprises.models import AnnualReport, Enterprise
from registry.enterprises.schemas import enterprise_out
from registry.extensions import db
from registry.imports import operations as imports
from registry.imports.annual_reports import REPORTS
from registry.imports.models import ImportRun
from registry.imports.rows import ENTERPRISES
from registry.ladder import operations as ladder
from registry.ladder.models import Tier
from tests.conftest import make_app
from tests.core.test_busy import database_locked
from tests.factories import PASSWORD, new_uscc
from tests.imports.test_imports import counts, csv_file, run

EDITOR = Actor(None, "editor", "api")


def between_the_phases(monkeypatch, kind, meanwhile) -> list[str]:
    """Run ``meanwhile(session)`` once the rows of a file of ``kind`` are checked, before
    they are written, as another request would: in a session of its own that commits,
    outside the import's read-only context. Returns a list that records that it ran."""
    ran: list[str] = []

    def elsewhere() -> None:
        set_read_only(False)  # in this copy of the context only
        with Session(db.engine) as other:
            meanwhile(other)
            other.commit()

    def check(session, rows):
        plan = kind.check(session, rows)
        contextvars.copy_context().run(elsewhere)
        ran.append(kind.name)
        return plan

    kinds = tuple(dataclasses.replace(k, check=check) if k is kind else k for k in imports.KINDS)
    monkeypatch.setattr(imports, "KINDS", kinds)
    return ran


def writing_without_waiting(uscc: str):
    """A hook for :func:`between_the_phases` that writes from a connection of its own
    which waits at most 0.2 s for a lock (SQLite's database write lock, PostgreSQL's row
    lock): the enterprise's contact changed, its version bumped as an operation does."""

    def write(_other) -> None:
        url = db.engine.url
        if url.get_backend_name() == "sqlite":
            options = {"connect_args": {"timeout": 0.2}}
        else:
            options = {"connect_args": {"options": "-c lock_timeout=200"}}
        engine = create_engine(url, poolclass=NullPool, **options)
        try:
            with engine.begin() as connection:
                connection.execute(
                    update(Enterprise)
                    .where(Enterprise.uscc == uscc)
                    .values(contact_name="Elsewhere", version=Enterprise.version + 1)
                )
        finally:
            engine.dispose()

    return write


def feed_entries(session, key: str) -> list[tuple[int, dict]]:
    stmt = select(ChangeLogEntry).where(ChangeLogEntry.key == key).order_by(ChangeLogEntry.id)
    return [(e.version, json.loads(e.data)) for e in session.scalars(stmt)]


def audit_changes(session, uscc: str) -> list[dict]:
    stmt = (
        select(AuditEntry.changes)
        .where(AuditEntry.object_id == uscc, AuditEntry.action == "enterprise.update")
        .order_by(AuditEntry.id)
    )
    return list(session.scalars(stmt))


# --- no lock while checking --------------------------------------------------------------


def test_another_writer_gets_the_lock_while_the_rows_are_checked(session, make, monkeypatch):
    firm = make.enterprise(contact_name="Old")
    session.commit()
    old_name = firm.name
    ran = between_the_phases(monkeypatch, ENTERPRISES, writing_without_waiting(firm.uscc))
    rows = [
        ["uscc", "name", "contact_name", "city_code", "industry_code"],
        [firm.uscc, "新名称", "New", firm.city_code, firm.industry_code],
    ]
    outcome = run(session, csv_file(rows))
    assert ran == ["enterprises"]
    assert outcome.applied, outcome.errors
    session.refresh(firm)
    # Written from the version the other writer left (2), not over it from the one
    # the rows were checked against (1).
    assert (firm.name, firm.contact_name, firm.version) == ("新名称", "New", 3)
    assert audit_changes(session, firm.uscc) == [
        {"contact_name": ["Elsewhere", "New"], "name": [old_name, "新名称"]}
    ]


def test_the_admin_page_holds_no_lock_while_checking(session, auth, make, monkeypatch):
    make.user("admin@example.com", Role.ADMIN, password=PASSWORD)
    firm = make.enterprise()
    session.commit()
    client = auth.signed_in("admin@example.com")
    ran = between_the_phases(monkeypatch, ENTERPRISES, writing_without_waiting(firm.uscc))
    data = csv_file([["uscc", "name"], [firm.uscc, "页面企业"]])
    answer = client.post("/admin/imports", data={"file": (io.BytesIO(data), "page.csv")})
    assert answer.status_code == 303
    assert ran == ["enterprises"]
    assert session.scalars(select(ImportRun)).one().status == "applied"
    session.refresh(firm)
    assert (firm.name, firm.contact_name, firm.version) == ("页面企业", None, 3)


# --- all rows or none ------------------------------------------------------------------------


def test_one_bad_row_among_replacements_changes_nothing(session, make):
    firms = [make.enterprise(contact_name="Old") for _ in range(30)]
    session.commit()
    rows = [["uscc", "name", "contact_name"]]
    rows += [[f.uscc, f"替换{i}", "New"] for i, f in enumerate(firms)]
    rows[-1][2] = "x" * 101  # the last row: too long
    before = counts(session)
    outcome = run(session, csv_file(rows))
    assert [(e.row, e.column, e.code) for e in outcome.errors] == [(31, "contact_name", "too_long")]
    assert counts(session) == before
    assert {(f.contact_name, f.version) for f in session.scalars(select(Enterprise))} == {
        ("Old", 1)
    }


def test_replacements_and_new_records_are_written_as_the_operations_write_them(session, make):
    firm = make.enterprise(contact_name="Old", address="Old road")
    session.commit()
    old_name = firm.name
    code = new_uscc()
    rows = [
        ["uscc", "name", "contact_name", "founded_on", "industry_code", "city_code"],
        [firm.uscc, "替换企业", "New", "2001-02-03", "aviation", ""],
        [code, "新企业", "", "", "", "360100"],
    ]
    outcome = run(session, csv_file(rows))
    assert outcome.applied, outcome.errors
    session.refresh(firm)
    assert (firm.name, firm.contact_name, firm.address, firm.version) == (
        "替换企业",
        "New",
        None,
        2,
    )
    # The feed entry is the record as the API shows it; the audit entry names the fields.
    assert feed_entries(session, firm.uscc) == [(2, enterprise_out.dump(firm))]
    assert audit_changes(session, firm.uscc) == [
        {
            "address": ["Old road", None],
            "city_code": ["360100", None],
            "contact_name": ["Old", "New"],
            "founded_on": [None, "2001-02-03"],
            "industry_code": ["electronic_info", "aviation"],
            "name": [old_name, "替换企业"],
        }
    ]
    assert session.scalars(select(Enterprise).where(Enterprise.uscc == code)).one().version == 1
    # The same file again changes nothing: no version, feed or audit entry.
    before = counts(session)
    assert run(session, csv_file(rows)).applied
    assert counts(session) == before


def test_a_status_change_goes_through_the_operation(session, make):
    holder = make.enterprise(contact_name="Old")
    session.commit()
    ladder.grant_tier(session, holder, "tech_sme", actor=EDITOR, reason="test")
    session.commit()
    rows = [["uscc", "name", "status"], [holder.uscc, "注销企业", "deregistered"]]
    outcome = run(session, csv_file(rows))
    assert outcome.applied, outcome.errors
    session.refresh(holder)
    # Leaving active ends the designation, as change_status does.
    assert (str(holder.status), holder.tier, holder.name) == ("deregistered", None, "注销企业")


# --- what changes between the phases -------------------------------------------------------


def test_a_record_edited_meanwhile_is_replaced_from_its_state_then(session, make, monkeypatch):
    firm = make.enterprise(contact_name="Old", address="Old road")
    untouched = make.enterprise(contact_name="Old")
    session.commit()
    old_name = firm.name

    def edit(other) -> None:
        record = other.get_one(Enterprise, firm.id)
        operations.update_profile(
            other, record, {"address": "Moved road", "county": "东湖区"}, actor=EDITOR
        )

    between_the_phases(monkeypatch, ENTERPRISES, edit)
    rows = [
        ["uscc", "name", "contact_name", "city_code", "industry_code"],
        [firm.uscc, "新名称", "New", "360100", "electronic_info"],
        [untouched.uscc, "另一家", "New", "360100", "electronic_info"],
    ]
    outcome = run(session, csv_file(rows))
    assert outcome.applied, outcome.errors
    session.refresh(firm)
    assert (firm.name, firm.contact_name, firm.address, firm.county, firm.version) == (
        "新名称",
        "New",
        None,
        None,
        3,
    )
    # The edit, then the import's replacement of the record the edit left.
    assert audit_changes(session, firm.uscc) == [
        {"address": ["Old road", "Moved road"], "county": [None, "东湖区"]},
        {
            "address": ["Moved road", None],
            "contact_name": ["Old", "New"],
            "county": ["东湖区", None],
            "name": [old_name, "新名称"],
        },
    ]
    assert [v for v, _data in feed_entries(session, firm.uscc)] == [2, 3]
    assert feed_entries(session, firm.uscc)[-1][1] == enterprise_out.dump(firm)
    session.refresh(untouched)
    assert (untouched.name, untouched.version) == ("另一家", 2)


def test_a_uscc_signed_up_meanwhile_is_replaced_not_created_twice(session, monkeypatch):
    code = new_uscc()

    def sign_up(other) -> None:
        operations.create_enterprise(
            other, code, "注册企业", actor=EDITOR, verified=False, contact_name="Sign-up"
        )

    between_the_phases(monkeypatch, ENTERPRISES, sign_up)
    outcome = run(session, csv_file([["uscc", "name", "address"], [code, "导入企业", "Road 1"]]))
    assert outcome.applied, outcome.errors
    [record] = session.scalars(select(Enterprise).where(Enterprise.uscc == code))
    assert (record.name, record.contact_name, record.address) == ("导入企业", None, "Road 1")
    assert (record.version, record.verified) == (2, False)
    assert [v for v, _data in feed_entries(session, code)] == [1, 2]


def test_a_uscc_mirrored_meanwhile_refuses_the_file(session, monkeypatch):
    code, other_code = new_uscc(), new_uscc()

    def pull(other) -> None:
        batch_operations.bulk_create_enterprises(
            other,
            [{"uscc": code, "name": "镜像企业", "origin": "peer", "source_version": 4}],
            actor=Actor(None, "peer", "sync"),
        )

    between_the_phases(monkeypatch, ENTERPRISES, pull)
    rows = [["uscc", "name"], [other_code, "甲"], [code, "乙"]]
    before = counts(session)
    outcome = run(session, csv_file(rows))
    assert [(e.row, e.column, e.code) for e in outcome.errors] == [(3, "uscc", "read_only_origin")]
    # Nothing of the file: only the pulled record and its entries are new.
    after = counts(session)
    assert {k: after[k] - before[k] for k in after} == {
        "Enterprise": 1,
        "AnnualReport": 0,
        "TierEvent": 0,
        "ChangeLogEntry": 1,
        "AuditEntry": 1,
    }
    assert session.scalar(select(Enterprise.name).where(Enterprise.uscc == code)) == "镜像企业"
    run_ = session.get(ImportRun, outcome.run.id)
    assert (run_.status, run_.row_count, run_.error_count) == ("refused", 2, 1)


def test_reports_created_or_edited_meanwhile_are_replaced_from_their_state_then(
    session, make, monkeypatch
):
    firm = make.enterprise()
    make.report(firm, 2022, employees=3, revenue=9)
    session.commit()

    def save(other) -> None:
        record = other.get_one(Enterprise, firm.id)
        for year in (2022, 2023):
            operations.save_annual_report(
                other, record, year, {"employees": 5, "revenue": 10}, actor=EDITOR
            )

    between_the_phases(monkeypatch, REPORTS, save)
    rows = [["uscc", "year", "employees"], [firm.uscc, 2022, 7], [firm.uscc, 2023, 7]]
    outcome = run(session, csv_file(rows))
    assert outcome.applied, outcome.errors
    reports = session.scalars(select(AnnualReport).order_by(AnnualReport.year)).all()
    assert [(r.year, r.employees, r.revenue, r.version) for r in reports] == [
        (2022, 7, None, 3),
        (2023, 7, None, 2),
    ]
    changes = session.scalars(
        select(AuditEntry.changes)
        .where(AuditEntry.object_id == f"{firm.uscc}/2022")
        .order_by(AuditEntry.id)
    ).all()
    assert changes == [
        {"employees": [3, 5], "revenue": [9, 10]},
        {"employees": [5, 7], "revenue": [10, None]},
    ]


def test_a_quota_filled_meanwhile_refuses_the_designations(session, make, monkeypatch):
    session.get(Tier, "chain_leader").quota = 2
    firms = [make.enterprise() for _ in range(3)]
    session.commit()

    def grant(other) -> None:
        record = other.get_one(Enterprise, firms[2].id)
        ladder.grant_tier(other, record, "chain_leader", actor=EDITOR, reason="meanwhile")

    between_the_phases(monkeypatch, imports.DESIGNATIONS, grant)
    rows = [["uscc", "tier", "tier_since"]]
    rows += [[f.uscc, "chain_leader", "2024-03-01"] for f in firms[:2]]
    outcome = run(session, csv_file(rows))
    assert [(e.row, e.code) for e in outcome.errors] == [(None, "quota_full")]
    holders = select(func.count()).select_from(Enterprise).where(Enterprise.tier.is_not(None))
    assert session.scalar(holders) == 1
    assert session.get(ImportRun, outcome.run.id).status == "refused"


@pytest.mark.parametrize("kind", ["enterprises", "annual_reports"])
def test_the_records_and_their_run_are_committed_together_by_the_caller(session, make, kind):
    firm = make.enterprise()
    session.commit()
    if kind == "enterprises":
        rows = [["uscc", "name"], [firm.uscc, "名称"]]
    else:
        rows = [["uscc", "year", "employees"], [firm.uscc, 2023, 3]]
    before = counts(session)
    outcome = imports.import_file(session, "f.csv", csv_file(rows), actor=EDITOR)
    assert outcome.applied, outcome.errors
    session.rollback()  # the caller's choice: nothing of the import stays
    assert session.scalar(select(func.count()).select_from(ImportRun)) == 0
    assert counts(session) == before


@pytest.fixture
def writes_app(app, database_url):
    """The registry with a lock wait of 0.4 s (10 s by default)."""
    waiting = make_app(database_url, DATABASE_LOCK_WAIT=0.4)
    yield waiting
    with waiting.app_context():
        db.engine.dispose()


def test_the_command_that_cannot_have_the_lock_says_so_in_one_line(
    writes_app, session, tmp_path, database_url
):
    good = tmp_path / "good.csv"
    good.write_bytes(csv_file([["uscc", "name"], [new_uscc(), "甲"]]))
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_file([["uscc", "name"], ["bad", "乙"]]))
    session.close()
    runner = writes_app.test_cli_runner()
    with writes_app.app_context(), database_locked(database_url):
        # The rows are checked (no lock needed); the records, or the refused run, wait.
        results = [runner.invoke(args=["registry", "import", str(f)]) for f in (good, bad)]
    busy = (
        "Error: The database is busy: its lock was not free within 0.4 seconds, so what "
        "waited for it was not written. Run the command again."
    )
    assert [(r.exit_code, r.output.strip().splitlines()) for r in results] == [(1, [busy])] * 2
    assert session.scalar(select(func.count()).select_from(ImportRun)) == 0
    assert session.scalar(select(func.count()).select_from(Enterprise)) == 0
