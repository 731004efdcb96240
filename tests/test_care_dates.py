"""Birthdays and festivals (spec §3.6, issue #3) over real dates."""
import calendar
from datetime import date, datetime, timedelta

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lunar_python import Lunar, LunarYear

from pipeline.dates.care_dates import Birthday, birthday_due, next_birthday, parse_birthday
from pipeline.dates.festivals import FESTIVALS, festival_date, upcoming_festivals
from pipeline.messages import set_language

MID_AUTUMN = Birthday(lunar=True, month=8, day=15)


@pytest.fixture(autouse=True)
def chinese_texts():
    set_language("zh")
    yield
    set_language("zh")


# --- reading the register's 生日 -----------------------------------------------


@pytest.mark.parametrize(
    "written, expected",
    [
        ("农历八月十五", Birthday(True, 8, 15)),
        ("农历1978-08-15", Birthday(True, 8, 15, year=1978)),
        ("农历闰四月初八", Birthday(True, 4, 8, leap=True)),
        ("阴历腊月廿三", Birthday(True, 12, 23)),
        ("农历腊月廿三", Birthday(True, 12, 23)),
        ("农历正月初一", Birthday(True, 1, 1)),
        ("农历十一月三十", Birthday(True, 11, 30)),
        ("农历冬月初十", Birthday(True, 11, 10)),
        ("农历二月二十", Birthday(True, 2, 20)),
        ("农历2020年闰四月初八", Birthday(True, 4, 8, leap=True, year=2020)),
        ("8月15日（农历）", Birthday(True, 8, 15)),
        ("农历: 8月15", Birthday(True, 8, 15)),
        ("正月初一", Birthday(True, 1, 1)),  # 初/正月 only exist in lunar dates
        ("1985-03-12", Birthday(False, 3, 12, year=1985)),
        ("1985/3/12", Birthday(False, 3, 12, year=1985)),
        ("1985年3月12日", Birthday(False, 3, 12, year=1985)),
        ("1985-03-12 00:00:00", Birthday(False, 3, 12, year=1985)),
        ("１９８５－０３－１２", Birthday(False, 3, 12, year=1985)),
        ("19850312", Birthday(False, 3, 12, year=1985)),
        ("3月12日", Birthday(False, 3, 12)),
        ("03-12", Birthday(False, 3, 12)),
        ("公历3月12日", Birthday(False, 3, 12)),
        ("2月29日", Birthday(False, 2, 29)),
        (date(1985, 3, 12), Birthday(False, 3, 12, year=1985)),
        (datetime(1988, 2, 29, 0, 0), Birthday(False, 2, 29, year=1988)),
    ],
)
def test_parse_birthday(written, expected):
    assert parse_birthday(written) == expected


@pytest.mark.parametrize("empty", [None, "", "   ", float("nan")])
def test_empty_birthday_is_none(empty):
    assert parse_birthday(empty) is None


@pytest.mark.parametrize(
    "written, reason",
    [
        ("hello", "not a date"),
        ("2025-02-29", "not a date"),
        ("3月32日", "not a date"),
        ("农历13月1日", "month"),
        ("农历八月三十一", "lunar day"),
        ("八月十五", "农历"),  # Chinese numerals without 农历: ambiguous
        ("闰3月4日", "lunar"),
        ("农历1978年闰四月初八", "no leap month"),  # 1978 had no 闰四月
        ("农历2026年八月三十", "only 29 days"),  # 2026's eighth month has 29 days
        ("公历农历3月4日", "both"),
        ("12/03/1985", "not a date"),  # day-first or month-first: unreadable
        ("1850-01-01", "out of range"),
        (19850312, "not a date"),
    ],
)
def test_unreadable_birthday_raises_a_short_reason(written, reason):
    with pytest.raises(ValueError, match=reason):
        parse_birthday(written)


@pytest.mark.parametrize(
    "birthday, label",
    [
        (Birthday(True, 8, 15), "农历八月十五"),
        (Birthday(True, 12, 23), "农历腊月廿三"),
        (Birthday(True, 4, 8, leap=True), "农历闰四月初八"),
        (Birthday(True, 8, 15, year=1978), "农历1978年八月十五"),
        (Birthday(False, 3, 12), "3月12日"),
        (Birthday(False, 3, 12, year=1985), "1985年3月12日"),
    ],
)
def test_label(birthday, label):
    assert birthday.label() == label


def test_english_labels_read_back():
    set_language("en")
    leap = Birthday(True, 4, 8, leap=True, year=2020)
    assert leap.label() == "lunar leap 2020-04-08"
    assert parse_birthday(leap.label()) == leap
    assert parse_birthday(Birthday(False, 3, 12).label()) == Birthday(False, 3, 12)


