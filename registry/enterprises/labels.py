"""Words for an enterprise's codes on pages, in the request's language."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from registry.core.web import name_codes
from registry.enterprises.models import Status

STATUS_LABELS: dict[str, LazyString] = {
    Status.ACTIVE: _l("Active"),
    Status.DEREGISTERED: _l("Deregistered"),
    Status.MERGED: _l("Merged"),
}


def _status_name(code: str, _lang: str) -> str | None:
    """An enterprise's status in a refusal ("%(uscc)s is %(state)s …") by its label."""
    label = STATUS_LABELS.get(code)
    return None if label is None else str(label)


name_codes(("state",), _status_name)
