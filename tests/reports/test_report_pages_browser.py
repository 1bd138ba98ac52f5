"""The reports' pages in a real browser: the overview and each report draw their SVG
charts in both languages at 1280 px and 375 px, with no sideways scrolling, no console
error and no Content-Security-Policy refusal. Each page is kept as a screenshot for
people to look at: ``reports-<name>-<lang>-<width>.png`` in ``tmp/screenshots/`` (or
``$SCREENSHOTS_DIR``).

``make test`` looks at each page once, the languages and widths taking turns; ``make
test-long`` at every page in both languages at both widths.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from registry.accounts.models import Role
from registry.reports import catalogue
from tests.factories import PASSWORD
from tests.reports.page_world import report_world  # noqa: F401  (a fixture)
from tests.web.journeys import screenshots_dir
from tests.web.usability import HTML_LANG, phone_faults

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("report_world")]

#: The overview, then each report.
PAGES = ["overview", *(entry.name for entry in catalogue.REPORTS)]
LANGS = ("zh", "en")
WIDTHS = (1280, 375)
#: Who looks at the reviewers' report.
REVIEWER = "charts@registry.example"
#: The charts each page draws.
CHARTS = {"overview": 3, "coverage": 2}


def _walks():
    """(page, language, width): in ``make test`` one pairing per page, the pairings
    taking turns; the others in ``make test-long``."""
    for i, name in enumerate(PAGES):
        quick = (LANGS[i % 2], WIDTHS[(i // 2) % 2])
        for lang in LANGS:
            for width in WIDTHS:
                marks = [] if (lang, width) == quick else [pytest.mark.slow]
                yield pytest.param(name, lang, width, marks=marks, id=f"{name}-{lang}-{width}")


def watch(page) -> list[str]:
    """What goes wrong in the page: console errors (a CSP refusal is one) and uncaught
    exceptions."""
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}")
            if message.type == "error" or "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    return problems


@pytest.mark.parametrize(("name", "lang", "width"), list(_walks()))
def test_report_page_draws_its_charts_and_fits_the_screen(
    new_page, signed_in, session, make, name, lang, width
):
    page = new_page(width=width)
    problems = watch(page)
    if name == "pipeline":
        make.user(REVIEWER, Role.REVIEWER, password=PASSWORD)
        session.commit()  # and no read after it: on SQLite a read would hold the lock
        signed_in(page, REVIEWER, lang=lang)
    path = "/reports" if name == "overview" else f"/reports/{name}"
    answer = page.goto(f"{path}?lang={lang}")
    assert answer is not None and answer.status == 200
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])

    charts = page.locator("svg.chart")
    expect(charts).to_have_count(CHARTS.get(name, 1))
    for n in range(charts.count()):
        chart = charts.nth(n)
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 80, (n, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (n, box)
        assert chart.locator("title").text_content()
    if name != "overview":
        expect(page.locator("table.report-table caption")).not_to_be_empty()

    page.screenshot(path=str(_screenshot(f"reports-{name}-{lang}-{width}.png")), full_page=True)
    assert phone_faults(page) == []
    assert problems == []


def _screenshot(file: str):
    folder = screenshots_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder / file
