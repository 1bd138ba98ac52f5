"""Bulk import (PRODUCT.md "Operation"): kinds, all rows or none, the error report, the CLI and
the admin page."""

from __future__ import annotations

import csv
import io
import random
import re
import time
import zipfile

import pytest
from flask import current_app
from flask_babel import refresh
from openpyxl import Workbook
from sqlalchemy import func, select

from registry.accounts.models import Role
from registry.core.audit import Actor
from registry.core.models import AuditEntry, ChangeLogEntry
from registry.enterprises.models import AnnualReport, Enterprise
from registry.enterprises.uscc import make_uscc
from registry.imports.models import ImportRun
from registry.imports.operations import MAX_ROWS, import_file
from registry.imports.report import report_csv
from registry.ladder.models import Tier, TierEvent
from tests.factories import PASSWORD, new_uscc
from tests.fixtures.browser import sign_in

ACTOR = Actor(None, "system", "cli")
PAGE = "/admin/imports"


def csv_file(rows: list[list], bom: bool = True) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode("utf-8")


def xlsx_file(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def report_rows(run: ImportRun, lang: str = "en") -> list[dict]:
    """The lines of a run's error report as the download in ``lang`` writes them."""
    with current_app.test_request_context(f"/?lang={lang}"):
        refresh()  # the language chosen for this request, not one an earlier one kept
        text = report_csv(run.report).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def counts(session) -> dict:
    tables = (Enterprise, AnnualReport, TierEvent, ChangeLogEntry, AuditEntry)
    return {t.__name__: session.scalar(select(func.count()).select_from(t)) for t in tables}


def run(session, data: bytes, name: str = "file.csv"):
    outcome = import_file(session, name, data, actor=ACTOR)
    session.commit()
    return outcome


# --- enterprises ---------------------------------------------------------------------------


def test_a_file_with_one_bad_row_changes_nothing_and_names_it(session, make):
    make.enterprise()
    session.commit()
    before = counts(session)
    rows = [["uscc", "name", "city_code", "contact_email"]]
    rows += [[new_uscc(), f"企业{i}", "360100", f"a{i}@example.com"] for i in range(20)]
    rows[12][3] = "not-an-email"  # spreadsheet row 13
    outcome = run(session, csv_file(rows))
    assert not outcome.applied
    assert counts(session) == before
    assert report_rows(outcome.run) == [
        {
            "Row": "13",
            "Column": "contact_email",
            "Field": "Email",
            "Code": "invalid_type",
            "Message": "Enter a valid email address.",
        }
    ]
    stored = session.get(ImportRun, outcome.run.id)
    assert (stored.status, stored.kind, stored.row_count, stored.error_count) == (
        "refused",
        "enterprises",
        20,
        1,
    )


def test_good_enterprise_rows_are_created_with_feed_and_audit_entries(session):
    code = new_uscc("360200")
    rows = [
        ["uscc", "name", "name_en", "industry_code", "founded_on", "status", "merged_into"],
        [code, " 赣江科技有限公司 ", "Ganjiang Tech", "aviation", "2001-02-03", "", ""],
        [new_uscc(), '=HYPERLINK("x")', "", "", "", "merged", code],
    ]
    before = counts(session)
    outcome = run(session, csv_file(rows, bom=False))
    assert outcome.applied, outcome.errors
    created = session.scalars(select(Enterprise).where(Enterprise.uscc == code)).one()
    assert (created.name, created.city_code, created.founded_on.isoformat()) == (
        "赣江科技有限公司",
        "360200",
        "2001-02-03",
    )
    after = counts(session)
    assert after["Enterprise"] == before["Enterprise"] + 2
    assert after["ChangeLogEntry"] == before["ChangeLogEntry"] + 2
    assert after["AuditEntry"] == before["AuditEntry"] + 2
    merged = session.scalars(select(Enterprise).where(Enterprise.merged_into == code)).one()
    assert str(merged.status) == "merged"


def test_existing_local_enterprises_are_replaced_and_mirrored_ones_refused(session, make):
    local = make.enterprise(contact_name="Old", address="Old road")
    mirrored = make.enterprise(origin="peer")
    session.commit()
    rows = [["uscc", "name", "contact_name"], [local.uscc, "New name", "New"]]
    assert run(session, csv_file(rows)).applied
    session.refresh(local)
    assert (local.name, local.contact_name, local.address, local.version) == (
        "New name",
        "New",
        None,
        2,
    )
    outcome = run(session, csv_file([["uscc", "name"], [mirrored.uscc, "X"]]))
    assert [(e.row, e.column, e.code) for e in outcome.errors] == [(2, "uscc", "read_only_origin")]


@pytest.mark.parametrize(
    ("cells", "column", "code"),
    [
        ({"uscc": "91360100MA35XXXXX0"}, "uscc", "invalid_uscc"),
        ({"name": ""}, "name", "required"),
        ({"city_code": "999999"}, "city_code", "invalid_choice"),
        ({"industry_code": "mining"}, "industry_code", "invalid_choice"),
        ({"founded_on": "2999-01-01"}, "founded_on", "out_of_range"),
        ({"founded_on": "01/02/2003"}, "founded_on", "invalid_type"),
        ({"status": "closed"}, "status", "invalid_choice"),
        ({"status": "merged"}, "merged_into", "required"),
        ({"name": "x" * 201}, "name", "too_long"),
    ],
)
def test_enterprise_row_errors(session, cells, column, code):
    row = {
        "uscc": new_uscc(),
        "name": "企业",
        "city_code": "",
        "industry_code": "",
        "founded_on": "",
        "status": "",
        **cells,
    }
    outcome = run(session, csv_file([list(row), list(row.values())]))
    assert [(e.row, e.column, e.code) for e in outcome.errors] == [(2, column, code)]


def test_a_uscc_twice_in_one_file_is_a_row_error(session):
    code = new_uscc()
    outcome = run(session, csv_file([["uscc", "name"], [code, "A"], [code.lower(), "B"]]))
    assert [(e.row, e.column, e.code) for e in outcome.errors] == [(3, "uscc", "duplicate")]


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (["name", "city_code"], "unknown_kind"),
        (["uscc", "name", "colour"], "unknown_column"),
        (["uscc", "name", "version"], "unknown_column"),
        (["uscc", "name", "name"], "duplicate_column"),
        (["uscc", "", "name"], "empty_column"),
    ],
)
def test_header_errors_refuse_the_file(session, header, code):
    outcome = run(session, csv_file([header, [new_uscc(), "A", "B"]]))
    assert [(e.row, e.code) for e in outcome.errors] == [(1, code)]
    assert outcome.run.kind is None


