"""The bar charts of the reports, one function per chart, each taking the report as the
page shows it (:class:`registry.reports.report.Report`) and the names of its codes.

The bars are horizontal, each under its name with its figure at the right end of the
name's line: long names (单项冠军企业和"专精特新"中小企业, "Energy saving &
environmental protection") then never squeeze the bars on a phone. A figure withheld
from the caller (``None``) is drawn as a gap with "—" and a note under the chart.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup

from registry.reports.chart_figures import (
    Scale,
    list_join,
    nice_ceiling,
    number,
    percent,
    sentences,
    yuan,
)
from registry.reports.chart_parts import Key, Segment, bar_row, empty_chart, legend, note
from registry.reports.charts import GAP, INK, STEPS, TEXT, TRACK, Svg, step_colour
from registry.reports.city_map import city_map_chart
from registry.reports.names import GROUPS, Names
from registry.reports.progress_chart import progress_chart
from registry.reports.report import Report
from registry.reports.time_charts import moves_chart

#: The keys of the per-tier and per-state columns that are not counts.
_LABEL_KEYS = {"tier", "city_code", "industry_code", "group", "total"}


def withheld_note(report: Report) -> str:
    """What "—" means under a chart: a figure the small-cell rule withholds, or none."""
    if report.suppressed:
        return _(
            "%(gap)s withheld: fewer than 3 enterprises contribute to the figure, or one "
            "contributes more than %(share)s of it.",
            gap=GAP,
            share="80%",
        )
    return _("%(gap)s no figure.", gap=GAP)


# --- quota -------------------------------------------------------------------------------


def quota_chart(report: Report, names: Names, *, chart_id: str = "chart-quota") -> Markup:
    """Per tier, the holders and the slots held in notice against the tier's quota."""
    title = _("Quota taken per rung")
    if not report.rows:
        return empty_chart(chart_id, "quota", title, _("There are no rungs to show."))
    svg = Svg(chart_id, title, _quota_desc(report, names), "quota")
    in_notice = svg.hatch("reserved", STEPS[1])
    y = legend(
        svg,
        [
            Key(report.column("holders").label, fill=STEPS[0]),
            Key(report.column("reserved").label, fill=in_notice),
            Key(report.column("remaining").label, fill=TRACK, stroke=TRACK),
        ],
        0,
    )
    for row in report.rows:
        quota = max(row["quota"], 1)
        y = bar_row(
            svg,
            y,
            Scale(0, quota, 0, svg.width),
            names.tier(row["tier"]),
            percent(row["percent_of_quota"]),
            [
                Segment(min(row["holders"], quota), STEPS[0], "chart-bar chart-bar--holders"),
                # A quota lowered below its occupancy is full, not overfull.
                Segment(
                    min(row["reserved"], max(quota - row["holders"], 0)),
                    in_notice,
                    "chart-bar chart-bar--reserved",
                ),
            ],
            track_to=quota,
            detail=_(
                "%(holders)s holders, %(reserved)s in notice, quota %(quota)s",
                holders=number(row["holders"]),
                reserved=number(row["reserved"]),
                quota=number(row["quota"]),
            ),
        )
    return svg.markup(y)


def _quota_desc(report: Report, names: Names) -> str:
    return sentences(
        _(
            "%(tier)s: %(holders)s holders and %(reserved)s in notice of a quota of "
            "%(quota)s (%(percent)s taken).",
            tier=names.tier(row["tier"]),
            holders=number(row["holders"]),
            reserved=number(row["reserved"]),
            quota=number(row["quota"]),
            percent=percent(row["percent_of_quota"]),
        )
        for row in report.rows
    )


# --- pipeline ----------------------------------------------------------------------------


