"""Working days over real dates (issue #3): China's holidays and 调休, other countries."""
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.dates.workdays import WorkCalendar

CN = WorkCalendar()


@pytest.mark.parametrize("day", [date(2026, 10, n) for n in range(1, 8)])
def test_national_day_week_2026_is_off(day):
    assert not CN.is_working_day(day)


@pytest.mark.parametrize(
    "day, why",
    [
        (date(2026, 9, 20), "Sunday worked for the National Day break"),
        (date(2026, 10, 10), "Saturday worked for the National Day break"),
        (date(2026, 2, 14), "Saturday worked for the Spring Festival break"),
        (date(2026, 2, 28), "Saturday worked for the Spring Festival break"),
        (date(2026, 1, 4), "Sunday worked for New Year"),
        (date(2026, 10, 8), "first day back after National Day"),
        (date(2026, 11, 23), "an ordinary Monday"),
    ],
)
def test_working_days(day, why):
    assert CN.is_working_day(day), why


@pytest.mark.parametrize(
    "day",
    [date(2026, 2, d) for d in range(15, 24)]  # Spring Festival 2026: 15th-23rd off
    + [date(2026, 1, 1), date(2026, 5, 1), date(2026, 6, 19), date(2026, 9, 25)]
    + [date(2026, 11, 21), date(2026, 11, 22)],  # an ordinary weekend
)
def test_days_off(day):
    assert not CN.is_working_day(day)


def test_task_due_on_national_day_saturday_appears_on_thursday_8th():
    assert CN.next_working_day(date(2026, 10, 3)) == date(2026, 10, 8)
    assert CN.is_working_day(date(2026, 10, 8))
    assert date(2026, 10, 3) in CN.days_off_before(date(2026, 10, 8))


def test_days_off_before_is_the_whole_break_oldest_first():
    assert CN.days_off_before(date(2026, 10, 8)) == [date(2026, 10, n) for n in range(1, 8)]
    assert CN.days_off_before(date(2026, 2, 24)) == [date(2026, 2, d) for d in range(15, 24)]
    assert CN.days_off_before(date(2026, 10, 9)) == []
    # Monday after an ordinary weekend.
    assert CN.days_off_before(date(2026, 11, 23)) == [date(2026, 11, 21), date(2026, 11, 22)]


@pytest.mark.parametrize(
    "day, previous",
    [
        (date(2026, 10, 8), date(2026, 9, 30)),
        (date(2026, 10, 12), date(2026, 10, 10)),  # the 调休 Saturday counts
        (date(2026, 11, 24), date(2026, 11, 23)),
        (date(2026, 2, 24), date(2026, 2, 14)),
    ],
)
def test_previous_working_day(day, previous):
    assert CN.previous_working_day(day) == previous


def test_next_working_day_of_a_working_day_is_itself():
    assert CN.next_working_day(date(2026, 9, 20)) == date(2026, 9, 20)
    assert CN.next_working_day(date(2026, 2, 15)) == date(2026, 2, 24)


def test_spring_festival_2027_is_off_and_2027_is_reported_unknown():
    # 2027-02-06 is New Year's Day of the lunar calendar; the eve and the first days
    # are holidays even before the State Council's schedule reaches the library.
    for day in (date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 8)):
        assert not CN.is_working_day(day)
    assert CN.unknown_years([2027]) == [2027]


def test_unknown_years_are_reported_not_silently_empty():
    assert CN.unknown_years([2026, 2025, 2027, 2030, 2026]) == [2027, 2030]
    assert CN.unknown_years(range(2001, 2027)) == []
    assert CN.unknown_years([1999]) == [1999]


def test_holiday_names_are_chinese_for_china():
    assert CN.holiday_name(date(2026, 2, 17)) == "春节"
    assert CN.holiday_name(date(2026, 10, 1)) == "国庆节"
    assert "调休" in CN.holiday_name(date(2026, 10, 6))
    assert CN.holiday_name(date(2026, 10, 8)) is None


def test_weekend_override_shop_works_saturdays():
    six_day_week = WorkCalendar(weekend=(7,))
    assert six_day_week.is_working_day(date(2026, 11, 21))  # ordinary Saturday
    assert not six_day_week.is_working_day(date(2026, 11, 22))
    assert not six_day_week.is_working_day(date(2026, 10, 3))  # a National Day holiday
    assert six_day_week.is_working_day(date(2026, 9, 20))  # 调休 Sunday still worked
    assert six_day_week.next_working_day(date(2026, 11, 22)) == date(2026, 11, 23)


def test_another_country():
    us = WorkCalendar(country="US")
    assert not us.is_working_day(date(2026, 7, 3))  # Independence Day observed (Friday)
    assert not us.is_working_day(date(2026, 11, 26))  # Thanksgiving
    assert us.is_working_day(date(2026, 10, 1))  # China's National Day is a US workday
    assert not us.is_working_day(date(2026, 9, 20))  # no 调休 outside China
    assert us.next_working_day(date(2026, 7, 3)) == date(2026, 7, 6)
    assert us.unknown_years([2026, 2101]) == [2101]
    california = WorkCalendar(country="US", subdivision="CA")
    assert not california.is_working_day(date(2026, 3, 31))  # Cesar Chavez Day
    assert us.is_working_day(date(2026, 3, 31))


@pytest.mark.parametrize("weekend", [(0,), (8,), (1, 2, 3, 4, 5, 6, 7)])
def test_impossible_weekend_is_refused(weekend):
    with pytest.raises(ValueError):
        WorkCalendar(weekend=weekend)


def test_unknown_country_is_refused():
    with pytest.raises(NotImplementedError):
        WorkCalendar(country="XX")


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(2001, 1, 1), max_value=date(2027, 12, 31)))
def test_working_day_neighbours_are_consistent(day):
    nxt = CN.next_working_day(day)
    prev = CN.previous_working_day(day)
    assert nxt >= day > prev
    assert CN.is_working_day(nxt) and CN.is_working_day(prev)
    assert all(not CN.is_working_day(d) for d in CN.days_off_before(nxt))
    gap = [prev + timedelta(days=n) for n in range(1, (day - prev).days)]
    assert all(not CN.is_working_day(d) for d in gap)
