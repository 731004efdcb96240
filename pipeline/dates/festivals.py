"""Festivals for care tasks (客户关怀, spec §3.6): when is each one in a given year.

Festivals are 春节, 元宵, 端午, 中秋, 国庆 by default (config), and also 元旦, 清明,
七夕, 重阳, 腊八, 除夕, 劳动节.  Nothing here reads the clock: ``today`` is passed in.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache

from lunar_python import Lunar, LunarYear, Solar

from pipeline.dates.lunar import lunar_day, to_date

# name -> how to find it: (kind, month, day); kinds are below in festival_date.
_FESTIVALS: dict[str, tuple[str, int, int]] = {
    "元旦": ("solar", 1, 1),
    "劳动节": ("solar", 5, 1),
    "国庆": ("solar", 10, 1),
    "春节": ("lunar", 1, 1),
    "元宵": ("lunar", 1, 15),
    "端午": ("lunar", 5, 5),
    "七夕": ("lunar", 7, 7),
    "中秋": ("lunar", 8, 15),
    "重阳": ("lunar", 9, 9),
    "清明": ("term", 0, 0),
    "腊八": ("before_spring", 12, 8),
    "除夕": ("before_spring", 0, 0),
}
FESTIVALS: tuple[str, ...] = tuple(_FESTIVALS)


def festival_date(name: str, year: int) -> date:
    """The festival's solar date in ``year``; KeyError for an unknown festival.

    除夕 and 腊八 are the ones leading up to ``year``'s Spring Festival, so 腊八 can
    fall at the very end of the year before (e.g. 腊八 of 2023 is 2022-12-30).
    """
    return _festival_date(_festival_key(name), year)


def upcoming_festivals(
    names: Sequence[str], today: date, days_ahead: int
) -> list[tuple[str, date]]:
    """The festivals among ``names`` on today .. today + days_ahead, soonest first."""
    last = today + timedelta(days=days_ahead)
    found = []
    for name in dict.fromkeys(names):
        for year in range(today.year - 1, last.year + 2):
            day = festival_date(name, year)
            if today <= day <= last:
                found.append((name, day))
    return sorted(found, key=lambda item: item[1])


def _festival_key(name: str) -> str:
    for candidate in (name, name.removesuffix("节"), name + "节"):
        if candidate in _FESTIVALS:
            return candidate
    raise KeyError(name)


@lru_cache(maxsize=None)
def _festival_date(key: str, year: int) -> date:
    kind, month, day = _FESTIVALS[key]
    if kind == "solar":
        return date(year, month, day)
    if kind == "lunar":
        return lunar_day(year, month, day)
    if kind == "term":
        index = Lunar.JIE_QI_IN_USE.index(key)
        return to_date(Solar.fromJulianDay(LunarYear(year).getJieQiJulianDays()[index]))
    if month:  # 腊八: in the twelfth month of the lunar year before
        return lunar_day(year - 1, month, day)
    return lunar_day(year, 1, 1) - timedelta(days=1)  # 除夕