def pipeline_chart(report: Report, names: Names, *, chart_id: str = "chart-pipeline") -> Markup:
    """Per tier, the open applications stacked by state, on one scale."""
    title = _("Open applications per rung")
    states = [c for c in report.columns if c.key not in _LABEL_KEYS]
    if not report.rows:
        return empty_chart(chart_id, "pipeline", title, _("There are no rungs to show."))
    fills = {c.key: step_colour(i, len(states)) for i, c in enumerate(states)}
    top = max((row["total"] for row in report.rows), default=0)
    desc = sentences(
        _(
            "%(tier)s: %(total)s open applications (%(states)s).",
            tier=names.tier(row["tier"]),
            total=number(row["total"]),
            states=list_join(f"{c.label} {number(row[c.key])}" for c in states),
        )
        for row in report.rows
    )
    svg = Svg(chart_id, title, desc, "pipeline")
    y = legend(svg, [Key(c.label, fill=fills[c.key]) for c in states], 0)
    scale = Scale(0, max(top, 1), 0, svg.width)
    for row in report.rows:
        segments = [
            Segment(row[c.key], fills[c.key], f"chart-bar chart-bar--{c.key}") for c in states
        ]
        y = bar_row(svg, y, scale, names.tier(row["tier"]), number(row["total"]), segments)
    if top == 0:
        y = note(svg, y, _("No application is open."))
    return svg.markup(y)


# --- tier × industry ---------------------------------------------------------------------


def industry_chart(
    report: Report,
    names: Names,
    column: str = "total",
    *,
    chart_id: str = "chart-tier-by-industry",
) -> Markup:
    """Holders per industry for one tier (``column``, a tier code) or all of them
    (``total``), the industries under the plan's three groups, then the rest."""
    scope = names.scope(column)
    title = _("Holders by industry: %(scope)s", scope=scope)
    if not report.rows:
        return empty_chart(chart_id, "industry", title, _("There are no industries to show."))
    ordered = sorted(
        report.rows,
        key=lambda row: (
            list(GROUPS).index(row["group"]) if row.get("group") in GROUPS else len(GROUPS)
        ),
    )
    values = [row[column] or 0 for row in ordered]
    ranked = sorted(zip(values, ordered, strict=True), key=lambda pair: -pair[0])
    desc = _(
        "Holders by industry (%(scope)s), largest first: %(list)s.",
        scope=scope,
        list=list_join(
            f"{names.industry(row['industry_code'])} {number(value)}" for value, row in ranked
        ),
    )
    svg = Svg(chart_id, title, desc, "industry")
    scale = Scale(0, nice_ceiling(max(values, default=0)), 0, svg.width)
    y = 0.0
    group: object = object()
    for row in ordered:
        if row.get("group") != group:
            group = row.get("group")
            y += 6 if y else 0
            svg.text(0, y + TEXT, names.group(row.get("group")), bold=True, class_="chart-group")
            svg.line(0, y + TEXT + 5, svg.width, y + TEXT + 5, stroke=INK, stroke_width=0.8)
            y += TEXT + 12
        value = row[column]
        y = bar_row(
            svg,
            y,
            scale,
            names.industry(row["industry_code"]),
            GAP if value is None else number(value),
            [Segment(value, STEPS[1], "chart-bar")],
        )
    return svg.markup(y)


# --- coverage ----------------------------------------------------------------------------


def coverage_revenue_chart(
    report: Report, names: Names, *, chart_id: str = "chart-coverage-revenue"
) -> Markup:
    """The revenue of the reporting enterprises of each industry with a 2025 scale
    target in the plan, as a share of that target."""
    title = _("Revenue against the plan's 2025 scale targets")
    targeted = [row for row in report.rows if row.get("revenue_target")]
    if not targeted:
        return empty_chart(chart_id, "coverage", title, _("There are no figures to show."))
    svg = Svg(chart_id, title, _revenue_desc(report, names, targeted), "coverage")
    y = legend(
        svg,
        [
            Key(report.column("revenue").label, fill=STEPS[1]),
            Key(report.column("revenue_target").label, fill=TRACK, stroke=TRACK),
        ],
        0,
    )
    gaps = False
    for row in targeted:
        target, revenue = row["revenue_target"], row["revenue"]
        gaps |= revenue is None
        y = bar_row(
            svg,
            y,
            Scale(0, target, 0, svg.width),
            names.industry(row["industry_code"]),
            GAP if revenue is None else percent(100 * revenue / target),
            [Segment(None if revenue is None else min(revenue, target), STEPS[1], "chart-bar")],
            track_to=target,
            detail=_(
                "%(revenue)s of %(target)s",
                revenue=GAP if revenue is None else yuan(revenue),
                target=yuan(target),
            ),
        )
    y = note(svg, y, _("Industries without a scale target in the plan are in the table only."))
    if gaps:
        y = note(svg, y - 6, withheld_note(report))
    return svg.markup(y)


