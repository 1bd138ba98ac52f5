"""What QUALITY.md's usability properties look for in a page, shared by the walks over
the route matrix (``test_usability``) and the tests of single defects.

A page's *reading text* is what a person reads on it: the text of every element but
scripts and styles, and the attributes read aloud or shown (``title``, ``alt``,
``aria-label``, ``placeholder``, a button's ``value``). Text in an element marked with
a ``lang`` of its own (the brand's other name, the language switcher) is not the page's
language and is set aside, as is text marked ``translate="no"`` (an identifier that
is the same in every language: a file's column names, a tier's code beside its name, a
command) and the values people or the seeds entered (names, addresses, e-mail
addresses), which the caller names.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

#: Elements without an end tag.
VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
#: Elements whose content is no reading text.
SILENT = frozenset({"script", "style", "template", "textarea"})
#: Attributes people read or hear.
READ_ATTRIBUTES = ("title", "alt", "aria-label", "placeholder")
#: ``<html lang>`` per language.
HTML_LANG = {"zh": "zh-Hans", "en": "en"}

#: A word of English: letters, with an apostrophe or hyphen inside, punctuation around.
_ENGLISH_WORD = re.compile(r"""^[("“'‘]?[A-Za-z]+(?:['’-][A-Za-z]+)*[)"”'’,.;:!?]*$""")
_CHINESE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
#: A snake_case code (``clean_record``) or a dotted audit action (``attachment.add``).
_CODE = re.compile(
    r"(?<![\w@./-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w@/-])|"
    r"(?<![\w@./-])[a-z]{3,}\.[a-z]{3,}(?:_[a-z]+)*(?![\w@/.-])"
)


class _ReadingText(HTMLParser):
    def __init__(self, lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.lang = lang
        self.parts: list[str] = []
        #: One entry per open element: whether its text is set aside.
        self._aside: list[bool] = []

    def _set_aside(self) -> bool:
        return bool(self._aside) and self._aside[-1]

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        own_lang = values.get("lang")
        aside = (
            self._set_aside()
            or (own_lang is not None and own_lang != self.lang)
            or values.get("type") == "hidden"
            or values.get("translate") == "no"
        )
        if not aside:
            for name in READ_ATTRIBUTES:
                if values.get(name):
                    self.parts.append(str(values[name]))
            if (
                tag == "input"
                and values.get("type") in ("submit", "button")
                and values.get("value")
            ):
                self.parts.append(str(values["value"]))
        if tag not in VOID:
            self._aside.append(aside or tag in SILENT)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self._aside.pop()

    def handle_endtag(self, tag):
        if tag not in VOID and self._aside:
            self._aside.pop()

    def handle_data(self, data):
        if not self._set_aside() and data.strip():
            self.parts.append(data.strip())


def reading_text(html: str, lang: str, entered: list[str] = ()) -> list[str]:
    """The page's reading text in pieces, ``entered`` values blanked out (longest
    first, so that a name holding another is blanked whole)."""
    parser = _ReadingText(HTML_LANG[lang])
    parser.feed(html)
    parser.close()
    pieces = []
    for part in parser.parts:
        for value in sorted(entered, key=len, reverse=True):
            if value:
                part = part.replace(value, " ")
        pieces.append(part)
    return [p for p in pieces if p.strip()]


def english_runs(piece: str, length: int = 3) -> list[str]:
    """Runs of ``length`` or more English words in a row."""
    runs, current = [], []
    for token in piece.split():
        if _ENGLISH_WORD.match(token):
            current.append(token)
            continue
        if len(current) >= length:
            runs.append(" ".join(current))
        current = []
    if len(current) >= length:
        runs.append(" ".join(current))
    return runs


def language_faults(pieces: list[str], lang: str) -> list[str]:
    """U1: on a Chinese page the runs of three or more English words, on an English
    page every Chinese word."""
    found = []
    for piece in pieces:
        if lang == "zh":
            found += english_runs(piece)
        else:
            found += _CHINESE.findall(piece)
    return found


def code_faults(pieces: list[str]) -> list[str]:
    """U4: internal codes where a person reads."""
    return [code for piece in pieces for code in _CODE.findall(piece)]
