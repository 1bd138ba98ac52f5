"""The reports' pages (PRODUCT.md §8): the overview at ``/reports`` and each report at
``/reports/<name>`` with its charts, its table in names and figures, its notes and its
downloads; who sees what; the year and rung choices; and the way in from the header
and the home page."""

from __future__ import annotations

import re

import pytest

from registry.accounts.models import Role
from tests.reports.page_world import report_world  # noqa: F401  (a fixture)
from tests.web.usability import code_faults, language_faults, reading_text

pytestmark = pytest.mark.usefixtures("pinned_clock", "report_world")

PUBLIC = ("quota", "tier-by-city", "tier-by-industry", "moves", "progress", "coverage")


def page(client, path: str, status: int = 200) -> str:
    answer = client.get(path)
    assert answer.status_code == status, (path, answer.status_code)
    assert answer.mimetype == "text/html"
    return answer.get_data(as_text=True)


def table(html: str) -> str:
    """The report's table, its caption to its end."""
    return html[html.index('<table class="data-table report-table">') : html.index("</table>")]


def cells(html: str) -> list[list[str]]:
    """The table's rows as the texts of their cells (hidden words dropped)."""
    body = table(html)
    rows = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        texts = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([re.sub(r"<[^>]+>.*?</[^>]+>|<[^>]+>", "", t).strip() for t in texts])
    return rows


def for_staff_only(client, auth, make, *paths: str) -> None:
    """Each of ``paths`` sends an anonymous visitor to the login page and refuses an
    enterprise user."""
    owner = auth.signed_in_as_new(Role.ENTERPRISE, enterprise=make.enterprise())
    for path in paths:
        answer = client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["Location"].startswith("/login?next="), path
        assert owner.get(path).status_code == 403, path


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", PUBLIC)
def test_each_public_report_has_its_charts_table_notes_and_downloads(client, name, lang):
    html = page(client, f"/reports/{name}?lang={lang}")
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart' in html
    assert "<caption" in table(html) and '<th scope="col"' in table(html)
    assert 'class="report-notes"' in html
    assert f'href="/reports/{name}.csv' in html and f'href="/reports/{name}.xlsx' in html
    pieces = reading_text(html, lang)
    assert not language_faults(pieces, lang)
    assert not code_faults(pieces)
    # The identifiers of tiers, cities and industries are nowhere people read.
    for code in ("tech_sme", "high_tech", "360100", "electronic_info"):
        assert not any(code in piece for piece in pieces), code


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", "The plan's period, 2022–2025, ended on 2025-12-31. Its targets now act as"),
        ("zh", "规划期为2022—2025年，已于2025-12-31结束。规划目标现作为常设名额继续执行"),
    ],
)
@pytest.mark.parametrize("path", ["/reports", "/reports/quota", "/reports/progress"])
def test_the_reports_name_the_plans_period_and_its_end(client, path, lang, words):
    html = page(client, f"{path}?lang={lang}")
    head = html[html.index('<div class="page-head">') :]
    head = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", head[: head.index("</div>")]))
    assert words in head


def test_quota_table_gives_names_and_figures_with_separators(client):
    rows = cells(page(client, "/reports/quota"))
    assert rows[0][:3] == ["层级", "名额", "在册"]
    assert rows[1][:3] == ["科技型中小企业", "5,000", "5"]
    assert rows[1][5] == "4,995"
    assert rows[-1][:3] == ["合计", "8,123", "6"]
    english = cells(page(client, "/reports/quota?lang=en"))
    assert english[1][:3] == ["Technology-based SME", "5,000", "5"]
    assert english[-1][0] == "Total"


def test_tier_by_city_names_the_cities_and_the_rung_shown(client):
    html = page(client, "/reports/tier-by-city?lang=en")
    rows = cells(html)
    assert rows[0][:3] == ["City", "Technology-based SME", "High-tech enterprise"]
    by_city = {row[0]: row for row in rows[1:]}
    assert by_city["Nanchang"][1:3] == ["3", "0"]
    assert by_city["Ganzhou"][1] == "2"
    assert by_city["Jiujiang"][2] == "1"
    assert "Holders by city: all rungs" in html
    one = page(client, "/reports/tier-by-city?tier=high_tech&lang=en")
    assert "Holders by city: High-tech enterprise" in one
    assert '<option selected value="high_tech">' in one


def test_tier_by_industry_shows_one_rung_on_request(client):
    html = page(client, "/reports/tier-by-industry?tier=tech_sme")
    assert '<title id="chart-tier-by-industry-title">各产业领域在册企业：科技型中小企业' in html
    rows = {row[0]: row for row in cells(html)[1:]}
    assert rows["电子信息"][1:4] == ["优势型产业", "3", "0"]
    assert rows["其他产业"][1:4] == ["", "0", "1"]
    assert rows["合计"][2:4] == ["5", "1"]


def test_progress_states_the_method_under_the_chart_and_the_projection_in_words(client):
    html = page(client, "/reports/progress?lang=en")
    assert re.search(r"</svg>\s*<figcaption class=\"report-method\">The projection", html)
    projection = html[html.index('id="projection-title"') :]
    # Tech_sme: 1 holder at the end of August 2025, 5 at the end of February 2026, so 4
    # in 6 months; (5 000 − 5) × 6 ÷ 4 → 7 493 months on from March 2026.
    assert "Technology-based SME</dt><dd>At this pace, target reached in 2650-08" in projection
    assert "Chain leader</dt><dd>Target not reached at this pace" in projection
    # The notes do not repeat the method.
    notes = html[html.index('class="report-notes"') :]
    assert "Projection: at the mean" not in notes


