"""The applicant side of applications (PRODUCT.md "Applications and review" and "Web pages"): the
enterprise's list, the wizard (choose a tier or a renewal, then figures, eligibility, attachments
and the declaration on the detail page), the timeline, withdrawal, and attachment downloads.

Who sees what: an application or a file is visible to the users of its enterprise and
to reviewers; anyone else gets 404 with nothing of it in the page (QUALITY.md S1). A
nomination is read by the enterprise and acted on by reviewers only. On the timeline,
enterprise users see "a reviewer" where a reviewer acted, never who.

Refusals: a POST of the detail page (submit, upload, delete a file, withdraw) that the
operations refuse re-renders the detail page with the message on the form concerned
and the refusal's status — 422 (validation, not eligible), 413 (file over 10 MB),
409 (invalid transition: e.g. the second of two submits from two tabs), 403 (not the
applicant side). Nothing is changed then. Success flashes a message and answers 303.
A withdrawal cannot be undone: it is asked first on a page of its own
(``registry.core.confirm``) and done when that page posts it again.
A request body over ``MAX_CONTENT_LENGTH`` is refused before any view reads it; for an
upload the detail page comes back all the same, the refusal beside the file field (413).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import RequestEntityTooLarge

from registry.accounts.models import User
from registry.applications import attachments, next_steps, operations, queries, questions
from registry.applications.forms import ActionForm, NewApplicationForm, SubmitForm, UploadForm
from registry.applications.labels import KIND_LABELS, STATE_LABELS
from registry.applications.models import WITHDRAWABLE, Application, Attachment, Kind, State
from registry.applications.timeline import timeline
from registry.core import access, clock
from registry.core.confirm import confirm_first
from registry.core.errors import DomainError, NotEligible, RenewalWindowClosed, found
from registry.core.i18n import current_language
from registry.core.web import error_text, form_page, nav_item, refuse, render_error, see_other
from registry.enterprises.models import Enterprise
from registry.enterprises.views import own_enterprise
from registry.extensions import db
from registry.ladder import criteria_versions, eligibility, holds
from registry.ladder import queries as ladder_queries
from registry.ladder.labels import ROUTE_LABELS, STATUS_TEXT, evaluation_words

bp = Blueprint("applications", __name__)

nav_item("applications.index", _l("Applications"), {"enterprise"}, order=20)


@bp.context_processor
def _labels() -> dict:
    return {
        "state_label": lambda state: STATE_LABELS[State(state)],
        "kind_label": lambda kind: KIND_LABELS[Kind(kind)],
    }


def _user() -> User:
    return current_user._get_current_object()


def _visible_application(application_id: int) -> Application:
    return found(
        db.session.get(Application, application_id),
        "No such application.",
        lambda application: application.visible_to(_user()),
    )


# --- the enterprise's applications and wizard step 1 ------------------------------------------


@bp.get("/applications")
@access.enterprise_user
def index() -> ResponseReturnValue:
    if current_user.enterprise_id is None:
        # A claim still waiting for a reviewer: nothing of the enterprise yet.
        return render_template("applications/index.html", applications=None, open_one=None)
    applications = queries.applications_of(db.session, current_user.enterprise_id)
    return render_template(
        "applications/index.html",
        applications=applications,
        open_one=next((a for a in applications if a.is_open), None),
        tier_names=ladder_queries.tier_names(db.session, current_language()),
    )


def _start_options(enterprise: Enterprise) -> tuple[list[tuple[str, str]], list[str]]:
    """What the enterprise may start (``"<kind>:<tier>"``, label) and notes on the rest:
    self_apply tiers above its rung, and a renewal of its tier in the renewal window."""
    lang = current_language()
    tiers = ladder_queries.tiers(db.session)
    ranks = {tier.code: tier.rank for tier in tiers}
    names = {tier.code: tier.name(lang) for tier in tiers}
    current = ranks[enterprise.tier] if enterprise.tier else 0
    options, notes = [], []
    own = next((tier for tier in tiers if tier.code == enterprise.tier), None)
    if own is not None and not own.self_apply:
        notes.append(_("A renewal of %(tier)s is by nomination only.", tier=names[own.code]))
    elif own is not None:
        try:
            holds.check_renewal_window(enterprise)
        except RenewalWindowClosed as closed:
            notes.append(error_text(closed))
        else:
            options += _by_route(
                f"renewal:{enterprise.tier}", _("Renewal of %(tier)s", tier=names[own.code])
            )
    for tier in tiers:
        if tier.rank <= current:
            continue
        if not tier.self_apply:
            notes.append(_("%(tier)s is reached by nomination only.", tier=names[tier.code]))
            continue
        label = _("Promotion to %(tier)s", tier=names[tier.code])
        if tier.prerequisite and current < ranks[tier.prerequisite]:
            label = _(
                "%(label)s (needs at least %(prerequisite)s when you submit)",
                label=label,
                prerequisite=names[tier.prerequisite],
            )
        options += _by_route(f"promotion:{tier.code}", label)
    return options, notes


def _by_route(value: str, label: str) -> list[tuple[str, str]]:
    """One choice, or one per route for the champion rung (DOMAIN.md: either route)."""
    if not value.endswith(":" + criteria_versions.ROUTED_TIER):
        return [(value, label)]
    return [
        (
            f"{value}:{route}",
            _("%(label)s, route: %(route)s", label=label, route=ROUTE_LABELS[route]),
        )
        for route in criteria_versions.ROUTES
    ]


@bp.route("/applications/new", methods=["GET", "POST"])
@access.enterprise_user
def new() -> ResponseReturnValue:
    enterprise = own_enterprise()
    form = NewApplicationForm()
    options, notes = _start_options(enterprise)
    form.target.choices = options
    status = None
    if form.validate_on_submit():
        kind, tier, route = form.chosen()
        try:
            application = operations.create(
                db.session, enterprise, tier, kind, user=_user(), via="web", route=route
            )
        except DomainError as error:
            db.session.rollback()
            refuse(form, error, field="target")
            status = error.status
        else:
            db.session.commit()
            flash(_("Application %(id)s was started as a draft.", id=application.id))
            next_steps.after_start(application)
            return see_other("applications.detail", application_id=application.id)
    mine = queries.applications_of(db.session, enterprise.id)
    open_one = next((a for a in mine if a.is_open), None)
    return form_page("applications/new.html", form, status, notes=notes, open_one=open_one)


# --- the detail page: steps, attachments, timeline ------------------------------------------------


def _detail_page(
    application: Application, status: int = 200, **forms: FlaskForm
) -> tuple[str, int]:
    may_act = application.applicant_side(_user())
    editable = may_act and application.state in attachments.EDITABLE_STATES
    lang = current_language()
    evaluation, words = None, {}
    if editable:
        evaluation = ladder_queries.evaluate_enterprise(
            db.session,
            application.enterprise,
            application.tier,
            reference=clock.now(),
            lang=lang,
            route=application.route,
        )
        rank_names = ladder_queries.rank_names(db.session, lang)
        words = evaluation_words(evaluation, tier=application.tier, rank_names=rank_names)
    context = {
        "upload_form": UploadForm(formdata=None),
        "submit_form": SubmitForm(formdata=None),
        "withdraw_form": ActionForm(formdata=None),
        "files_form": ActionForm(formdata=None),
        **forms,
    }
    html = render_template(
        "applications/detail.html",
        application=application,
        tier_names=ladder_queries.tier_names(db.session, lang),
        route_labels=ROUTE_LABELS,
        may_act=may_act,
        editable=editable,
        withdrawable=may_act and application.state in WITHDRAWABLE,
        evaluation=evaluation,
        check_words=words,
        status_text=STATUS_TEXT,
        files=queries.attachments(db.session, application.id),
        timeline=timeline(application, _user()),
        max_megabytes=attachments.MAX_SIZE // (1024 * 1024),
        **context,
    )
    return html, status


def _refused(
    application: Application,
    error: DomainError,
    form_name: str,
    form: FlaskForm,
    field: str | None = None,
) -> tuple[str, int]:
    """Nothing was changed: show the refusal on ``form`` with the refusal's status."""
    db.session.rollback()
    if error.status == 404:
        abort(404)
    if isinstance(error, NotEligible):
        lang = current_language()
        codes = [e["field"] for e in error.errors]
        checks = [eligibility.label(c, lang) if c in eligibility.LABELS else c for c in codes]
        form.form_errors.append(
            _(
                "The application cannot be submitted while these checks are not met: %(checks)s.",
                checks="; ".join(checks),
            )
        )
    else:
        refuse(form, error, field)
    return _detail_page(application, error.status, **{form_name: form})


