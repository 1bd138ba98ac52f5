"""Field errors in their reader's language (QUALITY.md U1): the words of the ``errors``
of an API problem and of an import's error report.

marshmallow writes its messages in English with their values filled in ("Longer than
maximum length 200."). :data:`KNOWN` maps each one the registry's schemas can give —
marshmallow's and webargs' own, and those the registry's schemas raise — to its API.md
field-error code and to a message of the catalogue, in one place: :func:`say` translates
a message when it is read (an API answer, a download), :func:`field_code` gives its code.
The refusals of the operations carry their template (``core.errors.Message``), or are a
message of the catalogue themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from registry.core.forms import REQUIRED
from registry.core.web import translate


@dataclass(frozen=True)
class Known:
    """A message as marshmallow writes it (a pattern whose named groups are its values),
    its code, and its words in the catalogue (with those values as ``%(name)s``)."""

    pattern: re.Pattern[str]
    code: str
    words: LazyString


def _known(pattern: str, code: str, words: LazyString) -> Known:
    return Known(re.compile(pattern), code, words)


_NUMBER = r"-?[0-9.e+]+"

KNOWN: tuple[Known, ...] = (
    _known(r"Unknown field\.", "unknown_field", _l("Unknown field.")),
    _known(r"Missing data for required field\.", "required", REQUIRED),
    _known(r"Field may not be null\.", "required", REQUIRED),
    _known(r"Read-only: this member cannot be written\.", "read_only", _l("Read-only.")),
    _known(
        r"Read-only for an enterprise's users\.",
        "read_only",
        _l("An enterprise's users cannot change this member."),
    ),
    _known(r"Invalid value\.", "invalid_format", _l("The value is not valid.")),
    _known(r"Invalid (?:input )?type\.", "invalid_format", _l("The value has the wrong type.")),
    _known(r"Not a valid (?:utf-8 )?string\.", "invalid_type", _l("Must be text.")),
    _known(r"Not a valid integer\.", "invalid_type", _l("Must be a whole number.")),
    _known(r"Not a valid number\.", "invalid_type", _l("Must be a number.")),
    _known(r"Not a valid boolean\.", "invalid_type", _l("Must be true or false.")),
    _known(r"Not a valid date\.", "invalid_type", _l("Must be a date written YYYY-MM-DD.")),
    _known(
        r"Not a valid (?:aware )?datetime\.",
        "invalid_type",
        _l("Must be a date and time with its time zone (RFC 3339)."),
    ),
    _known(r"Not a valid (?:list|tuple)\.", "invalid_type", _l("Must be a list.")),
    _known(
        r"Not a valid delimited (?:list|tuple)\.",
        "invalid_type",
        _l("Must be a list separated by commas."),
    ),
    _known(r"Not a valid mapping type\.", "invalid_type", _l("Must be an object.")),
    _known(r"Not a valid email address\.", "invalid_type", _l("Enter a valid email address.")),
    _known(r"Not a valid URL\.", "invalid_type", _l("Must be a URL.")),
    _known(r"Not a valid .+\.", "invalid_type", _l("The value has the wrong type.")),
    _known(r"Number too large\.", "invalid_format", _l("The number is too large.")),
    _known(
        r"Special numeric values \(nan or infinity\) are not permitted\.",
        "invalid_format",
        _l("Must be a finite number."),
    ),
    _known(
        r"Must be one of: (?P<choices>.*)\.", "invalid_choice", _l("Must be one of: %(choices)s.")
    ),
    _known(
        r"Longer than maximum length (?P<max>\d+)\.", "too_long", _l("At most %(max)s characters.")
    ),
    _known(
        r"Shorter than minimum length (?P<min>\d+)\.",
        "invalid_format",
        _l("At least %(min)s characters."),
    ),
    _known(
        r"Length must be between (?P<min>\d+) and (?P<max>\d+)\.",
        "too_long",
        _l("From %(min)s to %(max)s characters."),
    ),
    _known(
        rf"Must be greater than or equal to (?P<min>{_NUMBER}) and less than or equal to "
        rf"(?P<max>{_NUMBER})\.",
        "out_of_range",
        _l("Must be from %(min)s to %(max)s."),
    ),
    _known(
        rf"Must be greater than or equal to (?P<min>{_NUMBER})\.",
        "out_of_range",
        _l("Must be %(min)s or more."),
    ),
    _known(
        rf"Must be less than or equal to (?P<max>{_NUMBER})\.",
        "out_of_range",
        _l("Must be %(max)s or less."),
    ),
    _known(
        rf"Must be greater than (?P<min>{_NUMBER})\.",
        "out_of_range",
        _l("Must be more than %(min)s."),
    ),
    _known(
        rf"Must be less than (?P<max>{_NUMBER})\.", "out_of_range", _l("Must be less than %(max)s.")
    ),
    _known(
        r"String does not match expected pattern\.",
        "invalid_format",
        _l("The value is not in the expected form."),
    ),
    _known(r"Must be equal to (?P<other>.+)\.", "invalid_format", _l("Must be %(other)s.")),
    _known(
        r"Must not contain the NUL character\.",
        "invalid_format",
        _l("Must not contain the NUL character."),
    ),
    _known(
        r"Use at most (?P<decimals>\d+) decimals\.",
        "invalid_format",
        _l("Use at most %(decimals)s decimals."),
    ),
    _known(
        r"An upsert carries data; a delete carries null\.",
        "invalid_format",
        _l("An upsert carries data; a delete carries null."),
    ),
)


def _known_match(text: str) -> tuple[Known, dict[str, str]] | None:
    for known in KNOWN:
        match = known.pattern.fullmatch(text)
        if match:
            return known, match.groupdict()
    return None


def field_code(message: str) -> str:
    """The API.md field-error code of a marshmallow message (``invalid_format`` when it is
    none of :data:`KNOWN`)."""
    found = _known_match(message)
    return found[0].code if found else "invalid_format"


def say(message: Any) -> str:
    """A field error's message in the request's language: a message with its template
    (``core.errors.Message``) translated with its values, one of marshmallow's through
    :data:`KNOWN`, any other as the catalogue has it (or as it is, if it has not)."""
    template = getattr(message, "template", None)
    params = getattr(message, "params", None)
    if isinstance(template, str) and params:
        return translate(template, params)
    text = template if isinstance(template, str) else str(message)
    found = _known_match(text)
    if found is not None:
        known, values = found
        return str(known.words) % values if values else str(known.words)
    return translate(text, {}) if text else text