def test_moves_table_has_a_row_per_month_and_the_tiers_side_by_side(client):
    html = page(client, "/reports/moves?lang=en")
    rows = cells(html)
    assert rows[0][:3] == ["Month", "Technology-based SME", "High-tech enterprise"]
    assert '<th scope="colgroup" colspan="3">Technology-based SME</th>' in html
    assert rows[1][:4] == ["Moved on", "Moved off", "Net change", "Moved on"]
    by_month = {row[0]: row[1:] for row in rows[2:]}
    assert len(by_month) == 24 + 1  # the months, then the totals
    assert by_month["2025-06"][:6] == ["1", "0", "1", "0", "0", "0"]
    assert by_month["2025-11"][:6] == ["0", "0", "0", "1", "0", "1"]
    assert by_month["Total"][:6] == ["5", "0", "5", "1", "0", "1"]


def test_progress_table_has_a_row_per_month_end_and_the_targets(client):
    rows = cells(page(client, "/reports/progress?lang=en"))
    assert rows[0][:3] == ["Month", "Technology-based SME", "High-tech enterprise"]
    by_month = {row[0]: row[1:] for row in rows[1:]}
    assert by_month["2025-05"][:2] == ["0", "0"]
    assert by_month["2025-06"][:2] == ["1", "0"]
    assert by_month["2026-03"][:2] == ["5", "1"]
    assert rows[-1] == ["Target (quota)", "5,000", "3,000", "100", "15", "8"]


def test_coverage_withholds_small_cells_for_the_public_with_the_note(client):
    html = page(client, "/reports/coverage?lang=en")
    rows = {row[0]: row for row in cells(html)[1:]}
    assert rows["Electronic information"][1:3] == ["3", "12,000,000"]
    assert rows["New materials"][1:3] == ["2", "—"]
    assert "(withheld)" in table(html)
    assert "To protect single enterprises&#39; figures" in html


def test_coverage_is_whole_for_reviewers(auth):
    reviewer = auth.signed_in_as_new(Role.REVIEWER, lang="en")
    html = page(reviewer, "/reports/coverage")
    rows = {row[0]: row for row in cells(html)[1:]}
    assert rows["New materials"][1:3] == ["2", "3,000,000"]
    assert "(withheld)" not in table(html)


def test_coverage_year_selector_and_its_downloads(client):
    html = page(client, "/reports/coverage?year=2024&lang=en")
    assert "(2024)" in html
    assert '<option selected value="2024">2024</option>' in html
    assert 'href="/reports/coverage.csv?year=2024"' in html
    assert 'href="/reports/coverage.xlsx?year=2024"' in html
    # Without a year, the last completed one, and the links say which.
    assert 'href="/reports/coverage.csv?year=2025"' in page(client, "/reports/coverage")
    # The selector's form sends a blank year for the default.
    assert 'href="/reports/coverage.csv?year=2025"' in page(client, "/reports/coverage?year=")


@pytest.mark.parametrize(
    ("choice", "lang", "message"),
    [
        ("tier-by-city?tier=nobody", "en", "Unknown rung: choose one from the list."),
        ("tier-by-city?tier=nobody", "zh", "未知的梯次，请从列表中选择。"),
        ("coverage?year=abc", "en", "Give the year as a number, such as 2025."),
        ("coverage?year=abc", "zh", "请以数字填写年份，例如 2025。"),
        ("coverage?year=2031", "en", "Choose a year from 1990 to 2025."),
        ("coverage?year=1989", "zh", "请选择 1990 年至 2025 年之间的年份。"),
    ],
)
def test_a_refused_choice_gives_the_page_again_with_the_error(client, choice, lang, message):
    """An unknown rung or a year that is not one the report has."""
    html = page(client, f"/reports/{choice}&lang={lang}", 422)
    assert message in html
    assert 'class="error-summary"' in html
    assert "<table" not in html  # no report under a refused choice


def test_pipeline_is_for_reviewers_and_admins(client, auth, make):
    for_staff_only(client, auth, make, "/reports/pipeline")
    for role in (Role.REVIEWER, Role.ADMIN):
        rows = cells(page(auth.signed_in_as_new(role, lang="en"), "/reports/pipeline"))
        assert rows[0][:2] == ["Tier", "Draft"]
        assert rows[1][:2] == ["Technology-based SME", "1"]


def test_an_unknown_report_is_not_found(client):
    page(client, "/reports/nothing", 404)


def test_the_overview_draws_three_charts_and_links_each_report_one_may_see(client, auth):
    html = page(client, "/reports?lang=en")
    for chart in ("chart-quota", "chart-moves", "chart-tier-by-city"):
        assert f'id="{chart}"' in html
    for name in PUBLIC:
        assert f'href="/reports/{name}"' in html
    assert 'href="/reports/pipeline"' not in html
    reviewer = auth.signed_in_as_new(Role.REVIEWER)
    assert 'href="/reports/pipeline"' in page(reviewer, "/reports")


@pytest.mark.parametrize(("lang", "word"), [("zh", "统计"), ("en", "Reports")])
def test_the_header_and_the_home_page_lead_to_the_reports(client, auth, lang, word):
    home = page(client, f"/?lang={lang}")
    assert f'<a href="/reports">{word}</a>' in home
    assert home.count('href="/reports"') >= 2  # the header and the page itself
    for role in (Role.ENTERPRISE, Role.REVIEWER, Role.ADMIN):
        signed_in = auth.signed_in_as_new(role, lang=lang)
        assert f'<a href="/reports">{word}</a>' in page(signed_in, "/")
    assert f'<a href="/reports" aria-current="page" class="is-active">{word}</a>' in page(
        client, "/reports"
    )
    # A report's page is in the same section of the header.
    assert f'<a href="/reports" class="is-active">{word}</a>' in page(client, "/reports/quota")
