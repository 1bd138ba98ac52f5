"""The enterprise's way to an application (QUALITY.md U6): profile → figures →
self-check → apply, each step with its link and whether it is done, worked out from
the enterprise as it stands.

The account page lists the steps (``macros/next_step.html``); after the profile or an
annual report is saved the page says which step comes next (:func:`flash_after_save`).
A step is done when:

- profile: the city, industry and founding date (what the eligibility checks and the
  published lists use) and a contact person with a phone number are on file;
- figures: the annual report of the last completed year is on file (none is due in
  the year of founding);
- self-check: the figures meet every automatic check of a tier it may apply for;
- apply: an application is with the reviewers (submitted, in review or in notice).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from registry.applications import queries
from registry.applications.models import Application, State
from registry.core import clock
from registry.core.dbsession import DbSession
from registry.core.i18n import current_language
from registry.core.next_step import flash_next_step
from registry.enterprises.models import Enterprise
from registry.ladder import criteria_versions
from registry.ladder import queries as ladder_queries

#: The profile fields the steps need, with their labels on the profile form: where and
#: what the enterprise is, since when, and whom the reviewers call.
PROFILE_NEEDS = {
    "city_code": _l("City"),
    "industry_code": _l("Industry"),
    "founded_on": _l("Founding date"),
    "contact_name": _l("Contact person"),
    "contact_phone": _l("Phone"),
}
#: An application in these states waits for reviewers or the public, not the enterprise.
WITH_THE_REVIEWERS = (State.SUBMITTED, State.IN_REVIEW, State.IN_NOTICE)


@dataclass(frozen=True)
class Step:
    """One step: ``key`` (profile, figures, self_check, apply), the link's ``title``
    and ``url``, a ``hint`` saying what it takes or where it stands, and ``done``."""

    key: str
    title: str
    hint: str
    url: str
    done: bool


def steps(session: DbSession, enterprise: Enterprise) -> list[Step]:
    """The four steps of ``enterprise``, in order, each with its state."""
    return [
        _profile(enterprise),
        _figures(enterprise),
        _self_check(session, enterprise),
        _apply(session, enterprise),
    ]


def first_open(all_steps: list[Step]) -> Step | None:
    """The first step not done yet: the one to take next."""
    return next((step for step in all_steps if not step.done), None)


def flash_after_save(session: DbSession, enterprise: Enterprise) -> None:
    """After the enterprise saved its profile or figures: the step that comes next, or,
    with every step done, its application."""
    all_steps = steps(session, enterprise)
    step = first_open(all_steps) or all_steps[-1]
    flash_next_step(step.hint, step.url, step.title)


def _profile(enterprise: Enterprise) -> Step:
    missing = [str(label) for name, label in PROFILE_NEEDS.items() if not getattr(enterprise, name)]
    return Step(
        "profile",
        _("Complete the profile"),
        _(
            "The eligibility checks and the reviewers still need: %(fields)s.",
            fields=_joined(missing),
        )
        if missing
        else _("The city, the industry, the founding date and a contact person are on file."),
        url_for("enterprises.profile"),
        not missing,
    )


def _joined(names: list[str]) -> str:
    return ("、" if current_language() == "zh" else ", ").join(names)


def _figures(enterprise: Enterprise) -> Step:
    year = clock.today().year - 1
    founded = enterprise.founded_on
    if founded is not None and founded.year > year:
        return Step(
            "figures",
            _("Annual reports"),
            _("No annual report is due before the end of your first year."),
            url_for("enterprises.reports"),
            True,
        )
    done = any(report.year == year for report in enterprise.reports)
    return Step(
        "figures",
        _("File the annual report for %(year)s", year=year),
        _("The annual report for %(year)s is on file.", year=year)
        if done
        else _("Eligibility is measured on the annual reports of the last three years."),
        url_for("enterprises.reports") if done else url_for("enterprises.report", year=year),
        done,
    )


def _self_check(session: DbSession, enterprise: Enterprise) -> Step:
    lang, now = current_language(), clock.now()
    met = [
        tier.name(lang)
        for tier, _renewal in ladder_queries.applicable_tiers(session, enterprise)
        if any(  # the champion rung by either of its routes
            ladder_queries.evaluate_enterprise(
                session, enterprise, tier.code, reference=now, lang=lang, route=route
            ).eligible
            for route in criteria_versions.routes(tier.code)
        )
    ]
    return Step(
        "self_check",
        _("Check your eligibility"),
        _(
            "Your figures meet the automatic checks for: %(tiers)s.",
            tiers=_joined(met),
        )
        if met
        else _("See which checks of each tier your figures meet, and which they do not yet."),
        url_for("ladder.self_check"),
        bool(met),
    )


def _apply(session: DbSession, enterprise: Enterprise) -> Step:
    open_one: Application | None = next(
        (a for a in queries.applications_of(session, enterprise.id) if a.is_open), None
    )
    if open_one is None:
        return Step(
            "apply",
            _("Start an application"),
            _("Choose the tier to apply for; the application stays a draft until you submit it."),
            url_for("applications.new"),
            False,
        )
    url = url_for("applications.detail", application_id=open_one.id)
    tier = ladder_queries.tier_names(session, current_language()).get(open_one.tier, "")
    if open_one.state in WITH_THE_REVIEWERS:
        return Step(
            "apply",
            _("Application %(id)s: %(tier)s", id=open_one.id, tier=tier),
            _("Your application is with the reviewers: their decision will show on its page."),
            url,
            True,
        )
    if open_one.state == State.CHANGES_REQUESTED:
        hint = _("The reviewers asked for changes: make them, then submit the application again.")
    else:
        hint = _("Add the attachments and the declaration, then submit the application.")
    return Step(
        "apply",
        _("Submit application %(id)s: %(tier)s", id=open_one.id, tier=tier),
        hint,
        url,
        False,
    )
