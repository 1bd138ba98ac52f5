"""Who may open a page: decorators on the signed-in user's role.

Anonymous visitors are sent to the login page (303, then back); a signed-in user of
another role gets 403. Pages of another enterprise answer 404, never 403: nothing tells
a user that a record they may not see exists (QUALITY.md S1); the views check that.
Who is signed in, and for how long, is ``registry.accounts.sessions``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import abort, current_app
from flask_login import current_user

ENTERPRISE, REVIEWER, ADMIN = "enterprise", "reviewer", "admin"

View = TypeVar("View", bound=Callable[..., Any])


def require_role(*roles: str) -> Callable[[View], View]:
    """Signed in with one of ``roles``; anonymous → the login page, others → 403."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                # Flask-Login's init_app sets app.login_manager.
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return cast(View, wrapped)

    return decorate


signed_in = require_role(ENTERPRISE, REVIEWER, ADMIN)
enterprise_user = require_role(ENTERPRISE)
reviewer = require_role(REVIEWER, ADMIN)
admin = require_role(ADMIN)
