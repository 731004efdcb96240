"""Reading and validating a messy register, as the shop would hand it to us (issue #2)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.config import Config
from pipeline.read.validate import validate
from pipeline.read.workbook import RegisterError, read_workbook
from tests.register_builder import (
    CUSTOMER_HEADER,
    REPS_HEADER,
    Formula,
    customer,
    minimal_register,
    write_workbook,
)

RUN_DATE = dt.date(2026, 11, 23)


def load(path: Path):
    return validate(read_workbook(path), Config(), RUN_DATE)


def messy_register(path: Path) -> Path:
    customers = [
        customer("00123", "深圳宝安鑫达汽修厂", 电话="13800138000", 需求="明确", 预计成交=dt.date(2026, 12, 1),
                 人工等级="a", 建档日期="2026/03/05"),                                               # row 2: fine
        customer("C0002", " 东莞顺通车队 ", 电话="１３８００１３８００１", 需求="潜在", 人工等级="B级",
                 建档日期="2026.3.5", 邮箱="fleet@dg"),                                              # row 3: bad email
        customer("C0003", "广州白云配件行", 电话="12345", rep="王强强", 人工等级="Ａ",
                 建档日期="2026年3月5日"),                                                          # row 4: bad phone, unknown rep
        customer("C0002", "重复的客户", 建档日期=20260305),                                         # row 5: duplicate id
        [None] * len(CUSTOMER_HEADER),                                                              # row 6: blank
        customer("C0006", "佛山车友汽修", 需求="很想要", 预计成交="明年", 人工等级="F",
                 建档日期=46086, 生日="农历八月十五"),                                                # row 7: bad need, date, grade
        customer(None, "没有编号的客户"),                                                            # row 8: missing id
    ]
    followups = [
        [dt.date(2026, 11, 20), "00123", "王强", "电话", "问了刹车片价格", "明确", "2026-12-10", 5, None],  # 2 fine
        [dt.date(2026, 11, 21), "C9999", "王强", "电话", "找不到的客户", None, None, None, None],        # 3 unknown customer
        [dt.date(2026, 12, 25), "C0002", "王强", "拜访", "写错了日期", None, None, 9, None],            # 4 future, bad satisfaction
        ["上周", "C0003", "王强", "微信", "日期写成文字", None, None, None, None],                     # 5 bad date (blocks)
    ]
    orders = [
        [dt.date(2026, 11, 1), "00123", "SO-1", Formula("=1200*2", 2400), None, None],                 # 2 formula: cached
        [dt.date(2026, 11, 2), "C0002", "SO-2", -50, None, None],                                     # 3 negative
        [dt.date(2026, 11, 3), "C0003", "SO-3", "一千", None, None],                                  # 4 not a number
        ["20261104", "C0003", "SO-4", "1,500", 1000, "2026-11-20"],                                   # 5 fine (text forms)
    ]
    return minimal_register(path, customers, followups, orders)


EXPECTED = sorted([
    ("客户", 3, "邮箱", "bad_email"),
    ("客户", 4, "电话", "bad_phone"),
    ("客户", 4, "业务员", "unknown_rep"),
    ("客户", 5, "客户编号", "duplicate_id"),
    ("客户", 6, "", "blank_row"),
    ("客户", 7, "需求", "bad_need"),
    ("客户", 7, "预计成交", "bad_date"),
    ("客户", 7, "人工等级", "bad_grade"),
    ("客户", 8, "客户编号", "missing_id"),
    ("跟进记录", 3, "客户编号", "unknown_customer"),
    ("跟进记录", 4, "日期", "future_date"),
    ("跟进记录", 4, "满意度", "bad_satisfaction"),
    ("跟进记录", 5, "日期", "bad_date"),
    ("销售", 3, "金额", "negative_amount"),
    ("销售", 4, "金额", "bad_number"),
])


def test_every_mistake_is_reported_where_the_user_sees_it(tmp_path):
    register, problems = load(messy_register(tmp_path / "r.xlsx"))
    assert sorted((p.sheet, p.row, p.column, p.kind) for p in problems) == EXPECTED
    assert all(p.message and p.fix for p in problems)


def test_values_are_normalised(tmp_path):
    register, _ = load(messy_register(tmp_path / "r.xlsx"))
    c = register.customers.set_index("row")
    assert c.loc[2, "customer_id"] == "00123"                       # leading zeros kept
    assert c.loc[3, "name"] == "东莞顺通车队"                         # stray spaces
    assert c.loc[3, "phone"] == "13800138001"                       # full-width digits
    assert list(c.loc[[2, 3, 4], "grade_override"]) == ["A", "B", "A"]
    assert set(c.loc[[2, 3, 4, 5, 7], "created"]) == {pd.Timestamp("2026-03-05")}
    assert c.loc[7, "birthday_parsed"].lunar
    assert 6 not in c.index                                          # the blank row is reported, not a customer
    assert c.loc[5, "blocked"] and c.loc[8, "blocked"] and not c.loc[3, "blocked"]
    o = register.orders.set_index("row")
    assert o.loc[2, "amount"] == 2400                                # a formula's cached value
    assert o.loc[5, "amount"] == 1500 and o.loc[5, "date"] == pd.Timestamp("2026-11-04")
    assert list(o["blocked"]) == [False, True, True, False]
    f = register.followups.set_index("row")
    assert list(f["blocked"]) == [False, True, False, True]         # future rows are kept (rules skip them by date)


def test_aliases_traditional_and_english_headers(tmp_path):
    path = write_workbook(tmp_path / "r.xlsx", {
        "Customers": [["customer_id", "客戶名稱", "業務員", "電話"], ["C1", "甲", "Ann", "0755-12345678"]],
        "業務員": [["name", "email", "角色", "在職"], ["Ann", "ann@example.com", "manager", "是"]],
    })
    register, problems = load(path)
    assert register.customers.loc[0, "rep"] == "Ann"
    assert register.reps.loc[0, "role"] == "主管"
    assert {p.kind for p in problems} == {"missing_sheet"}          # 跟进记录 and 销售 said once each
    assert len(problems) == 2


@pytest.mark.parametrize("sheets, fragment", [
    ({"业务员": [REPS_HEADER]}, "客户"),
    ({"客户": [CUSTOMER_HEADER]}, "业务员"),
    ({"客户": [["客户名称"]], "业务员": [REPS_HEADER]}, "客户编号"),
    ({"客户": [CUSTOMER_HEADER], "业务员": [REPS_HEADER], "销售": [["日期", "客户编号"]]}, "金额"),
])
def test_missing_sheet_or_required_column_stops_the_run(tmp_path, sheets, fragment):
    with pytest.raises(RegisterError, match=fragment):
        load(write_workbook(tmp_path / "r.xlsx", sheets))


@pytest.mark.parametrize("content, fragment", [
    (b"name,phone\n", "不是 Excel"),
    (b"\xd0\xcf\x11\xe0" + b"\0" * 600, "不是 Excel"),   # an OLE header and nothing else: not a workbook
    (b"PK\x03\x04garbage", "不是 Excel"),
])
def test_unreadable_files_get_one_line(tmp_path, content, fragment):
    path = tmp_path / "r.xlsx"
    path.write_bytes(content)
    with pytest.raises(RegisterError, match=fragment) as e:
        read_workbook(path)
    assert "\n" not in str(e.value)


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(RegisterError, match="找不到"):
        read_workbook(tmp_path / "nope.xlsx")
    good = messy_register(tmp_path / "good.xlsx").read_bytes()
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(good[: len(good) // 2])
    with pytest.raises(RegisterError):
        read_workbook(broken)


def test_xml_bomb_is_not_expanded(tmp_path):
    """A billion-laughs DTD in a sheet must neither hang nor blow up memory."""
    import zipfile
    path = messy_register(tmp_path / "r.xlsx")
    bomb = tmp_path / "bomb.xlsx"
    lol = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)) + "]>"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bomb, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/sharedStrings.xml":
                data = data.replace(b"?>", b"?>" + lol.encode(), 1).replace(b"<t>", b"<t>&j;", 1)
            dst.writestr(item, data)
    try:
        sheets = read_workbook(bomb)
    except RegisterError:
        return
    longest = max(len(str(v)) for rows in sheets.values() for row in rows for v in row)
    assert longest < 10_000


CELL_VALUES = st.one_of(
    st.none(), st.text(max_size=12), st.integers(-10**9, 10**9), st.floats(allow_nan=False, allow_infinity=False),
    st.dates(dt.date(1900, 3, 1), dt.date(2100, 12, 31)), st.booleans(),
    st.sampled_from(["2026-3-5", "20260305", "农历八月十五", "Ａ", "明确", "１３８００１３８０００", "=1/0", "#N/A"]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(CELL_VALUES, min_size=16, max_size=16), min_size=1, max_size=4),
       st.lists(st.lists(CELL_VALUES, min_size=9, max_size=9), max_size=3),
       st.lists(st.lists(CELL_VALUES, min_size=6, max_size=6), max_size=3),
       st.lists(st.lists(CELL_VALUES, min_size=4, max_size=4), max_size=2))
def test_arbitrary_cells_never_crash_the_run(tmp_path, customers, followups, orders, reps):
    """Every column of every sheet gets text, numbers, dates, empties and formula-like text:
    the whole run (rules, report, emails) finishes; problems are reported, never raised."""
    from pipeline.runner import RunOptions, run_once
    reps = [["王强", "w@example.com", "业务员", "是"], ["陈总", "", "主管", ""], *reps]
    path = minimal_register(tmp_path / "h.xlsx", customers, followups, orders, reps)
    register, problems = load(path)
    assert all(p.row is None or p.row >= 2 for p in problems)
    outcome = run_once(RunOptions(config=Config(), today=RUN_DATE, run_date=RUN_DATE, register=path,
                                  output=tmp_path / "out", dry_run=True))
    assert outcome.ok, outcome.reason


@pytest.mark.parametrize("values, numeric", [
    ([5000, 20000.5, None], True),          # number cells (and blanks): the report keeps numbers
    ([5000, "2万", None], False),            # one text among them: the column is text
    (["5000", "20000"], False),             # digits typed as text stay text (as typed)
    ([None, None], False),                  # an empty column is not numeric
    ([True, False], False),                 # TRUE/FALSE are not amounts
])
def test_staff_columns_typed_as_numbers_are_known(tmp_path, values, numeric):
    header = ["客户编号", "客户名称", "业务员", "信用额度"]
    rows = [[f"C{i}", f"客户{i}", "王强", v] for i, v in enumerate(values, start=1)]
    path = write_workbook(tmp_path / "r.xlsx", {"客户": [header, *rows],
                                                 "业务员": [REPS_HEADER, ["王强", "", "业务员", "是"]]})
    register, _ = load(path)
    layout = register.layout["customers"]
    assert "信用额度" in layout.extras
    assert (layout.numeric_extras == ("信用额度",)) is numeric
