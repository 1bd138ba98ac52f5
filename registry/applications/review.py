"""The reviewers' pages (PRODUCT.md "Applications and review" and "Web pages"): the
``review`` blueprint with what its pages share, the queue and nominations. One application
with its decision form is in :mod:`registry.applications.review_applications`; enterprises
with their ladder moves and account claims in :mod:`registry.applications.review_enterprises`.

Every page is for reviewers and admins. A refusal of the operations layer is shown on
the page it came from with the refusal's status (403 four-eyes, 409 invalid transition,
422 validation); a success answers 303 back to the page with a message. Withdrawing a
nomination and rejecting an application are asked first (``registry.core.confirm``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from flask import Blueprint, current_app, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from registry.accounts.models import User
from registry.applications import next_steps, operations, queries
from registry.applications import review_forms as forms
from registry.applications.labels import KIND_LABELS, OBJECTION_LABELS, STATE_LABELS
from registry.applications.models import Kind
from registry.core import access, clock
from registry.core.audit_labels import ACTION_LABELS
from registry.core.errors import DomainError, NotFound
from registry.core.i18n import current_language
from registry.core.pagination import InvalidCursor, decode_cursor, page_of
from registry.core.web import form_page, nav_item, refuse, see_other
from registry.enterprises import queries as enterprise_queries
from registry.enterprises.forms import AnnualReportForm
from registry.enterprises.models import MONEY_FIELDS, PERCENT_FIELDS
from registry.enterprises.money import to_wan
from registry.extensions import db
from registry.ladder import criteria_versions
from registry.ladder import queries as ladder_queries
from registry.ladder.labels import OPERATORS, ROUTE_LABELS, STATUS_TEXT, figure_text

bp = Blueprint("review", __name__, url_prefix="/review")

REVIEWERS = {"reviewer", "admin"}
nav_item("review.queue", _l("Queue"), REVIEWERS, order=30)
nav_item("review.nominate", _l("Nominate"), REVIEWERS, order=31)

#: How many matches the enterprise search and the decided claims list show.
LIST_LIMIT = 50


def me() -> User:
    return current_user._get_current_object()


def form_status(error: DomainError) -> int:
    # A value typed into a form that names nothing (an unknown USCC or tier) is a
    # mistake in the form, not a missing page.
    return 422 if isinstance(error, NotFound) else error.status


def tier_labels() -> dict[str, str]:
    return ladder_queries.tier_names(db.session, current_language())


def figure_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    """The annual report's figures in the groups and words of the enterprise's form."""
    form = AnnualReportForm(formdata=None, meta={"csrf": False})
    return [
        (title, [(name, form[name].label.text) for name in names])
        for title, names in AnnualReportForm.GROUPS
    ]


def _local_time(at: datetime) -> str:
    return at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")


@bp.context_processor
def _page_helpers() -> dict:
    return {
        "local_time": _local_time,
        "local_date": lambda at: at.astimezone(clock.SHANGHAI).date().isoformat(),
        "to_wan": to_wan,
        "figure_text": figure_text,
        "OPERATORS": OPERATORS,
        "MONEY_FIELDS": MONEY_FIELDS,
        "PERCENT_FIELDS": PERCENT_FIELDS,
        "STATE_LABELS": STATE_LABELS,
        "KIND_LABELS": KIND_LABELS,
        "OBJECTION_LABELS": OBJECTION_LABELS,
        "CHECK_STATUS_LABELS": STATUS_TEXT,
        "ACTION_LABELS": ACTION_LABELS,
        "DECISION_LABELS": forms.DECISION_LABELS,
        "CLAIM_STATE_LABELS": forms.CLAIM_STATE_LABELS,
    }


# --- the queue ---------------------------------------------------------------------------


def _queue_position(raw: str | None) -> tuple[queries.QueueKey | None, int]:
    """The key to continue after and the page number a cursor leads to."""
    if raw is None:
        return None, 1
    at, last_id, number = decode_cursor(raw, str, int, int)
    try:
        submitted_at = datetime.fromisoformat(at) if at else None
    except ValueError:
        raise InvalidCursor("The page cursor is malformed.") from None
    if number < 2 or (submitted_at is not None and submitted_at.tzinfo is None):
        raise InvalidCursor("The page cursor is malformed.")
    return (submitted_at, last_id), number


@bp.get("")
@access.reviewer
def queue() -> ResponseReturnValue:
    lang = current_language()
    tier_names = tier_labels()
    city_names = {c.code: c.name(lang) for c in enterprise_queries.cities(db.session)}
    form = forms.QueueFilterForm(request.args)
    form.fill_choices(tier_names, city_names, STATE_LABELS)
    filters_ok = form.validate()
    try:
        after, page_number = _queue_position(request.args.get("after"))
        cursor_ok = True
    except InvalidCursor:
        after, page_number, cursor_ok = None, 1, False

    # Links on the page keep valid filters only.
    chosen: dict[str, Any] = form.chosen() if filters_ok else {}
    filters = (
        form.queue_filter(me()) if filters_ok else queries.QueueFilter(user_id=current_user.id)
    )
    page, next_url = None, None
    if filters_ok and cursor_ok:
        size = current_app.config["PAGE_SIZE"]
        rows = queries.queue(db.session, filters, limit=size + 1, after=after)
        page = page_of(
            rows,
            size,
            lambda row: (
                (row.submitted_at.isoformat() if row.submitted_at else "", row.id)
                + (page_number + 1,)
            ),
        )
        if page.next_cursor:
            next_url = url_for(".queue", after=page.next_cursor, **chosen)
    html = render_template(
        "review/queue.html",
        form=form,
        page=page,
        page_number=page_number,
        cursor_ok=cursor_ok,
        counts=queries.counts(db.session, filters),
        count_filters={k: v for k, v in chosen.items() if k in ("city", "assignee")},
        tier_names=tier_names,
        first_url=url_for(".queue", **chosen),
        next_url=next_url,
    )
    return html, (200 if page is not None else 422)


# --- nominations -------------------------------------------------------------------------


def _nomination_targets() -> dict[str, str]:
    """The tiers a nomination may name, the champion rung once per route
    (``"champion:<route>"``)."""
    targets: dict[str, str] = {}
    for code, name in tier_labels().items():
        for route in criteria_versions.routes(code):
            if route is None:
                targets[code] = name
            else:
                label = _("%(tier)s, route: %(route)s", tier=name, route=ROUTE_LABELS[route])
                targets[f"{code}:{route}"] = label
    return targets


@bp.route("/nominate", methods=["GET", "POST"])
@access.reviewer
def nominate() -> ResponseReturnValue:
    form = forms.NominateForm()
    form.tier.choices = forms.required_choices(_nomination_targets())
    if form.validate_on_submit():
        tier, _sep, route = cast(str, form.tier.data).partition(":")
        try:
            enterprise = enterprise_queries.by_uscc(db.session, cast(str, form.uscc.data))
            # Applying for the rung already held can only be its renewal.
            kind = Kind.RENEWAL if enterprise.tier == tier else Kind.PROMOTION
            application = operations.create(
                db.session, enterprise, tier, kind, user=me(), via="web", route=route or None
            )
        except DomainError as error:
            db.session.rollback()
            refuse(form, error, field="uscc")
            return form_page("review/nominate.html", form, status=form_status(error))
        db.session.commit()
        flash(_("The nomination is created as a draft. Submit it when it is complete."))
        next_steps.after_start(application)
        return see_other(".application", application_id=application.id)
    return form_page("review/nominate.html", form)
