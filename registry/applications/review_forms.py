"""The reviewers' forms (shape only: the rules live in the operations) and the words
their pages use for decisions, assignees, audit actions and claims."""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    Form,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # not in types-WTForms 3.2
from wtforms.validators import InputRequired, Length, Optional

from registry.accounts.models import User
from registry.applications.models import State
from registry.applications.queries import APPROVALS, ASSIGNEES, NEEDS_REVIEWER, QueueFilter
from registry.core.forms import REQUIRED, NumberField
from registry.core.web import one_of_the_choices

DECISION_LABELS = {
    "approve": _l("Approve"),
    "reject": _l("Reject"),
    "request_changes": _l("Request changes"),
}
ASSIGNEE_LABELS = {"anyone": _l("Anyone"), "me": _l("Me"), "none": _l("Nobody yet")}
APPROVAL_LABELS = {
    "": _l("Any"),
    "mine": _l("Needs my approval"),
    "second": _l("Needs a second approval"),
}
CLAIM_STATE_LABELS = {
    "pending": _l("Pending"),
    "confirmed": _l("Confirmed"),
    "refused": _l("Refused"),
}
#: The queue's state filter: "" = waiting for a reviewer, "all", or one state.
ALL_STATES = "all"


def choices(labels: dict) -> list[SelectChoice]:
    """``{value: label}`` as a select's choices."""
    return [SelectChoice(value, label) for value, label in labels.items()]


def required_choices(labels: dict) -> list[SelectChoice]:
    """The choices of a required select, after an empty "Choose…" one that it starts on
    and that "required" refuses: no value is chosen for the user without their knowing
    (none at all when ``labels`` is empty)."""
    if not labels:
        return []
    return [SelectChoice("", _l("Choose…")), *choices(labels)]


class QueueFilterForm(Form):
    """The queue's filters (GET, so no CSRF token; empty = all)."""

    tier = SelectField(
        _l("Tier"),
        validate_choice=False,
        validators=[one_of_the_choices(_l("Unknown tier: choose one from the list."))],
    )
    city = SelectField(
        _l("City"),
        validate_choice=False,
        validators=[one_of_the_choices(_l("Unknown city: choose one from the list."))],
    )
    state = SelectField(
        _l("State"),
        validate_choice=False,
        validators=[one_of_the_choices(_l("Unknown state: choose one from the list."))],
    )
    assignee = SelectField(
        _l("Claimed by"),
        validate_choice=False,
        default="anyone",
        validators=[one_of_the_choices(_l("Unknown choice: choose one from the list."))],
    )
    approval = SelectField(
        _l("Approvals"),
        validate_choice=False,
        validators=[one_of_the_choices(_l("Unknown choice: choose one from the list."))],
    )

    def fill_choices(
        self, tiers: dict[str, str], cities: dict[str, str], states: dict[State, LazyString]
    ) -> None:
        """Names of tiers and cities in the page's language, labels of the states."""
        self.tier.choices = [SelectChoice("", _l("All tiers")), *choices(tiers)]
        self.city.choices = [SelectChoice("", _l("All cities")), *choices(cities)]
        self.state.choices = [
            SelectChoice("", _l("Waiting for a reviewer")),
            *choices({s.value: states[s] for s in State}),
            SelectChoice(ALL_STATES, _l("All states")),
        ]
        self.assignee.choices = choices({a: ASSIGNEE_LABELS[a] for a in ASSIGNEES})
        self.approval.choices = choices({a: APPROVAL_LABELS[a] for a in APPROVALS})

    def chosen(self) -> dict[str, str]:
        """The filters set to something else than their default (what links keep)."""
        fields = (self.tier, self.city, self.state, self.assignee, self.approval)
        return {f.name: f.data for f in fields if f.data and f.data != f.default}

    def queue_filter(self, user: User) -> QueueFilter:
        """The validated filters as the queue query takes them; ``user`` is the
        reviewer signed in ("me", "needs my approval")."""
        chosen = self.chosen()
        state = chosen.get("state")
        states: tuple[State, ...]
        if state is None:
            states = NEEDS_REVIEWER
        else:
            states = tuple(State) if state == ALL_STATES else (State(state),)
        return QueueFilter(
            states=states,
            tier=chosen.get("tier"),
            city=chosen.get("city"),
            assignee=chosen.get("assignee", "anyone"),
            user_id=user.id,
            approval=chosen.get("approval", ""),
            user_enterprise_id=user.enterprise_id,
        )


class DecisionForm(FlaskForm):
    """Approve, reject or request changes. :func:`decision_form` adds one checkbox per
    manual check of the application's eligibility snapshot."""

    decision = RadioField(
        _l("Decision"),
        choices=choices(DECISION_LABELS),
        validate_choice=False,
        validators=[
            InputRequired(REQUIRED),
            one_of_the_choices(_l("Choose a decision.")),
        ],
    )
    comment = TextAreaField(_l("Comment"), validators=[Length(max=4000)])
    innovation_score = NumberField(
        _l("Innovation capability score"),
        validators=[Optional()],
        message=_l("Enter a whole number from %(min)s to %(max)s.", min=0, max=100),
        minimum=0,
        maximum=100,
    )

    manual_codes: tuple[str, ...] = ()

    def confirmed(self) -> dict[str, bool]:
        """``{check code: True}`` for each manual check ticked."""
        return {code: True for code in self.manual_codes if self[confirm_field(code)].data}


def confirm_field(code: str) -> str:
    return f"confirm_{code}"


def decision_form(manual_checks: list[tuple[str, str]], **kwargs: Any) -> DecisionForm:
    """A :class:`DecisionForm` with a checkbox per ``(code, label)`` manual check."""

    class ApplicationDecisionForm(DecisionForm):
        manual_codes = tuple(code for code, _label in manual_checks)

    for code, label in manual_checks:
        setattr(ApplicationDecisionForm, confirm_field(code), BooleanField(label))
    return ApplicationDecisionForm(**kwargs)


class NominateForm(FlaskForm):
    uscc = StringField(
        _l("Unified social credit code"),
        validators=[InputRequired(REQUIRED), Length(max=64)],
    )
    tier = SelectField(
        _l("Tier"),
        validate_choice=False,
        validators=[
            InputRequired(REQUIRED),
            one_of_the_choices(_l("Unknown tier: choose one from the list.")),
        ],
    )


class DemoteForm(FlaskForm):
    """``to_tier`` lists the tiers below the current one; the operation checks it."""

    to_tier = SelectField(
        _l("Demote to"), validate_choice=False, validators=[InputRequired(REQUIRED)]
    )
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(REQUIRED), Length(max=2000)])


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[InputRequired(REQUIRED), Length(max=2000)])
    ban_until = DateField(_l("No application until"), validators=[Optional()])


class ClaimDecisionForm(FlaskForm):
    """Confirm or refuse an account claim (the two buttons post ``decision``)."""

    decision = SelectField(
        _l("Decision"),
        choices=choices({"confirm": _l("Confirm"), "refuse": _l("Refuse")}),
        validate_choice=False,
        validators=[
            InputRequired(REQUIRED),
            one_of_the_choices(_l("Choose confirm or refuse.")),
        ],
    )
    comment = TextAreaField(_l("Comment"), validators=[Length(max=2000)])


class EnterpriseSearchForm(Form):
    """Find an enterprise (GET)."""

    q = StringField(_l("USCC or name begins with"), validators=[Length(max=200)])
