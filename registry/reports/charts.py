"""The drawing kit of the reports' charts: SVG written on the server, inside the page.

Charts are plain SVG markup built from a few helpers (the document, its colours and the
measure of text here; a legend, notes, bar rows and the empty chart in
:mod:`registry.reports.chart_parts`; the scale, round ticks and the figures' wording in
:mod:`registry.reports.chart_figures`), so that a page shows them with no script, no request
leaving the server and no inline style: everything is an SVG presentation attribute
(``fill``, ``stroke``, ``font-size``…), and the size comes from ``static/css``
(``.chart``). The text font is the page's own, inherited.

Every chart is drawn in a fixed coordinate width (:data:`WIDTH`) and scales to its
container: the width is chosen so that text stays readable on a 340 px phone column,
and the stylesheet caps how large it grows on a desktop. Colours are steps of one blue
of clearly different lightness (greyscale keeps them apart), with outlines, hatching and
dash styles where two series meet, never hue alone.

Each chart is an ``<svg role="img">`` named by its ``<title>`` and summarised by its
``<desc>``; the page's table beside it is the accessible text of its figures.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import Markup

#: The coordinate width of every chart (a phone column's width, in CSS px).
WIDTH = 340
#: Sizes of the text, in coordinate units (≈ CSS px on a phone).
TEXT = 13.5
SMALL = 12

INK = "#1b2733"
MUTED = "#4f5d6c"
GRID = "#d6dde5"
TRACK = "#e8ecf1"
PAPER = "#ffffff"
#: Steps of one blue from dark to light: each step is ~15-20 points of lightness apart,
#: so that the order survives a greyscale print. Bars carry an outline in ``INK`` so
#: that the lightest step still shows on white.
STEPS = ("#0f2c4d", "#2b5f9c", "#5f8fc8", "#a3c0e3", "#dde8f5")
#: Dash patterns: a target (long), a projection (short).
DASH_TARGET = "7 4"
DASH_PROJECTION = "3 3"
#: The sign of a figure withheld or missing.
GAP = "—"


def step_colour(index: int, count: int) -> str:
    """The fill of series ``index`` of ``count``, spread over :data:`STEPS` (dark first)."""
    if count <= 1:
        return STEPS[1]
    positions = [round(i * (len(STEPS) - 1) / (count - 1)) for i in range(count)]
    return STEPS[positions[min(index, count - 1)]]


def readable_on(fill: str) -> str:
    """The text colour that contrasts with ``fill``: white on the two dark steps."""
    return PAPER if fill in STEPS[:2] else INK


# --- text --------------------------------------------------------------------------------


def text_width(text: str, size: float = TEXT) -> float:
    """An estimate of ``text``'s drawn width: wide (CJK) characters one em, Latin
    letters and digits about half. Used to lay out, never to clip."""
    em = 0.0
    for char in text:
        if unicodedata.east_asian_width(char) in "WF":
            em += 1.0
        elif char in " .,:;'!|()[]-–":
            em += 0.32
        elif char.isupper() or char in "%&@#mwMW—":
            em += 0.7
        else:
            em += 0.56
    return em * size


def shorten(text: str, width: float, size: float = TEXT) -> str:
    """``text``, cut with "…" so that it fits ``width`` (the full text is in the table)."""
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


# --- the document ------------------------------------------------------------------------


def _attribute_name(name: str) -> str:
    # class_ → class; font_size → font-size; aria_hidden → aria-hidden.
    return name.rstrip("_").replace("_", "-")


def _attribute_value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


#: Element templates by tag, attribute names and whether it holds text: the markup with
#: a ``%s`` for each value, made once from the (escaped) names. A page draws a few
#: thousand elements of a few dozen shapes; ``Markup``'s ``%`` escapes each value, and
#: costs a fraction of ``Markup.format`` (a page's SVG took most of its time with it).
_TEMPLATES: dict[tuple[str, tuple[str, ...], bool], Markup] = {}


def _template(tag: str, names: tuple[str, ...], content: bool) -> Markup:
    """``<tag name="%s" …/>``, or ``<tag name="%s" …>%s</tag>`` with ``content``. Tags
    and names are identifiers of this code, never data (no ``%`` in them)."""
    key = (tag, names, content)
    found = _TEMPLATES.get(key)
    if found is None:
        found = Markup("<{}").format(tag) + Markup("").join(
            Markup(' {}="%s"').format(_attribute_name(name)) for name in names
        )
        found += Markup(">%s</{}>").format(tag) if content else Markup("/>")
        _TEMPLATES[key] = found
    return found


@dataclass
class Svg:
    """A chart being drawn: elements appended in order, then :meth:`markup`."""

    chart_id: str
    title: str
    desc: str
    kind: str
    width: float = WIDTH
    parts: list[Markup] = field(default_factory=list)
    defs: list[Markup] = field(default_factory=list)

    def add(self, tag: str, content: str | None = None, /, **attrs: object) -> None:
        """One element, its attributes from keyword-style names (``class_`` → ``class``,
        ``font_size`` → ``font-size``; ``None`` leaves one out); ``content`` is its text.
        Every value is escaped."""
        names = tuple(name for name, value in attrs.items() if value is not None)
        values: list[object] = [_attribute_value(attrs[name]) for name in names]
        if content is not None:
            values.append(content)
        self.parts.append(_template(tag, names, content is not None) % tuple(values))

    def text(
        self,
        x: float,
        y: float,
        content: str,
        *,
        size: float = TEXT,
        anchor: str = "start",
        fill: str = INK,
        bold: bool = False,
        class_: str | None = None,
    ) -> None:
        """A line of text whose baseline is at ``y``."""
        self.add(
            "text",
            content,
            x=float(x),
            y=float(y),
            font_size=size,
            text_anchor=None if anchor == "start" else anchor,
            fill=fill,
            font_weight="bold" if bold else None,
            class_=class_,
        )

    def rect(self, x: float, y: float, w: float, h: float, **attrs: object) -> None:
        self.add(
            "rect", x=float(x), y=float(y), width=float(max(w, 0)), height=float(max(h, 0)), **attrs
        )

    def line(self, x1: float, y1: float, x2: float, y2: float, **attrs: object) -> None:
        self.add("line", x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2), **attrs)

    def polyline(self, points: Sequence[tuple[float, float]], **attrs: object) -> None:
        """A line through ``points`` (no fill)."""
        path = " ".join(
            f"{_attribute_value(float(x))},{_attribute_value(float(y))}" for x, y in points
        )
        self.add("polyline", points=path, fill="none", **attrs)

    def hatch(self, name: str, colour: str) -> str:
        """A diagonal hatch in ``colour`` on white, defined once; its ``fill`` value."""
        pattern_id = f"{self.chart_id}-{name}"
        if not any(pattern_id in str(d) for d in self.defs):
            self.defs.append(
                Markup(
                    '<pattern id="{0}" width="5" height="5" patternUnits="userSpaceOnUse"'
                    ' patternTransform="rotate(45)"><rect width="5" height="5" fill="{1}"/>'
                    '<line x1="0" y1="0" x2="0" y2="5" stroke="{2}" stroke-width="2.2"/>'
                    "</pattern>"
                ).format(pattern_id, PAPER, colour)
            )
        return f"url(#{pattern_id})"

    def markup(self, height: float) -> Markup:
        """The finished ``<svg>``, ``height`` units tall."""
        head = Markup(
            '<svg xmlns="http://www.w3.org/2000/svg" class="chart chart--{kind}" id="{id}"'
            ' viewBox="0 0 {w} {h}" width="100%" role="img"'
            ' aria-labelledby="{id}-title" aria-describedby="{id}-desc">'
            '<title id="{id}-title">{title}</title><desc id="{id}-desc">{desc}</desc>'
        ).format(
            kind=self.kind,
            id=self.chart_id,
            w=_attribute_value(float(self.width)),
            h=_attribute_value(float(math.ceil(height))),
            title=self.title,
            desc=self.desc,
        )
        defs = Markup("<defs>{}</defs>").format(Markup("").join(self.defs)) if self.defs else ""
        return head + defs + Markup("").join(self.parts) + Markup("</svg>")
