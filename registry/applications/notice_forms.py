"""Forms of the public notice: an objection, and a reviewer's resolution (shape only;
the rules live in ``objections``)."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from wtforms import Form, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # not in types-WTForms 3.2
from wtforms.validators import DataRequired, InputRequired, Length

from registry.applications.objections import COMMENT_MAX, CONTACT_MAX, GROUNDS_MAX, NAME_MAX
from registry.core.forms import REQUIRED, RegistryForm
from registry.core.web import one_of_the_choices, strip_text


def _text(label: LazyString, limit: int, field: type[StringField] = StringField) -> StringField:
    """A required text, blanks around it removed (blank only counts as missing)."""
    return field(
        label,
        filters=[strip_text],
        validators=[
            DataRequired(REQUIRED),
            Length(max=limit, message=_l("At most %(max)d characters.")),
        ],
    )


class NoticeFilter(Form):
    """The rung filter of the public notice (GET, so no CSRF token; empty = every rung)."""

    tier = SelectField(
        _l("Tier"),
        validate_choice=False,
        validators=[one_of_the_choices(_l("Unknown tier: choose one from the list."))],
    )

    def fill_choices(self, tiers: dict[str, str]) -> None:
        self.tier.choices = [SelectChoice("", _l("All tiers")), *tiers.items()]


class ObjectionForm(RegistryForm):
    """One per application on the notice page, built with a ``prefix`` naming the
    application so that every field id on the page is unique."""

    name = _text(_l("Your name"), NAME_MAX)
    contact = _text(_l("How to reach you"), CONTACT_MAX)
    grounds = _text(_l("Grounds of the objection"), GROUNDS_MAX, TextAreaField)


class ResolutionForm(RegistryForm):
    """A reviewer upholds or dismisses one objection (``prefix`` names it)."""

    outcome = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("upheld", _l("Uphold: the application is rejected at once")),
            SelectChoice("dismissed", _l("Dismiss: the application may be granted")),
        ],
        validators=[InputRequired(REQUIRED)],
    )
    comment = _text(_l("Comment"), COMMENT_MAX, TextAreaField)
