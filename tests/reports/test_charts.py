"""The reports' charts drawn from hand-made reports: well-formed SVG in the request's
language with a title and a description, nothing the CSP refuses (no inline style, no
script, nothing fetched), and bars, tiles and points that carry the report's figures."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask_babel import refresh

from registry.reports import city_map, progress_chart, report_charts, time_charts
from registry.reports.chart_figures import nice_ceiling, ticks
from registry.reports.charts import WIDTH, Svg
from registry.reports.names import chart_names
from tests.reports import chart_reports as reports
from tests.web.usability import code_faults, language_faults, reading_text

SVG = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).resolve().parents[2]

#: Each chart: its report and how it is drawn.
CHARTS = {
    "quota": (reports.quota, report_charts.quota_chart),
    "pipeline": (reports.pipeline, report_charts.pipeline_chart),
    "moves": (reports.moves, time_charts.moves_chart),
    "progress": (reports.progress, progress_chart.progress_chart),
    "tier-by-city": (reports.tier_by_city, city_map.city_map_chart),
    "tier-by-industry": (reports.tier_by_industry, report_charts.industry_chart),
    "coverage-revenue": (reports.coverage, report_charts.coverage_revenue_chart),
    "coverage-intensity": (reports.coverage, report_charts.coverage_intensity_chart),
}


@pytest.fixture
def in_language(app):
    """``in_language(lang)``: a request in ``lang``, for the charts' words."""
    contexts = []

    def enter(lang: str):
        context = app.test_request_context(f"/reports?lang={lang}")
        context.push()
        refresh()  # the language is chosen afresh for each request
        contexts.append(context)

    yield enter
    for context in reversed(contexts):
        context.pop()


def draw(name: str, lang: str, **kwargs) -> ET.Element:
    build, chart = CHARTS[name]
    return ET.fromstring(str(chart(build(lang), reports.names(lang), **kwargs)))


def find(svg: ET.Element, tag: str, css_class: str | None = None) -> list[ET.Element]:
    """``tag`` elements of ``svg`` whose class list holds ``css_class``."""
    return [
        e
        for e in svg.iter(SVG + tag)
        if css_class is None or css_class in e.get("class", "").split()
    ]


def texts(svg: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in svg.iter(SVG + "text")]


def number(value: str) -> float:
    return float(value)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("name", list(CHARTS))
def test_each_chart_is_svg_in_the_page_language_that_the_csp_allows(in_language, name, lang):
    in_language(lang)
    build, chart = CHARTS[name]
    markup = str(chart(build(lang), reports.names(lang)))
    svg = ET.fromstring(markup)  # well-formed
    assert svg.tag == SVG + "svg"
    assert svg.get("role") == "img"
    assert svg.get("width") == "100%"
    assert svg.get("viewBox").startswith(f"0 0 {WIDTH} ")
    title, desc = svg.find(SVG + "title"), svg.find(SVG + "desc")
    assert svg.get("aria-labelledby") == title.get("id")
    assert svg.get("aria-describedby") == desc.get("id")
    assert title.text.strip() and len(desc.text) > 20
    # The CSP: no inline style, no script, nothing fetched from elsewhere.
    assert "style" not in markup.lower()
    assert not any(e.tag in (SVG + "script", SVG + "style") for e in svg.iter())
    assert not any(a.endswith("href") or a.startswith("on") for e in svg.iter() for a in e.attrib)
    assert "http" not in markup.replace("http://www.w3.org/2000/svg", "")
    # Every word in the request's language, and no code where people read.
    pieces = reading_text(markup, lang)
    assert language_faults(pieces, lang) == []
    assert code_faults(pieces) == []
    if lang == "zh":
        assert re.search(r"[\u4e00-\u9fff]", title.text)
        assert re.search(r"[\u4e00-\u9fff]", desc.text)


