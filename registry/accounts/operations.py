"""Account operations (flush, never commit): users, passwords, sign-up and its claims,
the web-session version and signing in. The checks of an account's values, which save
nothing, are in :mod:`registry.accounts.checks`; the counts of wrong passwords in
:mod:`registry.accounts.throttling`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from registry.accounts import throttling, tokens
from registry.accounts.checks import (
    check_password_rules,
    check_sign_up,
    normalise_email,
    require_free_email,
)
from registry.accounts.models import (
    AccountClaim,
    ClaimState,
    Role,
    User,
    verify_password,
)
from registry.core import clock
from registry.core.audit import Actor, diff, record_audit
from registry.core.dbsession import DbSession
from registry.core.errors import (
    ConflictOfInterest,
    Forbidden,
    InvalidTransition,
    Refusals,
    ValidationFailed,
    field_error,
    required,
)
from registry.enterprises import operations as enterprise_ops
from registry.enterprises.models import Enterprise


def _set_password(user: User, password: str, field: str = "password") -> None:
    check_password_rules(password, field)
    user.set_password(password)


def create_user(
    session: DbSession,
    email: str,
    *,
    role: Role,
    actor: Actor,
    password: str | None = None,
    enterprise: Enterprise | None = None,
    name: str = "",
    locale: str | None = None,
) -> User:
    """Create a user. Without a password the user can only authenticate by token
    (machine clients). An enterprise user may be linked to its enterprise at once."""
    email = normalise_email(email)
    require_free_email(session, email)
    if enterprise is not None and role != Role.ENTERPRISE:
        raise ValidationFailed("Only enterprise users belong to an enterprise.")
    user = User(
        email=email,
        name=name.strip(),
        role=role,
        active=True,
        enterprise_id=enterprise.id if enterprise else None,
        locale=locale,
        session_version=1,
    )
    if password is not None:
        _set_password(user, password)
    session.add(user)
    session.flush()
    record_audit(
        session,
        actor,
        "user.create",
        "user",
        user.id,
        {
            "email": [None, email],
            "role": [None, str(role)],
            "enterprise": [None, enterprise.uscc if enterprise else None],
        },
    )
    return user


@dataclass
class SignUp:
    user: User
    #: The claim waiting for a reviewer when the USCC was already in the registry.
    claim: AccountClaim | None


def sign_up(
    session: DbSession,
    *,
    email: str,
    password: str,
    uscc: str,
    enterprise_name: str,
    locale: str | None = None,
) -> SignUp:
    """An enterprise account. A new USCC creates the enterprise, linked at once and
    unverified; a USCC already registered is claimed, and the account sees that
    enterprise once a reviewer confirms the claim."""
    code = check_sign_up(
        session, email=email, password=password, uscc=uscc, enterprise_name=enterprise_name
    )
    enterprise = session.scalars(select(Enterprise).where(Enterprise.uscc == code)).one_or_none()
    actor = Actor(None, normalise_email(email), "web")
    if enterprise is None:
        enterprise = enterprise_ops.create_enterprise(
            session, code, enterprise_name, actor=actor, verified=False
        )
        user = create_user(
            session,
            email,
            role=Role.ENTERPRISE,
            actor=actor,
            password=password,
            enterprise=enterprise,
            locale=locale,
        )
        return SignUp(user, None)
    user = create_user(
        session, email, role=Role.ENTERPRISE, actor=actor, password=password, locale=locale
    )
    claim = AccountClaim(
        user_id=user.id,
        enterprise_id=enterprise.id,
        stated_name=enterprise_name.strip(),
        state=ClaimState.PENDING,
    )
    session.add(claim)
    session.flush()
    record_audit(
        session,
        Actor.of(user, "web"),
        "account_claim.create",
        "account_claim",
        claim.id,
        {"state": [None, "pending"], "enterprise": [None, enterprise.uscc]},
    )
    return SignUp(user, claim)


def pending_claim(session: DbSession, user: User) -> AccountClaim | None:
    return session.scalars(
        select(AccountClaim).where(
            AccountClaim.user_id == user.id, AccountClaim.state == ClaimState.PENDING
        )
    ).first()


def decide_claim(
    session: DbSession,
    claim: AccountClaim,
    decision: str,
    *,
    reviewer: User,
    via: str,
    comment: str | None = None,
) -> AccountClaim:
    """A reviewer confirms (the account is linked to the enterprise) or refuses a claim."""
    if reviewer.role not in (Role.REVIEWER, Role.ADMIN):
        raise Forbidden("Only reviewers may do this.")
    if reviewer.enterprise_id == claim.enterprise_id:
        raise ConflictOfInterest("You belong to this enterprise.")
    if decision not in ("confirm", "refuse"):
        raise field_error("decision", "invalid_choice", "Choose confirm or refuse.")
    comment = (comment or "").strip() or None
    if decision == "refuse" and comment is None:
        raise required("comment")
    if claim.state != ClaimState.PENDING:
        raise InvalidTransition("This claim has already been decided.")
    user = session.get_one(User, claim.user_id)
    if decision == "confirm" and (user.enterprise_id is not None or user.role != Role.ENTERPRISE):
        # Only an enterprise user may belong to an enterprise: a reviewer linked to one
        # would decide on its applications.
        raise InvalidTransition("Only an enterprise account without an enterprise can be linked.")
    claim.state = ClaimState.CONFIRMED if decision == "confirm" else ClaimState.REFUSED
    claim.comment = comment
    claim.decided_by = reviewer.id
    claim.decided_at = clock.now()
    actor = Actor.of(reviewer, via)
    record_audit(
        session,
        actor,
        f"account_claim.{decision}",
        "account_claim",
        claim.id,
        {"state": ["pending", str(claim.state)]},
    )
    if decision == "confirm":
        user.enterprise_id = claim.enterprise_id
        record_audit(
            session,
            actor,
            "user.link",
            "user",
            user.id,
            {"enterprise": [None, claim.enterprise_id]},
        )
    session.flush()
    return claim


# --- sessions and passwords ---------------------------------------------------------------


def end_web_sessions(session: DbSession, user: User) -> None:
    """Every web session of ``user`` ends (its cookies carry the old version)."""
    user.session_version = (user.session_version or 1) + 1
    session.flush()


def check_password_change(
    session: DbSession, user: User, current: str, new: str, *, client_address: str | None
) -> None:
    """Every fault of a password change at once (QUALITY.md U2): the current password and
    the new one's rules. A wrong current password is counted like a failed login from
    ``client_address``, whatever else is wrong, so that a stolen session cannot guess its
    way through; the caller commits to keep the count."""
    now = clock.now()
    counts = throttling.login_counts(session, user.email, client_address, now)
    refusals = Refusals()
    if not current:
        refusals.add(required("current_password"))  # not a guess: nothing is counted
    elif not user.check_password(current):
        counts.count_failure(now)
        session.flush()
        refusals.add(
            field_error("current_password", "wrong", "The current password is not correct.")
        )
    elif new == current:
        refusals.add(
            field_error("new_password", "unchanged", "Choose a password you do not use now.")
        )
    refusals.check(check_password_rules, new, "new_password")
    refusals.raise_any()


def change_password(
    session: DbSession, user: User, current: str, new: str, *, client_address: str | None
) -> None:
    """The user's own change: the current password is required; the user's other web
    sessions end (the caller renews the current one)."""
    check_password_change(session, user, current, new, client_address=client_address)
    _set_password(user, new, "new_password")
    end_web_sessions(session, user)
    record_audit(session, Actor.of(user, "web"), "user.password", "user", user.id, {})


def reset_password(session: DbSession, user: User, new: str, *, actor: Actor) -> None:
    """An admin sets a new password (there is no self-service reset); the user's web
    sessions end."""
    _set_password(user, new)
    end_web_sessions(session, user)
    record_audit(session, actor, "user.password_reset", "user", user.id, {})


def update_user(
    session: DbSession,
    user: User,
    *,
    actor: Actor,
    role: Role | None = None,
    active: bool | None = None,
) -> User:
    """An admin changes a user's role or enables / disables it. Disabling ends its web
    sessions and revokes its API tokens at once; enabling gives none of them back
    (API.md). Admins cannot lock themselves out."""
    before: dict[str, Any] = {"role": str(user.role), "active": user.active}
    after = dict(before)
    if role is not None:
        after["role"] = str(Role(role))
    if active is not None:
        after["active"] = bool(active)
    changes = diff(before, after)
    if not changes:
        return user
    if user.id == actor.user_id:
        raise InvalidTransition("You cannot change your own role or disable yourself.")
    if after["role"] != str(Role.ENTERPRISE) and (
        user.enterprise_id is not None or pending_claim(session, user) is not None
    ):
        raise field_error("role", "inconsistent", "A user of an enterprise cannot be a reviewer.")
    user.role = Role(after["role"])
    user.active = after["active"]
    end_web_sessions(session, user)
    record_audit(session, actor, "user.update", "user", user.id, changes)
    if not user.active:
        for token in tokens.tokens_of(session, user.id):
            tokens.revoke_token(session, token, actor=actor)
    return user


# --- signing in ----------------------------------------------------------------------------


def authenticate(
    session: DbSession,
    email: str,
    password: str,
    *,
    client_address: str | None,
    policy: throttling.ThrottlePolicy = throttling.POLICY,
) -> User | None:
    """The user whose email and password these are, or None. An account name locked for
    ``client_address``, or for every address, raises ``Throttled`` (with ``retry_after``
    seconds) whatever the password. Every refusal costs one password hash, as a wrong
    password of a real user does: the time taken tells no account from another. The
    caller commits in both cases: the failure count must be kept."""
    try:
        email = normalise_email(email)
    except ValidationFailed:
        verify_password(None, password)
        return None
    now = clock.now()
    counts = throttling.login_counts(session, email, client_address, now, policy)
    user = session.scalars(select(User).where(User.email == email)).one_or_none()
    ok = verify_password(user.password_hash if user is not None else None, password)
    if ok and user is not None and user.active:
        counts.succeeded()
        session.flush()
        return user
    counts.count_failure(now)
    session.flush()
    return None
