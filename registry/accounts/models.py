"""Users and their roles."""

from __future__ import annotations

import enum
import functools
import secrets
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from registry.core import clock
from registry.core.db import Model, UtcDateTime, enum_type


class Role(enum.StrEnum):
    ENTERPRISE = "enterprise"
    REVIEWER = "reviewer"
    ADMIN = "admin"


@functools.cache
def _dummy_hash(method: str) -> str:
    """A hash of a random password at ``method``'s cost, made once per process."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` is the one ``stored_hash`` was made from. Without a hash (an
    unknown account name, a user who authenticates by token only) a dummy hash of the
    configured cost is checked all the same, so that every answer costs one hash and
    the time taken tells no account from another."""
    if stored_hash:
        return check_password_hash(stored_hash, password)
    method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    check_password_hash(_dummy_hash(method), password)
    return False


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    # Null for machine clients (other registries), which authenticate by token only.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(enum_type(Role, "role", 20))
    active: Mapped[bool] = mapped_column(default=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    # Bumped to end every web session of this user at once (logout, disable).
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)

    def set_password(self, password: str) -> None:
        # scrypt at werkzeug's cost (N = 2^15) unless the configuration says otherwise:
        # only test configurations lower it, to keep the suite fast.
        method = current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return verify_password(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:  # Flask-Login: what the session cookie carries
        # The session version makes every older cookie of this user invalid at once
        # when it is bumped (logout everywhere, password change, disabling).
        return f"{self.id}:{self.session_version}"

    @property
    def is_reviewer(self) -> bool:
        """Reviewers and admins (admins hold every reviewer right)."""
        return self.role in (Role.REVIEWER, Role.ADMIN)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def display_name(self) -> str:
        return self.name or self.email


#: ``LoginThrottle.client_address`` of the count of every address together.
EVERY_ADDRESS = "*"


class LoginThrottle(Model):
    """Failed logins per account name (the normalised email, whether or not such a
    user exists) and client address, and per account name from every address together
    (``client_address`` = ``EVERY_ADDRESS``), kept in the database so that every worker
    process and server sees the same counts (QUALITY.md S8)."""

    __tablename__ = "login_throttles"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    client_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[datetime] = mapped_column(UtcDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ClaimState(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REFUSED = "refused"


class AccountClaim(Model):
    """A sign-up claiming a USCC already in the registry: the account sees that
    enterprise only once a reviewer confirms the claim (PRODUCT.md "Web pages")."""

    __tablename__ = "account_claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    # The enterprise name the applicant typed, for the reviewer to compare.
    stated_name: Mapped[str] = mapped_column(String(200))
    state: Mapped[ClaimState] = mapped_column(
        enum_type(ClaimState, "claim_state", 10), default=ClaimState.PENDING, index=True
    )
    comment: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


#: The scopes a token may carry (API.md); what each allows depends on the user's role.
SCOPES = (
    "registry:read",
    "registry:write",
    "changes:read",
    "workflow:apply",
    "workflow:review",
    "admin",
)


class ApiToken(Model):
    """A bearer token for the REST API. Only its SHA-256 digest is stored; the token
    itself is shown once, at creation. ``prefix`` (the first characters) lets people
    tell their tokens apart."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)

    user: Mapped[User] = relationship(foreign_keys=[user_id])

    @property
    def scope_set(self) -> frozenset[str]:
        return frozenset(self.scopes.split())

    def usable(self, now: datetime) -> bool:
        """Not revoked, not expired, and its user still active."""
        return self.revoked_at is None and now < self.expires_at and self.user.active
