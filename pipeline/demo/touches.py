"""The demo register's hand-made customers: the stories every run should show.

They make sure every case the pipeline handles shows up in the demo on any day: a
weekly buyer who stopped coming five weeks ago, birthdays in the next few days, an
unhappy customer, a debtor, customers of the rep who left, a never-contacted prospect,
the grading corner cases, and a few ids left over from an older numbering.
"""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
from lunar_python import Solar

from pipeline.demo import data as D
from pipeline.demo.words import COMPLAINT_NOTES

OLD_SYSTEM_IDS = ("00123", "00124", "00131", "00145")
DEMO_REPS = 4  # so the rep who left is rep number 4


def shape_stories(p: dict, as_of: date) -> None:
    """Give the first customers (before ids are handed out) the demo's stories."""
    def story(i: int, **fields) -> None:
        for key, value in fields.items():
            p[key][i] = value
        p["story_no"][i] = i

    story(0, segment=D.BROKEN, gap=7, last_ago=38, kind=0, need=D.NO_ANSWER)   # churn 高
    story(1, segment=D.BROKEN, gap=14, last_ago=34, kind=0, need=D.NO_ANSWER)  # churn 中
    story(2, segment=D.FALLING, gap=7, last_ago=3, kind=2, base_amount=9000.0)
    story(3, segment=D.LOST, gap=30, last_ago=420)
    for i, (ahead, year) in enumerate(((0, 1976), (1, 1980), (2, 1984))):
        day = as_of + timedelta(days=ahead)  # leap birth years, so 29 February works too
        story(4 + i, need=D.CLEAR, has_close=True, close_in=12, birthday_kind=1, birth_year=year,
              birth_day_of_year=(date(year, day.month, day.day) - date(year, 1, 1)).days)
    month, day = _lunar_soon(as_of)
    story(7, need=D.CLEAR, has_close=True, close_in=20, birthday_kind=2, lunar_month=month, lunar_day=day)
    story(8, segment=D.ACTIVE, gap=14, last_ago=5, never_contacted=False)  # unhappy: finish_stories
    story(9, segment=D.ACTIVE, gap=30, last_ago=10, kind=1, debtor=True)  # owes money past due
    for i in (10, 11, 12):
        story(i, rep=DEMO_REPS, never_contacted=False)
    story(13, segment=D.PROSPECT, never_contacted=True, created_ago=5, need=D.LATENT)
    story(14, need=D.CLEAR, has_close=True, close_in=-45)
    story(15, need=D.CLEAR, has_close=False)
    story(16, need=D.NO_NEED)
    story(17, segment=D.PROSPECT, need=D.NO_ANSWER, never_contacted=False)
    story(18, snooze_in=20)
    story(19, grade_override=0)
    story(20, segment=D.ONE_TIME, last_ago=200)
    story(21, segment=D.ACTIVE, gap=7, last_ago=2, kind=2, base_amount=30000.0)  # key account


def _lunar_soon(as_of: date) -> tuple[int, int]:
    """The lunar month and day two days ahead (in a leap month: the ordinary month's day)."""
    d = as_of + timedelta(days=2)
    lunar = Solar.fromYmd(d.year, d.month, d.day).getLunar()
    return abs(lunar.getMonth()), lunar.getDay()


def finish_stories(register: D.Register) -> None:
    """Touches that need the drawn rows: the unhappy customer, ids from the old system."""
    ids = register.customers.columns["客户编号"]
    story_no = register.profile["story_no"]
    unhappy = ids[int(np.flatnonzero(story_no == 8)[0])]
    follow = register.followups.columns
    mine = [i for i, c in enumerate(follow["客户编号"]) if c == unhappy]
    if mine:
        follow["满意度"][mine[-1]] = 1
        follow["方式"][mine[-1]] = "电话"
        follow["内容"][mine[-1]] = COMPLAINT_NOTES[0].format(part="刹车片")
    plain = np.flatnonzero(story_no < 0)[:len(OLD_SYSTEM_IDS)].tolist()
    renamed = {ids[r]: new for r, new in zip(plain, OLD_SYSTEM_IDS)}
    for table in (register.customers, register.followups, register.orders):
        table.columns["客户编号"] = [renamed.get(c, c) for c in table.columns["客户编号"]]


def story_ids(register: D.Register) -> set[str]:
    rows = np.flatnonzero(register.profile["story_no"] >= 0).tolist()
    return {register.customers.columns["客户编号"][r] for r in rows}
