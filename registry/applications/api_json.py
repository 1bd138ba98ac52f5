"""The application list's hand serializer (QUALITY.md allows one for the lists clients
page through): a page of applications written by orjson, each equal to
``ApplicationResponse``'s dump (tests/applications/test_api_list_json.py compares the
two on every state, with and without the reviewers' identities).

What the schema looks up per record, it reads once per page here: the names of the
users who nominated or claimed (``user_ref``, one ``session.get`` each, which a page's
identity map does not keep)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from sqlalchemy import select

from registry.accounts.models import User
from registry.applications.models import Application
from registry.applications.schemas import held_now
from registry.core.dbsession import DbSession
from registry.core.schemas import rfc3339


def user_names(session: DbSession, applications: Iterable[Application]) -> dict[int, str]:
    """The display names of the users who nominated or claimed ``applications``."""
    ids = {
        user_id
        for a in applications
        for user_id in (a.nominated_by, a.claimed_by)
        if user_id is not None
    }
    if not ids:
        return {}
    rows = session.execute(select(User.id, User.name, User.email).where(User.id.in_(ids)))
    return {user_id: name or email for user_id, name, email in rows}


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def application_json(a: Application, names: Mapping[int, str], *, sees_reviewers: bool) -> bytes:
    """``a`` as the API writes it; the reviewers' identities only when ``sees_reviewers``
    (API.md wire conventions), names from :func:`user_names`."""

    def ref(user_id: int | None) -> dict[str, Any] | None:
        if user_id is None or not sees_reviewers:
            return None
        return {"id": user_id, "name": names.get(user_id, str(user_id))}

    return orjson.dumps(
        {
            "id": a.id,
            "enterprise_uscc": a.enterprise.uscc,
            "tier": _text(a.tier),
            "kind": str(a.kind),
            "route": _text(a.route),
            "state": str(a.state),
            "nominated_by": ref(a.nominated_by),
            "claimed_by": ref(a.claimed_by),
            "approvals_required": a.approvals_required,
            "decisions": [
                {
                    "reviewer": (
                        {"id": d.reviewer_id, "name": d.reviewer_name} if sees_reviewers else None
                    ),
                    "decision": _text(d.decision),
                    "comment": _text(d.comment),
                    "manual_checks": d.manual_checks,
                    "innovation_score": d.innovation_score,
                    "at": rfc3339(d.at),
                }
                for d in a.decisions
            ],
            "eligibility": a.eligibility,
            "submitted_at": rfc3339(a.submitted_at),
            "notice_started_at": rfc3339(a.notice_started_at),
            "notice_ends_at": rfc3339(a.notice_ends_at),
            "held": held_now(a),
            "closed_reason": _text(a.closed_reason),
            "version": a.version,
            "created_at": rfc3339(a.created_at),
            "updated_at": rfc3339(a.updated_at),
        },
        # Keys sorted at every level, as the app's JSON writes them: the stored
        # eligibility and manual checks come back from PostgreSQL's jsonb in its own
        # key order, and the answer is the same on either engine.
        option=orjson.OPT_SORT_KEYS,
    )
