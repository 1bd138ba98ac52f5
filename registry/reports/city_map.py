"""Holders per city as a tile map: the 11 设区市 of Jiangxi as equal tiles placed
roughly where they lie (九江 at the top, 赣州 at the bottom), each shaded by its figure
and carrying the number. No map data is fetched or drawn: a grid is enough to find a
city and compare it with its neighbours."""

from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup

from registry.reports.chart_figures import (
    list_join,
    number,
    ticks,
)
from registry.reports.chart_parts import Key, empty_chart, legend, note
from registry.reports.charts import GRID, INK, PAPER, SMALL, STEPS, TEXT, Svg, readable_on, shorten
from registry.reports.names import Names
from registry.reports.report import Report

#: (column, row) of each city's tile, by GB/T 2260 code, on a 4 × 5 grid.
TILES = {
    "360400": (1, 0),  # 九江 north
    "360200": (2, 0),  # 景德镇 north-east
    "361100": (3, 0),  # 上饶 north-east
    "360900": (0, 1),  # 宜春 west
    "360100": (1, 1),  # 南昌 centre
    "360600": (2, 1),  # 鹰潭 east
    "360300": (0, 2),  # 萍乡 west
    "360500": (1, 2),  # 新余 centre-west
    "361000": (2, 2),  # 抚州 east
    "360800": (1, 3),  # 吉安 south-centre
    "360700": (1, 4),  # 赣州 south
}
COLUMNS, ROWS = 4, 5
GAP_X, GAP_Y = 6, 6
TILE_HEIGHT = 56


def shade_steps(top: int) -> list[tuple[int, int, str]]:
    """The ranges of the shading: (low, high, fill), lightest first, on round bounds
    (1–500, 501–1,000, …) and at most five, so a greyscale print keeps them apart."""
    bounds = ticks(top, 4) if top > 0 else [0]
    count = len(bounds) - 1
    steps = []
    for i in range(count):
        shade = len(STEPS) - 1 - (round(i * (len(STEPS) - 1) / (count - 1)) if count > 1 else 2)
        steps.append((int(bounds[i]) + 1, int(bounds[i + 1]), STEPS[shade]))
    return steps


def _fill(value: int, steps: list[tuple[int, int, str]]) -> str:
    return next((fill for low, high, fill in steps if low <= value <= high), PAPER)


def city_map_chart(
    report: Report,
    names: Names,
    column: str = "total",
    *,
    chart_id: str = "chart-tier-by-city",
) -> Markup:
    """Holders per city for one tier (``column``, a tier code) or all of them (``total``)
    on the tile map; holders whose city is not one of the 11 in a note under it."""
    scope = names.scope(column)
    title = _("Holders by city: %(scope)s", scope=scope)
    by_city = {row["city_code"]: row[column] for row in report.rows}
    if not report.rows:
        return empty_chart(chart_id, "city-map", title, _("There are no cities to show."))
    placed = [code for code in TILES if code in by_city]
    unplaced = sum(v or 0 for code, v in by_city.items() if code not in TILES)
    ranked = sorted(placed, key=lambda code: -(by_city[code] or 0))
    desc = _(
        "Holders by city (%(scope)s), largest first: %(list)s.",
        scope=scope,
        list=list_join(f"{names.city(code)} {number(by_city[code] or 0)}" for code in ranked),
    )
    svg = Svg(chart_id, title, desc, "city-map")
    steps = shade_steps(max((by_city[code] or 0 for code in placed), default=0))
    tile_width = (svg.width - GAP_X * (COLUMNS - 1)) / COLUMNS
    for code in placed:
        column_at, row_at = TILES[code]
        x, y = column_at * (tile_width + GAP_X), row_at * (TILE_HEIGHT + GAP_Y)
        value = by_city[code] or 0
        fill = _fill(value, steps)
        ink = readable_on(fill)
        svg.parts.append(
            Markup('<g class="chart-tile" data-city="{}" data-value="{}">').format(code, value)
        )
        svg.rect(
            x,
            y,
            tile_width,
            TILE_HEIGHT,
            fill=fill,
            stroke=INK if value else GRID,
            stroke_width=0.8,
            rx=4,
        )
        svg.text(
            x + 6,
            y + SMALL + 6,
            shorten(names.city(code), tile_width - 10, SMALL),
            size=SMALL,
            fill=ink,
        )
        svg.text(
            x + tile_width - 7,
            y + TILE_HEIGHT - 10,
            number(value),
            size=TEXT + 5,
            anchor="end",
            fill=ink,
            bold=True,
        )
        svg.parts.append(Markup("</g>"))
    # The legend fills the south-east, where the grid has no city.
    x, y = 2 * (tile_width + GAP_X) + 10, 3 * (TILE_HEIGHT + GAP_Y)
    svg.text(x, y + SMALL + 2, _("Holders"), size=SMALL, bold=True)
    keys = [Key("0", fill=PAPER, stroke=GRID)] + [
        Key(number(low) if low == high else f"{number(low)}–{number(high)}", fill=fill)
        for low, high, fill in steps
    ]
    bottom = max(legend(svg, keys, y + SMALL + 6, x, stacked=True), ROWS * (TILE_HEIGHT + GAP_Y))
    if unplaced:
        bottom = note(
            svg,
            bottom - 4,
            _("Holders in a city not on the list: %(count)s.", count=number(unplaced)),
        )
    return svg.markup(bottom)
