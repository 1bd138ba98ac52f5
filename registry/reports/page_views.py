"""The reports' pages (PRODUCT.md §8): ``/reports``, the overview linking every report
the visitor may see beside the quota bars, the monthly moves and the city tile map; and
``/reports/<name>``, one report with its charts, its table (the charts' full text),
its notes and its downloads.

Access is the downloads' (:func:`registry.reports.views.allowed_entry`). What a page
lets people choose is a GET form: the year of ``coverage`` and the rung the city and
industry charts show. A value the form refuses gives the page again with the error and
no report (422), as a published list does with a refused filter.
"""

from __future__ import annotations

import html
import re

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import Form, SelectField
from wtforms.validators import ValidationError

from registry.applications.notices import shanghai_minute
from registry.core import clock
from registry.core.errors import DomainError
from registry.core.i18n import current_language
from registry.core.web import error_text, nav_item, one_of_the_choices, public
from registry.extensions import db
from registry.ladder import queries as ladder_queries
from registry.reports import catalogue, cells, progress
from registry.reports.city_map import city_map_chart
from registry.reports.coverage import FIRST_YEAR, default_year, year_from_text
from registry.reports.names import chart_names
from registry.reports.page_tables import page_table
from registry.reports.progress_chart import progress_method
from registry.reports.report import Report
from registry.reports.report_charts import charts_for, quota_chart
from registry.reports.time_charts import moves_chart
from registry.reports.views import allowed_entry, bp, is_staff

nav_item("reports.index", _l("Reports"), {"anonymous", "enterprise", "reviewer", "admin"}, order=6)

#: What each report answers, on the overview.
DESCRIPTIONS = {
    "quota": _l("How full each rung is: holders and places in notice against its quota."),
    "tier-by-city": _l("Where the holders are: each rung in each of the 11 cities."),
    "tier-by-industry": _l("The holders of each rung in the plan's industries."),
    "pipeline": _l("The applications open on each rung, by the step they have reached."),
    "moves": _l("How fast the ladder moves: enterprises on and off each rung per month."),
    "progress": _l("Holders over the last 24 months and when each target is reached."),
    "coverage": _l(
        "What the enterprises on the ladder weigh in the plan's industries: revenue and "
        "R&D intensity beside the plan's targets."
    ),
}
#: The reports whose charts show one rung or all of them (``?tier=``).
BY_TIER = ("tier-by-city", "tier-by-industry")
#: A chart's title, as :meth:`registry.reports.charts.Svg.markup` writes it.
_CHART_TITLE = re.compile(r'<title id="[^"]*">([^<]*)</title>')
#: The reports the overview draws, in its order.
OVERVIEW = ("quota", "moves", "tier-by-city")


def _known_year(_form: Form, field: SelectField) -> None:
    """The coverage rule for a year (a whole number, 1990 to last year)."""
    try:
        year_from_text(field.data)
    except DomainError as error:
        raise ValidationError(error_text(error)) from None


class YearChoice(Form):
    """The year of the annual reports ``coverage`` reads (GET; empty: the last one)."""

    year = SelectField(
        _l("Year of the annual reports"), validate_choice=False, validators=[_known_year]
    )

    def fill_choices(self) -> None:
        self.year.choices = [(str(y), str(y)) for y in range(default_year(), FIRST_YEAR - 1, -1)]


class TierChoice(Form):
    """The rung the city or industry chart shows (GET; empty: every rung)."""

    tier = SelectField(
        _l("Rung shown in the chart"),
        validate_choice=False,
        validators=[one_of_the_choices(_l("Unknown rung: choose one from the list."))],
    )

    def fill_choices(self, tiers: dict[str, str]) -> None:
        self.tier.choices = [("", _("All rungs")), *tiers.items()]


@bp.get("")
@public
def index() -> str:
    """The overview: the reports the visitor may see, and three of their charts."""
    staff = is_staff()
    names = chart_names(db.session, current_language())
    draw = {"quota": quota_chart, "moves": moves_chart, "tier-by-city": city_map_chart}
    panels = []
    for name in OVERVIEW:
        entry = catalogue.find(name)
        if entry is None:  # the overview names reports of the catalogue
            raise LookupError(name)
        report = catalogue.build(db.session, entry, staff=staff)
        panels.append((entry, draw[name](report, names)))
    return render_template(
        "reports/index.html",
        entries=[e for e in catalogue.REPORTS if catalogue.visible(e, staff=staff)],
        descriptions=DESCRIPTIONS,
        panels=panels,
        period=ladder_queries.plan_period(db.session, clock.today()),
    )


@bp.get("/<name>")
@public
def report(name: str) -> ResponseReturnValue:
    """One report's page; 422 with the form's error for a year or rung it refuses."""
    entry = allowed_entry(name)
    lang = current_language()
    form: Form | None = None
    if name == "coverage":
        form = YearChoice(request.args)
        form.fill_choices()
    elif name in BY_TIER:
        form = TierChoice(request.args)
        form.fill_choices(ladder_queries.tier_names(db.session, lang))
    if form is not None and not form.validate():
        period = ladder_queries.plan_period(db.session, clock.today())
        html = render_template(
            "reports/report.html", entry=entry, form=form, report=None, period=period
        )
        return html, 422

    year = year_from_text(request.args.get("year")) if name == "coverage" else None
    built = catalogue.build(db.session, entry, staff=is_staff(), year=year)
    column = (form.data.get("tier") if form is not None else None) or "total"
    charts = [
        (chart_title(chart), chart)
        for chart in charts_for(built, chart_names(db.session, lang), column)
    ]
    method = progress_method() if name == "progress" else None
    return render_template(
        "reports/report.html",
        entry=entry,
        form=form,
        report=built,
        charts=charts,
        method=method,
        projection=_projection(built),
        table=page_table(built, cells.names(db.session, lang)),
        # The method is stated under the chart; the notes need not say it again.
        notes=[n for n in built.notes if method is None or n != str(progress.METHOD)],
        as_of=shanghai_minute(built.as_of),
        year=built.extra.get("year"),
        period=ladder_queries.plan_period(db.session, clock.today()),
    )


def chart_title(chart: Markup) -> str:
    """The title a chart carries in its ``<title>``, as text (the page escapes it again),
    to head it on the page: which rung a map shows, which of two charts is which."""
    found = _CHART_TITLE.search(chart)
    return html.unescape(found.group(1)) if found else ""


def _projection(report: Report) -> list[tuple[str, str]]:
    """``progress``'s projection per tier in words: (tier name, when)."""
    tiers = ladder_queries.tier_names(db.session, current_language())
    words = []
    for item in report.extra.get("projection", []):
        status = item["status"]
        if status == progress.REACHED:
            when = _("Target reached")
        elif status == progress.PROJECTED:
            when = _("At this pace, target reached in %(month)s", month=item["month"])
        else:
            when = _("Target not reached at this pace")
        words.append((tiers.get(item["tier"], item["tier"]), when))
    return words
