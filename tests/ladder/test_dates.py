import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from registry.ladder.dates import (
    SHANGHAI,
    WorkCalendar,
    demoted_expiry,
    expires_at,
    format_validity,
    last_day,
    month_first_day,
    month_index,
    month_of_text,
    month_text,
    notice_days,
    notice_ends_at,
    parse_validity,
    renewed_expiry,
    shanghai_date,
    shanghai_midnight,
)

CALENDAR_JSON = Path(__file__).resolve().parents[2] / "seeds" / "calendar.json"
NO_HOLIDAYS = WorkCalendar()


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture(scope="module")
def seed() -> dict:
    return json.loads(CALENDAR_JSON.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def calendar(seed: dict) -> WorkCalendar:
    return WorkCalendar.from_seed(seed)


# --- time zone helpers ---------------------------------------------------------------


def test_shanghai_date_crosses_utc_midnight():
    assert shanghai_date(utc(2026, 3, 3, 16, 0)) == date(2026, 3, 4)
    assert shanghai_date(utc(2026, 3, 3, 15, 59, 59)) == date(2026, 3, 3)


def test_shanghai_date_refuses_naive_datetime():
    with pytest.raises(ValueError):
        shanghai_date(datetime(2026, 3, 4, 12, 0))


def test_last_day_is_the_day_before_an_exclusive_end():
    # Calendar year 2026 ends at 2027-01-01 00:00 Beijing time: valid until 2026-12-31.
    assert last_day(expires_at("calendar_year", date(2026, 3, 5))) == date(2026, 12, 31)
    assert last_day(shanghai(2026, 3, 19, 0, 0)) == date(2026, 3, 18)
    assert last_day(shanghai(2026, 3, 19, 0, 0, 1)) == date(2026, 3, 19)
    with pytest.raises(ValueError):
        last_day(datetime(2027, 1, 1))


def test_shanghai_midnight_is_aware_utc():
    result = shanghai_midnight(date(2026, 3, 19))
    assert result == utc(2026, 3, 18, 16, 0)
    assert result.tzinfo is UTC


# --- working days ---------------------------------------------------------------------


def test_make_up_workday_on_weekend_counts(calendar: WorkCalendar):
    assert date(2025, 1, 26).weekday() == 6  # Sunday
    assert calendar.is_working_day(date(2025, 1, 26))
    assert calendar.is_working_day(date(2025, 2, 8))  # Saturday


def test_holiday_on_weekday_does_not_count(calendar: WorkCalendar):
    assert date(2025, 1, 28).weekday() == 1  # Tuesday
    assert not calendar.is_working_day(date(2025, 1, 28))
    assert not calendar.is_working_day(date(2025, 10, 1))


def test_ordinary_days_in_a_covered_year(calendar: WorkCalendar):
    assert calendar.is_working_day(date(2025, 3, 5))  # Wednesday
    assert not calendar.is_working_day(date(2025, 3, 8))  # Saturday


def test_year_missing_from_calendar_counts_monday_to_friday(calendar: WorkCalendar):
    assert calendar.missing_years(2021, 2028) == [2021, 2028]
    # 2028-01-01 is a Saturday; 1 January 2021 was a holiday Friday but 2021 is not seeded.
    assert not calendar.is_working_day(date(2028, 1, 1))
    assert calendar.is_working_day(date(2028, 1, 3))
    assert calendar.is_working_day(date(2021, 1, 1))
    assert not calendar.is_working_day(date(2021, 1, 2))


def test_from_seed_refuses_a_date_in_both_lists():
    with pytest.raises(ValueError, match="both"):
        WorkCalendar.from_seed(
            {"years": {"2025": {"holidays": ["2025-01-26"], "workdays": ["2025-01-26"]}}}
        )


def test_from_seed_refuses_a_make_up_day_on_a_weekday():
    with pytest.raises(ValueError, match="Saturday or Sunday"):
        WorkCalendar.from_seed({"years": {"2025": {"holidays": [], "workdays": ["2025-01-27"]}}})


def test_from_seed_records_provisional_years(calendar: WorkCalendar):
    assert calendar.years == frozenset(range(2022, 2028))
    assert 2027 in calendar.provisional
    assert 2025 not in calendar.provisional


# --- notices --------------------------------------------------------------------------


def test_notice_days_without_holidays():
    days = notice_days(date(2026, 3, 4), 10, NO_HOLIDAYS)
    assert days[0] == date(2026, 3, 5)
    assert days[-1] == date(2026, 3, 18)
    assert len(days) == 10
    assert all(day.weekday() < 5 for day in days)


@pytest.mark.parametrize(
    "approved_at",
    [
        shanghai(2026, 3, 4, 0, 0),  # 2026-03-03T16:00Z, the previous UTC day
        shanghai(2026, 3, 4, 10, 30),
        shanghai(2026, 3, 4, 23, 59),
    ],
)
def test_notice_ends_at_without_holidays(approved_at: datetime):
    assert notice_ends_at(approved_at.astimezone(UTC), 10, NO_HOLIDAYS) == utc(2026, 3, 18, 16)


def test_notice_ends_at_midnight_shanghai_given_in_utc():
    assert notice_ends_at(utc(2026, 3, 3, 16, 0), 10, NO_HOLIDAYS) == utc(2026, 3, 18, 16)
    # One second earlier is still Tuesday 03-03 in Shanghai: the notice starts a day earlier.
    assert notice_ends_at(utc(2026, 3, 3, 15, 59, 59), 10, NO_HOLIDAYS) == utc(2026, 3, 17, 16)


def test_notice_days_across_spring_festival_2025(calendar: WorkCalendar):
    assert notice_days(date(2025, 1, 24), 5, calendar) == [
        date(2025, 1, 26),
        date(2025, 1, 27),
        date(2025, 2, 5),
        date(2025, 2, 6),
        date(2025, 2, 7),
    ]


@pytest.mark.parametrize(
    "approved_at",
    [shanghai(2025, 1, 24, 0, 0), shanghai(2025, 1, 24, 15, 0), shanghai(2025, 1, 24, 23, 59)],
)
def test_notice_ends_at_across_spring_festival_2025(calendar: WorkCalendar, approved_at: datetime):
    assert notice_ends_at(approved_at.astimezone(UTC), 5, calendar) == utc(2025, 2, 7, 16)


def test_notice_length_must_be_positive():
    assert notice_days(date(2026, 3, 4), 0, NO_HOLIDAYS) == []
    with pytest.raises(ValueError):
        notice_ends_at(utc(2026, 3, 4, 2), 0, NO_HOLIDAYS)
    with pytest.raises(ValueError):
        notice_days(date(2026, 3, 4), -1, NO_HOLIDAYS)


# --- expiries -------------------------------------------------------------------------


def test_calendar_year_expires_on_first_january_of_next_year():
    expected = utc(2025, 12, 31, 16)  # 2026-01-01 00:00 Shanghai
    assert expires_at("calendar_year", date(2025, 7, 15)) == expected
    assert expires_at("calendar_year", date(2025, 1, 1)) == expected
    assert expires_at("calendar_year", date(2025, 12, 31)) == expected


def test_leap_day_plus_three_years_is_28_february():
    assert expires_at(3, date(2024, 2, 29)) == shanghai_midnight(date(2027, 2, 28))
    assert expires_at(3, date(2024, 2, 29)) == utc(2027, 2, 27, 16)


def test_three_years_keeps_month_and_day():
    assert expires_at(3, date(2025, 6, 30)) == utc(2028, 6, 29, 16)
    assert expires_at(4, date(2024, 2, 29)) == shanghai_midnight(date(2028, 2, 29))


def test_renewal_of_a_calendar_year_designation():
    old = shanghai_midnight(date(2026, 1, 1))
    assert renewed_expiry("calendar_year", old) == shanghai_midnight(date(2027, 1, 1))


def test_renewal_of_a_three_year_designation():
    old = shanghai_midnight(date(2027, 2, 28))
    assert renewed_expiry(3, old) == shanghai_midnight(date(2030, 2, 28))
    leap = shanghai_midnight(date(2028, 2, 29))
    assert renewed_expiry(3, leap) == shanghai_midnight(date(2031, 2, 28))


def test_demoted_expiry_keeps_an_earlier_current_expiry():
    current = shanghai_midnight(date(2026, 5, 1))
    assert demoted_expiry(current, 3, date(2026, 3, 4)) == current


def test_demoted_expiry_takes_the_new_tier_validity_when_earlier():
    current = shanghai_midnight(date(2028, 5, 1))
    assert demoted_expiry(current, "calendar_year", date(2026, 3, 4)) == shanghai_midnight(
        date(2027, 1, 1)
    )


def test_demoted_expiry_without_current_expiry():
    assert demoted_expiry(None, 3, date(2026, 3, 4)) == shanghai_midnight(date(2029, 3, 4))


def test_demoted_expiry_compares_instants_across_time_zones():
    current = shanghai(2026, 5, 1, 0, 0)  # aware, not UTC
    result = demoted_expiry(current, 3, date(2026, 3, 4))
    assert result == current
    assert result.tzinfo is UTC


# --- validity -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"), [("calendar_year", "calendar_year"), ("3", 3), (" 1 ", 1)]
)
def test_parse_and_format_validity(text: str, value: str | int):
    assert parse_validity(text) == value
    assert format_validity(value) == text.strip()


