"""The registry's one clock.

Everything that needs "now" calls :func:`now`. ``tick --now T`` pins it for one run with
:func:`pinned`; test configurations may pin it with ``REGISTRY_FAKE_NOW``
(``check-deploy`` refuses that setting in production).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context

SHANGHAI = ZoneInfo("Asia/Shanghai")

_pinned: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("pinned", default=None)


def parse_instant(text: str) -> datetime:
    """An ISO-8601 timestamp; a value without an offset is taken as Asia/Shanghai time."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return value.astimezone(UTC)


def now() -> datetime:
    """The current instant, timezone-aware UTC, truncated to whole seconds."""
    pinned = _pinned.get()
    if pinned is not None:
        return pinned
    if has_app_context():
        fake = current_app.config.get("REGISTRY_FAKE_NOW")
        if fake:
            return parse_instant(fake)
    return datetime.now(UTC).replace(microsecond=0)


def today() -> date:
    """Today's civil date in Asia/Shanghai."""
    return now().astimezone(SHANGHAI).date()


@contextlib.contextmanager
def pinned(at: datetime) -> Iterator[None]:
    """Run a block with the clock pinned to ``at``."""
    token = _pinned.set(at.astimezone(UTC))
    try:
        yield
    finally:
        _pinned.reset(token)
