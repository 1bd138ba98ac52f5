"""Reading a form's page as a person sees it: the message beside a field, and the value a
field was given back (HTML entities read)."""

from __future__ import annotations

import re
from html import unescape


def field_error(page: str, field: str) -> str:
    """The message beside the field whose id is ``field``; "" when it has none."""
    match = re.search(rf'<p class="field__error" id="{field}-error">([^<]*)</p>', page)
    return unescape(match.group(1)) if match else ""


def value_of(page: str, name: str) -> str | None:
    """The value of the input named ``name``; None when there is no such input."""
    match = re.search(rf'<input[^>]*\bname="{name}"[^>]*\bvalue="([^"]*)"', page)
    return unescape(match.group(1)) if match else None
