"""Words for the workflow's codes on pages, in the request's language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from registry.applications.models import Kind, State

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
