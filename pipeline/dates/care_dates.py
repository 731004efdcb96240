"""Birthdays for care tasks (客户关怀, spec §3.6): reading them, and when is the next one.

The register's 生日 column holds a solar date (a date cell, 1985-03-12, 3月12日,
03-12) or a lunar one (农历八月十五, 农历1978-08-15, 农历闰四月初八, 阴历腊月廿三).
The shop's rules for years that do not have the written day:

- a lunar day 30 in a 29-day month falls on day 29;
- a leap month (闰) that does not occur that year is the ordinary month; a birthday
  falls in the leap month only if it was written with 闰;
- a solar 29 February falls on 28 February in other years.

Festivals are in festivals.py, the lunar calendar (lunar-python's) in lunar.py.
Nothing here reads the clock: ``today`` is always passed in.
"""
from __future__ import annotations

import calendar
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from lunar_python.util import LunarUtil

from pipeline.dates.lunar import lunar_day, lunar_months
from pipeline.messages import text

# The years a birth year may be written with: anyone alive, and lunar-python's range.
YEAR_RANGE = range(1900, 2101)
LUNAR_MARKERS = ("农历", "阴历", "旧历", "lunar")
SOLAR_MARKERS = ("公历", "阳历", "新历", "solar")
LEAP_MARKERS = ("闰", "leap")
# Words that only ever occur in lunar dates (初八, 廿三, 卅, 正月, 冬月, 腊月).
LUNAR_ONLY_WORDS = ("初", "廿", "卅", "正月", "冬月", "腊月")

_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_MONTH_WORDS = {"正": 1, "冬": 11, "腊": 12}

_NUMERIC = re.compile(r"(?:(\d{4})[年\-/.])?(\d{1,2})[月\-/.](\d{1,2})[日号]?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_CHINESE = re.compile(r"(?:(\d{4})年)?([正冬腊一二三四五六七八九十]{1,3}|\d{1,2})月"
                      r"([初廿卅一二三四五六七八九十]{1,3}|\d{1,2})[日号]?")
# A date typed or exported with a midnight time: 1985-03-12 00:00:00.
_TIME_SUFFIX = re.compile(r"[t\s]+0{1,2}:00(:00(\.0+)?)?$")

@dataclass(frozen=True)
class Birthday:
    """A birthday as written in the register; ``year`` is the birth year if given."""

    lunar: bool
    month: int
    day: int
    leap: bool = False
    year: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month} is not 1-12")
        if self.year is not None and self.year not in YEAR_RANGE:
            raise ValueError(f"year {self.year} is out of range")
        if self.lunar:
            self._check_lunar()
        else:
            self._check_solar()

    def _check_lunar(self) -> None:
        if not 1 <= self.day <= 30:
            raise ValueError(f"lunar day {self.day} is not 1-30")
        if self.year is None:
            return
        months = lunar_months(self.year)
        if self.leap and -self.month not in months:
            raise ValueError(f"lunar year {self.year} has no leap month {self.month}")
        _, length = months[-self.month if self.leap else self.month]
        if self.day > length:
            raise ValueError(f"lunar month {self.month} of {self.year} has only {length} days")

    def _check_solar(self) -> None:
        if self.leap:
            raise ValueError("a solar date has no leap month")
        # Without a year, 29 February is a real birthday (born in a leap year).
        year = self.year if self.year is not None else 2000
        if not 1 <= self.day <= calendar.monthrange(year, self.month)[1]:
            written = f"{self.year}-" if self.year is not None else ""
            raise ValueError(f"{written}{self.month:02d}-{self.day:02d} is not a date")

    def label(self) -> str:
        """How the birthday is shown to staff, e.g. 农历八月十五 or 3月12日."""
        key = "care.birthday." + ("lunar" if self.lunar else "solar")
        if self.year is not None:
            key += "_with_year"
        return text(
            key,
            year=self.year,
            month=self.month,
            day=self.day,
            month_name=LunarUtil.MONTH[self.month],
            day_name=LunarUtil.DAY[self.day] if self.lunar else "",
            leap=text("care.birthday.leap_mark") if self.leap else "",
        )


