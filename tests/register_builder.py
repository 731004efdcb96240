"""Build real register workbooks for tests: sheets of header + rows, written by xlsxwriter.

Cells are written by type the way Excel stores them: str as text, numbers as numbers,
date/datetime as real dates with a date format, ``Formula("=..", cached)`` as a
formula with its cached value.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import xlsxwriter

REPS_HEADER = ["姓名", "邮箱", "角色", "在职"]
CUSTOMER_HEADER = ["客户编号", "客户名称", "客户类型", "联系人", "电话", "邮箱", "地区", "主营车型",
                   "业务员", "需求", "预计成交", "生日", "暂缓至", "人工等级", "建档日期", "备注"]
FOLLOWUP_HEADER = ["日期", "客户编号", "业务员", "方式", "内容", "需求", "预计成交", "满意度", "下次跟进"]
ORDER_HEADER = ["日期", "客户编号", "单号", "金额", "已收金额", "应收日期"]


@dataclass(frozen=True)
class Formula:
    formula: str
    cached: object


def write_workbook(path: Path, sheets: dict[str, list[list]], date_format: str = "yyyy-mm-dd") -> Path:
    """``sheets``: sheet name -> rows (row 0 is the header); None leaves a cell empty."""
    with xlsxwriter.Workbook(str(path)) as book:
        book.set_properties({"created": dt.datetime(2026, 1, 1)})
        date_style = book.add_format({"num_format": date_format})
        for name, rows in sheets.items():
            sheet = book.add_worksheet(name)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    _write(sheet, r, c, value, date_style)
    return path


def _write(sheet, r, c, value, date_style):
    if value is None:
        return
    if isinstance(value, Formula):
        sheet.write_formula(r, c, value.formula, None, value.cached)
    elif isinstance(value, (dt.date, dt.datetime)):
        sheet.write_datetime(r, c, value if isinstance(value, dt.datetime) else
                             dt.datetime.combine(value, dt.time()), date_style)
    elif isinstance(value, bool):
        sheet.write_boolean(r, c, value)
    elif isinstance(value, (int, float)):
        sheet.write_number(r, c, value)
    else:
        sheet.write_string(r, c, value)


def customer(cid, name, rep="王强", **fields) -> list:
    """A customer row in CUSTOMER_HEADER order; fields by header text."""
    row = dict.fromkeys(CUSTOMER_HEADER)
    row.update({"客户编号": cid, "客户名称": name, "业务员": rep}, **fields)
    return [row[h] for h in CUSTOMER_HEADER]


def minimal_register(path: Path, customers=(), followups=(), orders=(), reps=None) -> Path:
    reps = reps if reps is not None else [["王强", "wangqiang@example.com", "业务员", "是"],
                                          ["陈总", "boss@example.com", "主管", "是"]]
    return write_workbook(path, {"客户": [CUSTOMER_HEADER, *customers], "跟进记录": [FOLLOWUP_HEADER, *followups],
                                 "销售": [ORDER_HEADER, *orders], "业务员": [REPS_HEADER, *reps]})
