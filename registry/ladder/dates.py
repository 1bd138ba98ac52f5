"""Date rules of the ladder: civil dates, working days, notice ends and expiries.

Pure functions with no Flask or database imports. Civil dates are Asia/Shanghai dates;
every instant returned is a timezone-aware UTC datetime.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

#: Validity of a designation until 1 January of the year after it was given.
CALENDAR_YEAR = "calendar_year"

#: A tier's validity: ``"calendar_year"`` or a whole number of years.
Validity = str | int

_SATURDAY = 5


def shanghai_date(at: datetime) -> date:
    """Return the Asia/Shanghai civil date of the aware instant ``at``."""
    _require_aware(at, "at")
    return at.astimezone(SHANGHAI).date()


def shanghai_midnight(d: date) -> datetime:
    """Return 00:00 Asia/Shanghai on ``d`` as an aware UTC datetime."""
    return datetime(d.year, d.month, d.day, tzinfo=SHANGHAI).astimezone(UTC)


# Months as integers (months since year 0), so that they add and subtract as numbers.


def month_index(day: date) -> int:
    """The month of ``day`` as months since year 0."""
    return day.year * 12 + day.month - 1


def month_first_day(index: int) -> date:
    """The first day of month ``index``."""
    return date(index // 12, index % 12 + 1, 1)


def month_text(index: int) -> str:
    """Month ``index`` as ``YYYY-MM``."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_of_text(text: str) -> int:
    """The month ``YYYY-MM`` names, as months since year 0."""
    year, month = text.split("-")
    return int(year) * 12 + int(month) - 1


@dataclass(frozen=True)
class WorkCalendar:
    """Working-day calendar: seeded holidays and make-up working days (调休上班).

    ``years`` are the years the seed covers; a date of any other year is a working day
    exactly when it falls Monday to Friday. ``provisional`` are covered years whose
    schedule is an estimate awaiting the official notice.
    """

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    years: frozenset[int] = frozenset()
    provisional: frozenset[int] = frozenset()

    @classmethod
    def from_seed(cls, data: Mapping[str, Any]) -> WorkCalendar:
        """Build a calendar from the ``seeds/calendar.json`` structure.

        ``{"years": {"2025": {"holidays": [...], "workdays": [...], ...}, ...}}``; other
        keys of a year (``source``, ``note``) are ignored, ``"provisional": true`` marks
        an estimated year. Raises ``ValueError`` for a date listed both as a holiday and
        as a make-up working day, or a make-up working day that is not a weekend day.
        """
        holidays: set[date] = set()
        workdays: set[date] = set()
        years: set[int] = set()
        provisional: set[int] = set()
        for key, entry in data.get("years", {}).items():
            year = int(key)
            years.add(year)
            if entry.get("provisional", False):
                provisional.add(year)
            holidays.update(date.fromisoformat(text) for text in entry.get("holidays", ()))
            year_workdays = [date.fromisoformat(text) for text in entry.get("workdays", ())]
            for day in year_workdays:
                if day.weekday() < _SATURDAY:
                    raise ValueError(f"make-up working day {day} is not a Saturday or Sunday")
            workdays.update(year_workdays)
        both = holidays & workdays
        if both:
            listed = ", ".join(day.isoformat() for day in sorted(both))
            raise ValueError(f"dates listed both as holiday and as working day: {listed}")
        return cls(
            holidays=frozenset(holidays),
            workdays=frozenset(workdays),
            years=frozenset(years),
            provisional=frozenset(provisional),
        )

    def is_working_day(self, d: date) -> bool:
        """Monday–Friday and not a holiday, or a make-up working day even on a weekend."""
        if d in self.workdays:
            return True
        if d in self.holidays:
            return False
        # A year the seed does not cover has no entries, so this counts every Mon–Fri.
        return d.weekday() < _SATURDAY

    def missing_years(self, first: int, last: int) -> list[int]:
        """Years from ``first`` to ``last`` inclusive that the calendar does not cover."""
        return [year for year in range(first, last + 1) if year not in self.years]


