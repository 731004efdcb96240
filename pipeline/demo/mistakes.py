"""The honest slips staff make in a shared register, planted on purpose.

Each kind of slip is a small function that changes one cell (or blanks one row) and
says what it did as a ``Mistake`` (sheet, Excel row, header, value, what), so a test
or the lead can check the validator reports exactly these.  The demo plants one of
each at fixed rows; a benchmark register can have them sprinkled at random.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Callable, NamedTuple

import numpy as np

from pipeline.demo.data import Register
from pipeline.demo.tables import Raw, Table, day_text, excel_serial

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


class Mistake(NamedTuple):
    sheet: str
    row: int      # Excel row number (the header is row 1)
    column: str   # header; empty for a whole row
    value: object
    what: str


Slip = Callable[[Register, Table, int], Mistake]


def _set(table: Table, index: int, column: str, value, what: str) -> Mistake:
    table.columns[column][index] = value
    return Mistake(table.name, index + 2, column, value, what)


def duplicate_id(reg: Register, table: Table, index: int) -> Mistake:
    """A new customer typed in with an id already taken; their records follow the typo."""
    ids = table.columns["客户编号"]
    source = next(i for i in range(index // 5, len(ids)) if ids[i] is not None and i != index)
    old, taken = ids[index], ids[source]
    for other in (reg.followups, reg.orders):
        column = other.columns["客户编号"]
        for i in [i for i, c in enumerate(column) if c == old]:
            column[i] = taken
    return _set(table, index, "客户编号", taken, f"duplicate 客户编号, also on row {source + 2}")


def unknown_rep(reg: Register, table: Table, index: int) -> Mistake:
    name = table.columns["业务员"][index] or "王强"
    return _set(table, index, "业务员", name + name[-1], "业务员 not on the 业务员 sheet (typo)")


def short_phone(reg: Register, table: Table, index: int) -> Mistake:
    phone = table.columns["电话"][index]
    mobile = phone if phone and phone.startswith("1") else "13826541234"
    return _set(table, index, "电话", mobile[:9], "电话 too short (9 digits)")


def bad_email(reg: Register, table: Table, index: int) -> Mistake:
    email = table.columns["邮箱"][index]
    local = email.split("@")[0] if email else "hongfa88"
    return _set(table, index, "邮箱", f"{local}@163", "邮箱 without a domain ending (.com missing)")


def full_width_phone(reg: Register, table: Table, index: int) -> Mistake:
    phone = table.columns["电话"][index]
    mobile = phone[:11] if phone and phone.startswith("1") else "13902281765"
    return _set(table, index, "电话", mobile.translate(FULL_WIDTH),
                "电话 typed with full-width digits (normalisable)")


def grade_as(value: str) -> Slip:
    def slip(reg: Register, table: Table, index: int) -> Mistake:
        return _set(table, index, "人工等级", value, f"人工等级 written {value!r} (normalisable to a grade)")
    return slip


def date_as_text(column: str, style: str) -> Slip:
    def slip(reg: Register, table: Table, index: int) -> Mistake:
        serial = table.columns[column][index]
        text = day_text(serial if isinstance(serial, int) else excel_serial(reg.as_of), style)
        return _set(table, index, column, text, f"{column} typed as text {text!r} (unambiguous)")
    return slip


def date_as_number(column: str) -> Slip:
    def slip(reg: Register, table: Table, index: int) -> Mistake:
        serial = table.columns[column][index]
        serial = serial if isinstance(serial, int) else excel_serial(reg.as_of) + 20
        number = int(day_text(serial, "digits"))
        return _set(table, index, column, Raw(number), f"{column} typed as the number {number} (yyyymmdd)")
    return slip


def unknown_customer(reg: Register, table: Table, index: int) -> Mistake:
    n = reg.customers.n_rows
    unknown = f"C{n + 123:0{max(4, len(str(n)))}d}"
    return _set(table, index, "客户编号", unknown, "客户编号 not on the 客户 sheet")


def future_date(reg: Register, table: Table, index: int) -> Mistake:
    """A year typed one too high, or a visit logged before it happened."""
    serial, today = table.columns["日期"][index], excel_serial(reg.as_of)
    later = serial + 365 if isinstance(serial, int) and serial + 365 > today else today + 7
    when = reg.as_of + timedelta(days=later - today)
    return _set(table, index, "日期", later, f"日期 {when} is after the as-of date")


def negative_amount(reg: Register, table: Table, index: int) -> Mistake:
    amount = table.columns["金额"][index]
    value = -abs(amount) if isinstance(amount, float) else -500.0
    return _set(table, index, "金额", value, "金额 negative")


def amount_in_words(reg: Register, table: Table, index: int) -> Mistake:
    return _set(table, index, "金额", "一千", "金额 written in Chinese words")


# (sheet, Excel row, slip): one of each in the demo register, after its blank row.
DEMO_BLANK_ROW = ("客户", 120)
DEMO_PLAN: tuple[tuple[str, int, Slip], ...] = (
    ("客户", 58, duplicate_id), ("客户", 23, unknown_rep), ("客户", 31, short_phone),
    ("客户", 44, bad_email), ("客户", 67, full_width_phone), ("客户", 75, grade_as("a")),
    ("客户", 88, grade_as("B级")), ("客户", 96, grade_as("Ａ")),
    ("客户", 103, date_as_text("建档日期", "slash")), ("客户", 110, date_as_number("预计成交")),
    ("跟进记录", 40, unknown_customer), ("跟进记录", 77, date_as_text("日期", "dot")),
    ("跟进记录", 1900, future_date),
    ("销售", 25, negative_amount), ("销售", 52, amount_in_words), ("销售", 90, date_as_text("日期", "chinese")),
)
# The same kinds, for sprinkling over a big register.
RANDOM_SLIPS = tuple((sheet, slip) for sheet, _, slip in DEMO_PLAN)


def _sheet(reg: Register, name: str) -> Table:
    return next(t for t in reg.tables() if t.name == name)


def plant_demo_mistakes(reg: Register, protected: set[str]) -> list[Mistake]:
    """One slip of each kind at the planned rows, moved down past protected customers."""
    sheet, row = DEMO_BLANK_ROW
    _sheet(reg, sheet).insert_blank_row(row - 2)
    planted = [Mistake(sheet, row, "", None, "blank row in the middle of the sheet")]
    used = {(sheet, row)}
    for sheet, row, slip in DEMO_PLAN:
        table = _sheet(reg, sheet)
        index = row - 2
        while (table.columns["客户编号"][index] in protected or table.columns["客户编号"][index] is None
               or (sheet, index + 2) in used):
            index += 1
        used.add((sheet, index + 2))
        planted.append(slip(reg, table, index))
    return sorted(planted, key=lambda m: (m.sheet, m.row))


def plant_random_mistakes(reg: Register, rng: np.random.Generator, rate: float = 1 / 5000) -> list[Mistake]:
    """About ``rate`` of the rows of each sheet get each kind of slip; a few blank rows too."""
    planted, used = [], set()
    for table in (reg.customers, reg.followups, reg.orders):
        chosen = np.sort(rng.choice(table.n_rows, _how_many(table, rate), replace=False))
        for index in (chosen + np.arange(len(chosen))).tolist():  # later rows move down one each
            table.insert_blank_row(index)
            planted.append(Mistake(table.name, index + 2, "", None, "blank row"))
    for sheet, slip in RANDOM_SLIPS:
        table = _sheet(reg, sheet)
        for index in rng.choice(table.n_rows, _how_many(table, rate), replace=False).tolist():
            if table.columns["客户编号"][index] is not None and (sheet, index) not in used:
                used.add((sheet, index))
                planted.append(slip(reg, table, index))
    return sorted(planted, key=lambda m: (m.sheet, m.row))


def _how_many(table: Table, rate: float) -> int:
    return max(1, min(table.n_rows, round(table.n_rows * rate)))
