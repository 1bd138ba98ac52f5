"""What happens next (QUALITY.md U6): after a save or a workflow action, the page the
redirect leads to says who acts now, by when, and links to it.

A view flashes the step with :func:`flash_next_step` beside its usual message, then
answers 303 as ever; ``base.html`` shows it in one marked block (``data-next-step``,
``templates/macros/next_step.html``) above the page's content. The text is translated
when the view flashes it, in the language of the page that acted.
"""

from __future__ import annotations

from flask import flash

#: The flash category of a next step: ``base.html`` shows these in their own block.
CATEGORY = "next-step"


def flash_next_step(text: str, url: str | None = None, label: str | None = None) -> None:
    """Say what happens next on the page after the redirect: ``text`` (who acts, by
    when) and, when there is something to open, a link ``label`` to ``url``."""
    step = {"text": text, "url": url, "label": label}
    # Flask keeps any JSON value in the session's flashes; its hint says str.
    flash(step, CATEGORY)  # type: ignore[arg-type]
