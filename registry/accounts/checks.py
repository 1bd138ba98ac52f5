"""The checks of an account's values, each saving nothing: the email's form and that no
account has it, the password's rules, the enterprise a new user belongs to; and the two
that check a whole new account at once (an admin's new user, an enterprise's sign-up)."""

from __future__ import annotations

import functools
import gzip
from pathlib import Path
from typing import cast

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func, select

from registry.accounts.models import Role, User
from registry.core.dbsession import DbSession
from registry.core.errors import InvalidTransition, Refusals, field_error, refusal, required
from registry.enterprises.models import Enterprise
from registry.enterprises.queries import valid_uscc

MIN_PASSWORD_LENGTH = 8
#: Passwords of 8 characters or more from the list of 20 000 common passwords that
#: Django ships (created by Royce Williams; BSD licence), lower case.
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt.gz")


def normalise_email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise field_error("email", "invalid_format", "Enter a valid email address.") from exc


@functools.cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def check_password_rules(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise field_error(
            field, "too_short", "A password needs at least %(n)s characters.", n=MIN_PASSWORD_LENGTH
        )
    if password.lower() in common_passwords():
        raise field_error(field, "too_common", "This password is too common; choose another.")


def require_free_email(session: DbSession, email: str) -> None:
    """No account has ``email`` (normalised) yet."""
    if session.scalar(select(func.count()).where(User.email == email)):
        raise InvalidTransition(
            "A user with email %(email)s exists.",
            errors=[refusal("email", "taken", "Already registered.")],
            email=email,
        )


def enterprise_for(session: DbSession, uscc: str, role: Role | None) -> Enterprise:
    """The enterprise a new user of ``role`` is to belong to, by its USCC: a refusal of
    the ``uscc`` field when the code is not valid, names no enterprise, or the role is
    not an enterprise user's."""
    if role is not None and role != Role.ENTERPRISE:
        raise field_error("uscc", "inconsistent", "Only enterprise users belong to an enterprise.")
    code = valid_uscc(uscc)
    enterprise = session.scalars(select(Enterprise).where(Enterprise.uscc == code)).one_or_none()
    if enterprise is None:
        raise field_error("uscc", "not_found", "No enterprise with USCC %(uscc)s.", uscc=code)
    return enterprise


def check_new_user(
    session: DbSession, *, email: str, role: Role | None, password: str, uscc: str
) -> Enterprise | None:
    """Every value of a user an admin creates checked, all before any refusal (QUALITY.md
    U2): the email (its form, then that no account has it), the password's rules and the
    enterprise (``role`` None: not known, as when the form refused it). Saves nothing;
    returns the enterprise the user is to belong to, if any."""
    refusals = Refusals()
    address = refusals.check(normalise_email, email)
    if address is not None:
        refusals.check(require_free_email, session, address)
    refusals.check(check_password_rules, password)
    enterprise = refusals.check(enterprise_for, session, uscc, role) if uscc else None
    refusals.raise_any()
    return enterprise


def check_sign_up(
    session: DbSession, *, email: str, password: str, uscc: str, enterprise_name: str
) -> str:
    """Every value of a sign-up checked, all before any refusal (QUALITY.md U2): the
    email (its form, then that no account has it), the password's rules, the USCC and
    the name. Saves nothing; returns the normalised USCC."""
    refusals = Refusals()
    address = refusals.check(normalise_email, email)
    if address is not None:
        refusals.check(require_free_email, session, address)
    refusals.check(check_password_rules, password)
    code = refusals.check(valid_uscc, uscc)
    if not enterprise_name.strip():
        refusals.add(required("enterprise_name"))
    refusals.raise_any()
    return cast(str, code)
