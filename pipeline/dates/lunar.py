"""The lunar calendar as the shop's care dates need it (lunar-python's), with the shop's rules.

A lunar day 30 in a 29-day month falls on day 29; a leap month (闰) that does not occur
that year is the ordinary month.  Used by birthdays (care_dates) and festivals.
"""
from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from lunar_python import LunarYear, Solar


@lru_cache(maxsize=None)
def lunar_months(year: int) -> dict[int, tuple[date, int]]:
    """Lunar year ``year``'s months (leap month negative) -> (first day, day count)."""
    months = {}
    for month in LunarYear(year).getMonthsInYear():
        first = Solar.fromJulianDay(month.getFirstJulianDay())
        months[month.getMonth()] = (to_date(first), month.getDayCount())
    return months


def to_date(solar: Solar) -> date:
    """lunar-python's solar day as a date."""
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def lunar_day(year: int, month: int, day: int, leap: bool = False) -> date:
    """Lunar ``month``/``day`` of lunar year ``year``, with the shop's rules for
    a leap month that does not occur and a day 30 in a 29-day month."""
    months = lunar_months(year)
    first, length = months[-month] if leap and -month in months else months[month]
    return first + timedelta(days=min(day, length) - 1)
