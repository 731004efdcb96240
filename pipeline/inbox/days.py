"""Days as reps type them in a reply: the register's date formats, and days relative to the
message's own date (今天, 明天, 后天, 周五, 下周一, 3天后, 12-20, 12月20日; English today,
tomorrow, next Monday).  Pure: the message's date comes in, no clock is read.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

from pipeline.read.cells import DATE_PATTERNS

_WEEKDAYS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 7, "天": 7,
             "mon": 1, "monday": 1, "tue": 2, "tuesday": 2, "wed": 3, "wednesday": 3, "thu": 4,
             "thursday": 4, "fri": 5, "friday": 5, "sat": 6, "saturday": 6, "sun": 7, "sunday": 7}
_RELATIVE = {"今天": 0, "今日": 0, "today": 0, "明天": 1, "明日": 1, "tomorrow": 1, "后天": 2, "後天": 2,
             "大后天": 3, "大後天": 3}
_NEXT_WEEK = re.compile(r"^(?:下(?:个)?(?:周|星期|礼拜|禮拜)|next\s*)(.+)$")
_THIS_WEEK = re.compile(r"^(?:(?:这|本)?(?:周|星期|礼拜|禮拜)|this\s*)(.+)$")
_IN_DAYS = re.compile(r"^(\d{1,3})\s*(?:天后|天後|days?\s*later|days?)$")
_MONTH_DAY = (re.compile(r"^(\d{1,2})[-/.](\d{1,2})$"), re.compile(r"^(\d{1,2})月(\d{1,2})[日号號]?$"))
_FULL_DATES = tuple(re.compile(p) for p in DATE_PATTERNS)


def fold(text: str) -> str:
    """Full-width forms folded (：→:, １→1, Ａ→A), ends trimmed."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_day(text: str, sent: date) -> date | None:
    """A typed day: the register's formats, or one relative to ``sent`` (the message's day)."""
    word = fold(text).lower().replace(" ", "") if not text.lower().startswith("next ") else fold(text).lower()
    if word in _RELATIVE:
        return sent + timedelta(days=_RELATIVE[word])
    match = _IN_DAYS.match(word)
    if match:
        return sent + timedelta(days=int(match.group(1)))
    match = _NEXT_WEEK.match(word)
    if match and match.group(1).strip() in _WEEKDAYS:
        monday = sent - timedelta(days=sent.isoweekday() - 1) + timedelta(days=7)
        return monday + timedelta(days=_WEEKDAYS[match.group(1).strip()] - 1)
    match = _THIS_WEEK.match(word)
    if match and match.group(1) in _WEEKDAYS:
        ahead = (_WEEKDAYS[match.group(1)] - sent.isoweekday()) % 7 or 7
        return sent + timedelta(days=ahead)
    for pattern in _FULL_DATES:
        match = pattern.match(word)
        if match:
            return _safe_date(int(match.group("y")), int(match.group("m")), int(match.group("d")))
    for pattern in _MONTH_DAY:
        match = pattern.match(word)
        if match:
            day = _safe_date(sent.year, int(match.group(1)), int(match.group(2)))
            # A month and day without a year is the coming one: in December, 1-5 is January's.
            if day is not None and day < sent - timedelta(days=60):
                day = _safe_date(sent.year + 1, day.month, day.day)
            return day
    return None


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