@pytest.mark.parametrize("name", list(CHARTS))
def test_an_empty_report_draws_its_empty_state(in_language, name):
    in_language("en")
    build, chart = CHARTS[name]
    empty = reports.empty(build.__name__)
    svg = ET.fromstring(str(chart(empty, reports.names("en"))))
    shown = find(svg, "text", "chart-empty")
    assert len(shown) == 1 and shown[0].text.startswith("There are no ")
    assert svg.find(SVG + "desc").text == shown[0].text
    assert find(svg, "rect", "chart-bar") == []


def test_names_are_text_never_markup(in_language):
    in_language("en")
    hostile = '<script>x()</script> "T" & <b>S</b>'
    names = reports.names("en")
    names = type(names)({**names.tiers, "tech_sme": hostile}, names.cities, names.industries)
    markup = str(report_charts.quota_chart(reports.quota(), names))
    svg = ET.fromstring(markup)
    assert not any(e.tag in (SVG + "script", SVG + "b") for e in svg.iter())
    assert hostile in texts(svg)
    assert hostile in svg.find(SVG + "desc").text


def test_quota_bars_are_holders_and_slots_in_notice_against_each_quota(in_language):
    in_language("en")
    svg = draw("quota", "en")
    holders = find(svg, "rect", "chart-bar--holders")
    reserved = find(svg, "rect", "chart-bar--reserved")
    tracks = find(svg, "rect", "chart-track")
    rows = reports.quota().rows
    assert len(holders) == len(tracks) == 5
    assert len(reserved) == 4  # the chain leaders have no slot in notice
    for bar, row in zip(holders, rows, strict=True):
        assert number(bar.get("width")) == pytest.approx(
            WIDTH * row["holders"] / row["quota"], abs=0.01
        )
        assert bar.get("data-value") == str(row["holders"])
    # A slot in notice follows the holders on the same track.
    tech = holders[0]
    assert number(reserved[0].get("x")) == pytest.approx(
        number(tech.get("x")) + number(tech.get("width")), abs=0.01
    )
    assert all(number(t.get("width")) == pytest.approx(WIDTH) for t in tracks)
    assert "63.3%" in texts(svg)
    assert "3,120 holders, 45 in notice, quota 5,000" in texts(svg)
    desc = svg.find(SVG + "desc").text
    assert (
        "Technology-based SME: 3,120 holders and 45 in notice of a quota of 5,000 (63.3% taken)."
        in desc
    )


def test_quota_chart_in_chinese(in_language):
    in_language("zh")
    svg = draw("quota", "zh")
    assert svg.find(SVG + "title").text == "各梯次名额占用"
    assert "科技型中小企业" in texts(svg)
    assert "在册 3,120 家，公示中 45 家，名额 5,000 个" in texts(svg)


def test_pipeline_stacks_the_states_on_one_scale(in_language):
    in_language("en")
    svg = draw("pipeline", "en")
    rows = reports.pipeline().rows
    top = max(row["total"] for row in rows)
    drawn = {}
    for bar in find(svg, "rect", "chart-bar"):
        drawn.setdefault(bar.get("y"), []).append(bar)
    assert len(drawn) == 5
    for bars, row in zip(drawn.values(), rows, strict=True):
        assert len(bars) == sum(1 for s in reports.STATES if row[s])
        assert sum(number(b.get("width")) for b in bars) == pytest.approx(
            WIDTH * row["total"] / top, abs=0.05
        )


def test_moves_bars_go_up_for_moves_on_and_down_for_moves_off_with_a_dot_for_net(in_language):
    in_language("en")
    svg = draw("moves", "en")
    rows = reports.moves().rows
    on = find(svg, "rect", "chart-bar--on")
    off = find(svg, "rect", "chart-bar--off")
    net = find(svg, "circle", "chart-net")
    assert len(on) == sum(1 for r in rows if r["moved_on"])
    assert len(off) == sum(1 for r in rows if r["moved_off"])
    assert len(net) == 24 * 5
    # In a panel a bar's height is proportional to its figure, on bars stand on the
    # zero line and the net dots sit at their figure on the same scale.
    tech = [r for r in rows if r["tier"] == "tech_sme"]
    tech_on = on[: sum(1 for r in tech if r["moved_on"])]
    ratios = [number(b.get("height")) / int(b.get("data-value")) for b in tech_on]
    scale = ratios[0]
    assert ratios == [pytest.approx(scale, abs=0.01)] * len(ratios)
    ends = [number(b.get("y")) + number(b.get("height")) for b in tech_on]
    zero = ends[0]
    assert ends == [pytest.approx(zero, abs=0.02)] * len(ends)
    for dot, row in zip(net[:24], tech, strict=True):
        assert int(dot.get("data-value")) == row["net"]
        assert number(dot.get("cy")) == pytest.approx(zero - scale * row["net"], abs=0.5)
    # A few months named, the first and the current one among them.
    assert {"2023-08", "2025-07"} <= set(texts(svg))
    assert "From 2023-08 to 2025-07:" in svg.find(SVG + "desc").text


