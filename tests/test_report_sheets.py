"""What the shop reads in report.xlsx (issue 14), read back with openpyxl as a user's
program would: the register's colours, wrapped reasons, the record note once, 顺延
lines, 流失预警's phone, the 欠款 sheet, 统计's colours, 本月至今 and the customer trend."""
from __future__ import annotations

import datetime as dt
import re
import zipfile

import openpyxl
import pytest

from pipeline.cli import main
from tests.register_builder import (
    FOLLOWUP_HEADER, ORDER_HEADER, REPS_HEADER, write_workbook)

DAY = "2026-11-23"
T = dt.date(2026, 11, 23)
HEADER = ["客户编号", "客户名称", "联系人", "电话", "业务员", "需求", "预计成交", "建档日期",
          "信用额度", "微信号"]
RED_FILL, ORANGE_FILL = "FFFFC7CE", "FFF8CBAD"


def weekly(cid: str, last: dt.date, n: int = 5) -> list[list]:
    return [[last - dt.timedelta(days=7 * k), cid, f"{cid}-{k}", 100, None, None] for k in range(n)]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    created = dt.date(2025, 1, 5)
    customers = [
        ["C1", "鑫达汽修厂", "王师傅", "13800138000", "王强", "明确", dt.date(2026, 12, 1), created, 5000, "wx_c1"],
        ["C2", "顺风车队", "李队长", "13900139000", "王强", "明确", dt.date(2026, 12, 2), created, 20000, None],
        ["C3", "华南配件", "赵经理", "13700137000", "王强", "明确", dt.date(2026, 12, 3), created, None, None],
        ["C4", "东莞快修", "钱老板", "13600136000", "王强", "明确", dt.date(2026, 12, 4), created, 3000, "wx_c4"],
        ["C5", "宝安恒通", "蒋福生", "17050551274", "李娜", "潜在", None, created, 8000, None],
    ]
    followups = [[dt.date(2026, 11, 1), c, "王强", "电话", "问刹车片", None, None, 4, None]
                 for c in ("C1", "C2", "C3", "C4")]
    orders = [[dt.date(2026, 10, 1), "C1", "SO-1", 1200, 200, dt.date(2026, 10, 31)],
              [dt.date(2026, 9, 1), "C5", "SO-9", 800, 0, dt.date(2026, 9, 30)],
              *weekly("C5", T - dt.timedelta(days=40))]
    reps = [["王强", "wq@example.com", "业务员", "是"], ["李娜", "ln@example.com", "业务员", "是"],
            ["陈总", "boss@example.com", "主管", "是"]]
    register = write_workbook(tmp / "台账.xlsx", {
        "客户": [HEADER, *customers], "跟进记录": [FOLLOWUP_HEADER, *followups],
        "销售": [ORDER_HEADER, *orders], "业务员": [REPS_HEADER, *reps]})
    config = tmp / "config.toml"
    config.write_text("[register]\ncreate_demo_if_missing = false\n[tasks]\ndaily_cap = 2\n",
                      encoding="utf-8")
    assert main(["--config", str(config), "--output", str(tmp / "out"), "--register", str(register),
                 "--date", DAY, "--dry-run"], environ={}) == 0
    path = tmp / "out" / DAY / "dry-run" / "report.xlsx"
    return openpyxl.load_workbook(path), path


def header_index(sheet, header: str, row: int = 1) -> int:
    return [c.value for c in sheet[row]].index(header)


def fills(sheet, column: str) -> dict[str, str]:
    """Conditional colours of one column: formula -> background."""
    found = {}
    for cf in sheet.conditional_formatting:
        if str(cf.sqref).startswith(column) and ":" in str(cf.sqref):
            for rule in cf.rules:
                found[rule.formula[0]] = rule.dxf.fill.bgColor.rgb
    return found


def test_the_sheets_in_order(book):
    assert book[0].sheetnames == ["今日任务", "客户", "流失预警", "欠款", "数据问题", "统计"]


def test_tasks_say_what_to_record_once_at_the_top(book):
    sheet = book[0]["今日任务"]
    note = sheet["A1"].value
    assert note.startswith("联系后记录") and "跟进：在「跟进记录」加一行" in note
    headers = [c.value for c in sheet[2]]
    assert "联系后记录" not in headers and headers[:4] == ["业务员", "序号", "安排", "任务"]
    rows = list(sheet.iter_rows(min_row=3, values_only=True))
    assert rows and not any("在「跟进记录」加一行" in str(v) for row in rows for v in row)
    assert sheet.freeze_panes == "A3" and sheet.auto_filter.ref.startswith("A2:")


