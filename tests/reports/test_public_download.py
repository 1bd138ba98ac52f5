"""The published list's download for people: headers in the page's language, city and
industry names beside their codes, dates people read (有效期至 the last day, not the
exclusive end), the page's search and filters, formulas still neutralised."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from registry.core import clock
from registry.ladder import operations as ladder
from tests.factories import TEST_ACTOR
from tests.reports.test_exports import download, read_csv, read_xlsx

ZH_HEADER = [
    "企业名称",
    "英文名称",
    "统一社会信用代码",
    "设区市代码",
    "设区市",
    "产业领域代码",
    "产业领域",
    "认定日期",
    "有效期至",
    "登记编号",
]
EN_HEADER = [
    "Enterprise name",
    "English name",
    "USCC",
    "City code",
    "City",
    "Industry code",
    "Industry",
    "Granted on",
    "Valid until",
    "Registration no.",
]


@pytest.fixture
def holders(session, make):
    """Two tech_sme holders granted on 2026-03-05 (Beijing), one outside the plan's
    industries and with a name that reads as a formula."""
    optics = make.enterprise(name="江西赣江光电科技有限公司", name_en="Ganjiang Optics")
    other = make.enterprise(name="=1+2", industry_code=None, city_code="360400", area="360400")
    with clock.pinned(datetime(2026, 3, 5, 2, 0, tzinfo=UTC)):
        for enterprise in (optics, other):
            ladder.grant_tier(session, enterprise, "tech_sme", actor=TEST_ACTOR, reason="x")
    session.commit()
    return optics, other


def header_of(data: bytes) -> list[str]:
    return data.decode("utf-8-sig").splitlines()[0].split(",")


@pytest.mark.parametrize(
    ("query", "headers", "expected"),
    [
        ("", {}, ZH_HEADER),
        ("&lang=en", {}, EN_HEADER),
        ("", {"Accept-Language": "en-GB,en;q=0.9"}, EN_HEADER),
    ],
)
def test_headers_speak_the_pages_language(client, holders, query, headers, expected):
    answer = client.get(f"/exports/tiers/tech_sme?format=csv{query}", headers=headers)
    assert answer.status_code == 200
    assert header_of(answer.get_data()) == expected


def test_names_beside_codes_and_dates_people_read(client, holders):
    optics, other = holders
    rows = {r["统一社会信用代码"]: r for r in read_csv(client.get("/exports/tiers/tech_sme").data)}
    row = rows[optics.uscc]
    assert (row["设区市代码"], row["设区市"]) == ("360100", "南昌市")
    assert (row["产业领域代码"], row["产业领域"]) == ("electronic_info", "电子信息")
    # Valid for calendar year 2026: the last day, not the stored 2027-01-01 00:00 (+08:00).
    assert (row["认定日期"], row["有效期至"]) == ("2026-03-05", "2026-12-31")
    assert row["英文名称"] == "Ganjiang Optics"
    assert row["登记编号"] == optics.registration_number
    row = rows[other.uscc]
    assert (row["设区市"], row["产业领域代码"], row["产业领域"]) == ("九江市", "", "其他产业")
    assert row["企业名称"] == "'=1+2"

    english = read_csv(client.get("/exports/tiers/tech_sme?lang=en").data)
    optics_en = next(r for r in english if r["USCC"] == optics.uscc)
    assert (optics_en["City"], optics_en["Industry"]) == ("Nanchang", "Electronic information")


def test_xlsx_carries_the_same_table(client, holders):
    optics, other = holders
    status, _mimetype, data = download(client, "/exports/tiers/tech_sme?format=xlsx&lang=en")
    assert status == 200
    rows = {r["USCC"]: r for r in read_xlsx(data)}
    assert list(rows[optics.uscc]) == EN_HEADER
    assert rows[optics.uscc]["Valid until"] == "2026-12-31"
    assert rows[optics.uscc]["City"] == "Nanchang"
    assert rows[other.uscc]["Enterprise name"] == "'=1+2"


def test_the_pages_search_and_filters_apply(client, holders):
    optics, other = holders

    def usccs(query: str) -> list[str]:
        answer = client.get(f"/exports/tiers/tech_sme?lang=en&{query}")
        assert answer.status_code == 200
        return [r["USCC"] for r in read_csv(answer.data)]

    assert usccs("q=光电") == [optics.uscc]
    assert usccs("q=ganjiang") == [optics.uscc]
    assert usccs(f"q={other.uscc[:10].lower()}") == [other.uscc]
    assert usccs("city=360400") == [other.uscc]
    assert usccs("industry=none&q=光电") == []
    assert client.get("/exports/tiers/tech_sme?q=" + "x" * 101).status_code == 422


def test_the_page_links_to_the_filtered_download(client, holders):
    html = client.get("/tiers/tech_sme?q=光电&city=360100").get_data(as_text=True)
    assert "下载筛选结果" in html
    link = "/exports/tiers/tech_sme?format=csv&amp;q=%E5%85%89%E7%94%B5&amp;city=360100"
    assert link in html
    assert "下载完整名单" in client.get("/tiers/tech_sme").get_data(as_text=True)


def test_the_champion_list_gives_the_route_and_the_little_giant(client, session, make):
    giant = make.enterprise(name="江西小巨人精密制造有限公司")
    single = make.enterprise(name="江西单项冠军材料有限公司")
    for enterprise, route, flag in ((giant, "srdi", True), (single, "single_champion", False)):
        ladder.grant_tier(
            session, enterprise, "champion", actor=TEST_ACTOR, reason="x", route=(route, flag)
        )
    session.commit()
    rows = {r["统一社会信用代码"]: r for r in read_csv(client.get("/exports/tiers/champion").data)}
    assert (rows[giant.uscc]["认定途径"], rows[giant.uscc]["小巨人"]) == ("专精特新中小企业", "是")
    assert (rows[single.uscc]["认定途径"], rows[single.uscc]["小巨人"]) == ("制造业单项冠军", "")
    english = read_csv(client.get("/exports/tiers/champion?lang=en").data)
    assert list(english[0])[-2:] == ["Route", "Little giant"]
    # The API's list and the machine export keep the codes.
    api = client.get("/api/v1/tiers/champion/enterprises").get_json()["data"]
    assert {(r["uscc"], r["route"], r["little_giant"]) for r in api} == {
        (giant.uscc, "srdi", True),
        (single.uscc, "single_champion", False),
    }
