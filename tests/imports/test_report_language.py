"""An import's error report in its reader's language (issue 12 item 2, QUALITY.md U1): the
download and the admin page say every message in the request's language, each column
of the file by its label beside its name; the command line's report is English."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from registry.accounts.models import Role
from registry.enterprises.uscc import make_uscc
from registry.imports.models import ImportRun
from registry.ladder import operations as ladder
from registry.ladder.models import Tier
from tests.factories import PASSWORD, TEST_ACTOR, new_uscc
from tests.imports.test_imports import PAGE, csv_file, report_rows, run

#: Three English words in a row: no Chinese report may hold one.
ENGLISH = re.compile(r"[A-Za-z]+(?: [A-Za-z]+){2,}")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def enterprise_rows() -> list[list]:
    """A file of enterprises with a fault of each kind on its rows."""
    return [
        ["uscc", "name", "city_code", "founded_on", "contact_email", "status", "merged_into"],
        [new_uscc(), "", "360100", "", "", "", ""],
        [new_uscc(), "甲", "999999", "2999-01-01", "", "", ""],
        [new_uscc(), "乙", "", "01/02/2003", "not an email", "closed", ""],
        [new_uscc(), "丙" * 201, "", "", "", "merged", ""],
        ["9136010055", "丁", "", "", "", "", ""],
    ]


def test_every_message_of_the_report_is_in_the_language_asked_for(session):
    outcome = run(session, csv_file(enterprise_rows()))
    assert not outcome.applied and len(outcome.errors) >= 8
    chinese = report_rows(outcome.run, "zh")
    english = report_rows(outcome.run, "en")
    assert list(chinese[0]) == ["行号", "列名", "字段", "错误代码", "说明"]
    assert list(english[0]) == ["Row", "Column", "Field", "Code", "Message"]
    for line in chinese:
        assert CHINESE.search(line["说明"]) and not ENGLISH.search(line["说明"]), line
        assert CHINESE.search(line["字段"]), line
    for line in english:
        assert not CHINESE.search(line["Message"] + line["Field"]), line
    said = {(line["行号"], line["列名"]): (line["字段"], line["说明"]) for line in chinese}
    assert said[("2", "name")] == ("名称", "此项为必填项。")
    assert said[("3", "city_code")] == ("设区市", "代码不存在。")
    assert said[("4", "contact_email")] == ("电子邮箱", "请输入有效的电子邮箱地址。")
    assert said[("5", "name")] == ("名称", "最多 200 个字符。")
    assert said[("6", "uscc")] == (
        "统一社会信用代码",
        "9136010055：统一社会信用代码应为18位，当前为10位。",
    )
    said = {(line["Row"], line["Column"]): line["Message"] for line in english}
    assert said[("4", "founded_on")] == "Must be a date written YYYY-MM-DD."
    assert said[("4", "status")] == "Must be one of: active, deregistered, merged."


def test_file_and_figure_faults_in_both_languages(session, make):
    outcome = run(session, csv_file([["uscc", "colour"], [new_uscc(), "red"]]))
    [line] = report_rows(outcome.run, "zh")
    assert line["错误代码"] == "unknown_kind" and line["说明"].startswith(
        "表头与任何一种记录都不匹配"
    )
    enterprise = make.enterprise()
    session.commit()
    rows = [["uscc", "year", "employees", "rd_staff"], [enterprise.uscc, "2024", "5", "6"]]
    outcome = run(session, csv_file(rows))
    [line] = report_rows(outcome.run, "zh")
    assert (line["列名"], line["字段"], line["说明"]) == (
        "rd_staff",
        "研发人员",
        "不能大于 employees 列的值。",
    )
    [line] = report_rows(outcome.run, "en")
    assert line["Message"] == "Cannot be more than the column employees."


def test_a_tier_is_named_in_the_language_of_the_report(session, make):
    holder = make.enterprise()
    ladder.grant_tier(session, holder, "high_tech", actor=TEST_ACTOR, reason="granted")
    session.get(Tier, "tech_sme").quota = 0
    newcomer = make.enterprise()
    session.commit()
    rows = [
        ["uscc", "tier", "tier_since"],
        [holder.uscc, "tech_sme", "2025-01-01"],
        [newcomer.uscc, "tech_sme", "2025-01-01"],
    ]
    outcome = run(session, csv_file(rows))
    tiers = {t.code: t for t in session.scalars(select(Tier))}
    chinese = {line["行号"]: line["说明"] for line in report_rows(outcome.run, "zh")}
    english = {line["Row"]: line["Message"] for line in report_rows(outcome.run, "en")}
    assert chinese["2"] == f"{holder.uscc} 已是{tiers['high_tech'].name_zh}，即该层级或更高层级。"
    assert (
        english["2"] == f"{holder.uscc} holds {tiers['high_tech'].name_en}, this or a higher tier."
    )
    assert tiers["tech_sme"].name_zh in chinese["3"] and "名额已满" in chinese["3"]
    assert english["3"].startswith(f"The quota of {tiers['tech_sme'].name_en} is full")


def test_the_command_line_report_is_english(session, runner, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_file([["uscc", "name"], [make_uscc("360100", "MA35K8T2"), ""]]))
    result = runner.invoke(args=["registry", "import", str(bad)])
    assert result.exit_code == 1
    assert "2,name,Name,required,This field is required." in result.stderr
    assert not CHINESE.search(result.stderr.split("refused")[0])


@pytest.fixture
def admin(session, auth, make):
    make.user("admin@example.com", Role.ADMIN, password=PASSWORD)
    session.commit()
    return auth.signed_in("admin@example.com")


def test_the_page_lists_the_first_errors_with_labels_in_its_language(session, admin):
    bad = csv_file(enterprise_rows())
    admin.post(PAGE, data={"file": (io.BytesIO(bad), "bad.csv")})
    page = admin.get(f"{PAGE}?lang=zh").get_data(as_text=True)
    section = re.search(r'<section[^>]*aria-labelledby="errors-title".*?</section>', page, re.S)
    assert section is not None
    errors = section.group(0)
    assert "bad.csv 未能导入的原因" in errors
    assert '电子邮箱 <span class="code" translate="no">contact_email</span>' in errors
    assert "请输入有效的电子邮箱地址。" in errors and "Not a valid" not in errors
    english = admin.get(f"{PAGE}?lang=en").get_data(as_text=True)
    assert "Why bad.csv was refused" in english and "Enter a valid email address." in english


def test_a_report_an_earlier_version_stored_as_csv_is_served_as_it_is(session, admin):
    stored = "\ufeffrow,column,code,message\r\n2,uscc,invalid_uscc,x\r\n".encode()
    refused = ImportRun(
        filename="old.csv", kind="enterprises", status="refused", via="cli", report=stored
    )
    session.add(refused)
    session.commit()
    assert admin.get(f"{PAGE}/{refused.id}/report").data == stored
    assert admin.get(PAGE).status_code == 200


def test_the_report_keeps_its_values_through_the_database(session):
    outcome = run(session, csv_file([["uscc", "name"], ["=1+2", "A"]]))
    session.expire_all()
    stored = session.get(ImportRun, outcome.run.id)
    text = report_rows(stored, "en")[0]["Message"]
    assert text.startswith("'=1+2: ")  # neutralised as a formula, values kept
    assert list(csv.reader(io.StringIO(stored.report.decode())))  # JSON, not a CSV
