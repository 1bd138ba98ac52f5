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


# --- in the browser ----------------------------------------------------------------------

#: U3 in the page: how far it scrolls sideways, and every visible table cell narrower
#: than ``minEm`` root ems (a cell in a visually hidden header row is not seen).
PHONE_MEASURE = """(minEm) => {
    const root = parseFloat(getComputedStyle(document.documentElement).fontSize);
    const narrow = [];
    for (const cell of document.querySelectorAll("table th, table td")) {
        const box = cell.getBoundingClientRect();
        const row = (cell.closest("thead") || cell.closest("tr")).getBoundingClientRect();
        if (box.width === 0 || box.height === 0 || row.width <= 1 || row.height <= 1) continue;
        if (box.width >= minEm * root) continue;
        narrow.push([cell.textContent.trim().slice(0, 30), Math.round(box.width)]);
    }
    return {
        overflow: document.scrollingElement.scrollWidth - window.innerWidth,
        narrow: narrow,
    };
}"""
#: The narrowest a table column may be at phone width, in root ems (U3).
MIN_COLUMN_EM = 4


#: At a desktop's width: how far the page scrolls sideways, and each box that scrolls
#: its content sideways but a labelled region the keyboard reaches (a report's
#: cross-tab, ``role="region" tabindex="0"``), by its class and how far it scrolls.
DESKTOP_MEASURE = """() => {
    const frames = [];
    for (const box of document.body.querySelectorAll("*")) {
        if (box.scrollWidth <= box.clientWidth + 1) continue;
        if (!["auto", "scroll"].includes(getComputedStyle(box).overflowX)) continue;
        if (box.matches("[role=region][tabindex]")) continue;
        frames.push([box.getAttribute("class") || box.tagName, box.scrollWidth - box.clientWidth]);
    }
    return {
        overflow: document.scrollingElement.scrollWidth - window.innerWidth,
        frames: frames,
    };
}"""
#: A desktop's width (QUALITY.md U3 is at 375 px; the journeys are seen at both).
DESKTOP = 1280


def desktop_faults(page) -> list[str]:
    """At 1280 px on the page shown: sideways scrolling of the page, and of a table's
    (or any box's) frame that is no region of its own: at a desktop's width every
    table but a report's cross-tab fits the page."""
    size = page.viewport_size
    page.set_viewport_size({"width": DESKTOP, "height": size["height"]})
    try:
        found = page.evaluate(DESKTOP_MEASURE)
    finally:
        page.set_viewport_size(size)
    faults = [f"scrolls {found['overflow']}px sideways"] if found["overflow"] > 0 else []
    return faults + [
        f"{name!r} scrolls {width}px sideways in its frame" for name, width in found["frames"]
    ]


#: True once no element of the page says it is still being drawn (``aria-busy``): the
#: API's documentation, drawn by Swagger UI after the page has loaded.
DRAWN = "() => !document.querySelector('[aria-busy=true]')"


def settle(page) -> None:
    """Wait until the page shown has drawn what its script draws after loading."""
    page.wait_for_function(DRAWN)


def phone_faults(page) -> list[str]:
    """U3 on the page shown: sideways scrolling and columns narrower than 4em."""
    found = page.evaluate(PHONE_MEASURE, MIN_COLUMN_EM)
    faults = [f"scrolls {found['overflow']}px sideways"] if found["overflow"] > 0 else []
    return faults + [f"column {text!r} is {width}px" for text, width in found["narrow"]]


#: WCAG 2.1 A and AA, the level GB/T 37668-2019 asks of web content.
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


def axe_faults(page) -> list[str]:
    """U7 on the page shown: axe-core's serious and critical violations (axe-core as
    axe-playwright-python ships it, run in the page)."""
    from axe_playwright_python.base import AXE_SCRIPT

    page.evaluate(AXE_SCRIPT)
    result = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    return [
        f"{v['id']} ({v['impact']}): {', '.join(str(n['target']) for n in v['nodes'][:3])}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


#: Posts a form from the page shown, as a person's browser would: the CSRF token the
#: page carries (if any) with the given fields.
POST_FORM = """([path, fields]) => {
    const form = document.createElement("form");
    form.method = "post";
    form.action = path;
    const token = document.querySelector("input[name=csrf_token]");
    const all = Object.entries(fields);
    if (token) all.push(["csrf_token", token.value]);
    for (const [name, value] of all) {
        const input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = value;
        form.append(input);
    }
    document.body.append(form);
    form.submit();
}"""


class _RequiredFields(HTMLParser):
    """The required text fields of the form posting to ``action``: (name, empty, marked
    invalid)."""

    def __init__(self, action: str) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.fields: list[tuple[str, bool, bool]] = []
        self._textarea: list | None = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "form":
            self.inside = (values.get("action") or "").split("?")[0] == self.action
        if not self.inside or "required" not in values:
            return
        invalid = values.get("aria-invalid") == "true"
        name = values.get("name") or ""
        kind = values.get("type", "text")
        if tag == "input" and kind not in ("checkbox", "radio", "hidden", "submit", "button"):
            self.fields.append((name, not values.get("value"), invalid))
        elif tag == "textarea":
            self._textarea = [name, "", invalid]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        if tag == "textarea" and self._textarea is not None:
            name, text, invalid = self._textarea
            self.fields.append((name, not text.strip(), invalid))
            self._textarea = None


def unmarked_required(html: str, action: str) -> list[str]:
    """U2 on a form sent back with its errors: the required fields of the form posting
    to ``action`` left empty and not marked wrong (every wrong field is answered at
    once, each beside its field)."""
    parser = _RequiredFields(action)
    parser.feed(html)
    parser.close()
    return [name for name, empty, invalid in parser.fields if empty and not invalid]