def test_moves_of_one_tier(in_language):
    in_language("en")
    svg = draw("moves", "en", tiers=["champion"])
    assert len(find(svg, "circle", "chart-net")) == 24
    assert "Specialised champion" in texts(svg)
    assert "Technology-based SME" not in texts(svg)


def test_progress_draws_24_month_ends_the_target_and_the_projection(in_language):
    in_language("en")
    svg = draw("progress", "en")
    lines = find(svg, "polyline", "chart-line")
    assert len(lines) == 5
    assert all(len(line.get("points").split()) == 24 for line in lines)
    points = find(svg, "circle", "chart-point")
    assert len(points) == 24 * 5
    rows = reports.progress().rows
    tech = [r["holders"] for r in rows if r["tier"] == "tech_sme"]
    assert [int(p.get("data-value")) for p in points[:24]] == tech
    # Higher figures are higher up.
    ys = [number(p.get("cy")) for p in points[:24]]
    assert ys == sorted(ys, reverse=True)
    targets = find(svg, "line", "chart-target")
    assert [t.get("data-value") for t in targets] == ["5000", "3000", "100", "15", "8"]
    # Three tiers are projected; the champions have reached theirs, the navigators will
    # not at this pace.
    projections = find(svg, "line", "chart-projection")
    assert len(projections) == 3
    tech_line = projections[0]
    assert number(tech_line.get("y2")) == pytest.approx(number(targets[0].get("y1")), abs=0.01)
    # high_tech's projection (2035) runs out of the 12 months drawn, below the target.
    assert number(projections[1].get("y2")) > number(targets[1].get("y1"))
    shown = texts(svg)
    assert "At this pace, target reached in 2026-02" in shown
    assert "Target reached" in shown
    assert "Target not reached at this pace" in shown
    assert "2026-07" in shown  # the end of the 12 months ahead
    desc = svg.find(SVG + "desc").text
    assert "Navigator enterprise: 12 holders at the end of 2023-08, 7 now, target 15." in desc


def test_progress_method_is_said_in_the_page_language(in_language):
    in_language("en")
    english = progress_chart.progress_method()
    assert "mean net monthly change of the last 6 complete months" in english
    in_language("zh")
    chinese = progress_chart.progress_method()
    assert "近 6 个完整月" in chinese
    assert language_faults([chinese], "zh") == []


def test_city_map_places_the_eleven_cities_roughly_where_they_lie(in_language):
    in_language("en")
    svg = draw("tier-by-city", "en")
    tiles = {g.get("data-city"): g for g in find(svg, "g", "chart-tile")}
    assert set(tiles) == set(city_map.TILES) and len(tiles) == 11
    rows = {r["city_code"]: r for r in reports.tier_by_city().rows}
    for code, tile in tiles.items():
        assert tile.get("data-value") == str(rows[code]["total"])
        assert f"{rows[code]['total']:,}" in texts(tile)

    def at(code):
        rect = tile_rect(tiles[code])
        return number(rect.get("x")), number(rect.get("y"))

    jiujiang, ganzhou, nanchang = at("360400"), at("360700"), at("360100")
    pingxiang, fuzhou, shangrao = at("360300"), at("361000"), at("361100")
    assert jiujiang[1] < nanchang[1] < ganzhou[1]  # north to south
    assert pingxiang[0] < nanchang[0] < fuzhou[0] < shangrao[0]  # west to east
    # The largest figure is the darkest tile, with light text on it.
    darkest = tile_rect(tiles["360100"]).get("fill")
    assert darkest == "#0f2c4d"
    assert "Holders in a city not on the list: " in " ".join(texts(svg))
    assert "largest first: Nanchang 1,494; Shangrao 766;" in svg.find(SVG + "desc").text


