"""Working days of the shop: when emails go out and which day a task lands on.

Follow-up emails go out on working days only (spec §3.2): not on the shop's weekend
days and not on its country's official public holidays, but yes on the substituted
working days (调休) a country like China moves onto a weekend.  The holiday data
comes from the ``holidays`` library; what falls due on a day off is in the next
working day's list.

China announces each year's days off only late in the year before, so the library
knows a year's real schedule only once a release carries that announcement.  For a
later year it still computes the festivals but knows no 调休, which would silently
be wrong; :meth:`WorkCalendar.unknown_years` reports such years so the run can
warn about them.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import holidays

ISO_WEEKDAYS = range(1, 8)
# Longest run of days off looked through before deciding the calendar is broken;
# China's longest break (Spring Festival 2020, extended) is far below this.
MAX_DAYS_OFF = 60


@dataclass(frozen=True)
class _Year:
    """One year of a country's calendar, as the library knows it."""

    days_off: dict[date, str]  # public holidays and substituted days off, by date
    weekend_workdays: frozenset[date]  # weekend days that are working days (调休)


@dataclass(frozen=True)
class _Coverage:
    """Which years the library has real data for, for one country."""

    first: int
    last: int


@lru_cache(maxsize=None)
def _library_calendar(country: str, subdivision: str | None) -> holidays.HolidayBase:
    """A holiday object with no years loaded, in the country's own language."""
    empty = holidays.country_holidays(country, subdiv=subdivision)
    # Names in the country's own language, not whatever the process locale says.
    return holidays.country_holidays(
        country, subdiv=subdivision, language=empty.default_language
    )


@lru_cache(maxsize=None)
def _year(country: str, subdivision: str | None, year: int) -> _Year:
    lib = _library_calendar(country, subdivision)
    # Next year's schedule can move a working day into this year (e.g. a late-
    # December Sunday worked for the next New Year), so load both.
    loaded = holidays.country_holidays(
        country, subdiv=subdivision, years=(year, year + 1), language=lib.language
    )
    days_off = {day: name for day, name in loaded.items() if day.year == year}
    workdays = frozenset(d for d in loaded.weekend_workdays if d.year == year)
    return _Year(days_off=days_off, weekend_workdays=workdays)


@lru_cache(maxsize=None)
def _coverage(country: str, subdivision: str | None) -> _Coverage:
    lib = _library_calendar(country, subdivision)
    first, last = lib.start_year, lib.end_year
    if getattr(lib, "has_substituted_holidays", False):
        # A country that moves working days by yearly decree: only the years the
        # library carries a decree for are real; later ones are guesses.
        decreed = getattr(lib, "special_public_holidays", {})
        if decreed:
            first, last = max(first, min(decreed)), min(last, max(decreed))
    return _Coverage(first=first, last=last)


@dataclass(frozen=True)
class WorkCalendar:
    """The shop's working days.

    ``country`` is an ISO 3166 code known to the ``holidays`` library ("CN", "US",
    ...), ``subdivision`` an optional province/state code of that country, and
    ``weekend`` the shop's weekly days off as ISO weekday numbers (1 Monday ...
    7 Sunday).  A substituted working day (调休) is a working day even when it
    falls on one of the weekend days.
    """

    country: str = "CN"
    weekend: tuple[int, ...] = (6, 7)
    subdivision: str | None = None

    def __post_init__(self) -> None:
        if not set(self.weekend) <= set(ISO_WEEKDAYS):
            raise ValueError(f"weekend days must be ISO weekday numbers 1-7: {self.weekend!r}")
        if len(set(self.weekend)) == len(ISO_WEEKDAYS):
            raise ValueError("a weekend of all seven days leaves no working day")
        # Fails early, with the library's own message, on an unknown country.
        _library_calendar(self.country, self.subdivision)

    def _year(self, day: date) -> _Year:
        return _year(self.country, self.subdivision, day.year)

    def is_working_day(self, day: date) -> bool:
        """True when the shop works on ``day``."""
        year = self._year(day)
        if day in year.weekend_workdays:
            return True
        return day.isoweekday() not in self.weekend and day not in year.days_off

    def next_working_day(self, day: date) -> date:
        """The first working day on or after ``day``."""
        for offset in range(MAX_DAYS_OFF + 1):
            candidate = day + timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise RuntimeError(f"no working day within {MAX_DAYS_OFF} days after {day}")

    def previous_working_day(self, day: date) -> date:
        """The last working day strictly before ``day``."""
        for offset in range(1, MAX_DAYS_OFF + 2):
            candidate = day - timedelta(days=offset)
            if self.is_working_day(candidate):
                return candidate
        raise RuntimeError(f"no working day within {MAX_DAYS_OFF} days before {day}")

    def days_off_before(self, day: date) -> list[date]:
        """The run of days off right before ``day``, oldest first.

        What fell due on these days is shown on ``day`` (if ``day`` is a working day).
        """
        start = self.previous_working_day(day) + timedelta(days=1)
        return [start + timedelta(days=n) for n in range((day - start).days)]

    def unknown_years(self, years: Iterable[int]) -> list[int]:
        """The years among ``years`` the library has no real holiday data for."""
        coverage = _coverage(self.country, self.subdivision)
        return sorted({y for y in years if not coverage.first <= y <= coverage.last})

    def holiday_name(self, day: date) -> str | None:
        """The library's name for the holiday or day off on ``day``, if any."""
        return self._year(day).days_off.get(day)
