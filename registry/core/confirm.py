"""Asking before an action that cannot be undone (QUALITY.md U5): withdrawing or rejecting
an application, upholding an objection, demoting or revoking a designation, disabling a
user, revoking an API token, lowering a quota.

The page's form posts to the action's own URL as usual. The view validates the form and
runs the operation as a trial, so that every refusal (a missing reason, an application
already closed) is answered the usual way first. Then, unless the POST carries
``confirm=1``, :func:`confirm_first` rolls the trial back and answers a page of its own
saying what will happen, whose form posts the same fields again with ``confirm=1``; that
POST runs the operation again and the view commits. No script is needed, and the API,
which has no such page, acts at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from flask import render_template, request
from flask_babel import gettext as _

from registry.core.dbsession import DbSession

#: The field, and its value, that the confirmation page adds to the form it posts again.
CONFIRM_FIELD, CONFIRM_VALUE = "confirm", "1"


@dataclass(frozen=True)
class Question:
    """What the confirmation page says, in the page's language.

    ``title`` asks the question naming what is acted on ("Withdraw application 12?"),
    ``consequences`` say what happens and what is lost, ``lasting`` what cannot be
    undone, ``button`` is the label of the button that acts, and ``cancel_url`` leads
    back to the page the action came from."""

    title: str
    consequences: Sequence[str]
    button: str
    cancel_url: str
    lasting: str = ""


def confirmed() -> bool:
    """Whether this POST comes from the confirmation page."""
    return request.form.get(CONFIRM_FIELD) == CONFIRM_VALUE


def confirm_first(session: DbSession, question: Callable[[], Question]) -> tuple[str, int] | None:
    """None when the POST is confirmed (the caller commits what the operation did); else
    the trial is rolled back and the answer is the confirmation page (200).

    ``question`` is called after the rollback, so the records it reads hold their values
    from before the action (the enterprise's tier before a demotion)."""
    if confirmed():
        return None
    session.rollback()
    asked = question()
    fields = [
        (name, value) for name, value in request.form.items(multi=True) if name != CONFIRM_FIELD
    ]
    html = render_template(
        "confirm.html",
        question=asked,
        lasting=asked.lasting or _("This cannot be undone."),
        action=request.script_root + request.full_path.rstrip("?"),
        fields=fields,
        confirm_field=CONFIRM_FIELD,
        confirm_value=CONFIRM_VALUE,
    )
    return html, 200
