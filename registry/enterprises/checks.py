"""The rules of an enterprise's values that the web forms and the API's schemas (and so
the imports, which read rows through them) share, each defined once here: the form of a
contact phone and the bounds of an annual report's counts."""

from __future__ import annotations

from registry.core.errors import Message

#: A phone number as people write one: digits (at least five), an optional leading +,
#: and spaces, hyphens or brackets between them ("0791-88888888", "+86 138 0000 0000");
#: blanks around it are ignored, and blanks alone are no phone (the field is cleared).
#: Written for Python and for an OpenAPI ``pattern`` alike.
PHONE_PATTERN = r"^\s*(?:\+?(?=(?:\D*\d){5})[\d() -]+)?$"
#: What a phone that does not match is told (a message of the catalogue).
PHONE_FAULT = Message("Enter a phone number: digits, with + - ( ) or spaces between them.")

#: The largest count an INTEGER column holds.
MAX_COUNT = 2_147_483_647
#: The least value of a count, where it is not 0: a rank starts at 1 (first).
LEAST_COUNT = {"global_market_rank": 1}


def least_count(field: str) -> int:
    """The least value the count ``field`` may take."""
    return LEAST_COUNT.get(field, 0)