# --- when the birthday is -------------------------------------------------------


@pytest.mark.parametrize("written", ["农历八月十五", "农历1978-08-15"])
def test_mid_autumn_birthday_greeting_window_2027(written):
    b = parse_birthday(written)
    assert next_birthday(b, date(2027, 1, 1)) == date(2027, 9, 15)
    for day in range(12, 16):
        assert birthday_due(b, date(2027, 9, day), 3) == date(2027, 9, 15)
    assert birthday_due(b, date(2027, 9, 11), 3) is None
    assert birthday_due(b, date(2027, 9, 16), 3) is None  # next one is in 2028


@pytest.mark.parametrize(
    "birthday, on_or_after, expected",
    [
        # Day 30 in a 29-day month: 2026's and 2027's eighth months have 29 days.
        (Birthday(True, 8, 30), date(2026, 1, 1), date(2026, 10, 9)),
        (Birthday(True, 8, 30), date(2027, 1, 1), date(2027, 9, 29)),
        # ...and 2026's eleventh month has 30.
        (Birthday(True, 11, 30), date(2026, 11, 23), date(2027, 1, 7)),
        # 2025 has 闰六月: 闰 birthdays fall in it, ordinary ones do not.
        (Birthday(True, 6, 8, leap=True), date(2025, 7, 1), date(2025, 8, 1)),
        (Birthday(True, 6, 8), date(2025, 7, 1), date(2025, 7, 2)),
        # 2026 has no leap month: a 闰六月 birthday is on the ordinary sixth month.
        (Birthday(True, 6, 8, leap=True), date(2026, 1, 1), date(2026, 7, 21)),
        # 2023 has 闰二月.
        (Birthday(True, 2, 1, leap=True), date(2023, 1, 1), date(2023, 3, 22)),
        (Birthday(True, 2, 1), date(2023, 1, 1), date(2023, 2, 20)),
        # 腊月 of lunar 2026 is in January 2027.
        (Birthday(True, 12, 23), date(2026, 11, 23), date(2027, 1, 30)),
        (Birthday(True, 1, 1), date(2026, 2, 18), date(2027, 2, 6)),
        # Solar 29 February.
        (Birthday(False, 2, 29), date(2026, 1, 1), date(2026, 2, 28)),
        (Birthday(False, 2, 29), date(2028, 1, 1), date(2028, 2, 29)),
        (Birthday(False, 2, 29, year=1988), date(2026, 3, 1), date(2027, 2, 28)),
        (Birthday(False, 3, 12), date(2026, 3, 12), date(2026, 3, 12)),
        (Birthday(False, 3, 12), date(2026, 3, 13), date(2027, 3, 12)),
    ],
)
def test_next_birthday(birthday, on_or_after, expected):
    assert next_birthday(birthday, on_or_after) == expected


def test_leap_months_are_what_the_tests_assume():
    assert LunarYear(2025).getLeapMonth() == 6
    assert LunarYear(2023).getLeapMonth() == 2
    assert LunarYear(2026).getLeapMonth() == 0
    assert LunarYear(2026).getMonth(8).getDayCount() == 29


def test_birthday_due_on_the_day_itself():
    assert birthday_due(Birthday(False, 11, 23), date(2026, 11, 23), 3) == date(2026, 11, 23)
    assert birthday_due(Birthday(False, 11, 26), date(2026, 11, 23), 3) == date(2026, 11, 26)
    assert birthday_due(Birthday(False, 11, 27), date(2026, 11, 23), 3) is None
    assert birthday_due(Birthday(False, 1, 1), date(2026, 12, 30), 3) == date(2027, 1, 1)


# --- festivals ------------------------------------------------------------------

KNOWN_FESTIVALS = {
    2026: {"元旦": date(2026, 1, 1), "腊八": date(2026, 1, 26), "除夕": date(2026, 2, 16),
           "春节": date(2026, 2, 17), "元宵": date(2026, 3, 3), "清明": date(2026, 4, 5),
           "劳动节": date(2026, 5, 1), "端午": date(2026, 6, 19), "七夕": date(2026, 8, 19),
           "中秋": date(2026, 9, 25), "国庆": date(2026, 10, 1), "重阳": date(2026, 10, 18)},
    2027: {"元旦": date(2027, 1, 1), "腊八": date(2027, 1, 15), "除夕": date(2027, 2, 5),
           "春节": date(2027, 2, 6), "元宵": date(2027, 2, 20), "清明": date(2027, 4, 5),
           "劳动节": date(2027, 5, 1), "端午": date(2027, 6, 9), "七夕": date(2027, 8, 8),
           "中秋": date(2027, 9, 15), "国庆": date(2027, 10, 1), "重阳": date(2027, 10, 8)},
}


