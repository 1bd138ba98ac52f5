"""Words for the workflow's codes on pages, in the request's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from registry.applications.models import Kind, State
from registry.core.web import name_codes

STATE_LABELS = {
    State.DRAFT: _l("Draft"),
    State.SUBMITTED: _l("Submitted"),
    State.IN_REVIEW: _l("In review"),
    State.CHANGES_REQUESTED: _l("Changes requested"),
    State.IN_NOTICE: _l("In public notice"),
    State.GRANTED: _l("Granted"),
    State.REJECTED: _l("Rejected"),
    State.WITHDRAWN: _l("Withdrawn"),
}
KIND_LABELS = {Kind.PROMOTION: _l("Promotion"), Kind.RENEWAL: _l("Renewal")}
OBJECTION_LABELS = {
    "open": _l("Open"),
    "upheld": _l("Upheld"),
    "dismissed": _l("Dismissed"),
}


def _state_name(code: str, _lang: str) -> str | None:
    """An application's or an objection's state in a refusal ("Application %(id)s is
    %(state)s …") by its label."""
    if code in STATE_LABELS:
        return str(STATE_LABELS[State(code)])
    label = OBJECTION_LABELS.get(code)
    return None if label is None else str(label)


name_codes(("state",), _state_name)
