"""The demo register a fresh clone runs on, and the big registers for benchmarks."""
from __future__ import annotations

import statistics
from collections import Counter
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from pipeline.demo.data import make_register
from pipeline.demo.shop import make_demo_register, write_demo_register, write_register
from pipeline.demo.tables import Raw

AS_OF = date(2026, 11, 23)
SHEETS = ["客户", "跟进记录", "销售", "业务员"]
SPEC_HEADERS = {  # spec §2, the headers staff write
    "客户": ["客户编号", "客户名称", "客户类型", "联系人", "电话", "邮箱", "地区", "主营车型", "业务员",
           "需求", "预计成交", "生日", "暂缓至", "人工等级", "建档日期", "备注"],
    "跟进记录": ["日期", "客户编号", "业务员", "方式", "内容", "需求", "预计成交", "满意度", "下次跟进"],
    "销售": ["日期", "客户编号", "单号", "金额", "已收金额", "应收日期"],
    "业务员": ["姓名", "邮箱", "角色", "在职"],
}
COMPUTED = ["等级", "客户状态", "重点客户", "下次跟进", "逾期天数", "流失风险", "风险原因", "档案完整度", "欠款"]


def _records(path, sheet: str) -> list[dict]:
    """Data rows of a sheet as dicts (blank rows kept as all-empty dicts)."""
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    return [dict(zip(rows[0], row)) for row in rows[1:]]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "客户台账.xlsx"
    write_demo_register(path, AS_OF)
    return path


@pytest.fixture(scope="module")
def sheets(demo):
    return {name: _records(demo, name) for name in SHEETS}


def test_opens_in_both_readers_with_the_spec_headers(demo):
    calamine = CalamineWorkbook.from_path(str(demo))
    book = openpyxl.load_workbook(demo)
    assert calamine.sheet_names == SHEETS == book.sheetnames
    for name, headers in SPEC_HEADERS.items():
        row_one = [c.value for c in book[name][1]]
        assert set(headers) <= set(row_one), name
    customer_headers = [c.value for c in book["客户"][1]]
    assert not set(COMPUTED) & set(customer_headers)  # the pipeline adds those itself
    assert "最近联系" in customer_headers  # a few values from an old system


def test_about_200_customers_with_one_duplicated_id(sheets):
    ids = [r["客户编号"] for r in sheets["客户"] if r["客户编号"] != ""]
    assert 190 <= len(ids) <= 210
    assert [n for n in Counter(ids).values() if n > 1] == [2]
    assert {"00123", "00124"} <= set(ids)  # numeric ids from an old system, kept as text


def test_every_need_value_and_kind_present(sheets):
    customers = [r for r in sheets["客户"] if r["客户编号"] != ""]
    assert {r["需求"] for r in customers} == {"明确", "潜在", "无", ""}
    assert {"修理厂", "车队", "经销商", "个人", "4S店", "洗车美容店"} <= {r["客户类型"] for r in customers}


def test_four_reps_a_manager_and_one_who_left(sheets):
    reps = sheets["业务员"]
    active = [r["姓名"] for r in reps if r["角色"] == "业务员" and r["在职"] in ("是", "")]
    assert active == ["王强", "李娜", "张伟", "刘洋"]
    assert [r["姓名"] for r in reps if r["角色"] == "主管"] == ["陈总"]
    left = [r["姓名"] for r in reps if r["在职"] == "否"]
    assert len(left) == 1
    assert sum(r["业务员"] == left[0] for r in sheets["客户"]) >= 3
    assert all(r["邮箱"].endswith("@example.com") for r in reps)
    assert any(r["邮箱"] == "wangqiang@example.com" for r in reps)


def test_nothing_dated_after_the_as_of_date_but_the_planted_slip(sheets):
    future = [(name, i + 2) for name in ("跟进记录", "销售") for i, r in enumerate(sheets[name])
              if isinstance(r["日期"], date) and r["日期"] > AS_OF]
    assert future == [(m.sheet, m.row) for m in make_demo_register(AS_OF)[1] if "after the as-of" in m.what]
    recent = [r["日期"] for r in sheets["跟进记录"] if isinstance(r["日期"], date)]
    assert max(d for d in recent if d <= AS_OF) >= AS_OF - timedelta(days=3)
    assert min(recent) >= AS_OF - timedelta(days=1200)  # lost customers go back three years


