"""Account forms (shape only; the rules live in ``operations``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from registry.core.forms import REQUIRED, RegistryForm


class LoginForm(RegistryForm):
    email = EmailField(_l("Email"), validators=[InputRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(REQUIRED)])


class SignUpForm(RegistryForm):
    email = EmailField(_l("Email"), validators=[InputRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(REQUIRED)])
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[InputRequired(REQUIRED), EqualTo("password", _l("The passwords differ."))],
    )
    uscc = StringField(
        _l("Unified social credit code"),
        validators=[InputRequired(REQUIRED), Length(max=64)],
    )
    enterprise_name = StringField(
        _l("Enterprise name"), validators=[InputRequired(REQUIRED), Length(max=200)]
    )


class PasswordChangeForm(RegistryForm):
    current_password = PasswordField(_l("Current password"), validators=[InputRequired(REQUIRED)])
    new_password = PasswordField(_l("New password"), validators=[InputRequired(REQUIRED)])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[
            InputRequired(REQUIRED),
            EqualTo("new_password", _l("The passwords differ.")),
        ],
    )
