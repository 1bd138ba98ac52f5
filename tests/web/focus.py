"""Whether people can see where the focus is (QUALITY.md U7, WCAG 2.1 AA), read from
the focused element's computed style: a ring (its outline, or a shadow spread around
it) at least 2 px wide that stands out 3:1 from the colour behind the element (WCAG
1.4.11, non-text contrast), on the screen.
"""

from __future__ import annotations

import re

#: What shows that an element has the focus: its outline and shadows, the colour
#: behind it (the nearest ancestor's background), and whether it is on the screen.
FOCUS_LOOK = """(el) => {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    let behind = "rgb(255, 255, 255)";
    for (let node = el.parentElement; node; node = node.parentElement) {
        const colour = getComputedStyle(node).backgroundColor;
        if (colour !== "transparent" && !/^rgba\\(.*,\\s*0\\)$/.test(colour)) {
            behind = colour;
            break;
        }
    }
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim();
    const id = el.id ? "#" + el.id : "";
    return {
        name: el.tagName.toLowerCase() + id + (text ? ` "${text.slice(0, 24)}"` : ""),
        outline: style.outlineStyle === "none" ? null : [style.outlineWidth, style.outlineColor],
        shadow: style.boxShadow,
        behind: behind,
        onScreen: box.width > 0 && box.height > 0 && box.bottom > 0 && box.top < innerHeight
            && box.right > 0 && box.left < innerWidth,
    };
}"""
_COLOUR = re.compile(r"rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)")
_SHADOW = re.compile(
    r"(rgba?\([^)]*\))\s+(-?[\d.]+)px\s+(-?[\d.]+)px\s+(-?[\d.]+)px(?:\s+(-?[\d.]+)px)?"
)
#: WCAG 2.1 1.4.11: what shows a state (the focus) stands out 3:1 from what is beside it.
MIN_CONTRAST = 3.0
#: The thinnest ring that reads as a focus indicator, in CSS px.
MIN_RING = 2.0


def _luminance(colour: str) -> float | None:
    found = _COLOUR.match(colour)
    if not found or (found.group(4) is not None and float(found.group(4)) == 0):
        return None

    def channel(value: str) -> float:
        c = float(value) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(found.group(i)) for i in (1, 2, 3))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    """The contrast ratio of two CSS colours (0 when either is transparent)."""
    a, b = _luminance(one), _luminance(other)
    if a is None or b is None:
        return 0.0
    return (max(a, b) + 0.05) / (min(a, b) + 0.05)


def rings(look: dict) -> list[tuple[float, str]]:
    """The rings drawn around the element: its outline and each shadow spread around it,
    as (width in px, colour)."""
    found = []
    if look["outline"]:
        width, colour = look["outline"]
        found.append((float(width.removesuffix("px")), colour))
    for colour, _x, _y, _blur, spread in _SHADOW.findall(look["shadow"] or ""):
        if spread and float(spread) > 0:
            found.append((float(spread), colour))
    return found


def focus_faults(look: dict) -> list[str]:
    """Why a focused element's focus cannot be seen (none when it can): it is off the
    screen, or no ring at least 2 px wide stands out 3:1 from the colour behind it."""
    faults = []
    if not look["onScreen"]:
        faults.append("is not on the screen")
    seen = [
        (width, colour)
        for width, colour in rings(look)
        if width >= MIN_RING and contrast(colour, look["behind"]) >= MIN_CONTRAST
    ]
    if not seen:
        drawn = ", ".join(f"{w:g}px {c}" for w, c in rings(look)) or "nothing"
        faults.append(f"no focus ring stands out from {look['behind']} (drawn: {drawn})")
    return faults
