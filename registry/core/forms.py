"""What the web forms share: their base class, one wording for a required field, and
number fields that answer any wrong value with one plain message and show back what was
typed.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from flask import g
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.form import BaseForm
from wtforms.validators import StopValidation
from wtforms.widgets import TextInput

#: The one message of an empty required field, on every form (``InputRequired`` and
#: ``DataRequired`` alike) and for the registry's own "required" beside a field.
REQUIRED = _l("This field is required.")


class RegistryForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no type hints
    """A posted form of the registry. After :func:`refuse_forms` it does not validate,
    with that message above it, so that a view run again to give a refused post back
    (``registry.core.busy``) acts on nothing and shows what was typed: the forms of every
    page marked ``keeps_typed_values`` are these."""

    def validate(self, extra_validators: Any = None) -> bool:
        valid = bool(super().validate(extra_validators=extra_validators))
        notice = refusing_forms()
        if notice is None:
            return valid
        self.form_errors.append(notice)
        return False


def refuse_forms(notice: str) -> None:
    """Every :class:`RegistryForm` validated for the rest of the request refuses with
    ``notice``."""
    g.forms_refused_with = notice


def refusing_forms() -> str | None:
    """The notice of :func:`refuse_forms` in this request, else None."""
    notice = g.get("forms_refused_with")
    return notice if isinstance(notice, str) else None


# Thousands separated by commas, as the pages show amounts (1,234.5): accepted as typed.
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?\Z")


def decimal_places(value: Decimal) -> int:
    """How many decimals ``value`` really has: 1.50 has one, 1E+3 none."""
    _sign, digits, exponent = value.as_tuple()
    significant = "".join(map(str, digits)).rstrip("0")
    if not significant:
        return 0
    # A finite decimal (the only kind checked here) has an integer exponent.
    return max(0, -(cast(int, exponent) + len(digits) - len(significant)))


def parse_number(text: str) -> Decimal | None:
    """``text`` as a finite decimal (blanks around it ignored, commas between groups of
    thousands allowed), or None when it is no number."""
    text = text.strip()
    if _GROUPED.match(text):
        text = text.replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


class NumberField(Field):
    """A number from ``minimum`` to ``maximum`` with at most ``places`` decimals (0: a
    whole number, as an ``int``; else a ``Decimal``).

    Typed into a text input with a numeric keyboard: a ``type="number"`` input would show
    a wrong value as empty. Whatever was typed is shown back, and any wrong value — not a
    number, out of range, too many decimals — gets the one ``message``, which says what
    is accepted; a number above ``maximum`` gets ``too_large`` instead when given (the
    bound a ``message`` such as "0 or more" does not name). An empty field is None, for
    ``InputRequired`` or ``Optional`` to judge.
    """

    widget = TextInput()

    def __init__(
        self,
        label: str | None = None,
        validators: list[Any] | None = None,
        *,
        message: str,
        minimum: int,
        maximum: int,
        places: int = 0,
        too_large: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "decimal" if places else "numeric"})
        super().__init__(label, validators, **kwargs)
        self.message = message
        self.too_large = too_large or message
        self.minimum, self.maximum, self.places = minimum, maximum, places
        #: The message of a wrong value, else None.
        self.wrong: str | None = None

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data, self.wrong = None, None
        if not valuelist or not str(valuelist[0]).strip():
            return
        value = parse_number(str(valuelist[0]))
        if value is not None and value > self.maximum:
            self.wrong = self.too_large
        elif (
            value is None
            or decimal_places(value) > self.places
            or not self.minimum <= value <= self.maximum
        ):
            self.wrong = self.message
        else:
            self.data = value if self.places else int(value)

    def pre_validate(self, form: BaseForm) -> None:
        if self.wrong is not None:
            # The one message, and no other check of a value that is not one.
            raise StopValidation(self.wrong)

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        if self.data is None:
            return ""
        # Plain notation: 5000, not 5E+3.
        return format(self.data, "f") if isinstance(self.data, Decimal) else str(self.data)
