"""Turns the drawn customers, orders and follow-ups into the register's four sheets.

Cells are plain Python values, one list per column: ``str`` for text, ``int`` or
``float`` for numbers and dates (dates are Excel serial numbers; the sheet's format
says which columns are dates), ``None`` for an empty cell, and two markers for what
staff sometimes leave: ``Raw`` (a number typed into a date column) and ``Formula``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from typing import NamedTuple

import numpy as np

from pipeline.demo import words as W

EXCEL_EPOCH = date(1899, 12, 30)
NEEDS = ("明确", "潜在", "无", None)
MANAGER_REP = -1  # rep index meaning the 主管 made the contact
NO_DATE = 10 ** 6  # an ``ago`` meaning "no date"
CUSTOMER_HEADERS = ["客户编号", "客户名称", "客户类型", "联系人", "电话", "微信号", "邮箱", "地区",
                    "主营车型", "业务员", "需求", "预计成交", "生日", "暂缓至", "人工等级", "建档日期",
                    "信用额度", "最近联系", "备注"]
FOLLOWUP_HEADERS = ["日期", "客户编号", "业务员", "方式", "内容", "需求", "预计成交", "满意度", "下次跟进"]
ORDER_HEADERS = ["日期", "客户编号", "单号", "金额", "已收金额", "应收日期"]
REP_HEADERS = ["姓名", "邮箱", "角色", "在职", "手机"]


class Raw(NamedTuple):
    """A number typed by hand where a date belongs (written without a date format)."""
    value: float


class Formula(NamedTuple):
    text: str
    cached: object


@dataclass
class Table:
    """One sheet: headers in order, a column of cell values per header (None = empty)."""
    name: str
    headers: list[str]
    columns: dict[str, list]
    formats: dict[str, str] = field(default_factory=dict)  # header -> date/date_cn/money/whole

    @property
    def n_rows(self) -> int:
        return len(self.columns[self.headers[0]])

    def insert_blank_row(self, index: int) -> None:
        for column in self.columns.values():
            column.insert(index, None)


def excel_serial(day: date) -> int:
    return (day - EXCEL_EPOCH).days


def day_text(serial: int, style: str) -> str:
    """A date typed as text the way staff do: 2026/03/05, 2026.3.5, 2026年3月5日, 20260305."""
    d = EXCEL_EPOCH + timedelta(days=serial)
    return {"slash": f"{d.year}/{d.month:02d}/{d.day:02d}", "dot": f"{d.year}.{d.month}.{d.day}",
            "chinese": f"{d.year}年{d.month}月{d.day}日", "digits": f"{d:%Y%m%d}"}[style]


def rep_names(n_reps: int) -> list[str]:
    """Active reps' names, then the rep who left (index ``n_reps``)."""
    return [name for name, _ in W.REP_POOL[:n_reps]] + [W.FORMER_REP[0]]


def _dates(base: int, ago: np.ndarray, present: np.ndarray) -> list:
    values = (base - ago).tolist()
    for i in np.flatnonzero(~present).tolist():
        values[i] = None
    return values


def _pick_text(choices, index: np.ndarray, present: np.ndarray | None = None) -> list:
    values = [choices[i] for i in index.tolist()]
    if present is not None:
        for i in np.flatnonzero(~present).tolist():
            values[i] = None
    return values


