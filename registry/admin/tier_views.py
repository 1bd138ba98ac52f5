"""Admin pages of the ladder's settings: the tiers with their quotas and the calendar,
one tier's settings with its criteria versions, its thresholds, and the plan's period.
Routes of the ``admin`` blueprint."""

from __future__ import annotations

from typing import cast

from flask import flash, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # not in types-WTForms 3.2

from registry.admin import next_steps as admin_next_steps
from registry.admin import questions
from registry.admin.forms import PlanSettingsForm, TierSettingsForm, thresholds_form
from registry.admin.views import bp
from registry.core import access, clock
from registry.core.audit import Actor
from registry.core.confirm import confirm_first
from registry.core.errors import DomainError
from registry.core.i18n import current_language
from registry.core.web import nav_item, refuse, refuse_also, see_other
from registry.extensions import db
from registry.ladder import criteria_versions
from registry.ladder import queries as ladder_queries
from registry.ladder.labels import THRESHOLD_LABELS
from registry.ladder.models import Tier
from registry.ladder.settings import (
    check_plan_period_end,
    check_tier_settings,
    edit_thresholds,
    set_plan_period_end,
    update_tier_settings,
)

nav_item("admin.tiers", _l("Tiers"), {"admin"}, order=61)


# --- tiers --------------------------------------------------------------------------------


@bp.get("/tiers")
@access.admin
def tiers() -> str:
    overview = ladder_queries.ladder_overview(db.session)
    names = {tier.code: tier.name(current_language()) for tier, _occupancy in overview}
    calendar = ladder_queries.calendar_years(db.session)
    period = ladder_queries.plan_period(db.session, clock.today())
    return render_template(
        "admin/tiers.html", overview=overview, names=names, calendar=calendar, period=period
    )


@bp.route("/plan", methods=["GET", "POST"])
@access.admin
def plan() -> ResponseReturnValue:
    """The last day of the plan's period (shown with the quotas on the tiers page)."""
    period = ladder_queries.plan_period(db.session, clock.today())
    form = PlanSettingsForm(data={"plan_period_end": period.end})
    if form.validate_on_submit():
        try:
            changes = set_plan_period_end(
                db.session,
                form.plan_period_end.data,
                actor=Actor.of(current_user, "web"),
                reason=cast(str, form.reason.data),  # required
            )
        except DomainError as error:
            db.session.rollback()
            refuse(form, error)
        else:
            db.session.commit()
            if changes:
                flash(_("The plan's period has been saved."))
                admin_next_steps.after_plan_period()
            else:
                flash(_("Nothing was changed."))
            return see_other(".tiers")
    elif form.is_submitted() and form.plan_period_end.data is not None:
        refuse_also(form, lambda: check_plan_period_end(form.plan_period_end.data))
    html = render_template("admin/plan.html", form=form, period=period)
    return html, (422 if form.errors else 200)


@bp.route("/tiers/<code>", methods=["GET", "POST"])
@access.admin
def tier(code: str) -> ResponseReturnValue:
    tier = db.get_or_404(Tier, code)
    form = TierSettingsForm(obj=tier)
    lang = current_language()
    lower = [t for t in ladder_queries.tiers(db.session) if t.rank < tier.rank]
    form.prerequisite.choices = [
        SelectChoice("", _("None")),
        *(SelectChoice(t.code, t.name(lang)) for t in lower),
    ]
    if form.validate_on_submit():
        try:
            changes = update_tier_settings(
                db.session,
                tier.code,
                form.settings(),
                actor=Actor.of(current_user, "web"),
                reason=cast(str, form.reason.data),  # required
            )
        except DomainError as error:
            db.session.rollback()
            refuse(form, error)
        else:
            old_quota, new_quota = changes.get("quota", (0, 0))
            if new_quota < old_quota and (
                asked := confirm_first(
                    db.session,
                    lambda: questions.lower_quota(tier, new_quota, other_changes=len(changes) > 1),
                )
            ):
                return asked
            db.session.commit()
            if not changes:
                flash(_("Nothing was changed."))
                return see_other(".tier", code=tier.code)
            flash(_("The settings of %(tier)s have been saved.", tier=tier.name(lang)))
            admin_next_steps.after_tier_settings(tier)
            occupancy = ladder_queries.occupancy(db.session, tier)
            if "quota" in changes and occupancy.occupancy >= tier.quota:
                flash(
                    _(
                        "The quota is now %(quota)s and %(occupancy)s places are taken: no "
                        "enterprise can be added until occupancy is below the quota. "
                        "Nobody has been demoted.",
                        quota=tier.quota,
                        occupancy=occupancy.occupancy,
                    )
                )
            return see_other(".tiers")
    elif form.is_submitted():
        refuse_also(form, lambda: check_tier_settings(db.session, tier, form.settings()))
    html = render_template(
        "admin/tier.html",
        form=form,
        tier=tier,
        occupancy=ladder_queries.occupancy(db.session, tier),
        versions=criteria_versions.versions(db.session, tier.code),
        in_force=criteria_versions.in_force(db.session, tier.code, clock.today()),
    )
    return html, (422 if form.errors else 200)


@bp.route("/tiers/<code>/criteria", methods=["GET", "POST"])
@access.admin
def thresholds(code: str) -> ResponseReturnValue:
    """The whole-number thresholds of the version in force: saved as a new version
    effective today (bands, tables and decimal percentages are edited in the seed)."""
    tier = db.get_or_404(Tier, code)
    current = criteria_versions.in_force(db.session, tier.code, clock.today())
    values = criteria_versions.editable_thresholds(current.criteria)
    form = thresholds_form(THRESHOLD_LABELS, values, criteria_versions.fingerprint(current))
    if form.validate_on_submit():
        try:
            changes = edit_thresholds(
                db.session,
                tier.code,
                form.thresholds(),
                actor=Actor.of(current_user, "web"),
                reason=cast(str, form.reason.data),  # required
                based_on=form.based_on.data or "",
            )
        except DomainError as error:
            db.session.rollback()
            refuse(form, error)
        else:
            db.session.commit()
            if not changes:
                flash(_("Nothing was changed."))
                return see_other(".tier", code=tier.code)
            name = tier.name(current_language())
            flash(_("The thresholds of %(tier)s have been saved.", tier=name))
            admin_next_steps.after_thresholds(tier)
            return see_other(".tier", code=tier.code)
    html = render_template(
        "admin/thresholds.html", form=form, tier=tier, current=current, labels=THRESHOLD_LABELS
    )
    return html, (422 if form.errors else 200)
