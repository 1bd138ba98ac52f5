"""The charts over the last 24 months: the monthly moves on and off each tier here, and
the parts the progress chart (:mod:`registry.reports.progress_chart`) shares.

Each tier gets a panel of its own, one under another, with its own vertical scale: a
rung of 5 000 places and one of 8 share no useful scale. Only a few months are named on
the time axis (the first, every sixth and the current one), which stays legible on a
phone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup

from registry.ladder import dates
from registry.reports.chart_figures import (
    Scale,
    nice_ceiling,
    number,
    sentences,
    signed,
)
from registry.reports.chart_parts import Key, empty_chart, legend, note
from registry.reports.charts import (
    GRID,
    INK,
    MUTED,
    PAPER,
    SMALL,
    STEPS,
    TEXT,
    Svg,
    shorten,
    text_width,
)
from registry.reports.names import Names
from registry.reports.report import Report

#: The left margin that holds the vertical axis' figures.
AXIS = 40
#: The height of a panel's plot area.
PLOT = 80


def by_tier(report: Report, tiers: Sequence[str] | None) -> dict[str, list[dict[str, Any]]]:
    """The report's rows per tier (in the rows' order), keeping only ``tiers`` if given."""
    panels: dict[str, list[dict[str, Any]]] = {}
    for row in report.rows:
        if tiers is None or row["tier"] in tiers:
            panels.setdefault(row["tier"], []).append(row)
    return panels


def month_labels(svg: Svg, y: float, x: Scale, months: list[str], ahead: int | None = None) -> None:
    """The first, the middle and the last month under a panel (and the month ``ahead``
    months on, for a projection): enough to read the time, and legible on a phone."""
    last = len(months) - 1
    svg.text(x(0), y, months[0], size=SMALL, fill=MUTED)
    svg.text(x(last // 2), y, months[last // 2], size=SMALL, anchor="middle", fill=MUTED)
    svg.text(x(last), y, months[last], size=SMALL, anchor="middle" if ahead else "end", fill=MUTED)
    if ahead is not None:
        later = dates.month_text(dates.month_of_text(months[last]) + ahead)
        svg.text(x(last + ahead), y, later, size=SMALL, anchor="end", fill=MUTED)


#: Draws one tier's panel at ``y``: the ``y`` below it, and whether a figure was missing.
DrawPanel = Callable[[float, str, list[dict[str, Any]]], tuple[float, bool]]


def with_panels(
    svg: Svg, y: float, panels: dict[str, list[dict[str, Any]]], draw: DrawPanel
) -> Markup:
    """The chart finished with each tier's panel one under another from ``y``, and a note
    of the sign of a missing figure if one was."""
    gaps = False
    for tier, rows in panels.items():
        y, gapped = draw(y, tier, rows)
        gaps |= gapped
    if gaps:
        y = note(svg, y - 6, _("%(gap)s no figure.", gap="—"))
    return svg.markup(y)


# --- moves -------------------------------------------------------------------------------


def moves_chart(
    report: Report,
    names: Names,
    tiers: Sequence[str] | None = None,
    *,
    chart_id: str = "chart-moves",
) -> Markup:
    """Per tier and month, the moves on (up) and off (down) and the net (a dot)."""
    title = _("Monthly moves on and off each rung")
    panels = by_tier(report, tiers)
    if not panels:
        return empty_chart(chart_id, "moves", title, _("There are no months to show."))
    months = [row["month"] for row in next(iter(panels.values()))]
    desc = sentences(
        [
            _("From %(first)s to %(last)s:", first=months[0], last=months[-1]),
            *(
                _(
                    "%(tier)s: %(on)s moved on, %(off)s moved off, net %(net)s.",
                    tier=names.tier(tier),
                    on=number(sum(r["moved_on"] or 0 for r in rows)),
                    off=number(sum(r["moved_off"] or 0 for r in rows)),
                    net=signed(sum(r["net"] or 0 for r in rows)),
                )
                for tier, rows in panels.items()
            ),
        ]
    )
    svg = Svg(chart_id, title, desc, "moves")
    off_fill = svg.hatch("off", STEPS[0])
    y = legend(
        svg,
        [
            Key(report.column("moved_on").label, fill=STEPS[2]),
            Key(report.column("moved_off").label, fill=off_fill),
            Key(report.column("net").label, dot=True),
        ],
        0,
    )
    return with_panels(
        svg, y, panels, lambda top, tier, rows: _moves_panel(svg, top, names.tier(tier), rows)
    )


def _moves_panel(svg: Svg, y: float, name: str, rows: list[dict[str, Any]]) -> tuple[float, bool]:
    net = sum(r["net"] or 0 for r in rows)
    net_text = _("net %(net)s", net=signed(net))
    svg.text(
        0,
        y + TEXT,
        shorten(name, svg.width - text_width(net_text) - 10),
        bold=True,
        class_="chart-panel",
    )
    svg.text(svg.width, y + TEXT, net_text, anchor="end")
    top = y + TEXT + 14
    most_on = max((r["moved_on"] or 0 for r in rows), default=0)
    most_off = max((r["moved_off"] or 0 for r in rows), default=0)
    # A side with no move takes no room (a quiet month's zero stays on the axis).
    up = nice_ceiling(most_on) if most_on or not most_off else 0
    down = nice_ceiling(most_off) if most_off else 0
    value_y = Scale(-down, up, top + PLOT, top)
    slot = (svg.width - AXIS) / len(rows)
    x = Scale(0, len(rows) - 1, AXIS + slot / 2, svg.width - slot / 2)
    for value, at in ((up, value_y(up)), (-down, value_y(-down))):
        if not value:
            continue
        svg.line(AXIS, at, svg.width, at, stroke=GRID, stroke_width=0.8)
        svg.text(
            AXIS - 5, at + SMALL * 0.36, signed(int(value)), size=SMALL, anchor="end", fill=MUTED
        )
    zero = value_y(0)
    svg.text(AXIS - 5, zero + SMALL * 0.36, "0", size=SMALL, anchor="end", fill=MUTED)
    off_fill = f"url(#{svg.chart_id}-off)"
    width = max(slot * 0.66, 2)
    gaps = False
    for i, row in enumerate(rows):
        on, off, change = row["moved_on"], row["moved_off"], row["net"]
        if on:
            svg.rect(
                x(i) - width / 2,
                value_y(on),
                width,
                zero - value_y(on),
                fill=STEPS[2],
                stroke=INK,
                stroke_width=0.5,
                class_="chart-bar chart-bar--on",
                data_value=on,
            )
        if off:
            svg.rect(
                x(i) - width / 2,
                zero,
                width,
                value_y(-off) - zero,
                fill=off_fill,
                stroke=INK,
                stroke_width=0.5,
                class_="chart-bar chart-bar--off",
                data_value=off,
            )
        if change is None:
            gaps = True
            svg.text(x(i), zero - 3, "—", size=SMALL, anchor="middle", fill=MUTED)
            continue
        svg.add(
            "circle",
            cx=x(i),
            cy=value_y(change),
            r=2.6,
            fill=INK,
            stroke=PAPER,
            stroke_width=1,
            class_="chart-net",
            data_value=change,
        )
    svg.line(AXIS, zero, svg.width, zero, stroke=INK, stroke_width=1)
    month_labels(svg, top + PLOT + SMALL + 5, x, [r["month"] for r in rows])
    return top + PLOT + SMALL + 20, gaps
