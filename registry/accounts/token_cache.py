"""Bearer tokens looked up once a second per worker, not once a request (API.md):
each worker process keeps what a token's lookup found — the token's id, scopes and
expiry and its user's columns — for :data:`LIFE` seconds.

A revoked token or a disabled user is refused at once in the process that made the
change: a commit that changed a token or a user (:func:`_note_changes`) empties this
process's cache. Every other worker and server sees the change when its entry is older
than :data:`LIFE` (1 s) and the token is looked up again. Expiry is checked on every
request. The cached user is a detached copy of the user's columns, shared by the
worker's requests and never attached to a session: who may see what is decided on it
at no cost, and ``registry.core.api.caller`` merges it into a request's session
(without a query) only when an operation needs the user itself.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, make_transient_to_detached

from registry.accounts import tokens
from registry.accounts.models import ApiToken, User
from registry.core.dbsession import DbSession

#: How long a lookup is trusted, in seconds (API.md: "within 1 s everywhere else").
LIFE = 1.0
#: Entries kept at most; more empties the cache (a worker sees a handful of tokens).
MAX_ENTRIES = 4096

_monotonic = time.monotonic  # tests replace it


@dataclass(frozen=True)
class KnownToken:
    """What a token's lookup found, without its database row: ``id`` for the rate
    limits and idempotency keys, ``user`` a detached copy of the user's columns."""

    id: int
    user: User
    scopes: frozenset[str]
    expires_at: datetime
    last_used_at: datetime | None
    until: float  # monotonic time the entry expires at


_known: dict[str, KnownToken] = {}
_lock = threading.Lock()


def lookup(session: DbSession, raw: str, now: datetime) -> KnownToken | None:
    """What is known of the usable token ``raw`` and its user, or None (unknown,
    malformed, revoked, expired or its user disabled)."""
    if not tokens.well_formed(raw):
        return None
    key = tokens.digest(raw)
    hit = _known.get(key)
    if hit is not None and hit.until > _monotonic() and now < hit.expires_at:
        return hit
    token = tokens.token_for(session, raw, now)
    if token is None:
        with _lock:
            _known.pop(key, None)
        return None
    known = KnownToken(
        token.id,
        _detached_copy(token.user),
        token.scope_set,
        token.expires_at,
        token.last_used_at,
        _monotonic() + LIFE,
    )
    with _lock:
        if len(_known) >= MAX_ENTRIES:
            _known.clear()
        _known[key] = known
    return known


def touched(raw: str, now: datetime) -> None:
    """The token's ``last_used_at`` was written: the cached entry says so too, so that
    the next requests within its life do not write it again."""
    key = tokens.digest(raw)
    with _lock:
        if (hit := _known.get(key)) is not None:
            _known[key] = replace(hit, last_used_at=now)


def forget_all() -> None:
    with _lock:
        _known.clear()


def _detached_copy(user: User) -> User:
    """A copy of ``user``'s column values that belongs to no session, to merge into
    another session without reading it again."""
    copy = User(**{attr.key: getattr(user, attr.key) for attr in inspect(User).column_attrs})
    make_transient_to_detached(copy)
    return copy


# --- a commit that changed a token or a user empties this process's cache ---------------


@event.listens_for(Session, "before_flush")
def _note_changes(session: Session, _context: Any, _instances: Any) -> None:
    changed = (*session.dirty, *session.deleted)
    if any(isinstance(obj, ApiToken | User) for obj in changed):
        session.info["tokens_changed"] = True


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    if session.info.pop("tokens_changed", False):
        forget_all()


@event.listens_for(Session, "after_rollback")
def _nothing_changed(session: Session) -> None:
    session.info.pop("tokens_changed", None)