def tile_rect(tile: ET.Element) -> ET.Element:
    return tile.find(SVG + "rect")


def test_city_map_of_one_tier(in_language):
    in_language("zh")
    svg = draw("tier-by-city", "zh", column="champion")
    rows = {r["city_code"]: r for r in reports.tier_by_city().rows}
    tiles = find(svg, "g", "chart-tile")
    assert {t.get("data-value") for t in tiles} <= {str(r["champion"]) for r in rows.values()}
    assert tiles[0].get("data-value") == str(rows[tiles[0].get("data-city")]["champion"])
    assert "单项冠军企业和“专精特新”中小企业" in svg.find(SVG + "title").text


def test_city_shades_are_round_ranges_lightest_first():
    steps = city_map.shade_steps(1480)
    assert [(low, high) for low, high, _fill in steps] == [(1, 500), (501, 1000), (1001, 1500)]
    assert steps[0][2] == "#dde8f5" and steps[-1][2] == "#0f2c4d"
    assert city_map.shade_steps(0) == []


def test_industry_bars_stand_in_the_plans_three_groups_then_the_rest(in_language):
    in_language("en")
    svg = draw("tier-by-industry", "en")
    groups = [t.text for t in find(svg, "text", "chart-group")]
    assert groups == ["Advantage industries", "Growth industries", "Future industries", "Other"]
    rows = reports.tier_by_industry().rows
    bars = find(svg, "rect", "chart-bar")
    assert [b.get("data-value") for b in bars] == [str(r["total"]) for r in rows if r["total"]]
    top = nice_ceiling(max(r["total"] for r in rows))
    for bar in bars:
        assert number(bar.get("width")) == pytest.approx(
            WIDTH * int(bar.get("data-value")) / top, abs=0.01
        )
    assert "No emerging industry" in texts(svg) and "Industry not on the list" in texts(svg)


def test_industry_bars_of_one_tier_in_chinese(in_language):
    in_language("zh")
    svg = draw("tier-by-industry", "zh", column="high_tech")
    assert [t.text for t in find(svg, "text", "chart-group")] == [
        "优势型产业",
        "成长型产业",
        "未来产业",
        "其他",
    ]
    assert "高新技术企业" in svg.find(SVG + "title").text
    assert "电子信息" in texts(svg)


def test_coverage_revenue_against_the_plans_targets_with_a_gap_where_withheld(in_language):
    in_language("en")
    svg = draw("coverage-revenue", "en")
    targeted = [r for r in reports.coverage().rows if r["revenue_target"]]
    assert len(find(svg, "rect", "chart-track")) == len(targeted) == 6
    bars = find(svg, "rect", "chart-bar")
    drawn = [r for r in targeted if r["revenue"] is not None]
    assert len(bars) == len(drawn) == 5  # new energy withheld: a gap
    for bar, row in zip(bars, drawn, strict=True):
        assert number(bar.get("width")) == pytest.approx(
            WIDTH * row["revenue"] / row["revenue_target"], abs=0.01
        )
    shown = texts(svg)
    assert "380 bn yuan of 1,200 bn yuan" in shown
    assert "— of 250 bn yuan" in shown
    assert shown.count("—") == 1
    assert any(t.startswith("— withheld: fewer than 3 enterprises") for t in shown)
    assert "Chinese medicine and biomedicine" in shown
    assert "New energy: revenue withheld; 2025 target 250 bn yuan." in svg.find(SVG + "desc").text


def test_coverage_revenue_in_chinese_is_in_hundred_million_yuan(in_language):
    in_language("zh")
    svg = draw("coverage-revenue", "zh")
    assert "3,800亿元 / 目标 12,000亿元" in texts(svg)


