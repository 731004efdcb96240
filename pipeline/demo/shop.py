"""Writes made-up registers: the demo a fresh clone runs on, and big ones for benchmarks.

The demo (``write_demo_register``) is a Chinese auto-parts shop of about 200 customers
as of a given day, with every case the pipeline handles and a handful of honest data
mistakes (``make_demo_register`` says which, with sheet, row and column).  It looks
like a shop's own workbook: bold frozen headers with filters, dropdowns on 需求 and
业务员, Chinese date formats, columns the pipeline does not know, a formula column.
``write_register`` makes the same kind of workbook at any size, fast: the data is drawn
with numpy and xlsxwriter streams the rows (constant memory).  Same (as_of, seed), same
bytes.
"""
from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from pipeline.demo.data import Register, make_register
from pipeline.demo.mistakes import Mistake, plant_demo_mistakes, plant_random_mistakes
from pipeline.demo.tables import Formula, Raw, Table
from pipeline.demo.touches import DEMO_REPS, finish_stories, shape_stories, story_ids

DEMO_SIZE = {"customers": 200, "followups": 2400, "orders": 2600}
NEED_CHOICES = ["明确", "潜在", "无"]
METHOD_CHOICES = ["电话", "微信", "拜访", "短信", "邮件"]
WIDTHS = {"客户编号": 10, "客户名称": 26, "客户类型": 10, "联系人": 10, "电话": 27, "微信号": 14,
          "邮箱": 24, "地区": 10, "主营车型": 18, "业务员": 8, "需求": 6, "生日": 14, "人工等级": 8,
          "建档日期": 15, "备注": 22, "内容": 44, "方式": 6, "满意度": 7, "单号": 16, "应收日期": 15,
          "姓名": 8, "角色": 6, "在职": 6, "手机": 13}
EXTRA_ROWS = 1000  # dropdowns reach this far below the data, for rows staff add


def write_demo_register(path: Path, as_of: date, *, seed: int = 7) -> None:
    """The demo register of a Chinese auto-parts shop, fresh as of ``as_of``."""
    register, _ = make_demo_register(as_of, seed=seed)
    _write_workbook(Path(path), register)


def make_demo_register(as_of: date, *, seed: int = 7) -> tuple[Register, list[Mistake]]:
    """The demo's data and the mistakes planted in it (sheet, Excel row, column, what)."""
    register = make_register(**DEMO_SIZE, as_of=as_of, seed=seed, reps=DEMO_REPS, shape=shape_stories)
    finish_stories(register)
    mistakes = plant_demo_mistakes(register, story_ids(register))
    add_unpaid_column(register.orders)
    return register, mistakes


def write_register(path: Path, *, customers: int, followups: int, orders: int, as_of: date,
                   seed: int = 1, mistakes: bool = False, formulas: bool = False) -> None:
    """A register of exactly these row counts (plus a few blank rows when ``mistakes``).

    ``formulas`` adds the 未收金额 formula column to 销售; it triples that sheet's
    writing time, so big benchmark registers leave it out by default.
    """
    register = make_register(customers=customers, followups=followups, orders=orders,
                             as_of=as_of, seed=seed)
    if mistakes:
        plant_random_mistakes(register, np.random.default_rng([seed, 1]))
    if formulas:
        add_unpaid_column(register.orders)
    _write_workbook(Path(path), register)


def add_unpaid_column(orders: Table) -> None:
    """未收金额 = 金额 − 已收金额 as a live formula (empty 已收金额 means fully paid)."""
    at = orders.headers.index("已收金额") + 1
    orders.headers.insert(at, "未收金额")
    amount_col = xl_col_to_name(orders.headers.index("金额"))
    received_col = xl_col_to_name(orders.headers.index("已收金额"))
    column = []
    for row, (amount, received) in enumerate(zip(orders.columns["金额"], orders.columns["已收金额"]), start=2):
        if amount is None and received is None:
            column.append(None)
            continue
        text = f'=IF({received_col}{row}="",0,{amount_col}{row}-{received_col}{row})'
        if not isinstance(amount, float):
            cached: object = "#VALUE!"
        else:
            cached = 0.0 if received is None else amount - received
        column.append(Formula(text, cached))
    orders.columns["未收金额"] = column
    orders.formats["未收金额"] = "money"


def _write_workbook(path: Path, register: Register) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    # A fixed creation time keeps the file byte-for-byte the same for the same data.
    workbook.set_properties({"title": "客户台账", "author": "陈总",
                             "created": datetime.combine(register.as_of, time(8, 0))})
    formats = {
        "header": workbook.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                                       "align": "center", "valign": "vcenter"}),
        "date": workbook.add_format({"num_format": "yyyy-mm-dd"}),
        "date_cn": workbook.add_format({"num_format": 'yyyy"年"m"月"d"日"'}),
        "money": workbook.add_format({"num_format": "#,##0.00"}),
        "whole": workbook.add_format({"num_format": "#,##0"}),
    }
    rep_rows = register.reps.n_rows
    for table in register.tables():
        sheet = workbook.add_worksheet(table.name)
        _lay_out(sheet, table, formats, rep_rows)
        _write_rows(sheet, table, formats)
    workbook.close()


def _lay_out(sheet, table: Table, formats: dict, rep_rows: int) -> None:
    """What makes it look like the shop's own workbook: widths, header, filter, dropdowns."""
    sheet.write_row(0, 0, table.headers, formats["header"])
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(table.n_rows, 1), len(table.headers) - 1)
    for col, header in enumerate(table.headers):
        kind = table.formats.get(header)
        width = WIDTHS.get(header, 15 if kind == "date_cn" else 12)
        sheet.set_column(col, col, width)
    if table.name == "业务员":
        return
    last = table.n_rows + EXTRA_ROWS
    rules = {
        "需求": {"validate": "list", "source": NEED_CHOICES},
        "业务员": {"validate": "list", "source": f"='业务员'!$A$2:$A${rep_rows + 1}",
                 "error_title": "业务员", "error_message": "请从下拉列表选择业务员"},
        "方式": {"validate": "list", "source": METHOD_CHOICES, "error_type": "information"},
        "满意度": {"validate": "integer", "criteria": "between", "minimum": 1, "maximum": 5},
    }
    for header, rule in rules.items():
        if header in table.headers:
            col = table.headers.index(header)
            sheet.data_validation(1, col, last, col, rule)


def _write_rows(sheet, table: Table, formats: dict) -> None:
    """Stream the rows in order; each cell's Python type says how it is written."""
    column_format = [formats.get(table.formats.get(h, ""), None) for h in table.headers]
    write_string, write_number = sheet.write_string, sheet.write_number
    columns = [table.columns[h] for h in table.headers]
    for row, values in enumerate(zip(*columns), start=1):
        for col, value in enumerate(values):
            if value is None:
                continue
            kind = type(value)
            if kind is str:
                write_string(row, col, value)
            elif kind is int or kind is float:
                write_number(row, col, value, column_format[col])
            elif kind is Raw:
                write_number(row, col, value.value)
            else:
                sheet.write_formula(row, col, value.text, column_format[col], value.cached)
