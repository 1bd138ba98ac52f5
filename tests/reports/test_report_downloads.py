"""Each report as a download (PRODUCT.md §8): ``/reports/<name>.csv`` (UTF-8 with BOM)
and ``/reports/<name>.xlsx``, headers the column labels and codes names in the page's
language, numbers as numbers, text neutralised; the page's access rules (``pipeline``
for reviewers and admins, ``coverage`` withheld for everyone else)."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from registry.accounts.models import Role
from registry.ladder import operations as ladder
from registry.ladder.models import Tier
from tests.factories import TEST_ACTOR
from tests.reports.test_exports import download, read_csv
from tests.reports.test_report_pages import for_staff_only

pytestmark = pytest.mark.usefixtures("pinned_clock")


@pytest.fixture
def holders(session, make):
    """Two tech_sme holders in Nanchang (electronic_info), one high_tech in Jiujiang
    outside the plan's industries; 2025 reports, one giving 1000 of 1020 in revenue."""
    for revenue, tier, city, industry in (
        (1000, "tech_sme", "360100", "electronic_info"),
        (10, "tech_sme", "360100", "electronic_info"),
        (10, "high_tech", "360400", None),
    ):
        enterprise = make.enterprise(city_code=city, industry_code=industry)
        ladder.grant_tier(session, enterprise, tier, actor=TEST_ACTOR, reason="x")
        make.report(enterprise, 2025, revenue=revenue, rd_expense=5)
    session.commit()


def sheet(data: bytes) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    return rows


def test_csv_has_a_bom_the_labels_names_and_a_totals_row(client, holders):
    status, mimetype, data = download(client, "/reports/tier-by-city.csv")
    assert (status, mimetype) == (200, "text/csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = read_csv(data)
    assert list(rows[0]) == [
        "设区市",
        "科技型中小企业",
        "高新技术企业",
        "单项冠军企业和“专精特新”中小企业",
        "领航企业",
        "链主企业",
        "合计",
    ]
    assert [r["设区市"] for r in rows][:2] == ["南昌市", "景德镇市"]
    assert rows[0]["科技型中小企业"] == "2"
    assert [r["设区市"] for r in rows][-2:] == ["未知", "合计"]
    assert (rows[-1]["科技型中小企业"], rows[-1]["高新技术企业"], rows[-1]["合计"]) == (
        "2",
        "1",
        "3",
    )


def test_csv_in_english_with_the_industries_groups_and_other(client, holders):
    rows = read_csv(client.get("/reports/tier-by-industry.csv?lang=en").data)
    assert list(rows[0])[:3] == ["Industry", "Industry group", "Technology-based SME"]
    assert (rows[1]["Industry"], rows[1]["Industry group"]) == (
        "Electronic information",
        "Advantage industries",
    )
    other = rows[-3]
    assert (other["Industry"], other["Industry group"], other["High-tech enterprise"]) == (
        "Other industries",
        "",
        "1",
    )
    assert rows[-2]["Industry"] == "Industry not in this registry"
    assert rows[-1]["Industry"] == "Total"


def test_xlsx_numbers_stay_numbers(client, holders):
    status, mimetype, data = download(client, "/reports/quota.xlsx?lang=en")
    assert status == 200
    assert mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = sheet(data)
    assert rows[0] == (
        "Tier",
        "Quota",
        "Holders",
        "Reserved for promotions in notice",
        "Occupied",
        "Remaining",
        "Percent of quota",
    )
    assert rows[1] == ("Technology-based SME", 5000, 2, 0, 2, 4998, 0.04)
    assert isinstance(rows[1][1], int) and isinstance(rows[1][6], float)
    # The percents add up to nothing: that cell is left empty.
    assert rows[-1][:6] == ("Total", 8123, 3, 0, 3, 8120)
    assert rows[-1][6:] in ((), (None,))


def test_text_that_reads_as_a_formula_is_neutralised(client, session, holders):
    session.get(Tier, "tech_sme").name_en = "=HYPERLINK(1)"
    session.get(Tier, "high_tech").name_en = "-2+3"
    session.commit()
    rows = read_csv(client.get("/reports/quota.csv?lang=en").data)
    assert [r["Tier"] for r in rows][:2] == ["'=HYPERLINK(1)", "'-2+3"]
    # A column named after a tier: its header too.
    header = sheet(download(client, "/reports/tier-by-city.xlsx?lang=en")[2])[0]
    assert header[1:3] == ("'=HYPERLINK(1)", "'-2+3")
    # Negative numbers stay numbers.
    assert all(isinstance(v, int) for v in sheet(download(client, "/reports/moves.xlsx")[2])[1][2:])


def test_every_public_report_downloads_for_an_anonymous_visitor(client, holders):
    for name in ("quota", "tier-by-city", "tier-by-industry", "moves", "progress", "coverage"):
        for extension in ("csv", "xlsx"):
            status, _mimetype, data = download(client, f"/reports/{name}.{extension}")
            assert status == 200, (name, extension)
    status, _, data = download(client, "/reports/progress.xlsx")
    assert len(sheet(data)) == 1 + 24 * 5  # no totals row: progress has none


def test_pipeline_downloads_for_reviewers_and_admins_only(client, auth, make):
    for_staff_only(client, auth, make, "/reports/pipeline.csv", "/reports/pipeline.xlsx")
    for role in (Role.REVIEWER, Role.ADMIN):
        reviewer = auth.signed_in_as_new(role, lang="en")
        rows = read_csv(reviewer.get("/reports/pipeline.csv").data)
        assert list(rows[0]) == [
            "Tier",
            "Draft",
            "Submitted",
            "In review",
            "Changes requested",
            "In notice",
            "Total",
        ]


def test_coverage_withheld_for_the_public_and_whole_for_reviewers(client, auth, make, holders):
    public = read_csv(client.get("/reports/coverage.csv?lang=en").data)
    electronic = public[1]
    assert electronic["Industry"] == "Electronic information"
    assert (electronic["Enterprises reporting"], electronic["Revenue (yuan)"]) == ("2", "")
    assert public[-1]["Revenue (yuan)"] == ""  # the total: fewer than 3 give it
    owner = auth.signed_in_as_new(Role.ENTERPRISE, enterprise=make.enterprise(), lang="en")
    assert read_csv(owner.get("/reports/coverage.csv").data)[1]["Revenue (yuan)"] == ""

    reviewer = auth.signed_in_as_new(Role.REVIEWER, lang="en")
    whole = read_csv(reviewer.get("/reports/coverage.csv").data)
    assert (whole[1]["Revenue (yuan)"], whole[1]["R&D intensity (%)"]) == ("1010", "0.99")
    assert whole[-1]["Revenue (yuan)"] == "1020"
    # TCM and biomedicine share a row, named after both.
    assert whole[3]["Industry"] == "Traditional Chinese medicine and Biomedicine"
    rows = sheet(download(reviewer, "/reports/coverage.xlsx?year=2025")[2])
    assert rows[2][:3] == ("Electronic information", 2, 1010)


def test_an_unknown_report_or_a_bad_year(client):
    assert client.get("/reports/nothing.csv").status_code == 404
    assert client.get("/reports/nothing.xlsx").status_code == 404
    assert client.get("/reports/coverage.csv?year=twenty").status_code == 422
    assert client.get("/reports/coverage.csv?year=2026").status_code == 422