def test_coverage_intensity_beside_the_plans_two_percent(in_language):
    in_language("en")
    svg = draw("coverage-intensity", "en")
    report = reports.coverage()
    values = [r["rd_intensity"] for r in report.rows] + [
        t["rd_intensity"] for t in report.extra["by_tier"]
    ]
    references = find(svg, "line", "chart-reference")
    assert len(references) == len(values) == 20
    # The plan's 2 % at the same place on every row, on the bars' scale.
    bars = find(svg, "rect", "chart-bar")
    assert len(bars) == sum(1 for v in values if v is not None)
    top = nice_ceiling(max(v for v in values if v is not None))
    assert [number(r.get("x1")) for r in references] == [
        pytest.approx(WIDTH * 2 / top, abs=0.01)
    ] * 20
    for bar, value in zip(bars, [v for v in values if v is not None], strict=True):
        assert number(bar.get("width")) == pytest.approx(WIDTH * value / top, abs=0.01)
    shown = texts(svg)
    assert shown.count("—") == values.count(None)
    assert [t.text for t in find(svg, "text", "chart-group")] == ["By industry", "By rung"]
    assert "Plan's target: 2%" in shown


def test_a_gap_without_suppression_is_no_figure_rather_than_withheld(in_language):
    in_language("en")
    report = reports.coverage(suppress=False)
    svg = ET.fromstring(str(report_charts.coverage_intensity_chart(report, reports.names("en"))))
    shown = texts(svg)
    assert "— no figure." in shown
    assert not any("withheld" in t for t in shown)


def test_charts_for_each_report(in_language):
    in_language("en")
    names = reports.names("en")
    drawn = {
        name: report_charts.charts_for(build(), names)
        for name, build in [
            ("quota", reports.quota),
            ("pipeline", reports.pipeline),
            ("moves", reports.moves),
            ("progress", reports.progress),
            ("tier-by-city", reports.tier_by_city),
            ("tier-by-industry", reports.tier_by_industry),
            ("coverage", reports.coverage),
        ]
    }
    assert {name: len(charts) for name, charts in drawn.items()} == {
        "quota": 1,
        "pipeline": 1,
        "moves": 1,
        "progress": 1,
        "tier-by-city": 1,
        "tier-by-industry": 1,
        "coverage": 2,
    }
    ids = [ET.fromstring(str(c)).get("id") for charts in drawn.values() for c in charts]
    assert len(set(ids)) == len(ids)  # one page may show several


def test_round_ticks():
    assert ticks(1480, 4) == [0, 500, 1000, 1500]
    assert ticks(5000, 3) == [0, 2000, 4000, 6000]
    assert ticks(3, 4) == [0, 1, 2, 3]
    assert nice_ceiling(0) == 1 and nice_ceiling(42) == 50 and nice_ceiling(2.4) == 2.5


def test_names_come_from_the_seeded_tables_in_the_language(session):
    english, chinese = chart_names(session, "en"), chart_names(session, "zh")
    assert list(english.tiers) == reports.TIERS
    assert english.tier("navigator") == "Navigator enterprise"
    assert chinese.city("360700") == "赣州市"
    assert english.industry("quantum") == "Quantum technology"


# --- in a browser ------------------------------------------------------------------------

SCREENSHOTS = ROOT / "tmp" / "screenshots"
#: What a chart's frame measures in the page: its drawn width and scale, how far it
#: scrolls sideways, and every text that runs out of its chart's coordinate width.
MEASURE = """(width) => {
    const charts = [...document.querySelectorAll("svg.chart")].map(svg => {
        const box = svg.getBoundingClientRect();
        const outside = [...svg.querySelectorAll("text")]
            .map(t => [t.textContent, t.getBBox()])
            .filter(([, b]) => b.x < -1.5 || b.x + b.width > width + 1.5)
            .map(([text, b]) => `${text} ${b.x.toFixed(1)}+${b.width.toFixed(1)}`);
        return {id: svg.id, width: box.width, scale: box.width / width, outside: outside};
    });
    return {overflow: document.scrollingElement.scrollWidth - window.innerWidth, charts: charts};
}"""


