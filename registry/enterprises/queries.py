"""Read side of enterprises."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from registry.core.errors import NotFound, ValidationFailed
from registry.enterprises import uscc as uscc_codes
from registry.enterprises.models import City, Enterprise, Industry


def valid_uscc(raw: str) -> str:
    """The normalised code, or ``ValidationFailed`` (``invalid_uscc``) with the reason."""
    try:
        return uscc_codes.validate(raw).code
    except uscc_codes.InvalidUSCC as exc:
        raise ValidationFailed(
            "Invalid USCC %(raw)s: %(reason)s",
            code="invalid_uscc",
            errors=[{"field": "uscc", "code": "invalid_uscc", "message": str(exc)}],
            raw=raw,
            reason=str(exc),
        ) from exc


def by_uscc(session: Session, raw: str) -> Enterprise:
    """The enterprise with this USCC (any input form), or ``NotFound``."""
    code = valid_uscc(raw)
    enterprise = session.scalars(select(Enterprise).where(Enterprise.uscc == code)).one_or_none()
    if enterprise is None:
        raise NotFound("No enterprise with USCC %(uscc)s.", uscc=code)
    return enterprise


def cities(session: Session) -> list[City]:
    return list(session.scalars(select(City).order_by(City.code)))


def industries(session: Session) -> list[Industry]:
    return list(session.scalars(select(Industry).order_by(Industry.position)))