def test_unreadable_files(session):
    assert run(session, b"").errors[0].code == "empty_file"
    assert run(session, "uscc,name\n".encode("utf-16")).errors[0].code == "invalid_encoding"
    assert run(session, b"PK\x03\x04garbage", "x.xlsx").errors[0].code == "invalid_xlsx"
    assert run(session, b"\xd0\xcf\x11\xe0old", "x.xls").errors[0].code == "unsupported_format"
    good = zipfile.ZipFile(io.BytesIO(xlsx_file([["uscc", "name"], [new_uscc(), "A"]])))
    damaged = io.BytesIO()
    with zipfile.ZipFile(damaged, "w") as archive:
        for name in good.namelist():
            part = good.read(name)
            archive.writestr(name, part[: len(part) // 2] if name.endswith("sheet1.xml") else part)
    assert run(session, damaged.getvalue(), "x.xlsx").errors[0].code == "invalid_xlsx"


def test_too_many_rows_are_refused(session, monkeypatch):
    monkeypatch.setattr("registry.imports.operations.MAX_ROWS", 3)
    rows = [["uscc", "name"]] + [[new_uscc(), "A"] for _ in range(4)]
    outcome = run(session, csv_file(rows))
    assert [(e.row, e.code) for e in outcome.errors] == [(5, "too_many_rows")]
    assert MAX_ROWS == 100_000


def test_xlsx_with_typed_cells(session):
    from datetime import datetime

    code = new_uscc()
    data = xlsx_file(
        [
            ["uscc", "name", "contact_phone", "founded_on"],
            [code, "表格企业", 13800138000, datetime(2010, 5, 6)],
            [None, None, None, None],
        ]
    )
    outcome = run(session, data, "x.xlsx")
    assert outcome.applied, outcome.errors
    stored = session.scalars(select(Enterprise).where(Enterprise.uscc == code)).one()
    assert (stored.contact_phone, stored.founded_on.isoformat()) == ("13800138000", "2010-05-06")


@pytest.mark.slow
def test_ten_thousand_enterprises_import_in_seconds(session):
    rng = random.Random(5)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    codes = {
        make_uscc("360100", "".join(rng.choice(alphabet) for _ in range(8))) for _ in range(10_000)
    }
    rows = [["uscc", "name", "industry_code", "contact_email"]]
    rows += [[c, f"企业{i}", "aviation", f"x{i}@example.com"] for i, c in enumerate(sorted(codes))]
    before = counts(session)
    started = time.perf_counter()
    outcome = run(session, csv_file(rows))
    elapsed = time.perf_counter() - started
    assert outcome.applied, outcome.errors[:3]
    after = counts(session)
    assert after["Enterprise"] - before["Enterprise"] == len(codes)
    assert after["ChangeLogEntry"] - before["ChangeLogEntry"] == len(codes)
    assert after["AuditEntry"] - before["AuditEntry"] == len(codes)
    print(f"\n{len(codes)} enterprises imported in {elapsed:.2f} s")
    assert elapsed < 20  # measured 1.3 s (SQLite) and 2.2 s (PostgreSQL) on 2 cores


# --- annual reports ------------------------------------------------------------------------


def test_annual_reports_created_and_replaced(session, make):
    e = make.enterprise()
    make.report(e, 2023, employees=10, revenue=5)
    session.commit()
    rows = [
        ["uscc", "year", "employees", "tech_staff", "revenue", "total_income", "debt_ratio"],
        [e.uscc, 2023, 20, 5, "", "", "12.5"],
        [e.uscc, "2024", 30, "", 100, 200, ""],
    ]
    before = counts(session)
    outcome = run(session, xlsx_file(rows), "r.xlsx")
    assert outcome.applied, outcome.errors
    assert outcome.run.kind == "annual_reports"
    reports = {r.year: r for r in session.scalars(select(AnnualReport))}
    assert (reports[2023].employees, reports[2023].revenue, reports[2023].debt_ratio) == (
        20,
        None,
        12.5,
    )
    assert (reports[2024].revenue, reports[2024].version) == (100, 1)
    after = counts(session)
    assert after["ChangeLogEntry"] - before["ChangeLogEntry"] == 2
    assert after["AuditEntry"] - before["AuditEntry"] == 2


@pytest.mark.parametrize(
    ("cells", "column", "code"),
    [
        ({"employees": "5", "tech_staff": "9"}, "tech_staff", "inconsistent"),
        ({"employees": "-1"}, "employees", "out_of_range"),
        ({"employees": "many"}, "employees", "invalid_type"),
        ({"debt_ratio": "101"}, "debt_ratio", "out_of_range"),
        ({"year": "1980"}, "year", "out_of_range"),
        ({"year": ""}, "year", "required"),
        ({"uscc": None}, "uscc", "not_found"),
    ],
)
def test_annual_report_row_errors(session, make, cells, column, code):
    e = make.enterprise()
    session.commit()
    row = {"uscc": e.uscc, "year": "2023", "employees": "", "tech_staff": "", "debt_ratio": ""}
    row.update(cells)
    if row["uscc"] is None:
        row["uscc"] = new_uscc()
    outcome = run(session, csv_file([list(row), list(row.values())]))
    assert [(e.row, e.column, e.code) for e in outcome.errors] == [(2, column, code)]


# --- designations --------------------------------------------------------------------------


def test_designations_grant_with_numbers_and_enforce_the_quota(session, make):
    session.get(Tier, "chain_leader").quota = 2
    firms = [make.enterprise() for _ in range(3)]
    session.commit()
    header = ["uscc", "tier", "tier_since", "registration_number"]
    rows = [header] + [[f.uscc, "chain_leader", "2024-03-01", ""] for f in firms]
    before = counts(session)
    outcome = run(session, csv_file(rows))
    assert [(e.row, e.column, e.code) for e in outcome.errors] == [(4, "tier", "quota_full")]
    assert counts(session) == before
    rows = [
        header,
        [firms[0].uscc, "chain_leader", "2024-03-01", "JX-CL-2024-00007"],
        [firms[1].uscc, "chain_leader", "2024-03-01", ""],
    ]
    outcome = run(session, csv_file(rows))
    assert outcome.applied, outcome.errors
    session.refresh(firms[0])
    session.refresh(firms[1])
    assert (firms[0].tier, firms[0].registration_number) == ("chain_leader", "JX-CL-2024-00007")
    assert firms[1].registration_number == "JX-CL-2024-00001"
    assert session.scalar(select(func.count()).select_from(TierEvent)) == 2
    grants = session.scalars(select(AuditEntry).where(AuditEntry.action == "tier.grant")).all()
    assert len(grants) == 2 and grants[0].via == "cli"


@pytest.mark.parametrize(
    ("cells", "column", "code"),
    [
        ({"tier": "gold"}, "tier", "invalid_choice"),
        ({"tier_since": "2999-01-01"}, "tier_since", "out_of_range"),
        ({"tier_since": ""}, "tier_since", "required"),
        ({"registration_number": "JX-TS-2023-00001"}, "registration_number", "validation_failed"),
    ],
)
def test_designation_row_errors(session, make, cells, column, code):
    e = make.enterprise()
    session.commit()
    row = {
        "uscc": e.uscc,
        "tier": "tech_sme",
        "tier_since": "2024-01-01",
        "registration_number": "",
    }
    row.update(cells)
    outcome = run(session, csv_file([list(row), list(row.values())]))
    assert [(e.row, e.column, e.code) for e in outcome.errors] == [(2, column, code)]


def test_designations_follow_the_ladder_rules(session, make):
    holder = make.enterprise(tier="high_tech")
    closed = make.enterprise(status="deregistered")
    session.commit()
    rows = [
        ["uscc", "tier", "tier_since"],
        [holder.uscc, "tech_sme", "2024-01-01"],
        [closed.uscc, "tech_sme", "2024-01-01"],
        [new_uscc(), "tech_sme", "2024-01-01"],
    ]
    outcome = run(session, csv_file(rows))
    assert [(e.row, e.column, e.code) for e in outcome.errors] == [
        (2, "tier", "invalid_transition"),
        (3, "uscc", "invalid_transition"),
        (4, "uscc", "not_found"),
    ]


# --- the command ---------------------------------------------------------------------------


def test_cli_import_summary_and_refusal(session, runner, tmp_path):
    good = tmp_path / "good.csv"
    good.write_bytes(csv_file([["uscc", "name"], [new_uscc(), "A"]]))
    result = runner.invoke(args=["registry", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "imported 1 enterprises rows from good.csv" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_file([["uscc", "name"], ["nonsense", "A"]]))
    result = runner.invoke(args=["registry", "import", str(bad)])
    assert result.exit_code == 1
    assert "2,uscc,Unified social credit code,invalid_uscc,nonsense:" in result.stderr
    assert "refused bad.csv: 1 error(s)" in result.stderr
    report = tmp_path / "report.csv"
    result = runner.invoke(args=["registry", "import", str(bad), "--report", str(report)])
    assert result.exit_code == 1
    assert report.read_bytes().startswith("\ufeffRow,Column,Field,Code,Message".encode())
    runs = session.scalars(select(ImportRun).order_by(ImportRun.id)).all()
    assert [(r.status, r.via) for r in runs] == [
        ("applied", "cli"),
        ("refused", "cli"),
        ("refused", "cli"),
    ]


# --- the admin page ------------------------------------------------------------------------


def test_the_page_is_for_admins(app, session, auth, make):
    make.user("rev@example.com", Role.REVIEWER, password=PASSWORD)
    session.commit()
    assert app.test_client().get(PAGE).status_code == 303
    assert auth.signed_in("rev@example.com").get(PAGE).status_code == 403
    assert auth.signed_in("rev@example.com").post(PAGE, data={}).status_code == 403


def test_upload_list_and_report_download(session, auth, make):
    admin = make.user("admin@example.com", Role.ADMIN, password=PASSWORD)
    session.commit()
    client = auth.signed_in("admin@example.com")
    assert client.get(PAGE).status_code == 200
    bad = csv_file([["uscc", "name"], ["<img src=x onerror=alert(1)>", "A"]])
    answer = client.post(PAGE, data={"file": (io.BytesIO(bad), "bad.csv")})
    assert answer.status_code == 303
    page = client.get(PAGE).get_data(as_text=True)
    assert "bad.csv" in page and "<img src=x" not in page
    stored = session.scalars(select(ImportRun)).one()
    assert (stored.created_by, stored.via, stored.status) == (admin.id, "web", "refused")
    report = client.get(f"{PAGE}/{stored.id}/report")
    assert report.status_code == 200
    assert report.mimetype == "text/csv"
    assert "attachment" in report.headers["Content-Disposition"]
    assert "2,uscc,统一社会信用代码,invalid_uscc" in report.get_data(as_text=True)
    english = client.get(f"{PAGE}/{stored.id}/report?lang=en").get_data(as_text=True)
    assert "2,uscc,Unified social credit code,invalid_uscc" in english
    good = xlsx_file([["uscc", "name"], [new_uscc(), "A"]])
    answer = client.post(PAGE, data={"file": (io.BytesIO(good), "good.xlsx")})
    assert answer.status_code == 303
    assert session.scalar(select(func.count()).select_from(Enterprise)) == 1
    assert client.get(f"{PAGE}/999/report").status_code == 404
    assert client.post(PAGE, data={}).status_code == 422


def test_the_error_report_neutralises_formulas(session):
    outcome = run(session, csv_file([["uscc", "name"], ["=1+2", "A"]]))
    assert report_rows(outcome.run)[0]["Message"].startswith("'=1+2")


# --- in a real browser ---------------------------------------------------------------------


@pytest.mark.browser
def test_upload_in_a_browser(app, session, new_page, tmp_path, make):
    from playwright.sync_api import expect

    make.user("admin@example.com", Role.ADMIN, password=PASSWORD)
    session.commit()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_file([["uscc", "name"], ["<img src=x onerror=alert(1)>", "A"]]))
    good = tmp_path / "good.csv"
    good.write_bytes(csv_file([["uscc", "name"], [new_uscc(), "浏览器企业"]]))
    dialogs: list[str] = []
    page = new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, "admin@example.com")
    page.goto(PAGE)
    page.set_input_files("#file", str(bad))
    page.locator("form.form button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("bad.csv")
    with page.expect_download() as download:
        page.locator("a[href$='/report']").first.click()
    report = download.value.path().read_bytes().decode("utf-8-sig")
    assert re.search(r"^2,uscc,[^,]+,invalid_uscc,", report, re.M)
    page.set_input_files("#file", str(good))
    page.locator("form.form button[type=submit]").click()
    expect(page.locator(".flash")).to_contain_text("good.csv")
    assert session.scalar(select(func.count()).select_from(Enterprise)) == 1
    assert dialogs == []