@pytest.mark.parametrize("text", ["", "0", "-3", "three", "3.5", "calendar year", "３"])
def test_parse_validity_refuses_bad_text(text: str):
    with pytest.raises(ValueError):
        parse_validity(text)


@pytest.mark.parametrize("value", [0, -1, True, "year", 2.5])
def test_bad_validity_is_refused(value):
    with pytest.raises(ValueError):
        format_validity(value)
    with pytest.raises(ValueError):
        expires_at(value, date(2026, 3, 4))


# --- the calendar seed itself ----------------------------------------------------------


def test_calendar_seed_covers_2022_to_2027(seed: dict):
    assert set(seed["years"]) >= {str(year) for year in range(2022, 2028)}


def test_calendar_seed_is_consistent(seed: dict):
    for key, entry in seed["years"].items():
        year = int(key)
        assert entry["source"], key
        holidays = [date.fromisoformat(text) for text in entry["holidays"]]
        workdays = [date.fromisoformat(text) for text in entry["workdays"]]
        assert len(set(holidays)) == len(holidays), key
        assert len(set(workdays)) == len(workdays), key
        assert not set(holidays) & set(workdays), key
        assert all(day.weekday() >= 5 for day in workdays), key
        assert date(year, 1, 1) in holidays, key
        assert date(year, 10, 1) in holidays, key
        # A New Year block may begin on 31 December of the year before (2023).
        for day in holidays + workdays:
            assert day.year == year or day == date(year - 1, 12, 31), (key, day)
        if entry.get("provisional"):
            assert "replace" in entry["note"].lower(), key


def test_calendar_seed_2025_spring_festival(seed: dict):
    entry = seed["years"]["2025"]
    start = date(2025, 1, 28)
    block = {(start + timedelta(days=i)).isoformat() for i in range(8)}
    assert block <= set(entry["holidays"])
    assert {"2025-01-26", "2025-02-08"} <= set(entry["workdays"])


def test_official_years_are_not_provisional(seed: dict):
    for year in range(2022, 2027):
        assert not seed["years"][str(year)].get("provisional", False), year


@pytest.mark.parametrize(
    ("day", "text", "next_text"),
    [
        (date(2026, 12, 7), "2026-12", "2027-01"),
        (date(2025, 1, 31), "2025-01", "2025-02"),
        (date(999, 6, 1), "0999-06", "0999-07"),
    ],
)
def test_months_count_as_integers_across_years(day, text, next_text):
    index = month_index(day)
    assert month_text(index) == text
    assert month_of_text(text) == index
    assert month_text(index + 1) == next_text
    assert month_first_day(index) == day.replace(day=1)
    assert month_index(month_first_day(index + 1)) == index + 1