def chart_page(app, lang: str, css: str) -> str:
    """Every chart in panels of a page like the registry's, under its CSP."""
    from registry.core.web import CONTENT_SECURITY_POLICY

    # A <meta> policy cannot say frame-ancestors; the rest is the registry's header.
    policy = "; ".join(p for p in CONTENT_SECURITY_POLICY.split("; ") if "frame-ancestors" not in p)
    with app.test_request_context(f"/reports?lang={lang}"):
        refresh()
        names = reports.names(lang)
        sections = []
        for name, (build, chart) in CHARTS.items():
            drawn = str(chart(build(lang), names))
            method = (
                f"<p class='note'>{progress_chart.progress_method()}</p>"
                if name == "progress"
                else ""
            )
            sections.append(f"<section class='panel'><h2>{name}</h2>{drawn}{method}</section>")
    html_lang = "zh-Hans" if lang == "zh" else "en"
    return (
        f'<!doctype html><html lang="{html_lang}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="stylesheet" href="{css}"></head><body><main class="site-main">'
        f'<div class="container">{"".join(sections)}</div></main></body></html>'
    )


def chart_pages(app, new_page) -> Iterator[tuple[str, int, Any, list[str]]]:
    """(language, width, page, its console errors): the page of every chart, in each
    language at each width."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for lang in ("zh", "en"):
        html = chart_page(app, lang, "/static/css/registry.css")
        for width in (375, 1280):
            page = new_page(width=width)
            errors: list[str] = []
            page.on("console", lambda m, errors=errors: m.type == "error" and errors.append(m.text))
            # A page of the registry first, so that the charts' page has its origin and
            # its Content-Security-Policy header.
            page.goto("/")
            page.set_content(html, wait_until="load")
            yield lang, width, page, errors


@pytest.mark.browser
def test_charts_fit_a_phone_and_a_desktop_in_both_languages(app, new_page):
    """Each page kept as ``charts-<lang>-<width>.png``."""
    for lang, width, page, errors in chart_pages(app, new_page):
        found = page.evaluate(MEASURE, WIDTH)
        assert found["overflow"] <= 0, f"{lang} {width}px scrolls sideways"
        assert len(found["charts"]) == len(CHARTS)
        for chart in found["charts"]:
            assert chart["outside"] == [], f"{chart['id']} {lang} {width}px"
            # Legible on a phone (its small text ≥ 10 px), no larger than the page's
            # text allows on a desktop.
            assert 0.85 <= chart["scale"] <= 1.4, f"{chart['id']} {lang} {width}px"
        assert errors == []
        page.screenshot(path=SCREENSHOTS / f"charts-{lang}-{width}.png", full_page=True)


@pytest.mark.browser
@pytest.mark.slow
def test_each_chart_is_kept_as_a_screenshot_of_its_own(app, new_page):
    """``charts-<name>-<lang>-<width>.png`` (``make test-long``: the screenshots cost
    CPU, and ``make test`` keeps the whole pages)."""
    for lang, width, page, _errors in chart_pages(app, new_page):
        for name in CHARTS:
            section = page.locator("section.panel", has=page.locator("h2", has_text=name))
            section.first.screenshot(path=SCREENSHOTS / f"charts-{name}-{lang}-{width}.png")


def test_an_element_escapes_its_attribute_values_and_its_text():
    svg = Svg("chart-x", "Title", "Description", "x")
    svg.add("text", "50 % <b>&\"'", x=1.5, y=2.0, data_note='"><script>', class_=None)
    svg.add("rect", width=100.0, fill="url(#chart-x-hatch)")
    svg.add("text", "%s", class_="chart-label")
    assert [str(part) for part in svg.parts] == [
        '<text x="1.5" y="2" data-note="&#34;&gt;&lt;script&gt;">'
        "50 % &lt;b&gt;&amp;&#34;&#39;</text>",
        '<rect width="100" fill="url(#chart-x-hatch)"/>',
        '<text class="chart-label">%s</text>',
    ]
