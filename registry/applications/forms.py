"""Forms of the applicant side (shape only; the rules live in ``operations`` and
``attachments``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, RadioField
from wtforms.validators import InputRequired

from registry.core.forms import REQUIRED


class NewApplicationForm(FlaskForm):
    """Wizard step 1. Each choice is ``"<kind>:<tier code>"``, or for the champion rung
    ``"<kind>:champion:<route>"``; the view fills the choices with what the enterprise
    may start, so anything else is refused."""

    target = RadioField(
        _l("What do you apply for?"),
        choices=[],
        validators=[InputRequired(REQUIRED)],
    )

    def chosen(self) -> tuple[str, str, str | None]:
        """``(kind, tier code, route or None)`` of the validated choice."""
        kind, _sep, rest = self.target.data.partition(":")
        tier, _sep, route = rest.partition(":")
        return kind, tier, route or None


class UploadForm(FlaskForm):
    file = FileField(_l("File"), validators=[FileRequired(REQUIRED)])


class SubmitForm(FlaskForm):
    # Required for an enterprise's own application; the operation decides (a
    # nomination needs none) and its refusal lands on this field.
    declaration = BooleanField(
        _l(
            "I declare that the figures and the attachments of this application are true "
            "and complete."
        )
    )


class ActionForm(FlaskForm):
    """A button posting with its CSRF token only (withdraw, delete a file)."""
