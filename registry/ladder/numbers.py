"""Registration numbers: a format per tier over ``{year}`` and ``{seq}`` (PRODUCT.md "The ladder"),
counted per tier and year from 1 without gaps. Numbers are taken under the tier's quota
lock (the caller holds it), so concurrent grants never share or skip a position.
"""

from __future__ import annotations

import re
import string

from registry.core.dbsession import DbSession
from registry.core.errors import ValidationFailed
from registry.ladder.models import RegistrationCounter, RegistrationNumber, Tier


def pattern_regex(pattern: str) -> re.Pattern[str]:
    """``JX-TS-{year}-{seq:05d}`` → a regex with named groups ``year`` and ``seq``."""
    parts = []
    for literal, field, spec, _conv in string.Formatter().parse(pattern):
        parts.append(re.escape(literal))
        if field == "year":
            parts.append(r"(?P<year>\d{4})")
        elif field == "seq":
            width = int(spec[:-1] or 1) if spec and spec.endswith("d") else 1
            parts.append(rf"(?P<seq>\d{{{width},}})")
        elif field is not None:
            raise ValueError(f"unknown field {{{field}}} in registration pattern")
    return re.compile("".join(parts) + r"\Z")


def number_taken(session: DbSession, number: str) -> bool:
    return session.get(RegistrationNumber, number) is not None


def check_supplied_number(tier: Tier, year: int, supplied: str) -> None:
    """Refuse a number that is not the canonical spelling of a position of ``tier``'s
    pattern for ``year`` ("…-000001" is not "…-00001"), so that a supplied number can
    never duplicate a position the sequence will hand out."""
    match = pattern_regex(tier.registration_pattern).match(supplied)
    if (
        not match
        or int(match["year"]) != year
        or int(match["seq"]) < 1
        or tier.registration_pattern.format(year=year, seq=int(match["seq"])) != supplied
    ):
        raise ValidationFailed(
            "Registration number %(number)s does not match %(pattern)s for %(year)s.",
            number=supplied,
            pattern=tier.registration_pattern,
            year=year,
        )


def issue_registration_number(
    session: DbSession, tier: Tier, year: int, supplied: str | None = None
) -> str:
    """A new registration number for ``tier`` and ``year``, under the quota lock.

    A supplied number must match the tier's pattern, name ``year`` and be unused; the
    sequence skips numbers taken that way, so generated numbers never collide.
    """
    if supplied is not None:
        check_supplied_number(tier, year, supplied)
        if number_taken(session, supplied):
            raise ValidationFailed("Registration number %(number)s is taken.", number=supplied)
        number = supplied
    else:
        counter = session.get(RegistrationCounter, (tier.code, year))
        if counter is None:
            counter = RegistrationCounter(tier=tier.code, year=year, last_seq=0)
            session.add(counter)
        seq = counter.last_seq
        while True:
            seq += 1
            number = tier.registration_pattern.format(year=year, seq=seq)
            if not number_taken(session, number):
                break
        counter.last_seq = seq
    session.add(RegistrationNumber(number=number, tier=tier.code, year=year))
    return number
