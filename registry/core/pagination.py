"""Keyset (cursor) pagination shared by the web lists and the API.

A cursor is opaque to clients: the sort key of the last row of a page (and whatever
else a list wants to carry, such as a page number for display), as compact JSON in
URL-safe base64 without padding. It is not signed: a hand-made cursor only moves the
starting point of a public list, which anyone can do with the filters anyway. Decoding
checks the shape strictly, so a damaged or forged cursor is a 422, never a 500.

Pages never count and never use OFFSET: a deep page costs the same as the first.
Fetch ``limit + 1`` rows ordered by the key and hand them to :func:`page_of`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from registry.core.errors import ValidationFailed

T = TypeVar("T")

#: Longest cursor accepted; real ones are far shorter.
MAX_CURSOR_LENGTH = 512
#: Longest string value accepted inside a cursor.
MAX_VALUE_LENGTH = 200

Scalar = str | int


class InvalidCursor(ValidationFailed):
    code = "invalid_cursor"


def encode_cursor(*values: Scalar) -> str:
    """The opaque cursor for a sort key (strings and integers)."""
    raw = json.dumps(list(values), ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii").rstrip("=")


def cursors_after(*leading: Scalar) -> Callable[[int], str]:
    """``encode_cursor(*leading, n)`` for many integers ``n`` (a feed page writes a
    cursor for each of its entries): the leading values' JSON is written once."""
    head = json.dumps(list(leading), ensure_ascii=False, separators=(",", ":"))[:-1]
    head += "," if leading else ""

    def cursor(last: int) -> str:
        raw = f"{head}{int(last)}]".encode()
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    return cursor


def decode_cursor(cursor: str, *types: type[Scalar]) -> tuple[Any, ...]:
    """The values of a cursor, checked against ``types`` (one per value).

    Raises :class:`InvalidCursor` for anything :func:`encode_cursor` would not produce
    with values of those types.
    """
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("The page cursor is malformed.")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw.decode("utf-8"))
    except ValueError:  # binascii.Error, UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise InvalidCursor("The page cursor is malformed.") from None
    if not isinstance(values, list) or len(values) != len(types):
        raise InvalidCursor("The page cursor is malformed.")
    for value, expected in zip(values, types, strict=True):
        # bool is an int subclass; a cursor never carries one.
        if isinstance(value, bool) or not isinstance(value, expected):
            raise InvalidCursor("The page cursor is malformed.")
        if isinstance(value, str) and (len(value) > MAX_VALUE_LENGTH or not value.isprintable()):
            raise InvalidCursor("The page cursor is malformed.")
        # Ids and positions fit a signed 64-bit column on every engine.
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise InvalidCursor("The page cursor is malformed.")
    return tuple(values)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a keyset list. ``next_cursor`` is None on the last page."""

    items: list[T]
    next_cursor: str | None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


def page_of(
    rows: Sequence[T], limit: int, cursor_for: Callable[[T], tuple[Scalar, ...]]
) -> Page[T]:
    """Cut ``limit + 1`` fetched rows into a page; the extra row only says "there is more".

    ``cursor_for(last_row)`` gives the values to encode for the next page.
    """
    items = list(rows[:limit])
    if len(rows) > limit and items:
        return Page(items, encode_cursor(*cursor_for(items[-1])))
    return Page(items, None)
