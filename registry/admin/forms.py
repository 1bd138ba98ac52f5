"""Admin forms (shape only; the rules live in the operations they feed)."""

from __future__ import annotations

from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    Form,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # not in types-WTForms 3.2
from wtforms.validators import (
    EqualTo,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from registry.accounts.models import Role
from registry.core.audit_labels import ACTION_LABELS, OBJECT_LABELS
from registry.core.forms import REQUIRED, NumberField
from registry.core.web import strip_text
from registry.ladder.dates import CALENDAR_YEAR
from registry.ladder.settings import LIMITS, MAX_VALIDITY_YEARS

_CHOOSE = _l("Choose one of the listed values.")


class _DateField(DateField):
    """A date typed as YYYY-MM-DD (a date picker where the browser has one)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a date as YYYY-MM-DD.")) from None


#: What each scope is for, in a line (API.md's table has the detail).
SCOPE_LABELS = {
    "registry:read": _l("Read the registry (enterprise users: public data and their own)"),
    "registry:write": _l("Change enterprise records and annual reports"),
    "changes:read": _l("Read the change feed and the export (reviewers)"),
    "workflow:apply": _l("Applications of the user's own enterprise (enterprise users)"),
    "workflow:review": _l("Review: claims, decisions, demotions, objections (reviewers)"),
    "admin": _l("Administration: users, tokens, tiers, sync sources, imports, audit log"),
}


ROLE_LABELS = {
    Role.ENTERPRISE: _l("Enterprise user"),
    Role.REVIEWER: _l("Reviewer"),
    Role.ADMIN: _l("Administrator"),
}
ROLE_CHOICES = [SelectChoice(str(role), label) for role, label in ROLE_LABELS.items()]


# --- users --------------------------------------------------------------------------------


class UserSearchForm(Form):
    """The filters of the user list (GET, so no CSRF token; empty = all)."""

    q = StringField(_l("Email or name contains"), validators=[Optional(), Length(max=254)])
    role = SelectField(  # type: ignore[call-arg]  # not in types-WTForms 3.2
        _l("Role"),
        choices=[SelectChoice("", _l("All roles")), *ROLE_CHOICES],
        default="",
        invalid_choice_message=_CHOOSE,
    )
    active = SelectField(  # type: ignore[call-arg]  # not in types-WTForms 3.2
        _l("Status"),
        choices=[
            SelectChoice("", _l("Enabled and disabled")),
            SelectChoice("yes", _l("Enabled")),
            SelectChoice("no", _l("Disabled")),
        ],
        default="",
        invalid_choice_message=_CHOOSE,
    )


class NewUserForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(REQUIRED), Length(max=254)])
    name = StringField(_l("Name"), validators=[Optional(), Length(max=100)])
    role = SelectField(  # type: ignore[call-arg]  # not in types-WTForms 3.2
        _l("Role"),
        choices=ROLE_CHOICES,
        default=str(Role.REVIEWER),
        invalid_choice_message=_CHOOSE,
    )
    password = PasswordField(_l("Password"), validators=[InputRequired(REQUIRED)])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[InputRequired(REQUIRED), EqualTo("password", _l("The passwords differ."))],
    )
    uscc = StringField(
        _l("Enterprise (USCC)"), validators=[Optional(), Length(max=64)], filters=[strip_text]
    )


class RoleForm(FlaskForm):
    role = SelectField(  # type: ignore[call-arg]  # not in types-WTForms 3.2
        _l("Role"), choices=ROLE_CHOICES, invalid_choice_message=_CHOOSE
    )


class StatusForm(FlaskForm):
    """Enable or disable: the button pressed says which (no fields to fill)."""


class PasswordResetForm(FlaskForm):
    new_password = PasswordField(_l("New password"), validators=[InputRequired(REQUIRED)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            InputRequired(REQUIRED),
            EqualTo("new_password", _l("The passwords differ.")),
        ],
    )


# --- tiers --------------------------------------------------------------------------------


def _whole(label: LazyString, field: str) -> NumberField:
    low, high = LIMITS[field]
    return NumberField(
        label,
        validators=[InputRequired(REQUIRED)],
        message=_l("Enter a whole number from %(min)s to %(max)s.", min=low, max=high),
        minimum=low,
        maximum=high,
    )


class TierSettingsForm(FlaskForm):
    quota = _whole(_l("Quota"), "quota")
    validity = SelectField(  # type: ignore[call-arg]  # not in types-WTForms 3.2
        _l("Validity"),
        choices=[
            SelectChoice(CALENDAR_YEAR, _l("Until the end of the calendar year of the grant")),
            SelectChoice("1", _l("1 year")),
            *(
                SelectChoice(str(n), _l("%(num)s years", num=n))
                for n in range(2, MAX_VALIDITY_YEARS + 1)
            ),
        ],
        invalid_choice_message=_CHOOSE,
    )
    notice_days = _whole(_l("Notice length (working days)"), "notice_days")
    approvals_required = _whole(_l("Approvals required"), "approvals_required")
    self_apply = BooleanField(_l("Enterprises may apply themselves"))
    # Choices are set per tier (the tiers ranked lower); a posted value outside them is
    # refused by the operation with its own message.
    prerequisite = SelectField(_l("Prerequisite tier"), validate_choice=False)
    registration_pattern = StringField(
        _l("Registration number pattern"),
        validators=[InputRequired(REQUIRED), Length(max=60)],
        filters=[strip_text],
    )
    reason = TextAreaField(
        _l("Reason for the change"), validators=[InputRequired(REQUIRED), Length(max=2000)]
    )

    def settings(self) -> dict:
        """The settings as ``update_tier_settings`` takes them."""
        return {
            "quota": self.quota.data,
            "validity": self.validity.data,
            "notice_days": self.notice_days.data,
            "approvals_required": self.approvals_required.data,
            "self_apply": bool(self.self_apply.data),
            "prerequisite": self.prerequisite.data or None,
            "registration_pattern": self.registration_pattern.data,
        }


class PlanSettingsForm(FlaskForm):
    """The last day of the plan's period (checked by ``set_plan_period_end``)."""

    plan_period_end = _DateField(
        _l("Last day of the plan's period"), validators=[InputRequired(REQUIRED)]
    )
    reason = TextAreaField(
        _l("Reason for the change"), validators=[InputRequired(REQUIRED), Length(max=2000)]
    )


#: Bounds of a threshold on the web form by its unit (money in 万元).
THRESHOLD_BOUNDS = {"CNY": 100_000_000, "percent": 100}
THRESHOLD_MAX = 1_000_000


class ThresholdsForm(FlaskForm):
    """A tier's whole-number thresholds (:func:`thresholds_form` adds one field per
    threshold, named by its path) and the reason for the new version."""

    reason = TextAreaField(
        _l("Reason for the change"), validators=[InputRequired(REQUIRED), Length(max=2000)]
    )
    # The version the page showed (criteria_versions.fingerprint).
    based_on = HiddenField()
    paths: tuple[str, ...] = ()
    money: frozenset[str] = frozenset()

    def thresholds(self) -> dict[str, Any]:
        """``{path: value}`` as ``edit_thresholds`` takes them (money back in 元)."""
        values = {path: self[path].data for path in self.paths}
        return {
            path: value * 10_000 if path in self.money and isinstance(value, int) else value
            for path, value in values.items()
        }


def thresholds_form(
    labels: dict[str, tuple[Any, str]], values: dict[str, int], based_on: str, **kwargs: Any
) -> ThresholdsForm:
    """A :class:`ThresholdsForm` for ``values`` (``{path: value in 元 or its unit}``),
    each field labelled and bounded by its unit (``labels``: path → (label, unit); a
    threshold a seed adds without a label shows its path, unbounded by a unit)."""
    labels = {path: labels.get(path, (path, "")) for path in values}
    money = frozenset(path for path in values if labels[path][1] == "CNY")

    class TierThresholdsForm(ThresholdsForm):
        paths = tuple(values)

    TierThresholdsForm.money = money
    for path in values:
        label, unit = labels[path]
        high = THRESHOLD_BOUNDS.get(unit, THRESHOLD_MAX)
        setattr(
            TierThresholdsForm,
            path,
            NumberField(
                label,
                validators=[InputRequired(REQUIRED)],
                message=_l("Enter a whole number from %(min)s to %(max)s.", min=0, max=f"{high:,}"),
                minimum=0,
                maximum=high,
            ),
        )
    data: dict[str, Any] = {
        path: value // 10_000 if path in money else value for path, value in values.items()
    }
    return TierThresholdsForm(data={**data, "based_on": based_on}, **kwargs)


# --- audit log ----------------------------------------------------------------------------


OBJECT_CHOICES = [SelectChoice(code, label) for code, label in OBJECT_LABELS.items()]


def _action_choices() -> list[SelectChoice]:
    """Every audit action, those on one kind of object led by "every action on it" (the
    kind's prefix: the filter matches actions by their start)."""
    choices = [SelectChoice("", _l("All actions"))]
    for code, label in ACTION_LABELS.items():
        kind = code.partition(".")[0]
        if not any(choice.value == f"{kind}." for choice in choices):
            group = OBJECT_LABELS.get(kind) or _l("Tier settings")  # tier_settings.*
            every = _l("Every action on: %(kind)s", kind=group)
            choices.append(SelectChoice(f"{kind}.", every))
        choices.append(SelectChoice(code, label))
    return choices


#: The years an audit log filter may name (the registry keeps no earlier entries).
AUDIT_YEARS = (2000, 2999)


class AuditFilterForm(Form):
    """The filters of the audit log (GET, so no CSRF token; empty = any)."""

    actor = StringField(_l("Actor (name or user id)"), validators=[Optional(), Length(max=254)])
    action = SelectField(  # type: ignore[call-arg]  # not in types-WTForms 3.2
        _l("Action"), choices=_action_choices(), default="", invalid_choice_message=_CHOOSE
    )
    object_type = SelectField(  # type: ignore[call-arg]  # not in types-WTForms 3.2
        _l("Object type"),
        choices=[SelectChoice("", _l("All objects")), *OBJECT_CHOICES],
        default="",
        invalid_choice_message=_CHOOSE,
    )
    object_id = StringField(_l("Object id"), validators=[Optional(), Length(max=40)])
    since = _DateField(_l("From"), validators=[Optional()])
    until = _DateField(_l("To"), validators=[Optional()])

    def validate_since(self, field: DateField) -> None:
        if field.data and not AUDIT_YEARS[0] <= field.data.year <= AUDIT_YEARS[1]:
            raise ValidationError(_l("Choose a date from 2000 to 2999."))

    def validate_until(self, field: DateField) -> None:
        self.validate_since(field)
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date is before the start date."))
