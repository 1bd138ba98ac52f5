"""Read side of enterprises."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    and_,
    bindparam,
    column,
    select,
    table,
)

from registry.core.db import is_postgres
from registry.core.dbsession import DbSession
from registry.core.errors import NotFound, ValidationFailed, refusal
from registry.core.prepared import Prepared
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
            errors=[refusal("uscc", "invalid_uscc", exc.template, **exc.params)],
            raw=raw,
            reason=exc,  # translated with the template: the page's language throughout
        ) from exc


def by_uscc(session: DbSession, raw: str) -> Enterprise:
    """The enterprise with this USCC (any input form), or ``NotFound``."""
    code = valid_uscc(raw)
    enterprise = session.scalars(select(Enterprise).where(Enterprise.uscc == code)).one_or_none()
    if enterprise is None:
        raise NotFound("No enterprise with USCC %(uscc)s.", uscc=code)
    return enterprise


def find_by_uscc(session: DbSession, raw: str) -> Enterprise | None:
    """The enterprise with this USCC (any input form); None for an unknown or invalid
    code."""
    try:
        code = uscc_codes.validate(raw).code
    except uscc_codes.InvalidUSCC:
        return None
    return session.scalars(select(Enterprise).where(Enterprise.uscc == code)).one_or_none()


#: The column of the codes an enterprise's ``tier`` may hold: the one its foreign key
#: names (the ladder's tiers), named as a bare table so that enterprises need not
#: import the ladder.
TIER_CODE = table("tiers", column("code")).c.code


def tier_codes(session: DbSession) -> set[str]:
    """The codes an enterprise's ``tier`` may hold (:data:`TIER_CODE`)."""
    return set(session.scalars(select(TIER_CODE)))


def unknown_codes(
    session: DbSession, column: SQLColumnExpression[str], values: list[str]
) -> list[str]:
    """Those of ``values`` that are not codes of ``column`` (a tier's, a city's, an
    industry's): one query for the values sent, not the whole code list."""
    # A text no code holds (a NUL, which PostgreSQL refuses to compare) is not asked.
    asked = list(dict.fromkeys(value for value in values if "\x00" not in value))
    if not asked:
        return list(values)
    bound = {f"v{i}": value for i, value in enumerate(asked)}
    found = _CODES.rows(session.get_bind(), (column, len(asked)), bound)
    known = {code for (code,) in found}
    return [value for value in values if value not in known]


def _codes_among(column: SQLColumnExpression[str], count: int) -> Select[Any]:
    return select(column).where(column.in_([bindparam(f"v{i}") for i in range(count)]))


#: The statement of :func:`unknown_codes`, per column and number of values asked.
_CODES = Prepared(_codes_among)


def cities(session: DbSession) -> list[City]:
    return list(session.scalars(select(City).order_by(City.code)))


def industries(session: DbSession) -> list[Industry]:
    return list(session.scalars(select(Industry).order_by(Industry.position)))


def uscc_prefix(text: str) -> str | None:
    """``text`` normalised like a USCC when it could begin one (USCC characters only,
    at most 18), else None."""
    prefix = uscc_codes.normalize(text)
    if prefix and len(prefix) <= uscc_codes.LENGTH and set(prefix) <= set(uscc_codes.ALPHABET):
        return prefix
    return None


def uscc_bounds(prefix: str) -> tuple[str, str]:
    """The first and last USCC starting with ``prefix`` (USCC characters): USCC
    characters are digits and capitals up to Y, so every code starting with ``prefix``
    lies between it and it padded with Z."""
    return prefix, prefix.ljust(uscc_codes.LENGTH, "Z")


def uscc_starts_with(prefix: str) -> ColumnElement[bool]:
    """SQL: the USCC starts with ``prefix`` (USCC characters), as a range of the unique
    index (:func:`uscc_bounds`)."""
    return uscc_between(*uscc_bounds(prefix))


def uscc_between(low: Any, high: Any) -> ColumnElement[bool]:
    """SQL: ``low`` ≤ USCC ≤ ``high`` (values, or a prepared statement's parameters)."""
    return and_(Enterprise.uscc >= low, Enterprise.uscc <= high)


#: The escape character of :func:`like_prefix` (SQLAlchemy's ``autoescape`` one).
LIKE_ESCAPE = "/"


def like_prefix(text: str) -> str:
    """The LIKE pattern (escaped with :data:`LIKE_ESCAPE`) of the texts starting with
    ``text``."""
    escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return escaped + "%"


def name_bounds(session: DbSession, text: str) -> tuple[str, str] | None:
    """On SQLite, the range of the name index holding exactly the names that start with
    ``text``; None on PostgreSQL (its collation may not be binary: LIKE alone decides)
    and when no character follows the last of ``text``.

    SQLite's LIKE ignores case and so never uses an index; under its binary collation
    the names starting with ``text`` are exactly a range of the name index."""
    last = ord(text[-1])
    if is_postgres(session) or last >= 0x10FFFF:
        return None
    following = last + 1 if last + 1 < 0xD800 or last + 1 > 0xDFFF else 0xE000
    return text, text[:-1] + chr(following)  # (surrogates are no characters)


def name_starts_with(session: DbSession, text: str) -> ColumnElement[bool]:
    """SQL: the name starts with ``text`` (and, on SQLite, within :func:`name_bounds`)."""
    return name_like(like_prefix(text), name_bounds(session, text))


def name_like(pattern: Any, bounds: tuple[Any, Any] | None) -> ColumnElement[bool]:
    """SQL: the name matches the LIKE ``pattern`` (:func:`like_prefix`) and lies within
    ``bounds`` when given (values, or a prepared statement's parameters)."""
    condition: ColumnElement[bool] = Enterprise.name.like(pattern, escape=LIKE_ESCAPE)
    if bounds is None:
        return condition
    return and_(condition, Enterprise.name >= bounds[0], Enterprise.name < bounds[1])