def last_day(end: datetime) -> date:
    """The last Asia/Shanghai day before the exclusive end ``end``: the day people read.

    A designation of calendar year 2026 ends at 2027-01-01 00:00 Beijing time and is valid
    until 2026-12-31; a notice ending at 00:00 of 03-19 has 03-18 as its last day.
    """
    _require_aware(end, "end")
    return shanghai_date(end - timedelta(microseconds=1))


def notice_days(approved_on: date, n: int, cal: WorkCalendar) -> list[date]:
    """Return the ``n`` working days that follow ``approved_on``, in order."""
    if n < 0:
        raise ValueError(f"notice length must not be negative, got {n}")
    days: list[date] = []
    day = approved_on
    while len(days) < n:
        day += timedelta(days=1)
        if cal.is_working_day(day):
            days.append(day)
    return days


def notice_ends_at(approved_at: datetime, n: int, cal: WorkCalendar) -> datetime:
    """Return when a notice of ``n`` working days ends, as an aware UTC datetime.

    That is 00:00 Asia/Shanghai of the day after the ``n``-th working day following the
    Shanghai date of ``approved_at``.
    """
    if n < 1:
        raise ValueError(f"notice length must be at least 1 working day, got {n}")
    last = notice_days(shanghai_date(approved_at), n, cal)[-1]
    return shanghai_midnight(last + timedelta(days=1))


def expires_at(validity: Validity, since: date) -> datetime:
    """Return the expiry of a designation given on ``since``, 00:00 Asia/Shanghai in UTC.

    ``"calendar_year"`` → 1 January of the year after ``since``'s; ``n`` years → the same
    month and day ``n`` years later, 29 February becoming 28 February.
    """
    years = _validity_years(validity)
    if years is None:
        return shanghai_midnight(date(since.year + 1, 1, 1))
    return shanghai_midnight(_add_years(since, years))


def renewed_expiry(validity: Validity, old_expiry: datetime) -> datetime:
    """Add one validity period to ``old_expiry`` (a renewal), 00:00 Asia/Shanghai in UTC.

    ``"calendar_year"`` adds one year to the Shanghai date of the old expiry; ``n`` years
    add ``n`` years, 29 February becoming 28 February.
    """
    years = _validity_years(validity)
    return shanghai_midnight(_add_years(shanghai_date(old_expiry), 1 if years is None else years))


def demoted_expiry(current_expiry: datetime | None, validity: Validity, today: date) -> datetime:
    """Return the expiry after a demotion on ``today`` into a tier of ``validity``.

    The earlier of the current expiry and the one the new tier's validity gives from
    ``today``; with no current expiry, the latter.
    """
    from_today = expires_at(validity, today)
    if current_expiry is None:
        return from_today
    _require_aware(current_expiry, "current_expiry")
    return min(current_expiry.astimezone(UTC), from_today)


def parse_validity(text: str) -> Validity:
    """Parse the seed/API form of a validity: ``"calendar_year"`` or a number of years."""
    value = text.strip()
    if value == CALENDAR_YEAR:
        return CALENDAR_YEAR
    if value.isascii() and value.isdigit() and int(value) >= 1:
        return int(value)
    raise ValueError(f"validity must be {CALENDAR_YEAR!r} or a number of years, got {text!r}")


def format_validity(v: Validity) -> str:
    """Format a validity for the seed/API: ``"calendar_year"`` or the number of years."""
    years = _validity_years(v)
    return CALENDAR_YEAR if years is None else str(years)


def _validity_years(v: Validity) -> int | None:
    """The number of years of ``v``, or None for ``"calendar_year"``."""
    if v == CALENDAR_YEAR:
        return None
    if isinstance(v, int) and not isinstance(v, bool) and v >= 1:
        return v
    raise ValueError(f"validity must be {CALENDAR_YEAR!r} or a positive number of years, got {v!r}")


def _add_years(d: date, years: int) -> date:
    """The same month and day ``years`` later; 29 February becomes 28 February."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return date(d.year + years, 2, 28)


def _require_aware(at: datetime, name: str) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {at!r}")
