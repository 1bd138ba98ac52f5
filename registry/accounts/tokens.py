"""API tokens (API.md "Authentication and rights"): created by admins and shown once,
≥ 128 random bits behind the greppable prefix ``ecr_``, stored as SHA-256 digests (a
slow hash is for passwords only), expiring, revocable; ``last_used_at`` written at most
once a minute. Operations flush, never commit."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select

from registry.accounts.models import SCOPES, ApiToken, User
from registry.core import clock
from registry.core.audit import Actor, record_audit
from registry.core.dbsession import DbSession
from registry.core.errors import InvalidTransition, field_error

TOKEN_PREFIX = "ecr_"  # nosec B105 # a public marker on every token, not a secret
DEFAULT_DAYS, MAX_DAYS = 90, 365
#: ``last_used_at`` is refreshed at most this often (a write per request would not do).
TOUCH_EVERY = timedelta(minutes=1)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_scopes(raw: str | list[str]) -> list[str]:
    """``"registry:read,changes:read"`` (or a list) → the scopes, checked, in order."""
    wanted = raw.replace(",", " ").split() if isinstance(raw, str) else list(raw)
    unknown = [scope for scope in wanted if scope not in SCOPES]
    if unknown or not wanted:
        raise field_error(
            "scopes",
            "invalid_choice",
            "Scopes are a comma-separated list of: %(scopes)s.",
            scopes=", ".join(SCOPES),
        )
    return list(dict.fromkeys(wanted))


def create_token(
    session: DbSession,
    user: User,
    scopes: str | list[str],
    *,
    actor: Actor,
    expires_days: int = DEFAULT_DAYS,
) -> tuple[ApiToken, str]:
    """A new token for ``user``: the row and the token itself (never stored). A scope
    the user's role lacks is accepted and has no effect (API.md)."""
    chosen = parse_scopes(scopes)
    if not 1 <= expires_days <= MAX_DAYS:
        raise field_error(
            "expires_days", "out_of_range", "A token expires in 1 to %(max)s days.", max=MAX_DAYS
        )
    if not user.active:
        raise InvalidTransition("%(email)s is disabled.", email=user.email)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)  # 256 random bits
    now = clock.now()
    token = ApiToken(
        user_id=user.id,
        user=user,
        digest=digest(secret),
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        scopes=" ".join(chosen),
        expires_at=now + timedelta(days=expires_days),
        created_by=actor.user_id,
        created_at=now,
    )
    session.add(token)
    session.flush()
    record_audit(
        session,
        actor,
        "token.create",
        "token",
        token.id,
        {
            "user": [None, user.email],
            "scopes": [None, token.scopes],
            "prefix": [None, token.prefix],
        },
    )
    return token, secret


def revoke_token(session: DbSession, token: ApiToken, *, actor: Actor) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        record_audit(session, actor, "token.revoke", "token", token.id, {"revoked": [False, True]})
        session.flush()
    return token


def well_formed(raw: str) -> bool:
    """Whether ``raw`` may be a token at all (its prefix, a sane length): anything else
    is refused before a digest or a lookup."""
    return raw.startswith(TOKEN_PREFIX) and len(raw) <= 200


def token_for(session: DbSession, raw: str, now: datetime) -> ApiToken | None:
    """The usable token ``raw`` is, or None (unknown, malformed, revoked, expired, or
    its user disabled)."""
    if not well_formed(raw):
        return None
    token = session.scalars(select(ApiToken).where(ApiToken.digest == digest(raw))).one_or_none()
    if token is None or not token.usable(now):
        return None
    return token


def needs_touch(last_used_at: datetime | None, now: datetime) -> bool:
    """Whether a token's ``last_used_at`` is due to be written (a minute old, or never)."""
    return last_used_at is None or now - last_used_at >= TOUCH_EVERY


def tokens_of(session: DbSession, user_id: int | None = None) -> list[ApiToken]:
    stmt = select(ApiToken).order_by(ApiToken.id.desc())
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    return list(session.scalars(stmt))
