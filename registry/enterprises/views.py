"""The enterprise's own pages: profile, annual reports and the eligibility self-check.

No address here carries an id: every page works on the signed-in user's own enterprise
(``own_enterprise``), so another enterprise's records cannot even be named (S1).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from werkzeug import Response as WerkzeugResponse

from registry.applications import journey
from registry.core import access, clock
from registry.core.audit import Actor
from registry.core.errors import DomainError, ValidationFailed
from registry.core.expired_forms import keeps_typed_values
from registry.core.i18n import current_language
from registry.core.web import form_page, nav_item, refuse, see_other
from registry.enterprises import operations, queries
from registry.enterprises.batches import parts_above_wholes
from registry.enterprises.forms import (
    AnnualReportForm,
    ProfileForm,
    ReportYearForm,
)
from registry.enterprises.models import FIGURE_FIELDS, AnnualReport, Enterprise
from registry.enterprises.money import to_wan
from registry.extensions import db

bp = Blueprint("enterprises", __name__, url_prefix="/enterprise")

nav_item("enterprises.profile", _l("Profile"), {"enterprise"}, order=10)
nav_item("enterprises.reports", _l("Annual reports"), {"enterprise"}, order=11)

P = ParamSpec("P")
R = TypeVar("R")


def own_enterprise() -> Enterprise:
    """The enterprise of the signed-in enterprise user; 404 while it has none (a claim
    waiting for a reviewer)."""
    if current_user.enterprise_id is None:
        abort(404)
    return db.session.get_one(Enterprise, current_user.enterprise_id)


def with_enterprise(
    view: Callable[Concatenate[Enterprise, P], R],
) -> Callable[P, R | WerkzeugResponse]:
    """Hand the view the user's enterprise. An account whose claim to an enterprise
    still waits for a reviewer has none: it goes to its account page with a word why."""

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R | WerkzeugResponse:
        if current_user.enterprise_id is None:
            flash(
                _(
                    "Your account is not linked to an enterprise yet. Once a reviewer "
                    "confirms your claim, you can keep its profile and figures here."
                )
            )
            return see_other("accounts.account")
        return view(own_enterprise(), *args, **kwargs)

    return wrapped


# --- profile ------------------------------------------------------------------------------


@bp.route("/profile", methods=["GET", "POST"])
@keeps_typed_values
@access.enterprise_user
@with_enterprise
def profile(enterprise: Enterprise) -> ResponseReturnValue:
    lang = current_language()
    form = ProfileForm(obj=enterprise)
    form.fill_choices(
        [(c.code, c.name(lang)) for c in queries.cities(db.session)],
        [(i.code, i.name(lang)) for i in queries.industries(db.session)],
    )
    status = None
    if form.validate_on_submit():
        values = {name: form[name].data for name in operations.PROFILE_FIELDS}
        try:
            operations.update_profile(
                db.session, enterprise, values, actor=Actor.of(current_user, "web")
            )
        except DomainError as error:
            db.session.rollback()
            refuse(form, error)
            status = error.status
        else:
            db.session.commit()
            flash(_("The profile has been saved."))
            journey.flash_after_save(db.session, enterprise)
            return see_other("enterprises.profile")
    return form_page("enterprises/profile.html", form, status, enterprise=enterprise)


# --- annual reports -----------------------------------------------------------------------


def _open_years(enterprise: Enterprise) -> list[int]:
    """Completed years without a report, latest first (the range check_report_year
    accepts), from the founding year when it is known: no one files for a year before
    the enterprise existed."""
    on_file = {report.year for report in enterprise.reports}
    last = clock.today().year - 1
    first = operations.FIRST_REPORT_YEAR
    if enterprise.founded_on is not None:
        first = max(first, enterprise.founded_on.year)
    return [y for y in range(last, first - 1, -1) if y not in on_file]


@bp.get("/reports")
@access.enterprise_user
@with_enterprise
def reports(enterprise: Enterprise) -> ResponseReturnValue:
    open_years = _open_years(enterprise)
    # A GET form: choosing a year opens that year's report form.
    chooser = ReportYearForm(request.args)
    chooser.year.choices = [(y, str(y)) for y in open_years]
    if "year" in request.args and chooser.validate():
        return redirect(url_for(".report", year=chooser.year.data), 303)
    html = render_template(
        "enterprises/reports.html",
        enterprise=enterprise,
        reports=sorted(enterprise.reports, key=lambda r: r.year, reverse=True),
        chooser=chooser,
        open_years=open_years,
        wan=to_wan,
    )
    return html, (422 if chooser.errors else 200)


def _stored_report(enterprise: Enterprise, year: int) -> AnnualReport | None:
    return db.session.scalars(
        select(AnnualReport).where(
            AnnualReport.enterprise_id == enterprise.id, AnnualReport.year == year
        )
    ).one_or_none()


def _refuse_parts_above_wholes(form: AnnualReportForm) -> None:
    """The consistency rules, among the figures that are numbers, with the form's own
    faults (QUALITY.md U2): a part above its whole is named in the form's own labels, on
    the part's field."""
    for part, whole in parts_above_wholes(form.figures()):
        form[part].errors = [
            _(
                "%(part)s cannot be more than %(whole)s.",
                part=form[part].label.text,
                whole=form[whole].label.text,
            )
        ]


@bp.route("/reports/<int:year>", methods=["GET", "POST"])
@keeps_typed_values
@access.enterprise_user
@with_enterprise
def report(enterprise: Enterprise, year: int) -> ResponseReturnValue:
    try:
        operations.check_report_year(year)
    except ValidationFailed:
        abort(404)
    stored = _stored_report(enterprise, year)
    initial = None
    if stored is not None and request.method == "GET":
        initial = AnnualReportForm.initial({n: getattr(stored, n) for n in FIGURE_FIELDS})
    # On a POST every figure comes from the form: one left empty is cleared.
    form = AnnualReportForm(data=initial)
    status = None
    if form.is_submitted():
        valid = form.validate_on_submit()
        _refuse_parts_above_wholes(form)
        if valid and not form.errors:
            try:
                operations.save_annual_report(
                    db.session,
                    enterprise,
                    year,
                    form.figures(),
                    actor=Actor.of(current_user, "web"),
                )
            except DomainError as error:
                db.session.rollback()
                refuse(form, error)
                status = error.status
            else:
                db.session.commit()
                flash(_("The annual report for %(year)s has been saved.", year=year))
                journey.flash_after_save(db.session, enterprise)
                return see_other("enterprises.reports")
    return form_page(
        "enterprises/report.html",
        form,
        status,
        enterprise=enterprise,
        year=year,
        stored=stored,
    )