@bp.get("/applications/<int:application_id>")
@access.signed_in
def detail(application_id: int) -> ResponseReturnValue:
    return _detail_page(_visible_application(application_id))


@bp.post("/applications/<int:application_id>/submit")
@access.signed_in
def submit(application_id: int) -> ResponseReturnValue:
    application = _visible_application(application_id)
    form = SubmitForm()
    if not form.validate_on_submit():
        return _detail_page(application, 422, submit_form=form)
    try:
        operations.submit(
            db.session,
            application,
            user=_user(),
            via="web",
            declaration=bool(form.declaration.data),
        )
    except DomainError as error:
        return _refused(application, error, "submit_form", form)
    db.session.commit()
    flash(_("The application was submitted. Reviewers will now examine it."))
    next_steps.after_submit(application)
    return see_other("applications.detail", application_id=application_id)


@bp.post("/applications/<int:application_id>/withdraw")
@access.signed_in
def withdraw(application_id: int) -> ResponseReturnValue:
    application = _visible_application(application_id)
    form = ActionForm()
    if not form.validate_on_submit():
        return _detail_page(application, 422, withdraw_form=form)
    try:
        operations.withdraw(db.session, application, user=_user(), via="web")
    except DomainError as error:
        return _refused(application, error, "withdraw_form", form)
    cancel = url_for("applications.detail", application_id=application_id)
    if asked := confirm_first(db.session, lambda: questions.withdraw(application, cancel)):
        return asked
    db.session.commit()
    flash(_("The application was withdrawn."))
    next_steps.after_withdraw(application)
    return see_other("applications.detail", application_id=application_id)


