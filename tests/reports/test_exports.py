"""Exports of enterprises and published lists (PRODUCT.md "Reports", QUALITY.md S9): CSV with
BOM and XLSX, formula cells neutralised, numbers kept numbers, the same rows as the API,
the download pages' access rules and the ``export`` command."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from registry.accounts.models import Role
from registry.enterprises.schemas import enterprise_out
from registry.ladder import operations as ladder
from registry.reports import exports
from tests.factories import TEST_ACTOR

HOSTILE = [
    '=HYPERLINK("http://evil.example","x")',
    "+1",
    "-2",
    "@SUM(A1:A2)",
    "\tTabbed",
    "\rReturn",
    "<img src=x onerror=alert(1)>",
    "{{7*7}}",
]


def read_csv(data: bytes) -> list[dict]:
    assert data.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def read_xlsx(data: bytes) -> list[dict]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    workbook.close()
    # XML reads a carriage return back as a line feed.
    cells = [[c.replace("\n", "\r") if isinstance(c, str) else c for c in r] for r in rows]
    return [dict(zip(rows[0], row, strict=True)) for row in cells[1:]]


def download(client, url: str):
    """Status, mimetype and body of a download (its file closed)."""
    with client.get(url) as answer:
        return answer.status_code, answer.mimetype, answer.get_data()


def expected(text: str) -> str:
    return "'" + text if text[0] in "=+-@\t\r" else text


@pytest.fixture
def hostile(session, make):
    """Enterprises named with formulas and markup, all holding tech_sme."""
    made = []
    for name in HOSTILE:
        enterprise = make.enterprise(name=name, contact_name="-3")
        ladder.grant_tier(session, enterprise, "tech_sme", actor=TEST_ACTOR, reason="test")
        made.append(enterprise)
    session.commit()
    return made


def test_neutralise():
    assert [exports.neutralise(v) for v in HOSTILE[:6]] == ["'" + v for v in HOSTILE[:6]]
    assert exports.neutralise(-2) == -2
    assert exports.neutralise(1.5) == 1.5
    assert exports.neutralise(None) is None
    assert exports.neutralise("a=b") == "a=b"


def test_enterprise_csv_neutralises_and_equals_the_api(hostile, auth):
    client = auth.signed_in_as_new(Role.REVIEWER)
    answer = client.get("/exports/enterprises?format=csv")
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = read_csv(answer.get_data())
    assert list(rows[0]) == list(exports.ENTERPRISE_COLUMNS)
    by_uscc = {row["uscc"]: row for row in rows}
    for enterprise in hostile:
        row = by_uscc[enterprise.uscc]
        assert row["name"] == expected(enterprise.name)
        assert row["contact_name"] == "'-3"
        api = enterprise_out.dump(enterprise)
        assert row["tier_expires_at"] == api["tier_expires_at"]
        assert row["version"] == str(api["version"])
        assert row["created_at"] == api["created_at"]


def test_enterprise_xlsx_neutralises_and_keeps_numbers(session, make, hostile, auth):
    merged = make.enterprise(status="merged", merged_into=hostile[0].uscc, source_version=None)
    session.commit()
    client = auth.signed_in_as_new(Role.ADMIN)
    status, mimetype, data = download(client, "/exports/enterprises?format=xlsx&status=merged")
    assert (status, mimetype) == (200, exports.XLSX_MIMETYPE)
    rows = read_xlsx(data)
    assert [row["uscc"] for row in rows] == [merged.uscc]
    assert rows[0]["version"] == 1  # a number, not text
    data = download(client, "/exports/enterprises?format=xlsx&tier=tech_sme")[2]
    names = sorted(row["name"] for row in read_xlsx(data))
    assert names == sorted(expected(n) for n in HOSTILE)


def test_enterprise_filters(session, make, auth):
    make.enterprise(city_code="360200", industry_code=None)
    other = make.enterprise(city_code="360100", industry_code="aviation")
    session.commit()
    client = auth.signed_in_as_new(Role.REVIEWER)

    def usccs(query: str) -> list[str]:
        return [r["uscc"] for r in read_csv(client.get(f"/exports/enterprises?{query}").get_data())]

    assert len(usccs("")) == 2
    assert usccs("city=360100&industry=aviation&tier=none&status=active") == [other.uscc]
    assert len(usccs("industry=none")) == 1
    assert client.get("/exports/enterprises?city=999999").status_code == 422
    assert client.get("/exports/enterprises?format=pdf").status_code == 422


def test_keyset_batches_cover_every_row(session, make, monkeypatch, auth):
    monkeypatch.setattr(exports, "BATCH", 3)
    made = sorted(make.enterprise().uscc for _ in range(10))
    session.commit()
    client = auth.signed_in_as_new(Role.REVIEWER)
    rows = read_csv(client.get("/exports/enterprises").get_data())
    assert [r["uscc"] for r in rows] == made


def test_published_list_is_public_and_holds_the_apis_enterprises(app, client, session, hostile):
    answer = client.get("/exports/tiers/tech_sme?format=csv&lang=en")
    assert answer.status_code == 200
    rows = read_csv(answer.get_data())
    api = client.get("/api/v1/tiers/tech_sme/enterprises?limit=100").json["data"]
    assert [r["USCC"] for r in rows] == [item["uscc"] for item in api]
    for row, item in zip(rows, api, strict=True):
        assert row["Enterprise name"] == expected(item["name"])
        assert row["Granted on"] == item["tier_since"]
    xlsx = read_xlsx(download(client, "/exports/tiers/tech_sme?format=xlsx&lang=en")[2])
    assert sorted(r["Enterprise name"] for r in xlsx) == sorted(expected(n) for n in HOSTILE)
    assert read_csv(client.get("/exports/tiers/tech_sme?city=360200").get_data()) == []
    assert client.get("/exports/tiers/gold").status_code == 404
    assert client.get("/exports/tiers/tech_sme?industry=mining").status_code == 422


def test_markup_stays_literal_on_the_pages(app, client, session, hostile):
    page = client.get("/tiers/tech_sme").get_data(as_text=True)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x" not in page
    assert "/exports/tiers/tech_sme?format=csv" in page


def test_download_access(app, auth):
    assert app.test_client().get("/exports/enterprises").status_code == 303
    for role, status in ((Role.ENTERPRISE, 403), (Role.REVIEWER, 200)):
        assert auth.signed_in_as_new(role).get("/exports/enterprises").status_code == status
    page = auth.signed_in_as_new(Role.ADMIN).get("/review/enterprises").get_data(as_text=True)
    assert 'action="/exports/enterprises"' in page


def test_export_command(runner, session, hostile, tmp_path):
    result = runner.invoke(args=["registry", "export", "enterprises"])
    assert result.exit_code == 0, result.output
    rows = read_csv(result.stdout_bytes)
    assert len(rows) == len(HOSTILE)
    out = tmp_path / "list.xlsx"
    result = runner.invoke(
        args=[
            "registry",
            "export",
            "list",
            "--tier",
            "tech_sme",
            "--format",
            "xlsx",
            "--out",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert len(read_xlsx(out.read_bytes())) == len(HOSTILE)
    for args in (
        ["list"],
        ["enterprises", "--format", "xlsx"],
        ["enterprises", "--city", "999999"],
        ["list", "--tier", "gold"],
        ["list", "--tier", "tech_sme", "--status", "active"],
    ):
        result = runner.invoke(args=["registry", "export", *args])
        assert result.exit_code == 2, (args, result.output)
