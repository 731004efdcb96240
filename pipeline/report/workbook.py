"""The dated report workbook, output/<date>/report.xlsx (spec §4).

Sheets, in the order of spec §4: 今日任务 (every rep's list), 客户 (every customer,
normalised, with the computed columns), 流失预警 (``pipeline.report.churn``), 数据问题
(every problem with where it is and how to fix it), 统计 (``pipeline.report.churn``).
Written with xlsxwriter: a new file, real Excel dates, frozen header, autofilter,
readable widths.
"""
from __future__ import annotations

import math
from datetime import date, datetime
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
import xlsxwriter

from pipeline import schema
from pipeline.messages import text
from pipeline.model import Problem, State
from pipeline.report import churn as report_churn

EXCEL_DAYS_BEFORE_1970 = 25569   # 1899-12-30 .. 1970-01-01
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def write_report(path: Path, state: State, problems: Sequence[Problem]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(str(path), {"constant_memory": False, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False}) as book:
        book.set_properties({"title": text("report.title", day=state.today.isoformat()),
                             "created": datetime.combine(state.today, datetime.min.time())})
        styles = _styles(book)
        _write_table(book, styles, text("report.sheet.tasks"), *_task_table(state))
        _write_table(book, styles, text("report.sheet.customers"), *_customer_table(state))
        report_churn.write_churn_sheet(book, state)
        _write_table(book, styles, text("report.sheet.problems"), *_problem_table(problems))
        report_churn.write_stats_sheet(book, state)


def _styles(book) -> dict:
    return {"header": book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                       "valign": "top"}),
            "date": book.add_format({"num_format": "yyyy-mm-dd"}),
            "percent": book.add_format({"num_format": "0%"}),
            "money": book.add_format({"num_format": "#,##0.00"}),
            "int": book.add_format({"num_format": "0"}),
            "text": None}


def _write_table(book, styles: dict, name: str, headers: list[str], kinds: list[str], columns: list[list]) -> None:
    """One sheet: a header row and ``columns`` (one list of values per header)."""
    sheet = book.add_worksheet(name)
    sheet.write_row(0, 0, headers, styles["header"])
    # Column by column: one type test per column instead of one per cell (50,000 rows × 30 columns).
    for c, (values, kind) in enumerate(zip(columns, kinds)):
        write, style = (sheet.write_string if kind == "text" else sheet.write_number), styles[kind]
        for r, value in enumerate(_cells(kind, values), start=1):
            if value is not None:
                write(r, c, value, style)
        width = max([_width(headers[c])] + [_width(v) for v in values[:500]])
        sheet.set_column(c, c, min(max(width + 2, 8), 60))
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(columns[0]) if columns else 0, 1), max(len(headers) - 1, 0))


def _by_column(rows: list[list], width: int) -> list[list]:
    return [list(column) for column in zip(*rows)] if rows else [[] for _ in range(width)]


def _cells(kind: str, values: list) -> list:
    """A column's values as xlsxwriter wants them: str, float (dates as Excel serials) or None."""
    series = pd.Series(values, dtype=object)
    if kind == "date":
        # Whole days since 1970 (no nanoseconds: cannot overflow), then Excel's serial.
        days = pd.to_datetime(series, errors="coerce").to_numpy().astype("datetime64[D]")
        serial = days.astype("int64") + EXCEL_DAYS_BEFORE_1970
        return [None if np.isnat(d) else float(v) for d, v in zip(days, serial)]
    if kind == "text":
        return [None if v is None or v == "" or (isinstance(v, float) and math.isnan(v)) else str(v)
                for v in values]
    numbers = pd.to_numeric(series, errors="coerce")
    return [None if math.isnan(v) else float(v) for v in numbers.astype(float)]


def _width(value) -> int:
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return 10
    s = str(value) if value is not None else ""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s[:80])


def _task_table(state: State):
    keys = ["rep", "rank", "kind", "customer_id", "customer_name", "contact", "phone", "grade", "key_account",
            "due", "overdue_days", "reasons", "latest_note", "record_hint"]
    kinds = ["text", "int", "text", "text", "text", "text", "text", "text", "text", "date", "int", "text", "text", "text"]
    rows = []
    for day in state.days:
        for rank, task in enumerate(day.tasks + day.unassigned, start=1):
            rows.append([day.rep, rank, text(f"task.kind.{task.kind}"), task.customer_id, task.customer_name,
                         task.contact, task.phone, task.grade, text("yes") if task.key_account else "",
                         task.due, task.overdue_days,
                         text("churn.reason.joiner").join(task.reasons + ((task.care_event,) if task.care_event else ())),
                         task.latest_note, task.record_hint])
    return [text(f"report.tasks.{k}") for k in keys], kinds, _by_column(rows, len(keys))


# Report-only columns after the register's own: days the oldest unpaid bill is past due,
# the value at stake, the model's P(still active).
CUSTOMER_EXTRA_COMPUTED = (("receivable_days", "int"), ("expected_value", "money"), ("p_alive", "percent"))


def _customer_table(state: State):
    register, customers = state.register, state.customers
    fields = [f for f in schema.CUSTOMERS.fields if f.name != "last_contact"]
    headers = [register.header("customers", f.name) for f in fields]
    columns = [f.name for f in fields]
    kinds = ["date" if f.kind == "date" else "text" for f in fields]
    extras = [e for e in register.layout["customers"].extras if e in customers.columns] if "customers" in register.layout else []
    headers += extras
    columns += extras
    kinds += ["text"] * len(extras)
    for f in schema.COMPUTED:
        if f.name in customers.columns:
            headers.append(f.header)
            columns.append(f.name)
            kinds.append({"date": "date", "int": "int", "percent": "percent", "money": "money"}.get(f.kind, "text"))
    for name, kind in CUSTOMER_EXTRA_COMPUTED:
        if name in customers.columns:
            headers.append(text(f"report.customers.{name}"))
            columns.append(name)
            kinds.append(kind)
    values = [customers[c].tolist() for c in columns]
    if "key_account" in columns:
        yes, no = text("yes"), text("no")
        i = columns.index("key_account")
        values[i] = [yes if v is True else no if v is False else "" for v in values[i]]
    return headers, kinds, values


def _problem_table(problems: Sequence[Problem]):
    keys = ["sheet", "row", "column", "value", "message", "fix", "severity"]
    kinds = ["text", "int", "text", "text", "text", "text", "text"]
    ordered = sorted(problems, key=lambda p: (SEVERITY_ORDER.get(p.severity, 3), p.sheet, p.row or 0, p.column))
    rows = [[p.sheet, p.row, p.column, p.value, p.message, p.fix, text(f"severity.{p.severity}")] for p in ordered]
    return [text(f"report.problems.{k}") for k in keys], kinds, _by_column(rows, len(keys))