def test_tasks_over_the_cap_are_listed_marked_postponed(book):
    rows = list(book[0]["今日任务"].iter_rows(min_row=3, values_only=True))
    wang = [(r[1], r[2], r[4]) for r in rows if r[0] == "王强"]
    assert [(rank, plan) for rank, plan, _ in wang] == [(1, "今日"), (2, "今日"), (None, "顺延"), (None, "顺延")]
    assert sorted(cid for *_, cid in wang) == ["C1", "C2", "C3", "C4"]


def test_tasks_have_the_registers_colours_and_wrapped_reasons(book):
    sheet = book[0]["今日任务"]
    letter = lambda header: openpyxl.utils.get_column_letter(header_index(sheet, header, 2) + 1)
    assert fills(sheet, letter("等级"))['"A"'] == RED_FILL
    assert fills(sheet, letter("等级"))['"B"'] == ORANGE_FILL
    assert fills(sheet, letter("逾期天数")) == {"0": RED_FILL}
    assert fills(sheet, letter("流失风险")) == {'"高"': RED_FILL, '"中"': ORANGE_FILL}
    reasons = letter("原因")
    cell = sheet[f"{reasons}3"]
    assert cell.alignment.wrap_text and cell.alignment.vertical == "top"
    assert 20 <= sheet.column_dimensions[reasons].width <= 52


def test_customers_have_colours_and_numbers_stay_numbers(book):
    sheet = book[0]["客户"]
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    credit, wechat = header_index(sheet, "信用额度"), header_index(sheet, "微信号")
    assert rows["C1"][credit] == 5000 and isinstance(rows["C1"][credit], (int, float))
    assert rows["C3"][credit] is None
    assert rows["C1"][wechat] == "wx_c1"                       # a text column stays text
    letter = lambda header: openpyxl.utils.get_column_letter(header_index(sheet, header) + 1)
    assert fills(sheet, letter("等级"))['"A"'] == RED_FILL
    assert fills(sheet, letter("流失风险")) == {'"高"': RED_FILL, '"中"': ORANGE_FILL}
    due = letter("下次跟进")
    assert fills(sheet, due) == {f"AND(ISNUMBER({due}2),{due}2<TODAY())": RED_FILL,
                                 f"AND(ISNUMBER({due}2),{due}2=TODAY())": ORANGE_FILL}
    assert sheet[f"{letter('风险原因')}2"].alignment.wrap_text


def test_churn_risks_carry_contact_and_phone(book):
    sheet = book[0]["流失预警"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("客户编号", "客户名称", "联系人", "电话", "业务员")
    c5 = next(r for r in rows if r[0] == "C5")
    assert c5[2:6] == ("蒋福生", "17050551274", "李娜", "高")
    assert sheet.cell(rows.index(c5) + 1, 6).fill.fgColor.rgb.endswith("FFC7CE")   # 高 red


def test_receivables_by_name(book):
    sheet = book[0]["欠款"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("客户编号", "客户名称", "业务员", "逾期欠款（元）", "逾期天数", "最早一笔应收日期",
                       "联系人", "电话")
    assert rows[1] == ("C1", "鑫达汽修厂", "王强", 1000, 23, dt.datetime(2026, 10, 31), "王师傅",
                       "13800138000")
    assert rows[2] == ("C5", "宝安恒通", "李娜", 800, 54, dt.datetime(2026, 9, 30), "蒋福生", "17050551274")
    assert rows[3][1:4] == ("合计（2 位客户）", None, 1800)
    stats = {r[0]: r[1] for r in book[0]["统计"].iter_rows(values_only=True) if r[0]}
    assert stats["欠款合计（元）"] == rows[3][3]               # the same total as 统计


def test_stats_mark_the_running_month_and_show_the_trend(book):
    sheet = book[0]["统计"]
    column_a = [r[0] for r in sheet.iter_rows(values_only=True)]
    assert column_a.count("2026-11（本月至今）") == 2          # revenue and trend tables
    assert "2026-11" not in column_a
    start = column_a.index("月份", column_a.index("每月客户：买货、回头、买一次就走、从未联系"))
    rows = [r[:5] for r in sheet.iter_rows(min_row=start + 1, max_row=start + 13, values_only=True)]
    assert rows[0] == ("月份", "买货客户", "回头客户", "买一次就走", "从未联系")
    by_month = {r[0]: r[1:] for r in rows[1:]}
    assert by_month["2026-10"][:2] == (2, 1)          # C5 weekly and C1 once; C5 bought before
    assert by_month["2026-11（本月至今）"][2] is None            # not known yet: left empty


def test_stats_chart_draws_high_red_and_medium_orange(book):
    with zipfile.ZipFile(book[1]) as archive:
        charts = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/charts/chart")]
    stacked = next(c for c in charts if 'grouping val="stacked"' in c)
    colours = re.findall(r'<c:ser>.*?<a:srgbClr val="([0-9A-F]{6})"', stacked, re.S)
    assert colours[:2] == ["C00000", "ED7D31"]
