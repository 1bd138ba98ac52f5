"""Account operations (flush, never commit)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from registry.accounts.models import Role, User
from registry.core.audit import Actor, record_audit
from registry.core.errors import InvalidTransition, ValidationFailed
from registry.enterprises.models import Enterprise

MIN_PASSWORD_LENGTH = 8


def normalise_email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationFailed("Invalid email address: %(reason)s", reason=str(exc)) from exc


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed("A password needs at least %(n)s characters.", n=MIN_PASSWORD_LENGTH)


def create_user(
    session: Session,
    email: str,
    *,
    role: Role,
    actor: Actor,
    password: str | None = None,
    enterprise: Enterprise | None = None,
    name: str = "",
) -> User:
    """Create a user. Without a password the user can only authenticate by token
    (machine clients). An enterprise user may be linked to its enterprise at once."""
    email = normalise_email(email)
    if session.scalar(select(func.count()).where(User.email == email)):
        raise InvalidTransition("A user with email %(email)s exists.", email=email)
    if enterprise is not None and role != Role.ENTERPRISE:
        raise ValidationFailed("Only enterprise users belong to an enterprise.")
    user = User(
        email=email,
        name=name,
        role=role,
        active=True,
        enterprise_id=enterprise.id if enterprise else None,
    )
    if password is not None:
        check_password_rules(password)
        user.set_password(password)
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
