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
from pipeline.messages import register_text, text
from pipeline.model import Problem, State
from pipeline.report import churn as report_churn
from pipeline.report import debts as report_debts
from pipeline.report.look import colour_columns, lines_needed, printable, report_word
from pipeline.rules.rep_day import KINDS

EXCEL_DAYS_BEFORE_1970 = 25569   # 1899-12-30 .. 1970-01-01
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def write_report(path: Path, state: State, problems: Sequence[Problem]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with xlsxwriter.Workbook(str(path), {"constant_memory": False, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False}) as book:
        book.set_properties({"title": text("report.title", day=state.today.isoformat()),
                             "created": datetime.combine(state.today, datetime.min.time())})
        styles = _styles(book)
        _write_table(book, styles, text("report.sheet.tasks"), *_task_table(state),
                     note=_record_note(state), word=report_word)
        _write_table(book, styles, text("report.sheet.customers"), *_customer_table(state))
        report_churn.write_churn_sheet(book, state)
        report_debts.write_debts_sheet(book, state)
        _write_table(book, styles, text("report.sheet.problems"), *_problem_table(problems))
        report_churn.write_stats_sheet(book, state)


def _styles(book) -> dict:
    # Top-aligned throughout, so a row made tall by a wrapped 原因 still reads as one line.
    return {"header": book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                                       "valign": "top"}),
            "date": book.add_format({"num_format": "yyyy-mm-dd", "valign": "top"}),
            "percent": book.add_format({"num_format": "0%", "valign": "top"}),
            "money": book.add_format({"num_format": "#,##0.00", "valign": "top"}),
            "int": book.add_format({"num_format": "0", "valign": "top"}),
            "number": book.add_format({"valign": "top"}),
            "wrap": book.add_format({"text_wrap": True, "valign": "top"}),
            "note": book.add_format({"text_wrap": True, "valign": "top", "italic": True,
                                     "font_color": "#595959"}),
            "text": book.add_format({"valign": "top"})}


# Sentences (原因, 风险原因, notes) wrap in a column this wide instead of being cut off.
WRAP_WIDTH = {"reasons": 50, "churn_reason": 46, "latest_note": 36, "notes": 30}


def _write_table(book, styles: dict, name: str, headers: list[str], kinds: list[str],
                 columns: list[list], keys: Sequence[str] = (), note: str = "", word=lambda v: v) -> None:
    """One sheet: a header row and ``columns`` (one list of values per header); with a
    ``note``, the note on row 1 and the table from row 2.  ``keys`` name the columns
    (field ids), for the register's colours and the widths of wrapped sentences."""
    sheet = book.add_worksheet(name)
    top = 1 if note else 0
    if note:
        sheet.merge_range(0, 0, 0, max(len(headers) - 1, 0), note, styles["note"])
        sheet.set_row(0, 15 * (note.count("\n") + 1) + 4)
    sheet.write_row(top, 0, headers, styles["header"])
    # Column by column: one type test per column instead of one per cell (50,000 rows × 30 columns).
    lines = [1] * (len(columns[0]) if columns else 0)
    for c, (values, kind) in enumerate(zip(columns, kinds)):
        write = sheet.write_string if kind in ("text", "wrap") else sheet.write_number
        style = styles[kind]
        for r, value in enumerate(_cells(kind, values), start=top + 1):
            if value is not None:
                write(r, c, value, style)
        width = max([_width(headers[c])] + [_width(v) for v in values[:500]])
        key = keys[c] if c < len(keys) else ""
        limit = WRAP_WIDTH.get(key, 60) if kind == "wrap" else 60
        sheet.set_column(c, c, min(max(width + 2, 8), limit))
        if kind == "wrap":
            _count_lines(lines, values, min(max(width + 2, 8), limit))
    # Neither Excel nor LibreOffice grows a row for wrapped text on opening: set the heights.
    for r, n in enumerate(lines, start=top + 1):
        if n > 1:
            sheet.set_row(r, LINE_HEIGHT * n + 2)
    sheet.freeze_panes(top + 1, 0)
    rows = len(columns[0]) if columns else 0
    sheet.autofilter(top, 0, top + max(rows, 1), max(len(headers) - 1, 0))
    colour_columns(book, sheet, top + 1, top + rows,
                   {k: i for i, k in enumerate(keys)}, postponed=text("sheets.tasks.postponed"), word=word)
    # The customer sheet is too wide to fit one page's width readably: it prints across.
    printable(sheet, top, fit_width=len(headers) <= 16)


LINE_HEIGHT = 15


