"""An enterprise's annual reports in the REST API, under their preconditions. The
ladder's routes under one enterprise are tested in tests/ladder/test_api_enterprise.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from registry.core import clock
from registry.core.models import ChangeLogEntry
from registry.enterprises.models import AnnualReport, Enterprise
from registry.enterprises.schemas import annual_report_out
from tests.fixtures.api import API, NOW, problem_of, refused_fields
from tests.fixtures.enterprises_api import feed_entries, with_tag

pytestmark = pytest.mark.usefixtures("pinned_clock")


@pytest.fixture
def client(api_client):
    return api_client


FIGURES = {
    "employees": 120,
    "tech_staff": 30,
    "rd_staff": 20,
    "revenue": 48_000_000,
    "total_income": 50_000_000,
    "total_assets": 40_000_000,
    "net_assets": 25_000_000,
    "total_cost": 41_000_000,
    "rd_expense": 3_000_000,
    "rd_domestic_expense": 2_500_000,
    "hightech_income": 30_000_000,
    "ip_class1": 2,
    "main_business_share": 87.5,
    "debt_ratio": 37.25,
}


def report_path(enterprise: Enterprise, year: int | None = None) -> str:
    path = f"{API}/enterprises/{enterprise.uscc}/annual-reports"
    return path if year is None else f"{path}/{year}"


def stored_report(session, enterprise: Enterprise, year: int) -> AnnualReport | None:
    session.expire_all()
    return session.scalars(
        select(AnnualReport).where(
            AnnualReport.enterprise_id == enterprise.id, AnnualReport.year == year
        )
    ).one_or_none()


def test_the_reports_of_an_enterprise_by_year(client, session, make, world):
    for year in (2024, 2022, 2023):
        make.report(world.a, year, employees=year - 2000)
    make.report(world.b, 2024, employees=1)
    session.commit()
    response = client.get(f"{report_path(world.a)}?limit=2", headers=world.headers["owner"])
    assert response.status_code == 200
    body = response.json
    assert [r["year"] for r in body["data"]] == [2022, 2023]
    assert body["data"][0] == annual_report_out.dump(stored_report(session, world.a, 2022))
    assert body["data"][0]["enterprise_uscc"] == world.a.uscc and body["has_more"] is True
    link = response.headers["Link"]
    rest = client.get(link[1 : link.index(">")], headers=world.headers["owner"]).json
    assert [r["year"] for r in rest["data"]] == [2024] and rest["next_cursor"] is None
    bad = client.get(f"{report_path(world.a)}?after=x", headers=world.headers["owner"])
    assert refused_fields(bad, "invalid_cursor") == [("after", "invalid_cursor")]


def test_every_page_equals_the_output_schema(client, session, make, world):
    """The list is written by the feed's serializer from the driver's values; each
    report equals AnnualReportOut's dump: whole percentages (stored as integers by
    SQLite), figures absent, the largest amounts, the optional figures."""
    make.report(world.a, 2019)  # every figure absent
    make.report(world.a, 2020, **FIGURES)
    make.report(world.a, 2021, main_business_share=45, debt_ratio=100, national_market_share=0)
    make.report(
        world.a, 2022, revenue=9_000_000_000_000, total_income=9_000_000_000_001,
        global_market_rank=1, years_in_field=12, product_revenue_share=70.5,
    )  # fmt: skip
    session.commit()
    listed, texts, after = [], [], ""
    while True:
        page = client.get(f"{report_path(world.a)}?limit=3{after}", headers=world.headers["owner"])
        listed += page.json["data"]
        texts.append(page.get_data(as_text=True))
        if not page.json["has_more"]:
            break
        after = f"&after={page.json['next_cursor']}"
    expected = [
        annual_report_out.dump(stored_report(session, world.a, year)) for year in range(2019, 2023)
    ]
    assert listed == expected
    assert '"main_business_share":45.0,' in texts[0]  # a float, as the schema writes it
    assert len(texts) == 2 and listed[3]["revenue"] == 9_000_000_000_000


def test_one_report_with_its_etag_and_404_without_one(client, session, make, world):
    make.report(world.a, 2024, **FIGURES)
    session.commit()
    response = client.get(report_path(world.a, 2024), headers=world.headers["owner"])
    assert response.status_code == 200 and response.headers["ETag"] == '"1"'
    assert response.json == annual_report_out.dump(stored_report(session, world.a, 2024))
    assert {k: response.json[k] for k in FIGURES} == FIGURES
    assert response.json["year"] == 2024 and response.json["ip_class2"] is None
    for year in (2023, 1980):
        missing = client.get(report_path(world.a, year), headers=world.headers["owner"])
        problem_of(missing, 404, "not_found")


def test_the_enterprise_creates_then_replaces_a_report(client, session, world):
    path = report_path(world.a, 2025)
    owner = world.headers["owner"]
    problem_of(client.put(path, json=FIGURES, headers=owner), 428, "precondition_required")
    created = client.put(path, json=FIGURES, headers=with_tag(owner, **{"If-None-Match": "*"}))
    assert created.status_code == 201, created.json
    assert created.headers["ETag"] == '"1"'
    assert created.headers["Location"].endswith(path)
    assert {k: created.json[k] for k in FIGURES} == FIGURES
    assert created.json == annual_report_out.dump(stored_report(session, world.a, 2025))
    again = client.put(path, json=FIGURES, headers=with_tag(owner, **{"If-None-Match": "*"}))
    problem_of(again, 412, "precondition_failed")

    problem_of(client.put(path, json=FIGURES, headers=owner), 428, "precondition_required")
    stale = client.put(path, json={"employees": 1}, headers=with_tag(owner, **{"If-Match": '"2"'}))
    problem_of(stale, 412, "precondition_failed")
    assert stored_report(session, world.a, 2025).employees == 120
    replaced = client.put(
        path, json={"employees": 99}, headers=with_tag(owner, **{"If-Match": '"1"'})
    )
    assert replaced.status_code == 200 and replaced.headers["ETag"] == '"2"'
    assert replaced.json["employees"] == 99 and replaced.json["revenue"] is None  # cleared
    key = f"{world.a.uscc}/2025"
    versions = session.scalars(select(ChangeLogEntry.version).where(ChangeLogEntry.key == key))
    assert list(versions) == [1, 2]


def test_an_unchanged_report_put_changes_nothing(client, session, world):
    path = report_path(world.a, 2024)
    first = client.put(
        path, json=FIGURES, headers=with_tag(world.headers["wang"], **{"If-None-Match": "*"})
    )
    assert first.status_code == 201
    entries = feed_entries(session)
    with clock.pinned(NOW + timedelta(hours=2)):
        same = client.put(
            path, json=FIGURES, headers=with_tag(world.headers["wang"], **{"If-Match": '"1"'})
        )
    assert same.status_code == 200 and same.headers["ETag"] == '"1"'
    assert same.json == first.json
    assert feed_entries(session) == entries


@pytest.mark.parametrize(
    ("year", "body", "refused"),
    [
        (2026, {}, [("year", "out_of_range")]),  # the current year is not completed
        (1989, {}, [("year", "out_of_range")]),
        (2024, {"employees": 10, "tech_staff": 11}, [("tech_staff", "inconsistent")]),
        (2024, {"revenue": 2, "total_income": 1}, [("revenue", "inconsistent")]),
        (2024, {"net_assets": 2, "total_assets": 1}, [("net_assets", "inconsistent")]),
        (2024, {"employees": -1}, [("employees", "out_of_range")]),
        (2024, {"global_market_rank": 0}, [("global_market_rank", "out_of_range")]),
        (2024, {"global_market_rank": -3}, [("global_market_rank", "out_of_range")]),
        (2024, {"debt_ratio": 100.5}, [("debt_ratio", "out_of_range")]),
        (2024, {"debt_ratio": 12.345}, [("debt_ratio", "invalid_format")]),
        (2024, {"debt_ratio": "12.5"}, [("debt_ratio", "invalid_type")]),
        (2024, {"employees": 1.5}, [("employees", "invalid_type")]),
        (2024, {"employees": True}, [("employees", "invalid_type")]),
        (2024, {"revenue": "1000"}, [("revenue", "invalid_type")]),
        (2024, {"year": 2024}, [("year", "read_only")]),
        (
            2024,
            {"version": 1, "enterprise_uscc": "x"},
            [("enterprise_uscc", "read_only"), ("version", "read_only")],
        ),
        (2024, {"turnover": 1}, [("turnover", "unknown_field")]),
    ],
)
def test_figures_are_checked(client, session, world, year, body, refused):
    response = client.put(
        report_path(world.a, year),
        json=body,
        headers=with_tag(world.headers["owner"], **{"If-None-Match": "*"}),
    )
    assert refused_fields(response) == refused
    assert stored_report(session, world.a, year) is None


@pytest.mark.parametrize(
    ("language", "message"), [("zh", "须在 1 至 2147483647 之间。"), ("en", "Must be from 1 to")]
)
def test_a_global_market_rank_starts_at_one_as_on_the_form(
    client, session, world, language, message
):
    """Rank 0 is refused by the API as by the annual report form (one rule,
    ``enterprises.checks``), in the caller's language; the document says so."""
    response = client.put(
        report_path(world.a, 2024),
        json={**FIGURES, "global_market_rank": 0},
        headers=with_tag(
            world.headers["owner"], **{"If-None-Match": "*", "Accept-Language": language}
        ),
    )
    assert refused_fields(response) == [("global_market_rank", "out_of_range")]
    assert response.json["errors"][0]["message"].startswith(message)
    assert stored_report(session, world.a, 2024) is None
    first = client.put(
        report_path(world.a, 2024),
        json={**FIGURES, "global_market_rank": 1},
        headers=with_tag(world.headers["owner"], **{"If-None-Match": "*"}),
    )
    assert first.status_code == 201, first.json
    schema = client.get(f"{API}/openapi.json").json["components"]["schemas"]["AnnualReportIn"]
    assert schema["properties"]["global_market_rank"]["minimum"] == 1
    assert schema["properties"]["employees"]["minimum"] == 0


def test_a_report_put_to_another_or_an_invalid_enterprise(client, world):
    headers = with_tag(world.headers["owner"], **{"If-None-Match": "*"})
    other = client.put(report_path(world.b, 2024), json=FIGURES, headers=headers)
    body = problem_of(other, 404, "not_found")
    assert world.b.uscc not in other.get_data(as_text=True) and body["errors"] == []
    invalid = client.put(
        f"{API}/enterprises/91360100ABC/annual-reports/2024", json={}, headers=headers
    )
    assert refused_fields(invalid, "invalid_uscc") == [("uscc", "invalid_uscc")]