def test_same_seed_same_bytes_other_seed_other_content(demo, tmp_path):
    again, other = tmp_path / "again.xlsx", tmp_path / "other.xlsx"
    write_demo_register(again, AS_OF)
    write_demo_register(other, AS_OF, seed=8)
    assert again.read_bytes() == demo.read_bytes()
    assert _records(other, "客户") != _records(demo, "客户")


def _cell(book, sheet: str, row: int, header: str):
    headers = [c.value for c in book[sheet][1]]
    return book[sheet].cell(row, headers.index(header) + 1).value


def test_planted_mistakes_are_where_the_list_says(demo):
    book = openpyxl.load_workbook(demo)
    mistakes = make_demo_register(AS_OF)[1]
    assert 12 <= len(mistakes) <= 20
    for m in mistakes:
        if not m.column:
            assert all(c.value is None for c in book[m.sheet][m.row]), m
        elif isinstance(m.value, Raw):
            assert _cell(book, m.sheet, m.row, m.column) == m.value.value, m
        elif isinstance(m.value, int):  # a date serial
            assert _cell(book, m.sheet, m.row, m.column) > datetime.combine(AS_OF, datetime.min.time()), m
        else:
            assert _cell(book, m.sheet, m.row, m.column) == m.value, m
    kinds = {(m.sheet, m.column) for m in mistakes}
    assert {("客户", "客户编号"), ("客户", "业务员"), ("客户", "电话"), ("客户", "邮箱"), ("客户", "人工等级"),
            ("跟进记录", "客户编号"), ("跟进记录", "日期"), ("销售", "金额"), ("销售", "日期")} <= kinds


def test_looks_like_a_shops_workbook(demo):
    book = openpyxl.load_workbook(demo)
    customers = book["客户"]
    assert customers.freeze_panes == "A2" and customers.auto_filter.ref.startswith("A1:")
    header = customers["A1"]
    assert header.font.bold and header.fill.fgColor.rgb.endswith("DDEBF7")
    assert customers.column_dimensions["B"].width > 20
    rules = {str(v.sqref).split(":")[0]: v.formula1 for v in customers.data_validations.dataValidation}
    headers = [c.value for c in customers[1]]
    need_col = openpyxl.utils.get_column_letter(headers.index("需求") + 1)
    rep_col = openpyxl.utils.get_column_letter(headers.index("业务员") + 1)
    assert rules[f"{need_col}2"] == '"明确,潜在,无"'
    assert rules[f"{rep_col}2"].startswith("'业务员'!$A$2")
    assert customers.cell(2, headers.index("建档日期") + 1).number_format == 'yyyy"年"m"月"d"日"'
    orders = book["销售"]
    assert orders["F1"].value == "未收金额" and orders["F2"].value == '=IF(E2="",0,D2-E2)'
    unpaid = _records(demo, "销售")
    assert all(r["未收金额"] == (0 if r["已收金额"] == "" else r["金额"] - r["已收金额"])
               for r in unpaid if isinstance(r["金额"], float))


def _order_days(orders) -> dict[str, list[date]]:
    days: dict[str, set] = {}
    for r in orders:
        if isinstance(r["日期"], date):
            days.setdefault(r["客户编号"], set()).add(r["日期"])
    return {c: sorted(d) for c, d in days.items()}


def _broken_rhythm(days: list[date]) -> bool:
    gaps = [(b - a).days for a, b in zip(days, days[1:])]
    m, since = statistics.median(gaps), (AS_OF - days[-1]).days
    return len(days) >= 3 and since <= 365 and since > max(3 * m, m + 28)


