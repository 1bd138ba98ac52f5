"""The progress chart: the holders of each tier at each month's end over the last 24
months, beside the target, with the projection of the last six months' pace (its parts
shared with the moves chart are in :mod:`registry.reports.time_charts`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup

from registry.ladder import dates
from registry.reports.chart_figures import Scale, number, sentences, ticks
from registry.reports.chart_parts import Key, empty_chart, legend
from registry.reports.charts import (
    DASH_PROJECTION,
    DASH_TARGET,
    GRID,
    INK,
    MUTED,
    PAPER,
    SMALL,
    TEXT,
    Svg,
    shorten,
)
from registry.reports.names import Names
from registry.reports.report import Report
from registry.reports.time_charts import (
    AXIS,
    PLOT,
    by_tier,
    month_labels,
    with_panels,
)

#: How far ahead the chart draws the projection, in months.
AHEAD = 12


def progress_method() -> str:
    """How the projection is made, to be shown under the progress chart."""
    return _(
        "The projection (dotted line) continues each rung's holders at the mean net "
        "monthly change of the last 6 complete months, up to the month they reach the "
        "target; when that mean is zero or less, the target is not reached at this pace. "
        "The target (dashed line) is the rung's quota."
    )


def _status_text(projection: dict[str, Any] | None) -> str:
    """A tier's projection in a few words, under its name."""
    projection = projection or {}
    status = projection.get("status")
    if status == "reached":
        return _("Target reached")
    if status == "projected":
        return _("At this pace, target reached in %(month)s", month=projection["month"])
    if status == "not_at_this_pace":
        return _("Target not reached at this pace")
    return ""


def _status_sentence(projection: dict[str, Any] | None) -> str:
    """The same as a sentence of the chart's description."""
    text = _status_text(projection)
    return _("%(status)s.", status=text) if text else ""


def progress_chart(
    report: Report,
    names: Names,
    tiers: Sequence[str] | None = None,
    *,
    chart_id: str = "chart-progress",
) -> Markup:
    """Per tier, holders at the last 24 month ends (a line), the target (long dashes)
    and the projection at the recent pace (short dashes)."""
    title = _("Holders over 24 months against the target")
    panels = by_tier(report, tiers)
    if not panels:
        return empty_chart(chart_id, "progress", title, _("There are no months to show."))
    projections = {p["tier"]: p for p in report.extra.get("projection", [])}
    desc = sentences(
        sentence
        for tier, rows in panels.items()
        for sentence in (
            _(
                "%(tier)s: %(first)s holders at the end of %(start)s, %(last)s now, "
                "target %(target)s.",
                tier=names.tier(tier),
                first=_figure(rows[0]["holders"]),
                start=rows[0]["month"],
                last=_figure(rows[-1]["holders"]),
                target=_figure(rows[-1]["target"]),
            ),
            _status_sentence(projections.get(tier)),
        )
        if sentence
    )
    svg = Svg(chart_id, title, desc, "progress")
    y = legend(
        svg,
        [
            Key(report.column("holders").label, stroke=INK),
            Key(report.column("target").label, stroke=MUTED, dash=DASH_TARGET),
            Key(_("Projection"), stroke=INK, dash=DASH_PROJECTION),
        ],
        0,
    )
    return with_panels(
        svg,
        y,
        panels,
        lambda top, tier, rows: _progress_panel(
            svg, top, names.tier(tier), rows, projections.get(tier)
        ),
    )


def _figure(value: int | None) -> str:
    return "—" if value is None else number(value)


def _progress_panel(
    svg: Svg, y: float, name: str, rows: list[dict[str, Any]], projection: dict[str, Any] | None
) -> tuple[float, bool]:
    svg.text(0, y + TEXT, shorten(name, svg.width), bold=True, class_="chart-panel")
    svg.text(
        0,
        y + TEXT + SMALL + 5,
        _status_text(projection),
        size=SMALL,
        fill=MUTED,
        class_="chart-status",
    )
    top = y + TEXT + SMALL + 16
    last = len(rows) - 1
    target = rows[-1]["target"] or 0
    held = [r["holders"] for r in rows]
    marks = ticks(max([target, *(h or 0 for h in held)]), 3)
    value_y = Scale(0, marks[-1], top + PLOT, top)
    x = Scale(0, last + AHEAD, AXIS + 4, svg.width - 4)
    svg.rect(x(last), top, x(last + AHEAD) - x(last), PLOT, fill="#f3f5f8", class_="chart-ahead")
    for mark in marks:
        svg.line(AXIS, value_y(mark), svg.width, value_y(mark), stroke=GRID, stroke_width=0.8)
        svg.text(
            AXIS - 5,
            value_y(mark) + SMALL * 0.36,
            number(mark),
            size=SMALL,
            anchor="end",
            fill=MUTED,
        )
    svg.line(
        AXIS,
        value_y(target),
        svg.width,
        value_y(target),
        stroke=MUTED,
        stroke_width=1.6,
        stroke_dasharray=DASH_TARGET,
        class_="chart-target",
        data_value=target,
    )
    # The holders' line, broken where a figure is missing.
    runs: list[list[tuple[float, float]]] = [[]]
    for i, value in enumerate(held):
        if value is None:
            runs.append([])
        else:
            runs[-1].append((x(i), value_y(value)))
    for run in runs:
        if len(run) > 1:
            svg.polyline(run, stroke=INK, stroke_width=2, class_="chart-line")
    for i, value in enumerate(held):
        if value is not None:
            svg.add(
                "circle",
                cx=x(i),
                cy=value_y(value),
                r=2.2,
                fill=INK,
                class_="chart-point",
                data_value=value,
            )
    now = held[-1]
    if (
        projection
        and projection.get("status") == "projected"
        and projection.get("month")
        and now is not None
    ):
        ahead = dates.month_of_text(projection["month"]) - dates.month_of_text(rows[-1]["month"])
        if ahead > 0:
            shown = min(ahead, AHEAD)
            end = now + (target - now) * shown / ahead
            svg.line(
                x(last),
                value_y(now),
                x(last + shown),
                value_y(end),
                stroke=INK,
                stroke_width=2,
                stroke_dasharray=DASH_PROJECTION,
                class_="chart-projection",
            )
            if shown == ahead:
                svg.add(
                    "circle",
                    cx=x(last + shown),
                    cy=value_y(end),
                    r=3.2,
                    fill=PAPER,
                    stroke=INK,
                    stroke_width=1.6,
                )
    month_labels(svg, top + PLOT + SMALL + 5, x, [r["month"] for r in rows], AHEAD)
    return top + PLOT + SMALL + 20, None in held