def _revenue_desc(report: Report, names: Names, targeted: list[dict[str, Any]]) -> str:
    parts = []
    for row in targeted:
        name, target = names.industry(row["industry_code"]), yuan(row["revenue_target"])
        if row["revenue"] is None:
            parts.append(
                _(
                    "%(industry)s: revenue withheld; 2025 target %(target)s.",
                    industry=name,
                    target=target,
                )
            )
        else:
            parts.append(
                _(
                    "%(industry)s: %(revenue)s, %(percent)s of the 2025 target of %(target)s.",
                    industry=name,
                    revenue=yuan(row["revenue"]),
                    percent=percent(100 * row["revenue"] / row["revenue_target"]),
                    target=target,
                )
            )
    return sentences(parts)


def coverage_intensity_chart(
    report: Report, names: Names, *, chart_id: str = "chart-coverage-intensity"
) -> Markup:
    """R&D intensity (Σ R&D ÷ Σ revenue) per industry and per tier beside the plan's
    2 %, on one scale."""
    title = _("R&D intensity against the plan's target")
    by_tier = report.extra.get("by_tier", [])
    if not report.rows and not by_tier:
        return empty_chart(chart_id, "coverage", title, _("There are no figures to show."))
    plan = report.extra.get("plan_rd_intensity", 2)
    sections = [
        (
            _("By industry"),
            [(names.industry(r["industry_code"]), r["rd_intensity"]) for r in report.rows],
        ),
        (_("By rung"), [(names.tier(t["tier"]), t["rd_intensity"]) for t in by_tier]),
    ]
    shown = [v for _title, rows in sections for _name, v in rows if v is not None]
    desc = _(
        "R&D intensity beside the plan's %(plan)s: %(list)s.",
        plan=percent(plan),
        list=list_join(
            f"{name} {GAP if v is None else percent(v)}"
            for _t, rows in sections
            for name, v in rows
        ),
    )
    svg = Svg(chart_id, title, desc, "coverage")
    y = legend(
        svg,
        [
            Key(report.column("rd_intensity").label, fill=STEPS[2]),
            Key(_("Plan's target: %(plan)s", plan=percent(plan)), tick=True),
        ],
        0,
    )
    scale = Scale(0, nice_ceiling(max([plan * 1.5, *shown])), 0, svg.width)
    gaps = False
    for heading, rows in sections:
        if not rows:
            continue
        svg.text(0, y + TEXT, heading, bold=True, class_="chart-group")
        svg.line(0, y + TEXT + 5, svg.width, y + TEXT + 5, stroke=INK, stroke_width=0.8)
        y += TEXT + 12
        for name, value in rows:
            gaps |= value is None
            y = bar_row(
                svg,
                y,
                scale,
                name,
                GAP if value is None else percent(value),
                [Segment(value, STEPS[2], "chart-bar")],
                reference=plan,
            )
        y += 6
    if gaps:
        y = note(svg, y - 6, withheld_note(report))
    return svg.markup(y)


def charts_for(report: Report, names: Names, column: str = "total") -> list[Markup]:
    """The charts drawn beside ``report``'s table, in the page's order; ``column`` is
    the tier (or ``total``) the city and industry charts show."""
    if report.name == "coverage":
        return [coverage_revenue_chart(report, names), coverage_intensity_chart(report, names)]
    if report.name == "tier-by-city":
        return [city_map_chart(report, names, column)]
    if report.name == "tier-by-industry":
        return [industry_chart(report, names, column)]
    drawn = {
        "quota": quota_chart,
        "pipeline": pipeline_chart,
        "moves": moves_chart,
        "progress": progress_chart,
    }.get(report.name)
    return [drawn(report, names)] if drawn else []
