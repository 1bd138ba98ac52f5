"""Field errors in their reader's language (registry/core/field_messages.py): every message
marshmallow gives for the registry's fields and validators has its API.md code and its
words in both languages; the catalogue holds the messages of calls written inside other
calls (translations/extract.py)."""

from __future__ import annotations

import io
import re

import pytest
from flask_babel import force_locale
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from registry.core.errors import Message
from registry.core.field_messages import field_code, say
from registry.core.schemas import no_nul
from registry.enterprises.api_schemas import Percentage
from translations.extract import extract_python_calls

ENGLISH = re.compile(r"[A-Za-z]+(?: [A-Za-z]+){2,}")


class Everything(Schema):
    """A field of each kind and a validator of each kind the registry's schemas use."""

    class Meta:
        unknown = RAISE

    text = fields.String()
    count = fields.Integer()
    share = fields.Float()
    flag = fields.Boolean()
    day = fields.Date()
    at = fields.AwareDateTime()
    items = fields.List(fields.String())
    mapping = fields.Dict()
    email = fields.Email()
    required = fields.String(required=True)
    not_null = fields.String(allow_none=False)
    short = fields.String(validate=validate.Length(max=3))
    long = fields.String(validate=validate.Length(min=3))
    between = fields.String(validate=validate.Length(min=1, max=2))
    ranged = fields.Integer(validate=validate.Range(min=1, max=500))
    at_least = fields.Integer(validate=validate.Range(min=0))
    at_most = fields.Integer(validate=validate.Range(max=9))
    choice = fields.String(validate=validate.OneOf(["approve", "reject"]))
    pattern = fields.String(validate=validate.Regexp(r"^[a-z]+$"))
    end = fields.Boolean(validate=validate.Equal(True))
    nul = fields.String(validate=no_nul)
    percent = Percentage()


BAD = {
    "text": 5,
    "count": "many",
    "share": "much",
    "flag": "perhaps",
    "day": "01/02/2003",
    "at": "yesterday",
    "items": "a",
    "mapping": [1],
    "email": "not an email",
    "not_null": None,
    "short": "abcd",
    "long": "ab",
    "between": "abc",
    "ranged": 0,
    "at_least": -1,
    "at_most": 10,
    "choice": "maybe",
    "pattern": "ABC",
    "end": False,
    "nul": "a\x00b",
    "percent": 12.345,
    "colour": "red",
}


@pytest.fixture(scope="module")
def messages() -> dict[str, str]:
    with pytest.raises(ValidationError) as refused:
        Everything().load(BAD)
    return {name: found[0] for name, found in refused.value.messages.items()}


def test_every_kind_of_message_is_refused(messages):
    assert set(messages) == set(BAD) | {"required"}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_each_is_said_in_the_language_of_the_request(app, messages, lang):
    with app.test_request_context(f"/?lang={lang}"):
        said = {name: say(message) for name, message in messages.items()}
    for name, words in said.items():
        if lang == "zh":
            assert re.search(r"[\u4e00-\u9fff]", words), (name, words)
            assert not ENGLISH.search(words), (name, words)
        else:
            assert not re.search(r"[\u4e00-\u9fff]", words), (name, words)
    if lang == "en":
        assert said["ranged"] == "Must be from 1 to 500."
        assert said["short"] == "At most 3 characters."
        assert said["choice"] == "Must be one of: approve, reject."
        assert said["required"] == said["not_null"] == "This field is required."
    else:
        assert said["ranged"] == "须在 1 至 500 之间。"
        assert said["choice"] == "须为以下取值之一：approve, reject。"


CODES = {
    "text": "invalid_type",
    "count": "invalid_type",
    "share": "invalid_type",
    "flag": "invalid_type",
    "day": "invalid_type",
    "at": "invalid_type",
    "items": "invalid_type",
    "mapping": "invalid_type",
    "email": "invalid_type",
    "required": "required",
    "not_null": "required",
    "short": "too_long",
    "long": "invalid_format",
    "between": "too_long",
    "ranged": "out_of_range",
    "at_least": "out_of_range",
    "at_most": "out_of_range",
    "choice": "invalid_choice",
    "pattern": "invalid_format",
    "end": "invalid_format",
    "nul": "invalid_format",
    "percent": "invalid_format",
    "colour": "unknown_field",
}


def test_each_has_its_api_code(messages):
    assert {name: field_code(message) for name, message in messages.items()} == CODES


def test_a_message_with_its_template_and_any_other(app):
    refused = Message("At most %(max)s characters.", max=200)
    assert refused == "At most 200 characters."  # as the command line prints it
    with app.test_request_context("/?lang=zh"):
        assert say(refused) == "最多 200 个字符。"
        assert say("Already registered.") == "已被注册。"  # a message of the catalogue
        assert say("an unknown text") == "an unknown text"
    with force_locale("en"), app.test_request_context("/?lang=en"):
        assert say(refused) == "At most 200 characters."


def test_the_extractor_finds_calls_written_inside_other_calls():
    source = (
        b'raise ValidationFailed(\n    "Invalid USCC %(raw)s.",\n'
        b'    errors=[refusal("uscc", "invalid_uscc", "Not a valid USCC.")],\n    raw=raw,\n)\n'
        b'found(row, "No such thing.")\n'
    )
    keywords = {"ValidationFailed": None, "refusal": (3,), "found": (2,)}
    assert list(extract_python_calls(io.BytesIO(source), keywords, [], {})) == [
        (2, "ValidationFailed", "Invalid USCC %(raw)s.", []),
        (3, "refusal", ("uscc", "invalid_uscc", "Not a valid USCC."), []),
        (6, "found", (None, "No such thing."), []),
    ]