@pytest.mark.parametrize(
    "year, name, expected",
    [(y, n, d) for y, table in KNOWN_FESTIVALS.items() for n, d in table.items()],
)
def test_festival_date(year, name, expected):
    assert festival_date(name, year) == expected


def test_every_festival_is_checked():
    assert set(FESTIVALS) == set(KNOWN_FESTIVALS[2026])


@pytest.mark.parametrize("year", range(2020, 2031))
def test_festivals_agree_with_the_holidays_library(year):
    # An independent implementation of the same calendar.
    cn = holidays.country_holidays("CN", years=year, language="zh_CN")
    for name in ("春节", "清明", "端午", "中秋"):
        assert cn.get(festival_date(name, year), "").startswith(name), (name, year)


def test_festival_names_with_or_without_jie():
    assert festival_date("中秋节", 2026) == festival_date("中秋", 2026)
    assert festival_date("国庆节", 2026) == date(2026, 10, 1)
    assert festival_date("劳动", 2026) == date(2026, 5, 1)
    with pytest.raises(KeyError):
        festival_date("圣诞", 2026)


def test_laba_leading_up_to_a_spring_festival_can_be_in_december():
    assert festival_date("腊八", 2023) == date(2022, 12, 30)


def test_upcoming_festivals_over_the_year_end():
    today = date(2026, 12, 30)
    default = ["春节", "元宵", "端午", "中秋", "国庆"]
    assert upcoming_festivals(default, today, 3) == []
    assert upcoming_festivals(default + ["元旦"], today, 3) == [("元旦", date(2027, 1, 1))]
    assert upcoming_festivals(["元旦"], today, 1) == []


def test_upcoming_festivals_window_and_order():
    assert upcoming_festivals(["国庆", "中秋"], date(2026, 9, 22), 10) == [
        ("中秋", date(2026, 9, 25)),
        ("国庆", date(2026, 10, 1)),
    ]
    assert upcoming_festivals(["中秋"], date(2026, 9, 25), 0) == [("中秋", date(2026, 9, 25))]
    assert upcoming_festivals(["除夕", "春节"], date(2027, 2, 3), 3) == [
        ("除夕", date(2027, 2, 5)),
        ("春节", date(2027, 2, 6)),
    ]
    with pytest.raises(KeyError):
        upcoming_festivals(["圣诞"], date(2026, 12, 20), 7)


# --- properties -----------------------------------------------------------------


@st.composite
def birthdays(draw):
    if draw(st.booleans()):
        month = draw(st.integers(1, 12))
        day = draw(st.integers(1, 29 if month == 2 else calendar.monthrange(2001, month)[1]))
        year = draw(st.none() | st.integers(1900, 2100))
        if year is not None and (month, day) == (2, 29) and not calendar.isleap(year):
            year = None
        return Birthday(False, month, day, year=year)
    year = draw(st.none() | st.integers(1900, 2100))
    if year is None:
        return Birthday(True, draw(st.integers(1, 12)), draw(st.integers(1, 30)),
                        leap=draw(st.booleans()))
    month = draw(st.sampled_from(LunarYear(year).getMonthsInYear()))
    day = draw(st.integers(1, month.getDayCount()))
    return Birthday(True, abs(month.getMonth()), day, leap=month.getMonth() < 0, year=year)


@settings(max_examples=300, deadline=None)
@given(birthdays(), st.dates(min_value=date(1901, 1, 1), max_value=date(2099, 12, 31)))
def test_next_birthday_is_within_a_year_and_a_bit(b, day):
    found = next_birthday(b, day)
    assert day <= found < day + timedelta(days=400)
    assert next_birthday(b, found) == found
    assert _is_the_birthday(b, found)


def _is_the_birthday(b, day):
    """Checked through lunar-python's own solar-to-lunar conversion."""
    if not b.lunar:
        if (b.month, b.day) == (2, 29) and not calendar.isleap(day.year):
            return (day.month, day.day) == (2, 28)
        return (day.month, day.day) == (b.month, b.day)
    lunar = Lunar.fromDate(datetime(day.year, day.month, day.day))
    year = LunarYear(lunar.getYear())
    written_month = -b.month if b.leap and year.getLeapMonth() == b.month else b.month
    length = year.getMonth(written_month).getDayCount()
    return lunar.getMonth() == written_month and lunar.getDay() == min(b.day, length)


@settings(max_examples=300, deadline=None)
@given(birthdays())
def test_label_reads_back(b):
    assert parse_birthday(b.label()) == b