def customer_table(p: dict, ids: list[str], base: int, n_reps: int, rng) -> Table:
    n = len(ids)
    kind, region = p["kind"].tolist(), p["region"].tolist()
    brand, suffix = rng.integers(0, len(W.BRANDS), n).tolist(), rng.integers(0, 4, n).tolist()
    maker = rng.integers(0, len(W.MAKERS_4S), n).tolist()
    contacts = _people(n, rng)
    names = []
    for k, reg, b, s, m, person in zip(kind, region, brand, suffix, maker, contacts):
        endings, prefix, word = W.KINDS[k][4], W.REGIONS[reg][1], W.BRANDS[b][0]
        if k == W.KIND_PERSON:
            names.append(person)
        elif k == W.KIND_4S:
            names.append(f"{prefix}{W.MAKERS_4S[m]}{word}4S店")
        else:
            names.append(f"{prefix}{word}{endings[s % len(endings)]}")
    titled = (rng.random(n) < 0.3) & (p["kind"] != W.KIND_PERSON)
    titles = rng.integers(0, len(W.TITLES), n)
    contacts = [person[0] + W.TITLES[t] if is_titled else person
                for person, is_titled, t in zip(contacts, titled.tolist(), titles.tolist())]
    phone_kind = rng.choice(4, n, p=(0.72, 0.12, 0.10, 0.06))
    mobiles = _mobiles(n, rng)
    numbers = rng.integers(2 * 10 ** 7, 9 * 10 ** 7, n).tolist()
    lines = [f"{W.REGIONS[reg][2]}-{x}" for reg, x in zip(region, numbers)]
    phones = [(m, l, f"{m}/{l}", None)[t] for m, l, t in zip(mobiles, lines, phone_kind.tolist())]
    num = rng.integers(1, 1000, n).tolist()
    wechat = [m if t in (0, 2) else f"{W.BRANDS[b][1]}{x:03d}"
              for m, t, b, x in zip(mobiles, phone_kind.tolist(), brand, num)]
    qq = rng.integers(10 ** 5, 10 ** 10, n).tolist()
    mail = [f"{W.BRANDS[b][1]}{x}@{('163.com', '126.com')[x % 2]}" if x % 3 else f"{q}@qq.com"
            for b, x, q in zip(brand, num, qq)]
    r = rng.random((5, n))
    big_buyer = np.isin(p["kind"], (0, 1, 2, 4))
    credit = np.asarray([5000, 10000, 20000, 50000])[rng.integers(0, 4, n)].tolist()
    columns = {
        "客户编号": ids, "客户名称": names, "客户类型": _pick_text([k[0] for k in W.KINDS], p["kind"]),
        "联系人": contacts, "电话": phones, "微信号": _blank_unless(wechat, r[0] < 0.45),
        "邮箱": _blank_unless(mail, r[1] < 0.3),
        "地区": _pick_text([reg[0] for reg in W.REGIONS], p["region"]),
        "主营车型": _vehicles(p["kind"], maker, rng),
        "业务员": _pick_text(rep_names(n_reps), p["rep"]),
        "需求": _pick_text(NEEDS, p["need"]),
        "预计成交": _dates(base, -p["close_in"], p["has_close"]),
        "生日": _birthdays(p),
        "暂缓至": _dates(base, -p["snooze_in"], p["snooze_in"] != 0),
        "人工等级": _pick_text("ABCDE", np.maximum(p["grade_override"], 0), p["grade_override"] >= 0),
        "建档日期": _dates(base, p["created_ago"], np.ones(n, dtype=bool)),
        "信用额度": _blank_unless(credit, big_buyer & (r[2] < 0.7)),
        "最近联系": _dates(base, p["old_contact_ago"], p["old_contact_ago"] >= 0),
        "备注": _blank_unless(_pick_text(W.CUSTOMER_NOTES, rng.integers(0, len(W.CUSTOMER_NOTES), n)),
                            r[3] < 0.25),
    }
    formats = {"预计成交": "date", "生日": "date", "暂缓至": "date", "建档日期": "date_cn",
               "最近联系": "date", "信用额度": "whole"}
    return Table("客户", list(CUSTOMER_HEADERS), columns, formats)


def _blank_unless(values: list, keep: np.ndarray) -> list:
    for i in np.flatnonzero(~keep).tolist():
        values[i] = None
    return values


def _people(n: int, rng) -> list[str]:
    surname = rng.integers(0, len(W.SURNAMES), n).tolist()
    given = rng.integers(0, len(W.GIVEN_NAMES), n).tolist()
    return [W.SURNAMES[s] + W.GIVEN_NAMES[g] for s, g in zip(surname, given)]


def _mobiles(n: int, rng) -> list[str]:
    return [f"1{d}{x:09d}" for d, x in zip(rng.integers(3, 10, n).tolist(),
                                            rng.integers(0, 10 ** 9, n).tolist())]


def _vehicles(kind: np.ndarray, maker: list[int], rng) -> list[str]:
    n = len(kind)
    picks = rng.random((4, n))
    out = []
    for k, m, how_many, a, b, c in zip(kind.tolist(), maker, picks[0].tolist(),
                                       picks[1].tolist(), picks[2].tolist(), picks[3].tolist()):
        if k == W.KIND_4S:
            out.append(W.MAKERS_4S[m][2:] if len(W.MAKERS_4S[m]) == 4 else W.MAKERS_4S[m])
        elif how_many < 0.05:
            out.append("全车系")
        else:
            pool = W.TRUCK_MAKES if k == W.KIND_FLEET else W.CAR_MAKES
            chosen = dict.fromkeys(pool[int(x * len(pool))] for x in (a, b, c)[:1 + int(how_many * 3)])
            out.append("、".join(chosen))
    return out