def _has(sheets, story: str) -> bool:
    customers = [r for r in sheets["客户"] if r["客户编号"] != ""]
    days = _order_days(sheets["销售"])
    soon = [AS_OF + timedelta(days=k) for k in range(4)]
    checks = {
        "weekly buyer gone quiet": lambda: any(
            len(d) > 10 and _broken_rhythm(d) and (d[-1] - d[-2]).days <= 10 for d in days.values()),
        "lost buyer": lambda: any((AS_OF - d[-1]).days > 365 for d in days.values()),
        "one-time buyer": lambda: any(len(d) == 1 for d in days.values()),
        "prospect": lambda: any(r["客户编号"] not in days for r in customers),
        "birthday in the next days": lambda: any(
            isinstance(r["生日"], date) and (r["生日"].month, r["生日"].day) in {(s.month, s.day) for s in soon}
            for r in customers),
        "lunar birthday": lambda: any(str(r["生日"]).startswith("农历") for r in customers),
        "unpaid past due": lambda: any(
            isinstance(r["应收日期"], date) and r["应收日期"] < AS_OF and r["已收金额"] != ""
            and isinstance(r["金额"], float) and r["已收金额"] < r["金额"] for r in sheets["销售"]),
        "unhappy customer": lambda: any(r["满意度"] in (1, 2) for r in sheets["跟进记录"]),
        "snoozed": lambda: any(isinstance(r["暂缓至"], date) and r["暂缓至"] > AS_OF for r in customers),
        "grade set by hand": lambda: any(r["人工等级"] in tuple("ABCDE") for r in customers),
        "landline and two numbers": lambda: any("/" in str(r["电话"]) for r in customers)
        and any(str(r["电话"]).startswith("0") for r in customers),
        "last contact from an old system": lambda: any(isinstance(r["最近联系"], date) for r in customers),
        "close date long past": lambda: any(
            r["需求"] == "明确" and isinstance(r["预计成交"], date) and r["预计成交"] < AS_OF - timedelta(30)
            for r in customers),
    }
    return checks[story]()


@pytest.mark.parametrize("story", [
    "weekly buyer gone quiet", "lost buyer", "one-time buyer", "prospect", "birthday in the next days",
    "lunar birthday", "unpaid past due", "unhappy customer", "snoozed", "grade set by hand",
    "landline and two numbers", "last contact from an old system", "close date long past",
])
def test_demo_tells_every_story(sheets, story):
    assert _has(sheets, story)


@pytest.mark.parametrize("as_of", [date(2028, 2, 28), date(2025, 7, 30), date(2031, 1, 1)])
def test_fresh_on_any_day(tmp_path, as_of):
    register, _ = make_demo_register(as_of)
    follow_days = [d for d in register.followups.columns["日期"] if isinstance(d, int)]
    assert sum(d > (as_of - date(1899, 12, 30)).days for d in follow_days) == 1  # the planted slip
    birthdays = {(as_of + timedelta(days=k)) for k in range(3)}
    solar = [date(1899, 12, 30) + timedelta(days=b) for b in register.customers.columns["生日"]
             if isinstance(b, int)]
    assert {(d.month, d.day) for d in birthdays} <= {(d.month, d.day) for d in solar}


def test_write_register_gives_the_requested_row_counts(tmp_path):
    path = tmp_path / "big.xlsx"
    write_register(path, customers=300, followups=1000, orders=1200, as_of=AS_OF, seed=2)
    counts = [len(_records(path, name)) for name in SHEETS]
    assert counts[:3] == [300, 1000, 1200]
    assert len({r["客户编号"] for r in _records(path, "客户")}) == 300


def test_write_register_with_mistakes_and_formulas(tmp_path):
    path = tmp_path / "messy.xlsx"
    write_register(path, customers=300, followups=1000, orders=1200, as_of=AS_OF, mistakes=True, formulas=True)
    orders = _records(path, "销售")
    blank = sum(all(v == "" for v in r.values()) for r in orders)
    assert blank >= 1 and len(orders) == 1200 + blank
    assert "未收金额" in orders[0]
    assert any(r["金额"] == "一千" for r in orders)


def test_big_register_has_enough_repeat_buyers_for_the_model():
    register = make_register(customers=1000, followups=3000, orders=8000, as_of=AS_OF)
    days = Counter()
    for cust, day in set(zip(register.orders.columns["客户编号"], register.orders.columns["日期"])):
        days[cust] += 1
    assert sum(n >= 2 for n in days.values()) >= 200


@settings(max_examples=40, deadline=None)
@given(customers=st.integers(1, 40), followups=st.integers(0, 120), orders=st.integers(0, 120),
       seed=st.integers(0, 2 ** 16))
def test_any_small_size_gives_exact_counts_dated_up_to_as_of(customers, followups, orders, seed):
    register = make_register(customers=customers, followups=followups, orders=orders, as_of=AS_OF, seed=seed)
    assert [t.n_rows for t in register.tables()[:3]] == [customers, followups, orders]
    today = (AS_OF - date(1899, 12, 30)).days
    assert all(d <= today for d in register.followups.columns["日期"] + register.orders.columns["日期"])
    assert all(d <= today for d in register.customers.columns["建档日期"])
    ids = set(register.customers.columns["客户编号"])
    assert set(register.orders.columns["客户编号"]) <= ids and set(register.followups.columns["客户编号"]) <= ids
