"""JSON request bodies: the one reader every body under ``/api/`` goes through.

A body is refused with 400 ``malformed_json`` (API.md) when it is not UTF-8, does not
parse, nests arrays and objects more than :data:`MAX_DEPTH` levels deep, or holds an
unpaired UTF-16 surrogate (``"\\ud800"``): JSON's escapes can write one, but it is no
Unicode character, so no text column could store it nor any answer send it back.

The depth is counted on the bytes before they are parsed, without recursion and at C
speed: Python's parser recurses once per level and gives up (``RecursionError``) long
before a 1 MB body of brackets ends.

U+0000 is valid JSON and valid Unicode, so it is no reason for 400; PostgreSQL cannot
store it, so the schemas refuse it in free text (422 ``invalid_format``,
``core.schemas.no_nul``) and a code holding one is unknown (422).
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from flask.json.provider import DefaultJSONProvider

from registry.core.errors import MalformedJson

#: Request bodies: JSON ≤ 1 MB; multipart uploads ≤ 10 MB + 64 KB (MAX_CONTENT_LENGTH).
MAX_JSON_BYTES = 1024 * 1024
#: How deep arrays and objects may nest in a body.
MAX_DEPTH = 64

#: Every byte but the quote and the brackets, deleted before the brackets are counted.
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')
#: Braces as brackets: the depth counts, not the kind.
_AS_BRACKETS = bytes.maketrans(b"{}", b"[]")
#: Brackets as signed bytes, +1 and -1, to be added up.
_AS_STEPS = bytes.maketrans(b"[]", b"\x01\xff")
#: Passes that drop the innermost pairs before the brackets are counted one by one:
#: the API's bodies nest two levels (a decision's manual checks).
_PASSES = 4
#: Where a surrogate may have been written (a false alarm costs a look at the strings).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def nesting_depth(raw: bytes, limit: int = MAX_DEPTH) -> int:
    """How deep the arrays and objects of the JSON document ``raw`` nest (brackets in
    strings do not count), up to ``limit``: any depth beyond it is ``limit + 1``. Exact
    for valid JSON; for a body that is not, the depth a parser reaches before it stops.

    No step recurses, and every one is a pass of a bytes method or of ``itertools``
    over the body, with no Python code run per byte: a few milliseconds for a 1 MB
    body of a few levels, and about as long as parsing it at worst.
    """
    # In a string, ``\\\\`` and ``\\"`` are escapes: once they are gone, every quote left
    # opens or closes a string. (UTF-8 uses no ASCII byte inside a multi-byte character.)
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    # Only quotes and brackets kept, two quotes side by side close an empty string or
    # stand between two strings with no bracket between them: dropped, nothing outside
    # a string is lost, and what stays outside quotes is what was outside strings.
    kept = raw.translate(_AS_BRACKETS, _NOT_STRUCTURE).replace(b'""', b"")
    brackets = b"".join(kept.split(b'"')[::2]) if b'"' in kept else kept
    # Each pass drops the innermost pairs, one level: a well-nested document is gone
    # after as many passes as it is deep, and after p passes n opening brackets in a
    # row are p + n levels.
    remaining = brackets
    for passes in range(_PASSES + 1):
        if not remaining:
            return min(passes, limit + 1)
        if b"[" * (limit + 1 - passes) in remaining:
            return limit + 1
        remaining = remaining.replace(b"[]", b"")
    # Deeper, or brackets that do not pair (no JSON): the running count's highest.
    deepest = max(accumulate(memoryview(brackets.translate(_AS_STEPS)).cast("b")))
    return min(max(deepest, 0), limit + 1)


def _has_lone_surrogate(document: Any) -> bool:
    """Whether a string of the parsed ``document`` (a key or a value) holds a surrogate;
    the parser joins a well-formed pair into one character, so any left is unpaired."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if not value.isascii() and _SURROGATE.search(value):
                return True
        elif isinstance(value, dict):
            pending += value.keys()
            pending += value.values()
        elif isinstance(value, list):
            pending += value
    return False


def parse_json(raw: bytes) -> Any:
    """The document of a JSON body, or :class:`MalformedJson` (400) for the reasons
    above."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedJson("The body is not valid JSON.") from None
    if nesting_depth(raw) > MAX_DEPTH:
        raise MalformedJson(
            "The body nests arrays and objects more than %(limit)s levels deep.",
            limit=MAX_DEPTH,
        )
    try:
        document = json.loads(text)
    except ValueError:
        raise MalformedJson("The body is not valid JSON.") from None
    if _SURROGATE_ESCAPE.search(raw) and _has_lone_surrogate(document):
        raise MalformedJson("A string in the body holds an unpaired surrogate (not Unicode text).")
    return document


class RegistryJSONProvider(DefaultJSONProvider):
    """The app's JSON (``app.json``): Flask's, but a document is read with
    :func:`parse_json`. A request's ``get_json()`` reads its body with it, so a malformed
    body is 400 ``malformed_json`` wherever it is read (webargs' parser, the
    preconditions, the ``Idempotency-Key`` digest), and, cached by the request, it is
    parsed once however many read it."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return parse_json(s.encode("utf-8", "surrogatepass") if isinstance(s, str) else s)
