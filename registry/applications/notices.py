"""The public notice (公示) with its objection forms, and the reviewers' objections page
(PRODUCT.md "Public notice", "Web pages").

Dates: ``notice_ends_at`` is 00:00 Asia/Shanghai of the day after the last notice day, so
every page writes a notice as :func:`notice_period` does — the day it was published and
its last day ("2026-03-04 to 2026-03-18, the last day included"), objections being
accepted until the end of that day, Beijing time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, cast

from flask import Blueprint, abort, current_app, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from registry.applications import next_steps, objections, questions
from registry.applications.models import Application, Objection, ObjectionState, State
from registry.applications.notice_forms import NoticeFilter, ObjectionForm, ResolutionForm
from registry.core import access, clock
from registry.core.confirm import confirm_first
from registry.core.errors import DomainError, Throttled, found
from registry.core.expired_forms import keeps_typed_values
from registry.core.i18n import current_language
from registry.core.pagination import InvalidCursor, decode_cursor, page_of
from registry.core.ratelimit import objection_rate
from registry.core.web import nav_item, public, refuse, see_other
from registry.extensions import db
from registry.ladder import dates, listing
from registry.ladder import queries as ladder_queries

bp = Blueprint("notices", __name__)

nav_item(
    "notices.index", _l("Public notice"), {"anonymous", "enterprise", "reviewer", "admin"}, order=5
)
nav_item("notices.objections", _l("Objections"), {"reviewer", "admin"}, order=33)

#: How many objections the reviewers' page shows: every open one up to this many, and
#: the latest resolved ones.
OPEN_SHOWN, RESOLVED_SHOWN = 200, 50


@bp.app_template_global()
def notice_period(started_at: datetime, ends_at: datetime) -> str:
    """A public notice's period as every page and message writes it: from the Beijing day
    it was published to its last day (``ends_at`` is exclusive: 00:00 of the day after)."""
    return _(
        "%(start)s to %(end)s (the last day included, Beijing time)",
        start=dates.shanghai_date(started_at).isoformat(),
        end=dates.last_day(ends_at).isoformat(),
    )


def shanghai_minute(at: datetime | None) -> str:
    return at.astimezone(dates.SHANGHAI).strftime("%Y-%m-%d %H:%M") if at else ""


def _names() -> dict[str, Any]:
    """Tier, city and industry names in the page language (they are data)."""
    lang = current_language()
    return {
        "tier_names": ladder_queries.tier_names(db.session, lang),
        "city_names": {c.code: c.name(lang) for c in listing.cities(db.session)},
        "industry_names": {i.code: i.name(lang) for i in listing.industries(db.session)},
        "shanghai_minute": shanghai_minute,
        "now": clock.now(),
    }


# --- the public notice ----------------------------------------------------------------------


def _objection_form(application_id: int, *, bound: bool = False) -> ObjectionForm:
    # Only the form that was posted reads the request; the others start empty.
    unbound = {} if bound else {"formdata": None}
    return ObjectionForm(prefix=f"objection-{application_id}", **unbound)


def _notice_page(
    *,
    after: tuple[datetime, int] | None = None,
    start: tuple[datetime, int] | None = None,
    posted: dict[int, ObjectionForm] | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    filters: Mapping[str, str] | None = None,
) -> tuple[str, int, dict[str, str]]:
    """The notice list from ``after`` or ``start``, filtered by the rung in ``filters``
    (the query of a GET; a re-rendered post shows every rung)."""
    names = _names()
    chooser = NoticeFilter(MultiDict(filters or {}))
    chooser.fill_choices(names["tier_names"])
    # A refused rung lists nothing: the filter with its error.
    refused = not chooser.validate()
    tier = chooser.tier.data or None
    size = current_app.config["PAGE_SIZE"]
    rows = (
        []
        if refused
        else objections.notice_rows(db.session, limit=size + 1, after=after, start=start, tier=tier)
    )
    page = page_of(rows, size, lambda row: (row[0].notice_ends_at.isoformat(), row[0].id))
    posted = posted or {}
    forms = {row[0].id: posted.get(row[0].id) or _objection_form(row[0].id) for row in page.items}
    html = render_template(
        "notices/index.html",
        page=page,
        forms=forms,
        chooser=chooser,
        next_url=url_for(".index", after=page.next_cursor, tier=tier) if page.next_cursor else None,
        first_url=url_for(".index", tier=tier) if after else None,
        # A re-rendered post starts at its application: the way back to the whole list.
        whole_list_url=url_for(".index") if start else None,
        **names,
    )
    return html, (422 if refused else status), headers or {}


@bp.get("/notices")
@public
def index() -> ResponseReturnValue:
    after = None
    if "after" in request.args:
        try:
            ends_text, application_id = decode_cursor(request.args["after"], str, int)
            after = (clock.parse_instant(ends_text), application_id)
        except (InvalidCursor, ValueError):
            abort(422)
    return _notice_page(after=after, filters=request.args)


@bp.post("/notices/<int:application_id>/objections", endpoint="object")
@keeps_typed_values
def file_objection(application_id: int) -> ResponseReturnValue:
    application = found(
        db.session.get(Application, application_id),
        "No such application in notice.",
        lambda application: application.state == State.IN_NOTICE,
    )
    form = _objection_form(application_id, bound=True)
    status, headers = 422, {}
    if form.validate_on_submit():
        try:
            objections.file_objection(
                db.session,
                application,
                # The form was validated: the three are required.
                name=cast(str, form.name.data),
                contact=cast(str, form.contact.data),
                grounds=cast(str, form.grounds.data),
                client_address=request.remote_addr,
                rate=objection_rate(),
            )
        except DomainError as error:
            db.session.rollback()
            if error.status == 404:
                abort(404)
            refuse(form, error)
            status = error.status
            if isinstance(error, Throttled):
                headers["Retry-After"] = str(error.retry_after)
        else:
            db.session.commit()
            flash(_("Thank you. Your objection has been recorded; a reviewer will examine it."))
            next_steps.after_objection(application)
            return see_other("notices.index")
    # The list again, from this application on, with the refusal on its form.
    return _notice_page(
        start=(cast(datetime, application.notice_ends_at), application.id),  # in notice
        posted={application.id: form},
        status=status,
        headers=headers,
    )


# --- the reviewers' objections page -------------------------------------------------------------


def _objections_page(
    failed: tuple[int, ResolutionForm] | None = None, status: int = 200
) -> tuple[str, int]:
    open_rows, resolved_rows = objections.reviewer_objections(
        db.session, open_limit=OPEN_SHOWN, resolved_limit=RESOLVED_SHOWN
    )
    forms = {
        row.Objection.id: ResolutionForm(prefix=f"resolve-{row.Objection.id}", formdata=None)
        for row in open_rows
        if row.Application.state == State.IN_NOTICE
    }
    if failed is not None and failed[0] in forms:
        forms[failed[0]] = failed[1]
    html = render_template(
        "notices/objections.html",
        open_rows=open_rows,
        resolved_rows=resolved_rows,
        forms=forms,
        failed=failed[1] if failed else None,
        open_shown=OPEN_SHOWN,
        **_names(),
    )
    return html, status


@bp.get("/review/objections", endpoint="objections")
@access.reviewer
def objections_list() -> ResponseReturnValue:
    return _objections_page()


@bp.post("/review/objections/<int:objection_id>/resolution")
@access.reviewer
def resolve(objection_id: int) -> ResponseReturnValue:
    objection = db.get_or_404(Objection, objection_id)
    form = ResolutionForm(prefix=f"resolve-{objection_id}")
    status = 422
    if form.validate_on_submit():
        try:
            objections.resolve(
                db.session,
                objection,
                form.outcome.data,
                user=current_user._get_current_object(),
                via="web",
                comment=form.comment.data,
            )
        except DomainError as error:
            db.session.rollback()
            refuse(form, error)
            status = error.status
        else:
            if form.outcome.data == "upheld" and (
                asked := confirm_first(
                    db.session, lambda: questions.uphold(objection, form.comment.data)
                )
            ):
                return asked
            application = objection.application
            db.session.commit()
            flash(_resolution_message(objection, application))
            next_steps.after_resolution(objection, application)
            return see_other("notices.objections")
    return _objections_page((objection_id, form), status)


def _resolution_message(objection: Objection, application: Application) -> str:
    if objection.state == ObjectionState.UPHELD:
        return _("The objection is upheld: application %(id)s is rejected.", id=application.id)
    if application.state == State.GRANTED:
        return _("The objection is dismissed: application %(id)s is granted.", id=application.id)
    return _("The objection is dismissed.")