def _birthdays(p: dict) -> list:
    jan_first = (p["birth_year"] - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(int)
    solar = (jan_first + excel_serial(date(1970, 1, 1)) + p["birth_day_of_year"]).tolist()
    out: list = []
    for kind, day, year, month, lunar_day in zip(p["birthday_kind"].tolist(), solar, p["birth_year"].tolist(),
                                                 p["lunar_month"].tolist(), p["lunar_day"].tolist()):
        out.append((None, day, f"农历{W.LUNAR_MONTHS[month - 1]}月{W.LUNAR_DAYS[lunar_day - 1]}",
                    f"农历{year}-{month:02d}-{lunar_day:02d}")[kind])
    return out


@cache
def _notes() -> tuple[tuple[str, ...], ...]:
    """Every wording of every note template, per contact method."""
    counts = (2, 3, 5, 10, 20)
    return tuple(tuple(t.format(part=part, make=make, n=counts[(i + j) % len(counts)])
                       for t in templates for i, part in enumerate(W.PARTS)
                       for j, make in enumerate(W.CAR_MAKES))
                 for _, _, templates in W.FOLLOW_UP_NOTES)


def _contents(methods: list[int], picks: list[float], satisfaction: list[int]) -> list[str]:
    """The rep's note: an unhappy customer's (满意度 1–2) is a complaint."""
    notes, complaints = _notes(), _complaints()
    return [complaints[int(x * len(complaints))] if 0 < s <= 2 else notes[m][int(x * len(notes[m]))]
            for m, x, s in zip(methods, picks, satisfaction)]


@cache
def _complaints() -> tuple[str, ...]:
    return tuple(t.format(part=part) for t in W.COMPLAINT_NOTES for part in W.PARTS)


def followup_table(f: dict, p: dict, ids: list[str], base: int, n_reps: int) -> Table:
    cust = f["cust"]
    methods = [m[0] for m in W.FOLLOW_UP_NOTES]
    reps = rep_names(n_reps) + [W.MANAGER[0]]  # index -1 is the 主管
    need = p["need"][cust]
    says_close = f["says_need"] & (need == 0) & p["has_close"][cust]
    satisfaction = f["satisfaction"].tolist()
    columns = {
        "日期": (base - f["ago"]).tolist(),
        "客户编号": [ids[i] for i in cust.tolist()],
        "业务员": [reps[i] for i in f["rep"].tolist()],
        "方式": [methods[m] for m in f["method"].tolist()],
        "内容": _contents(f["method"].tolist(), f["note_pick"].tolist(), satisfaction),
        "需求": _pick_text(NEEDS, need, f["says_need"]),
        "预计成交": _dates(base, -p["close_in"][cust], says_close),
        "满意度": [s or None for s in satisfaction],
        "下次跟进": _dates(base, f["next_ago"], f["next_ago"] < NO_DATE),
    }
    return Table("跟进记录", list(FOLLOWUP_HEADERS), columns,
                 {"日期": "date", "预计成交": "date", "下次跟进": "date"})


def order_table(o: dict, ids: list[str], base: int) -> Table:
    serials = base - o["ago"]
    days, first, which = np.unique(serials, return_index=True, return_inverse=True)
    day_codes = [day_text(int(d), "digits") for d in days.tolist()]
    seq = np.arange(len(serials)) - first[which] + 1
    received = o["received"]
    columns = {
        "日期": serials.tolist(),
        "客户编号": [ids[i] for i in o["cust"].tolist()],
        "单号": [f"XS{day_codes[w]}{s:04d}" for w, s in zip(which.tolist(), seq.tolist())],
        "金额": o["amount"].tolist(),
        "已收金额": [None if x != x else x for x in received.tolist()],
        "应收日期": (base - o["due_ago"]).tolist(),
    }
    return Table("销售", list(ORDER_HEADERS), columns,
                 {"日期": "date", "金额": "money", "已收金额": "money", "应收日期": "date_cn"})


def rep_table(n_reps: int) -> Table:
    people = [W.MANAGER, *W.REP_POOL[:n_reps], W.FORMER_REP]
    roles = ["主管"] + ["业务员"] * (n_reps + 1)
    active = ["是"] + ["是" if i != 3 else None for i in range(n_reps)] + ["否"]  # empty means 是
    columns = {
        "姓名": [name for name, _ in people],
        "邮箱": [f"{pinyin}@{W.MAIL_DOMAIN}" for _, pinyin in people],
        "角色": roles, "在职": active,
        "手机": [f"1390755{1000 + 37 * i:04d}" for i in range(len(people))],
    }
    return Table("业务员", list(REP_HEADERS), columns)
