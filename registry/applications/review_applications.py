"""The reviewers' page of one application (PRODUCT.md "Applications and review"): its
checks, figures and history with the decision form; claiming the review, submitting or
withdrawing a nomination, and the decision: routes of the ``review`` blueprint.

A refusal of the operations layer is shown on the page with the refusal's status;
withdrawing a nomination and rejecting an application are asked first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from flask import flash, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from registry.applications import decisions, next_steps, operations, queries, questions
from registry.applications import review_forms as forms
from registry.applications.models import WITHDRAWABLE, Application, State
from registry.applications.notices import notice_period
from registry.applications.review import bp, figure_groups, me, tier_labels
from registry.core import access, clock
from registry.core.confirm import Question, confirm_first
from registry.core.errors import DomainError, ManualChecksUnconfirmed
from registry.core.i18n import current_language
from registry.core.web import error_text, refuse, see_other
from registry.extensions import db
from registry.ladder import criteria_versions, eligibility
from registry.ladder import queries as ladder_queries
from registry.ladder.labels import ROUTE_LABELS, check_words


def _checks(application: Application) -> list[dict]:
    """The snapshot's checks, labelled in the page's language, each with its ``words``
    (what it asks and what was found, as :func:`check_words` says them)."""
    lang = current_language()
    snapshot = application.eligibility or {}
    rank_names = ladder_queries.rank_names(db.session, lang)
    criteria = criteria_versions.of_snapshot(db.session, application)
    return [
        {
            **c,
            "label": eligibility.label(c["code"], lang)
            if c["code"] in eligibility.LABELS
            else c["label"],
            "words": check_words(
                c,
                tier=application.tier,
                score=snapshot.get("score"),
                rank_names=rank_names,
                criteria=criteria,
            ),
        }
        for c in snapshot.get("checks", [])
    ]


def _decision_form(application: Application, **kwargs: Any) -> forms.DecisionForm:
    manual = [(c["code"], c["label"]) for c in _checks(application) if c["status"] == "manual"]
    if application.route == "srdi":
        # Not a check: each approving reviewer may confirm it (decisions.record_route).
        lang = current_language()
        little_giant = eligibility.label(decisions.LITTLE_GIANT, lang)
        manual.append((decisions.LITTLE_GIANT, _("%(label)s (optional)", label=little_giant)))
    return forms.decision_form(manual, **kwargs)


def _application_page(
    application: Application,
    *,
    decision: forms.DecisionForm | None = None,
    problem: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    session = db.session
    snapshot = application.eligibility or {}
    names = queries.user_names(
        session,
        [application.created_by, application.submitted_by, application.claimed_by],
    )
    html = render_template(
        "review/application.html",
        application=application,
        enterprise=application.enterprise,
        **queries.place_names(session, application.enterprise, current_language()),
        tier_names=tier_labels(),
        route_labels=ROUTE_LABELS,
        checks=_checks(application),
        score=snapshot.get("score"),
        evaluated_at=clock.parse_instant(snapshot["evaluated_at"]) if snapshot else None,
        reports=queries.reports(session, application.enterprise_id, limit=3),
        figure_groups=figure_groups(),
        attachments=[
            (a, url_for("applications.download", attachment_id=a.id))
            for a in queries.attachments(session, application.id)
        ],
        history=queries.history(session, application.id),
        decisions=application.decisions,
        objections=queries.objections(session, application.id),
        names=names,
        form=decision or _decision_form(application, formdata=None),
        problem=problem,
        # Who already leads the review is not offered to take it over from themselves.
        can_claim=application.state in (State.SUBMITTED, State.IN_REVIEW)
        and application.claimed_by != current_user.id,
        can_decide=application.state == State.IN_REVIEW,
        is_nomination=application.nominated_by is not None,
        can_submit=application.state in (State.DRAFT, State.CHANGES_REQUESTED),
        can_withdraw=application.state in WITHDRAWABLE,
    )
    return html, status


@bp.get("/applications/<int:application_id>")
@access.reviewer
def application(application_id: int) -> ResponseReturnValue:
    return _application_page(db.get_or_404(Application, application_id))


def _transition(
    application_id: int,
    operation: Callable[..., object],
    done: str,
    then: Callable[[Application], None],
    question: Callable[[Application], Question] | None = None,
    **options: Any,
) -> ResponseReturnValue:
    """Claim, submit or withdraw: 303 with ``done`` and what happens ``then`` after
    success, else the page with the refusal and its status. With a ``question`` the
    action is asked first."""
    application = db.get_or_404(Application, application_id)
    try:
        operation(db.session, application, user=me(), via="web", **options)
    except DomainError as error:
        db.session.rollback()
        return _application_page(
            db.get_or_404(Application, application_id),
            problem=error_text(error),
            status=error.status,
        )
    if question and (asked := confirm_first(db.session, lambda: question(application))):
        return asked
    db.session.commit()
    flash(done)
    then(application)
    return see_other(".application", application_id=application_id)


@bp.post("/applications/<int:application_id>/claim")
@access.reviewer
def claim(application_id: int) -> ResponseReturnValue:
    return _transition(
        application_id, operations.claim, _("You now lead this review."), next_steps.after_claim
    )


@bp.post("/applications/<int:application_id>/submission")
@access.reviewer
def submit_nomination(application_id: int) -> ResponseReturnValue:
    # A nomination needs no declaration (PRODUCT.md "Applications and review"); an enterprise's own
    # application is refused by the operation (only its users may submit it).
    return _transition(
        application_id,
        operations.submit,
        _("The nomination is submitted for review."),
        next_steps.after_submit,
        declaration=False,
    )


@bp.post("/applications/<int:application_id>/withdrawal")
@access.reviewer
def withdraw_nomination(application_id: int) -> ResponseReturnValue:
    return _transition(
        application_id,
        operations.withdraw,
        _("The nomination is withdrawn."),
        next_steps.after_withdraw,
        lambda application: questions.withdraw(
            application, url_for(".application", application_id=application_id)
        ),
    )


def _decided_message(application: Application) -> str:
    if application.state == State.IN_NOTICE:
        return _(
            "Approved. Public notice: %(period)s.",
            # Both set when the notice began.
            period=notice_period(
                cast(datetime, application.notice_started_at),
                cast(datetime, application.notice_ends_at),
            ),
        )
    if application.state == State.IN_REVIEW:
        return _(
            "Your approval is recorded (%(count)s of %(required)s).",
            count=len(application.approvals()),
            required=application.approvals_required or 1,
        )
    return {
        State.GRANTED: _("Approved: the designation is renewed."),
        State.REJECTED: _("The application is rejected."),
        State.CHANGES_REQUESTED: _("Changes are requested from the applicant."),
    }[application.state]


def _mark_unconfirmed(form: forms.DecisionForm, error: DomainError) -> list[str]:
    """Each manual check the refusal names, marked on its checkbox with a message that
    names it too: the error summary lists the messages of checkboxes alone (a
    checkbox's label is often a whole sentence), so each entry must say which check it
    is. Returns the checks marked."""
    marked = []
    for item in error.errors:
        name = forms.confirm_field(item.get("field", "").removeprefix("manual_checks."))
        if name in form:
            field = form[name]
            field.errors = [_("Confirm this check to approve: %(check)s.", check=field.label.text)]
            marked.append(name)
    return marked


@bp.post("/applications/<int:application_id>/decision")
@access.reviewer
def decide(application_id: int) -> ResponseReturnValue:
    application = db.get_or_404(Application, application_id)
    form = _decision_form(application)
    if not form.validate_on_submit():
        return _application_page(application, decision=form, status=422)
    approve = form.decision.data == "approve"
    try:
        decisions.decide(
            db.session,
            application,
            form.decision.data,
            user=me(),
            via="web",
            comment=form.comment.data,
            manual_checks=form.confirmed() if approve else None,
            innovation_score=form.innovation_score.data if approve else None,
        )
    except DomainError as error:
        db.session.rollback()
        unconfirmed = _mark_unconfirmed(form, error)
        application = db.get_or_404(Application, application_id)
        if application.state != State.IN_REVIEW:
            # No decision form on the page (a stale tab): the refusal goes above it.
            return _application_page(application, problem=error_text(error), status=error.status)
        if isinstance(error, ManualChecksUnconfirmed):
            if len(unconfirmed) < len(error.errors):
                form.form_errors.append(error_text(error))  # a check the form does not show
        else:
            refuse(form, error)
        return _application_page(application, decision=form, status=error.status)
    if form.decision.data == "reject" and (
        asked := confirm_first(db.session, lambda: questions.reject(application, form.comment.data))
    ):
        return asked
    db.session.commit()
    flash(_decided_message(application))
    next_steps.after_decision(application)
    return see_other(".application", application_id=application_id)
