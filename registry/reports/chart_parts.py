"""Pieces the reports' charts are drawn from, on an :class:`~registry.reports.charts.Svg`:
a legend, a note under the chart, text wrapped to a width, a row of stacked bars, and the
frame of a chart with nothing to draw."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from registry.reports.chart_figures import Scale
from registry.reports.charts import (
    GRID,
    INK,
    MUTED,
    PAPER,
    SMALL,
    TEXT,
    TRACK,
    Svg,
    shorten,
    text_width,
)


@dataclass(frozen=True)
class Key:
    """One entry of a legend: a swatch (a filled box, or a line with a dash pattern,
    or a dot) and its words."""

    label: str
    fill: str | None = None
    stroke: str = INK
    dash: str | None = None
    dot: bool = False
    tick: bool = False


def legend(
    svg: Svg, keys: Iterable[Key], y: float, x: float = 0, *, stacked: bool = False
) -> float:
    """The legend's entries side by side (or one under another: ``stacked``), wrapping
    to the next line when the width is used up; returns the ``y`` below it."""
    line_height = TEXT + 8
    cursor = x
    for key in keys:
        need = 18 + text_width(key.label, SMALL) + 14
        if cursor > x and (stacked or cursor + need > svg.width):
            cursor = x
            y += line_height
        middle = y + line_height / 2 - 2
        if key.fill is not None:
            svg.rect(cursor, middle - 6, 14, 12, fill=key.fill, stroke=key.stroke, stroke_width=0.8)
        elif key.tick:
            svg.line(
                cursor + 7, middle - 7, cursor + 7, middle + 7, stroke=key.stroke, stroke_width=2
            )
        elif key.dot:
            svg.add(
                "circle",
                cx=float(cursor + 7),
                cy=float(middle),
                r=3.5,
                fill=key.stroke,
                stroke=PAPER,
            )
        else:
            svg.line(
                cursor,
                middle,
                cursor + 14,
                middle,
                stroke=key.stroke,
                stroke_width=2,
                stroke_dasharray=key.dash,
            )
        svg.text(cursor + 18, middle + SMALL * 0.36, key.label, size=SMALL, fill=INK)
        cursor += need
    return y + line_height + 4


def note(svg: Svg, y: float, content: str) -> float:
    """A muted line of text under the chart (wrapped on words); returns the ``y`` below."""
    for line in wrap(content, svg.width, SMALL):
        y += SMALL + 4
        svg.text(0, y, line, size=SMALL, fill=MUTED)
    return y + 4


def wrap(content: str, width: float, size: float) -> list[str]:
    """``content`` broken into lines no wider than ``width``: at spaces, or anywhere
    between wide characters (Chinese has no spaces)."""
    lines: list[str] = []
    current = ""
    for token in _tokens(content):
        candidate = current + token
        if current and text_width(candidate.rstrip(), size) > width:
            lines.append(current.rstrip())
            current = token.lstrip()
        else:
            current = candidate
    if current.strip():
        lines.append(current.rstrip())
    return lines


def _tokens(content: str) -> list[str]:
    tokens: list[str] = []
    word = ""
    for char in content:
        if unicodedata.east_asian_width(char) in "WF":
            if word:
                tokens.append(word)
                word = ""
            tokens.append(char)
        elif char == " ":
            tokens.append(word + " ")
            word = ""
        else:
            word += char
    if word:
        tokens.append(word)
    return tokens


#: The height of a bar in the bar rows.
BAR = 12


@dataclass(frozen=True)
class Segment:
    """One part of a bar: a figure (``None``: none to draw), its fill and its class."""

    value: float | None
    fill: str
    class_: str


def bar_row(
    svg: Svg,
    y: float,
    scale: Scale,
    label: str,
    figure: str,
    segments: Sequence[Segment],
    *,
    track_to: float | None = None,
    reference: float | None = None,
    detail: str | None = None,
) -> float:
    """A horizontal bar under its label (left) and figure (right), the layout that
    stays legible on a phone whatever the names' length; returns the ``y`` below it.

    ``segments`` are stacked from zero; ``track_to`` draws the empty track the bar may
    fill (a quota, a target); ``reference`` a tick across the bar (a plan's figure);
    ``detail`` a muted line under the bar."""
    baseline = y + TEXT
    figure_width = text_width(figure, TEXT) + 8
    svg.text(0, baseline, shorten(label, svg.width - figure_width), fill=INK)
    svg.text(svg.width, baseline, figure, anchor="end", bold=True)
    top = baseline + 5
    if track_to is not None:
        svg.rect(scale(0), top, scale(track_to) - scale(0), BAR, fill=TRACK, class_="chart-track")
    cursor = 0.0
    for segment in segments:
        if segment.value is None or segment.value <= 0:
            continue
        start, end = scale(cursor), scale(cursor + segment.value)
        # A small share is still a visible sliver, as on the home page's gauges.
        svg.rect(
            start,
            top,
            max(end - start, 1.5),
            BAR,
            fill=segment.fill,
            stroke=INK,
            stroke_width=0.6,
            class_=segment.class_,
            data_value=segment.value,
        )
        cursor += segment.value
    if reference is not None:
        x = scale(reference)
        svg.line(
            x,
            top - 3,
            x,
            top + BAR + 3,
            stroke=INK,
            stroke_width=2,
            class_="chart-reference",
        )
    bottom = top + BAR + 10
    if detail:
        svg.text(0, bottom + SMALL - 4, detail, size=SMALL, fill=MUTED)
        bottom += SMALL + 7
    return bottom


def empty_chart(chart_id: str, kind: str, title: str, message: str) -> Markup:
    """A chart with nothing to draw: its message in the frame where the chart would be."""
    svg = Svg(chart_id, title, message, kind)
    svg.rect(1, 1, svg.width - 2, 62, fill=PAPER, stroke=GRID, rx=4)
    lines = wrap(message, svg.width - 32, TEXT)
    top = 32 - (len(lines) - 1) * (TEXT + 4) / 2 + TEXT * 0.35
    for i, line in enumerate(lines):
        svg.text(
            svg.width / 2,
            top + i * (TEXT + 4),
            line,
            anchor="middle",
            fill=MUTED,
            class_="chart-empty",
        )
    return svg.markup(65)
