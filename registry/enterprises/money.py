"""Money: integer 元 in the database and the API, 万元 on pages and in forms."""

from __future__ import annotations

from decimal import Decimal

YUAN_PER_WAN = 10_000


def to_wan(value: int | float | None) -> str:
    """元 as 万元 for display, exactly: 12345678 → "1,234.5678"."""
    if value is None:
        return "—"
    return format(Decimal(str(value)) / YUAN_PER_WAN, ",f")
