"""The ``coverage`` report (PRODUCT.md §8, API.md "Report"): what the enterprises on the
ladder weigh in the plan's industries in one year — how many report, their revenue
beside the plan's 2025 scale target, and their R&D intensity beside the plan's 2 %.

The figures are sums of annual reports, so the public sees them under the small-cell
rule: a sum is shown only where at least :data:`MIN_CONTRIBUTORS` enterprises give it
and none gives more than 80 % of it (a sum nobody gives is 0 and hides no one); an
intensity is withheld with either of its sums; a total is withheld when it fails the
rule itself or exactly one cell under it is withheld (it would reveal that cell).
Reviewers and admins see every figure. Counts of reporting enterprises are never
withheld: designations are public.

Only the holders' annual reports are read: the join starts from the ``(tier, …)`` index
of enterprises and finds each holder's report by its ``(enterprise_id, year)`` key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select, true

from registry.core import clock
from registry.core.dbsession import DbSession
from registry.core.errors import field_error
from registry.enterprises.models import AnnualReport, Enterprise
from registry.ladder import listing, queries
from registry.reports.columns import column_totals
from registry.reports.ladder_reports import OTHER
from registry.reports.models import PlanTarget
from registry.reports.report import Column, Report, Suppressed

LIST_TITLE = _l("Enterprises on the ladder in the plan's industries")
LABELS = {
    "industry_code": _l("Industry"),
    "reporting": _l("Enterprises reporting"),
    "revenue": _l("Revenue (yuan)"),
    "revenue_target": _l("Plan's 2025 scale target (yuan)"),
    "rd_expense": _l("R&D expense (yuan)"),
    "rd_intensity": _l("R&D intensity (%)"),
}
#: The first year an annual report may be for (API.md "Annual report").
FIRST_YEAR = 1990
#: The small-cell rule: at least this many contributors, none above 80 % of the sum.
MIN_CONTRIBUTORS = 3
DOMINANCE = (4, 5)  # 80 % as a fraction, compared in integers
#: The sums the rule guards; each intensity is withheld with either of them.
SUMS = ("revenue", "rd_expense")


@dataclass
class Cell:
    """A sum of one figure: how many enterprises gave it, its total and the largest."""

    contributors: int = 0
    total: int = 0
    largest: int = 0

    def add(self, contributors: int, total: Any, largest: int | None) -> None:
        self.contributors += contributors
        # PostgreSQL sums integers as numeric (a Decimal): the sum in 元 is an integer.
        self.total += int(total or 0)
        self.largest = max(self.largest, largest or 0)

    @property
    def disclosable(self) -> bool:
        """At least :data:`MIN_CONTRIBUTORS` contributors and none above 80 % of it; or
        none at all: a sum nobody gives is 0 and tells nothing about anyone (the count
        of enterprises reporting, which is public, says as much). Such cells are no
        cover for another either, so the complementary rule does not count them."""
        share, whole = DOMINANCE
        if self.contributors == 0:
            return True
        return self.contributors >= MIN_CONTRIBUTORS and self.largest * whole <= self.total * share


@dataclass
class Group:
    """The holders counted in one row (or tier, or the whole): reports and two sums."""

    reporting: int = 0
    revenue: Cell = field(default_factory=Cell)
    rd_expense: Cell = field(default_factory=Cell)

    def add(self, figures: Any) -> None:
        self.reporting += figures.reporting
        self.revenue.add(figures.revenue_n, figures.revenue_sum, figures.revenue_max)
        self.rd_expense.add(figures.rd_n, figures.rd_sum, figures.rd_max)

    def sum(self, key: str) -> Cell:
        """The sum of ``key`` (``revenue`` or ``rd_expense``)."""
        cell: Cell = getattr(self, key)
        return cell

    @property
    def intensity(self) -> float | None:
        """Σ R&D ÷ Σ revenue in percent, 2 decimals (None without revenue)."""
        revenue = self.revenue.total
        return round(100 * self.rd_expense.total / revenue, 2) if revenue else None

    def withheld(self) -> list[str]:
        """The sums the small-cell rule withholds here."""
        return [key for key in SUMS if not self.sum(key).disclosable]


def default_year() -> int:
    """The last completed year (Beijing time)."""
    return clock.today().year - 1


def check_year(year: int) -> int:
    """``year`` if annual reports may be for it (1990 to the last completed year), else
    422 on ``year``."""
    if not FIRST_YEAR <= year <= default_year():
        raise field_error(
            "year",
            "out_of_range",
            "Choose a year from %(first)s to %(last)s.",
            first=FIRST_YEAR,
            last=default_year(),
        )
    return year


def year_from_text(text: str | None, *, blank: bool = True) -> int | None:
    """A ``?year=`` value as a year (None when not given, or left blank where ``blank``:
    a page's form sends an empty year for "the default"); 422 on ``year`` when it is
    not a whole number or out of range."""
    if text is None or (blank and text == ""):
        return None
    if not text.isdigit() or len(text) > 4:
        raise field_error("year", "invalid_type", "Give the year as a number, such as 2025.")
    return check_year(int(text))


def coverage(session: DbSession, *, full: bool, year: int | None = None) -> Report:
    """Year ``year``'s annual reports (default :func:`default_year`) of the enterprises
    holding a rung now, per plan industry (TCM and biomedicine as one row, as their
    target; then ``other``: no industry of the plan, or one the seed does not know), with
    totals, the intensity per tier (``by_tier``) and the plan's (``plan_rd_intensity``).
    Unless ``full`` (reviewers, admins), small cells are withheld and listed."""
    year = check_year(default_year() if year is None else year)
    targets = list(session.scalars(select(PlanTarget)))
    row_of = {code: t.code for t in targets if t.revenue is not None for code in t.industries}
    revenue_target = {t.code: t.revenue for t in targets if t.revenue is not None}
    keys = list(dict.fromkeys(row_of.get(i.code, i.code) for i in listing.industries(session)))
    rows = {key: Group() for key in [*keys, OTHER]}
    tiers = queries.tiers(session)
    by_tier = {tier.code: Group() for tier in tiers}
    whole = Group()
    for figures in _figures(session, year):
        key = row_of.get(figures.industry_code, figures.industry_code)
        rows[key if key in rows else OTHER].add(figures)
        by_tier[figures.tier].add(figures)
        whole.add(figures)

    table = [
        {
            "industry_code": key,
            "reporting": group.reporting,
            "revenue": group.revenue.total,
            "revenue_target": revenue_target.get(key),
            "rd_expense": group.rd_expense.total,
            "rd_intensity": group.intensity,
        }
        for key, group in rows.items()
    ]
    columns = [Column(key, str(label), _TYPES[key]) for key, label in LABELS.items()]
    totals = column_totals(
        columns, [{**row, "revenue_target": row["revenue_target"] or 0} for row in table]
    )
    suppressed: list[Suppressed] = []
    if not full:
        suppressed = _withhold(table, list(rows.values()))
        for key in SUMS:
            below = sum(1 for cell in suppressed if cell.key == key)
            if below == 1 or key in whole.withheld():
                totals[key] = None
    plan = next((t.rd_intensity for t in targets if t.rd_intensity is not None), None)
    return Report(
        name="coverage",
        # The title names the year.
        title=_("%(title)s (%(year)s)", title=str(LIST_TITLE), year=year),
        as_of=clock.now(),
        columns=columns,
        rows=table,
        totals=totals,
        notes=_notes(year, full),
        suppressed=suppressed,
        extra={
            "year": year,
            "by_tier": [
                {
                    "tier": code,
                    "reporting": group.reporting,
                    "rd_intensity": None if not full and group.withheld() else group.intensity,
                }
                for code, group in by_tier.items()
            ],
            "plan_rd_intensity": _number(plan),
        },
    )


_TYPES: dict[str, Any] = {
    "industry_code": "string",
    "reporting": "integer",
    "revenue": "integer",
    "revenue_target": "integer",
    "rd_expense": "integer",
    "rd_intensity": "percent",
}


def _figures(session: DbSession, year: int) -> list[Any]:
    """Per (industry code, tier) of the holders with a report for ``year``: how many
    report, and for revenue and R&D expense how many give it, its sum and its largest.

    The holders come from their own index (the partial one on ``tier``, ``city_code``,
    ``industry_code``, ``id``) and each one's report is then found by its
    ``(enterprise_id, year)`` key: a few thousand probes however many reports there are.
    Left to themselves the planners read every report of the year instead (SQLite
    without statistics, PostgreSQL by its costs), so the query says how: the holders'
    ids as a list to probe with on SQLite, a LATERAL probe on PostgreSQL.
    """
    if session.get_bind().dialect.name == "postgresql":
        probe = (
            select(AnnualReport.revenue, AnnualReport.rd_expense)
            .where(AnnualReport.enterprise_id == Enterprise.id, AnnualReport.year == year)
            .limit(1)  # one per (enterprise, year); the limit keeps it a probe per holder
            .lateral("report")
        )
        report: Any = probe.c
        joined = select().select_from(Enterprise).join(probe, true())
        holders = Enterprise.tier.is_not(None)
    else:
        report = AnnualReport.__table__.c
        joined = (
            select()
            .select_from(Enterprise)
            .join(
                AnnualReport,
                and_(AnnualReport.enterprise_id == Enterprise.id, AnnualReport.year == year),
            )
        )
        holders = Enterprise.id.in_(select(Enterprise.id).where(Enterprise.tier.is_not(None)))
    figures = joined.add_columns(
        Enterprise.industry_code,
        Enterprise.tier,
        func.count().label("reporting"),
        func.count(report.revenue).label("revenue_n"),
        func.sum(report.revenue).label("revenue_sum"),
        func.max(report.revenue).label("revenue_max"),
        func.count(report.rd_expense).label("rd_n"),
        func.sum(report.rd_expense).label("rd_sum"),
        func.max(report.rd_expense).label("rd_max"),
    )
    return list(
        session.execute(figures.where(holders).group_by(Enterprise.industry_code, Enterprise.tier))
    )


def _withhold(table: list[dict[str, Any]], groups: list[Group]) -> list[Suppressed]:
    """Blank the cells of ``table`` the small-cell rule withholds; the cells blanked."""
    suppressed = []
    for index, (row, group) in enumerate(zip(table, groups, strict=True)):
        withheld = group.withheld()
        for key in [*withheld, "rd_intensity"] if withheld else []:
            row[key] = None
            suppressed.append(Suppressed(index, key))
    return suppressed


def _notes(year: int, full: bool) -> list[str]:
    notes = [
        str(
            _l(
                "Annual reports for %(year)s of the enterprises on the ladder today; holders "
                "without a report for %(year)s are not counted.",
                year=year,
            )
        ),
        str(
            _l(
                "R&D intensity = R&D expense ÷ revenue. The plan's scale targets are for "
                "2025; traditional Chinese medicine and biomedicine share one target."
            )
        ),
    ]
    rule = {"least": MIN_CONTRIBUTORS, "share": 100 * DOMINANCE[0] // DOMINANCE[1]}
    if full:
        notes.append(
            str(
                _l(
                    "Every figure is shown to reviewers and administrators. Others see a sum "
                    "only where at least %(least)s enterprises give it and none gives more "
                    "than %(share)s %% of it.",
                    **rule,
                )
            )
        )
    else:
        notes.append(
            str(
                _l(
                    "To protect single enterprises' figures, a sum is shown only where at "
                    "least %(least)s enterprises give it and none gives more than "
                    "%(share)s %% of it; other sums, the intensities built on them and a "
                    "total that would reveal one are withheld (—).",
                    **rule,
                )
            )
        )
    return notes


def _number(value: float | None) -> float | int | None:
    """A whole number without its ``.0`` (the plan's 2 %)."""
    return int(value) if value is not None and float(value).is_integer() else value
