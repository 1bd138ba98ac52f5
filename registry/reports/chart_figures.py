"""How a chart writes its figures and sentences in the page's language, and places
figures on its axes (a linear scale and round ticks)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import format_decimal
from flask_babel import gettext as _

from registry.core.i18n import current_language


def number(value: float | int) -> str:
    """A count or figure as the page's language writes it (1234 → "1,234")."""
    return str(format_decimal(value, format="#,##0.##"))


def signed(value: int) -> str:
    """A change with its sign: +3, −2, 0 (a true minus sign)."""
    text = number(abs(value))
    return f"+{text}" if value > 0 else f"−{text}" if value < 0 else text


def percent(value: float) -> str:
    """12.5 → "12.5%" (at most one decimal; both languages write the sign alike)."""
    return f"{format_decimal(value, format='#,##0.#')}%"


def yuan(amount: float) -> str:
    """A large sum of 元 as each language writes one: 亿元 in Chinese, billions in
    English (the plan's targets run to 12 000 亿元)."""
    if current_language() == "en":
        return _("%(amount)s bn yuan", amount=format_decimal(amount / 1e9, format="#,##0.#"))
    return _(
        "%(amount)s hundred million yuan",
        amount=format_decimal(amount / 1e8, format="#,##0.#"),
    )


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above ``value`` (1 for 0 or less)."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value - 1e-9:
            return step * power
    return 10 * power


def ticks(top: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least ``top``, about ``count`` intervals."""
    step = nice_ceiling(top / count) if top > 0 else 1
    if step < 1 and float(top).is_integer():
        step = 1  # counts: no half enterprises on the axis
    n = max(1, math.ceil(top / step - 1e-9))
    return [round(i * step, 6) for i in range(n + 1)]


@dataclass(frozen=True)
class Scale:
    """A linear map from figures (``lo``–``hi``) to coordinates (``start``–``end``)."""

    lo: float
    hi: float
    start: float
    end: float

    def __call__(self, value: float) -> float:
        span = self.hi - self.lo
        if span == 0:
            return self.start
        return self.start + (value - self.lo) * (self.end - self.start) / span


def sentences(parts: Iterable[str]) -> str:
    """Sentences of a description, one after another (each ends with its own stop)."""
    joiner = " " if current_language() == "en" else ""
    return joiner.join(parts)


def list_join(items: Iterable[str]) -> str:
    """Items of a list inside a sentence: "a; b" in English, "a；b" in Chinese."""
    return ("; " if current_language() == "en" else "；").join(items)
