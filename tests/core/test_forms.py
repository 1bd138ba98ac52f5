"""What the web forms share: number fields with one message, one wording for "required"."""

from __future__ import annotations

import importlib
import pkgutil
from decimal import Decimal

import pytest
from flask_babel import force_locale
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Form
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired, Optional

import registry
from registry.core.forms import NumberField


class FiguresForm(Form):
    count = NumberField(
        "Count", [InputRequired("required")], message="whole", minimum=1, maximum=10
    )
    share = NumberField("Share", [Optional()], message="share", minimum=0, maximum=100, places=2)


@pytest.mark.parametrize(
    ("count", "share", "data"),
    [
        ("7", "", (7, None)),
        (" 10 ", "99.5", (10, Decimal("99.5"))),
        ("1.0", "1e1", (1, Decimal("10"))),
        ("1,000", "1,000", ("whole", "share")),  # grouped, but out of range
        ("0", "-0.01", ("whole", "share")),
        ("abc", "1.234", ("whole", "share")),
        ("NaN", "Infinity", ("whole", "share")),
        ("1e999999", "1e-999999", ("whole", "share")),
        ("", "", ("required", None)),
    ],
)
def test_a_number_field_has_one_message_and_shows_what_was_typed(count, share, data):
    form = FiguresForm(MultiDict({"count": count, "share": share}))
    form.validate()
    for field, expected in zip((form.count, form.share), data, strict=True):
        if isinstance(expected, str):
            assert field.errors == [expected]
            assert field.data is None
        else:
            assert field.errors == []
            assert field.data == expected and type(field.data) is type(expected)
        assert field._value() == field.raw_data[0]  # what was typed, as typed
        html = field()
        assert 'type="text"' in html
        assert f'inputmode="{"decimal" if field.places else "numeric"}"' in html


class BoundedForm(Form):
    count = NumberField(
        "Count", [Optional()], message="0 or more", minimum=0, maximum=10, too_large="at most 10"
    )


@pytest.mark.parametrize(
    ("typed", "errors"),
    [
        ("10", []),
        ("11", ["at most 10"]),
        ("99999999999", ["at most 10"]),
        ("1e999999", ["at most 10"]),
        ("10.5", ["at most 10"]),
        ("-1", ["0 or more"]),
        ("1.5", ["0 or more"]),
        ("abc", ["0 or more"]),
    ],
)
def test_a_number_too_large_is_told_the_upper_bound(typed, errors):
    """A number above the maximum is told the bound, which "0 or more" hides; still one
    message per field."""
    form = BoundedForm(MultiDict({"count": typed}))
    form.validate()
    assert form.count.errors == errors


def test_a_number_field_shows_a_stored_value_plainly():
    form = FiguresForm(data={"count": 3, "share": Decimal("5E+1")})
    assert (form.count._value(), form.share._value()) == ("3", "50")


def _form_classes() -> list[type[Form]]:
    for module in pkgutil.walk_packages(registry.__path__, "registry."):
        importlib.import_module(module.name)

    def subclasses(cls: type) -> list[type]:
        found = []
        for sub in cls.__subclasses__():
            found += [sub, *subclasses(sub)]
        return found

    return [
        cls
        for cls in {*subclasses(Form), *subclasses(FlaskForm)}
        if cls.__module__.startswith("registry.")
    ]


def test_every_required_field_says_so_in_the_same_words(app):
    """One wording for an empty required field on every form (a choice says what to
    choose): no form falls back on WTForms' own "该字段是必填字段。"."""
    seen = 0
    with force_locale("en"):
        for form in _form_classes():
            for name, unbound in vars(form).items():
                if not isinstance(unbound, UnboundField):
                    continue
                validators = unbound.kwargs.get("validators") or (
                    unbound.args[1] if len(unbound.args) > 1 else []
                )
                for validator in validators:
                    if isinstance(validator, InputRequired | DataRequired):
                        seen += 1
                        message = str(validator.message)
                        assert message == "This field is required." or message.startswith(
                            "Choose"
                        ), f"{form.__name__}.{name}: {message!r}"
    assert seen > 20
