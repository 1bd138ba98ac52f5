"""Reviewers' pages on enterprises (search, the enterprise page with its tier history,
verify, demote, revoke) and on account claims: routes of the ``review`` blueprint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from flask import flash, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from registry.accounts import operations as account_ops
from registry.accounts.models import AccountClaim, ClaimState
from registry.applications import next_steps, queries, questions
from registry.applications import review_forms as forms
from registry.applications.review import (
    LIST_LIMIT,
    REVIEWERS,
    bp,
    figure_groups,
    form_status,
    me,
    tier_labels,
)
from registry.core import access
from registry.core.audit import Actor
from registry.core.confirm import Question, confirm_first
from registry.core.errors import DomainError, found
from registry.core.i18n import current_language
from registry.core.web import error_text, nav_item, refuse, see_other
from registry.enterprises import operations as enterprise_ops
from registry.enterprises import queries as enterprise_queries
from registry.enterprises.models import Enterprise
from registry.extensions import db
from registry.ladder import operations as ladder_ops
from registry.ladder import queries as ladder_queries
from registry.ladder.models import TierEvent

nav_item("review.enterprises", _l("Enterprises"), REVIEWERS, order=32)
nav_item("review.claims", _l("Account claims"), REVIEWERS, order=34)


# --- enterprises -------------------------------------------------------------------------


@bp.get("/enterprises")
@access.reviewer
def enterprises() -> ResponseReturnValue:
    form = forms.EnterpriseSearchForm(request.args)
    if not form.validate():
        return render_template("review/enterprises.html", form=form, found=None), 422
    text = (form.q.data or "").strip()
    found = queries.find_enterprises(db.session, text, limit=LIST_LIMIT) if text else None
    return render_template(
        "review/enterprises.html",
        form=form,
        found=found,
        limit=LIST_LIMIT,
        tier_names=tier_labels(),
    )


def _enterprise_or_404(uscc: str) -> Enterprise:
    return found(enterprise_queries.find_by_uscc(db.session, uscc), "No such enterprise.")


def _demote_form(enterprise: Enterprise, **kwargs: Any) -> forms.DemoteForm:
    form = forms.DemoteForm(prefix="demote", **kwargs)
    names = tier_labels()
    ranks = ladder_queries.tier_ranks(db.session)
    current = ranks.get(enterprise.tier, 0) if enterprise.tier else 0
    form.to_tier.choices = forms.required_choices(
        {c: n for c, n in names.items() if ranks[c] < current}
    )
    return form


def _enterprise_page(
    enterprise: Enterprise,
    *,
    demote: forms.DemoteForm | None = None,
    revoke: forms.RevokeForm | None = None,
    status: int = 200,
) -> tuple[str, int]:
    session = db.session
    html = render_template(
        "review/enterprise.html",
        enterprise=enterprise,
        **queries.place_names(session, enterprise, current_language()),
        tier_names=tier_labels(),
        events=ladder_queries.tier_events(session, enterprise.id),
        reports=queries.reports(session, enterprise.id),
        figure_groups=figure_groups(),
        applications=queries.applications_of(session, enterprise.id),
        demote=demote or _demote_form(enterprise, formdata=None),
        revoke=revoke or forms.RevokeForm(prefix="revoke", formdata=None),
    )
    return html, status


@bp.get("/enterprises/<uscc>")
@access.reviewer
def enterprise(uscc: str) -> ResponseReturnValue:
    return _enterprise_page(_enterprise_or_404(uscc))


def _ladder_move(
    uscc: str,
    form_name: str,
    move: Callable[[Enterprise, forms.DemoteForm | forms.RevokeForm], TierEvent],
    done: str,
    question: Callable[[Enterprise, forms.DemoteForm | forms.RevokeForm], Question],
    next_step: Callable[[Enterprise, TierEvent], None],
) -> ResponseReturnValue:
    """Demote or revoke: ``move(enterprise, form)`` calls the ladder operation, and
    ``question(enterprise, form)`` asks it first: neither can be undone. ``next_step``
    says what it changed (QUALITY.md U6)."""
    enterprise = _enterprise_or_404(uscc)
    form = _demote_form(enterprise) if form_name == "demote" else forms.RevokeForm(prefix="revoke")
    if not form.validate_on_submit():
        return _enterprise_page(enterprise, **{form_name: form}, status=422)
    try:
        event = move(enterprise, form)
    except DomainError as error:
        db.session.rollback()
        refuse(form, error)
        return _enterprise_page(
            _enterprise_or_404(uscc), **{form_name: form}, status=form_status(error)
        )
    if asked := confirm_first(db.session, lambda: question(enterprise, form)):
        return asked
    db.session.commit()
    flash(done)
    next_step(enterprise, event)
    return see_other(".enterprise", uscc=enterprise.uscc)


@bp.post("/enterprises/<uscc>/demotion")
@access.reviewer
def demote(uscc: str) -> ResponseReturnValue:
    return _ladder_move(
        uscc,
        "demote",
        lambda enterprise, form: ladder_ops.demote(
            db.session,
            enterprise,
            form.to_tier.data,
            actor=Actor.of(current_user, "web"),
            reason=cast(str, form.reason.data),  # required
        ),
        _("The enterprise is demoted."),
        lambda enterprise, form: questions.demote(enterprise, form.to_tier.data),
        lambda enterprise, _event: next_steps.after_demotion(enterprise),
    )


@bp.post("/enterprises/<uscc>/revocation")
@access.reviewer
def revoke(uscc: str) -> ResponseReturnValue:
    return _ladder_move(
        uscc,
        "revoke",
        lambda enterprise, form: ladder_ops.revoke(
            db.session,
            enterprise,
            actor=Actor.of(current_user, "web"),
            reason=cast(str, form.reason.data),  # required
            ban_until=form.ban_until.data,
        ),
        _("The designation is revoked."),
        lambda enterprise, form: questions.revoke(enterprise, form.ban_until.data),
        next_steps.after_revocation,
    )


@bp.post("/enterprises/<uscc>/verification")
@access.reviewer
def verify(uscc: str) -> ResponseReturnValue:
    enterprise = _enterprise_or_404(uscc)
    enterprise_ops.verify_enterprise(db.session, enterprise, actor=Actor.of(current_user, "web"))
    db.session.commit()
    flash(_("The enterprise is marked as verified."))
    next_steps.after_verification(enterprise)
    return see_other(".enterprise", uscc=enterprise.uscc)


# --- account claims ----------------------------------------------------------------------


def _claim_form(claim_id: int, **kwargs: Any) -> forms.ClaimDecisionForm:
    return forms.ClaimDecisionForm(prefix=f"claim-{claim_id}", **kwargs)


def _claims_page(
    failed: dict[int, forms.ClaimDecisionForm] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The claims page; ``failed`` = {claim id: its form with errors}."""
    pending = queries.pending_claims(db.session)
    claim_forms = {
        row.AccountClaim.id: _claim_form(row.AccountClaim.id, formdata=None) for row in pending
    }
    claim_forms.update(failed or {})
    html = render_template(
        "review/claims.html",
        pending=pending,
        claim_forms=claim_forms,
        decided=queries.decided_claims(db.session, limit=LIST_LIMIT),
        problem=problem,
    )
    return html, status


@bp.get("/account-claims")
@access.reviewer
def claims() -> ResponseReturnValue:
    return _claims_page()


@bp.post("/account-claims/<int:claim_id>/decision")
@access.reviewer
def decide_claim(claim_id: int) -> ResponseReturnValue:
    claim = db.get_or_404(AccountClaim, claim_id)
    form = _claim_form(claim_id)
    if not form.validate_on_submit():
        return _claims_page({claim_id: form}, status=422)
    try:
        account_ops.decide_claim(
            db.session,
            claim,
            form.decision.data,
            reviewer=me(),
            via="web",
            comment=form.comment.data,
        )
    except DomainError as error:
        db.session.rollback()
        refuse(form, error)
        pending = db.session.get_one(AccountClaim, claim_id).state == ClaimState.PENDING
        return _claims_page(
            {claim_id: form} if pending else None,
            problem=None if pending else error_text(error),
            status=error.status,
        )
    db.session.commit()
    flash(
        _("The claim is confirmed: the account now sees the enterprise.")
        if claim.state == ClaimState.CONFIRMED
        else _("The claim is refused.")
    )
    next_steps.after_claim_decision(claim)
    return see_other(".claims")