def parse_birthday(value: object) -> Birthday | None:
    """The birthday in a 生日 cell; None when empty.

    Raises ValueError with a short reason when the text cannot be read as a date.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, datetime):
        if value != value:  # pandas' NaT is a datetime that equals nothing
            return None
        return Birthday(lunar=False, month=value.month, day=value.day, year=value.year)
    if isinstance(value, date):
        return Birthday(lunar=False, month=value.month, day=value.day, year=value.year)
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    cleaned = _clean(value)
    return _parse_text(cleaned) if cleaned else None


def next_birthday(b: Birthday, on_or_after: date) -> date:
    """The first day on or after ``on_or_after`` that is the birthday."""
    start = on_or_after.year - 1 if b.lunar else on_or_after.year
    for year in range(start, on_or_after.year + 2):
        day = _birthday_in(b, year)
        if day >= on_or_after:
            return day
    raise AssertionError("a birthday occurs at least once in two years")


def birthday_due(b: Birthday, today: date, days_ahead: int) -> date | None:
    """The birthday's date when it is within today .. today + days_ahead, else None."""
    day = next_birthday(b, today)
    return day if day <= today + timedelta(days=days_ahead) else None


# --- reading the text -------------------------------------------------------


def _clean(value: str) -> str:
    # NFKC turns full-width digits and punctuation (１９８５－０３－１２) into ASCII.
    cleaned = unicodedata.normalize("NFKC", value).strip().lower()
    cleaned = _TIME_SUFFIX.sub("", cleaned)
    # Brackets, colons and spaces around the words: 8月15日(农历), 农历: 八月十五.
    return re.sub(r"[\s()\[\]【】:,]", "", cleaned)


def _parse_text(cleaned: str) -> Birthday:
    lunar = _take(cleaned, LUNAR_MARKERS)
    solar = _take(cleaned, SOLAR_MARKERS)
    leap = _take(cleaned, LEAP_MARKERS)
    body = _without(cleaned, LUNAR_MARKERS + SOLAR_MARKERS + LEAP_MARKERS)
    if lunar and solar:
        raise ValueError("marked both lunar and solar")
    if not lunar and not solar and any(word in body for word in LUNAR_ONLY_WORDS):
        lunar = True
    if leap and not lunar:
        raise ValueError("a leap month (闰) needs a lunar date (农历)")
    year, month, day = _numbers(body, lunar)
    return Birthday(lunar=lunar, month=month, day=day, leap=leap, year=year)


def _take(cleaned: str, markers: tuple[str, ...]) -> bool:
    return any(marker in cleaned for marker in markers)


def _without(cleaned: str, markers: tuple[str, ...]) -> str:
    for marker in markers:
        cleaned = cleaned.replace(marker, "")
    return cleaned


def _numbers(body: str, lunar: bool) -> tuple[int | None, int, int]:
    if match := _NUMERIC.fullmatch(body) or _COMPACT.fullmatch(body):
        year, month, day = match.groups()
        return (int(year) if year else None), int(month), int(day)
    if match := _CHINESE.fullmatch(body):
        if not lunar:
            raise ValueError("a date in Chinese numerals needs 农历 (lunar) or digits")
        year, month, day = match.groups()
        return (int(year) if year else None), _month_number(month), _day_number(day)
    raise ValueError("not a date")


def _month_number(word: str) -> int:
    if word.isdigit():
        return int(word)
    if word in _MONTH_WORDS:
        return _MONTH_WORDS[word]
    return _chinese_number(word)


def _day_number(word: str) -> int:
    if word.isdigit():
        return int(word)
    if word == "卅":
        return 30
    if word.startswith("初"):
        return 10 if word == "初十" else _chinese_number(word[1:])
    if word.startswith("廿"):
        return 20 + _chinese_number(word[1:]) if len(word) > 1 else 20
    return _chinese_number(word)


def _chinese_number(word: str) -> int:
    """一 .. 三十 written the ordinary way (十二, 二十, 二十一)."""
    tens, ten, ones = word.partition("十")
    if not ten:
        if word in _CN_DIGITS:
            return _CN_DIGITS[word]
        raise ValueError(f"not a number: {word}")
    try:
        return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)
    except KeyError:
        raise ValueError(f"not a number: {word}") from None


# --- the calendar -----------------------------------------------------------


def _birthday_in(b: Birthday, year: int) -> date:
    """The birthday in lunar year ``year`` (lunar) or solar year ``year`` (solar)."""
    if b.lunar:
        return lunar_day(year, b.month, b.day, b.leap)
    if (b.month, b.day) == (2, 29) and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, b.month, b.day)