def _count_lines(lines: list[int], values: list, width: float) -> None:
    """Raise each row's line count to what its text needs in a column ``width`` wide."""
    for i, value in enumerate(values):
        if isinstance(value, str) and value:
            lines[i] = max(lines[i], lines_needed(value, width))


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
    if kind in ("text", "wrap"):
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
    """Every list's tasks, then the ones over the rep's daily cap, marked 顺延."""
    keys = ["rep", "rank", "plan", "kind", "customer_id", "customer_name", "contact", "phone",
            "grade", "key_account", "churn_risk", "due", "overdue_days", "reasons", "latest_note"]
    kinds = ["text", "int", "text", "text", "text", "text", "text", "text", "text", "text", "text",
             "date", "int", "wrap", "wrap"]
    risk = _risk_by_id(state)
    today, postponed = text("sheets.tasks.today"), text("sheets.tasks.postponed")
    rows = []
    for day in state.days:
        listed = day.tasks + day.unassigned
        for rank, task in enumerate(listed, start=1):
            rows.append(_task_row(day.rep, rank, today, task, risk))
        for task in _over_cap(state, day):
            rows.append(_task_row(day.rep, None, postponed, task, risk))
    headers = [text(f"report.tasks.{k}") if k not in ("plan", "churn_risk") else
               text(f"sheets.tasks.{k}") for k in keys]
    return headers, kinds, _by_column(rows, len(keys)), keys


def _task_row(rep: str, rank, plan: str, task, risk: dict) -> list:
    reasons = task.reasons + ((task.care_event,) if task.care_event else ())
    return [rep, rank, plan, text(f"task.kind.{task.kind}"), task.customer_id, task.customer_name,
            task.contact, task.phone, task.grade, text("yes") if task.key_account else "",
            report_word(risk.get(task.customer_id, "")), task.due, task.overdue_days,
            text("churn.reason.joiner").join(reasons), task.latest_note]


def _over_cap(state: State, day) -> list:
    """The rep's tasks for today that did not fit under the cap, in priority order."""
    if not day.over_cap:
        return []
    listed = set(day.tasks)
    return [t for t in state.tasks if t.rep == day.rep and t not in listed]


def _risk_by_id(state: State) -> dict:
    customers = state.customers
    if "churn_risk" not in customers.columns:
        return {}
    kept = customers[~customers["blocked"].astype(bool)]
    return {str(i): str(r) for i, r in zip(kept["customer_id"], kept["churn_risk"])
            if isinstance(r, str) and r}


def _record_note(state: State) -> str:
    """What to record after a call, once per kind of task, for the top of 今日任务."""
    kinds = [k for k in KINDS if any(t.kind == k for t in state.tasks)] or ["follow_up"]
    lines = [text("sheets.tasks.record_line", kind=text(f"task.kind.{k}"), hint=text(f"rules.hint.{k}"))
             for k in kinds]
    return text("sheets.tasks.record_note", hints="\n".join(lines))


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
    numeric = set(register.layout["customers"].numeric_extras) if "customers" in register.layout else set()
    kinds += ["number" if e in numeric else "text" for e in extras]
    for f in schema.COMPUTED:
        if f.name in customers.columns:
            headers.append(f.header)
            columns.append(f.name)
            kinds.append({"date": "date", "int": "int", "percent": "percent", "money": "money"}.get(
                f.kind, "wrap" if f.name == "churn_reason" else "text"))
    for name, kind in CUSTOMER_EXTRA_COMPUTED:
        if name in customers.columns:
            headers.append(text(f"report.customers.{name}"))
            columns.append(name)
            kinds.append(kind)
    values = [customers[c].tolist() for c in columns]
    if "key_account" in columns:
        yes, no = register_text("yes"), register_text("no")   # the register's column, its words
        i = columns.index("key_account")
        values[i] = [yes if v is True else no if v is False else "" for v in values[i]]
    return headers, kinds, values, columns


def _problem_table(problems: Sequence[Problem]):
    keys = ["sheet", "row", "column", "value", "message", "fix", "severity"]
    kinds = ["text", "int", "text", "text", "text", "text", "text"]
    ordered = sorted(problems, key=lambda p: (SEVERITY_ORDER.get(p.severity, 3), p.sheet, p.row or 0, p.column))
    rows = [[p.sheet, p.row, p.column, p.value, p.message, p.fix, text(f"severity.{p.severity}")] for p in ordered]
    return [text(f"report.problems.{k}") for k in keys], kinds, _by_column(rows, len(keys)), ()