@bp.post("/applications/<int:application_id>/attachments")
@access.signed_in
def upload(application_id: int) -> ResponseReturnValue:
    application = _visible_application(application_id)
    form = UploadForm()
    if not form.validate_on_submit():
        return _detail_page(application, 422, upload_form=form)
    storage = form.file.data
    # One byte more than allowed is enough to know the file is too large.
    content = storage.read(attachments.MAX_SIZE + 1)
    try:
        attachment = attachments.add_attachment(
            db.session, application, content, storage.filename, user=_user(), via="web"
        )
    except DomainError as error:
        return _refused(application, error, "upload_form", form, field="file")
    db.session.commit()
    flash(_("The file %(label)s was added.", label=attachment.label))
    next_steps.after_files(application)
    return see_other("applications.detail", application_id=application_id)


@bp.errorhandler(RequestEntityTooLarge)
def _request_too_large(error: RequestEntityTooLarge) -> ResponseReturnValue:
    """A body over ``MAX_CONTENT_LENGTH``: werkzeug refuses to read it, before any view
    runs. For an upload the person gets the application back with the limit named
    beside the file field (413); any other page of the blueprint the HTML 413 page.
    Nothing was read, so nothing is changed: the page is what a GET would show."""
    application_id = (request.view_args or {}).get("application_id")
    if request.endpoint != "applications.upload" or not current_user.is_authenticated:
        return render_error(error)
    application = db.session.get(Application, application_id)
    if application is None or not application.visible_to(_user()):
        return render_error(error)
    form = UploadForm(formdata=None)
    return _refused(application, attachments.too_large(), "upload_form", form, field="file")


def _visible_attachment(attachment_id: int) -> Attachment:
    return found(
        db.session.get(Attachment, attachment_id),
        "No such attachment.",
        lambda attachment: attachment.application.visible_to(_user()),
    )


@bp.post("/attachments/<int:attachment_id>/delete")
@access.signed_in
def delete_attachment(attachment_id: int) -> ResponseReturnValue:
    attachment = _visible_attachment(attachment_id)
    application, label = attachment.application, attachment.label
    form = ActionForm()
    if not form.validate_on_submit():
        return _detail_page(application, 422, files_form=form)
    try:
        attachments.delete_attachment(db.session, attachment, user=_user(), via="web")
    except DomainError as error:
        return _refused(application, error, "files_form", form)
    db.session.commit()
    flash(_("The file %(label)s was removed.", label=label))
    next_steps.after_files(application)
    return see_other("applications.detail", application_id=application.id)


@bp.get("/attachments/<int:attachment_id>")
@access.signed_in
def download(attachment_id: int) -> Response:
    """The file as stored, under a name of our making and its detected type; always a
    download (never shown inline), never sniffed, never cached."""
    return attachments.download_response(_visible_attachment(attachment_id))
