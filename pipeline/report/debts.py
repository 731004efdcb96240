"""The report's 欠款 sheet: who owes money past its 应收日期, so the owner can name them.

One row per customer with an overdue receivable (the receivables stage's
``overdue_receivable`` and ``receivable_days``): customer, rep (未分配 as in the
task lists), amount overdue, days the oldest unpaid bill is past due, that bill's
应收日期, contact and phone; largest amount first, and a total row under the table
that matches 统计's 欠款合计.
"""
from __future__ import annotations

import pandas as pd

from pipeline.messages import text
from pipeline.model import State
from pipeline.report.look import colour_columns, printable
from pipeline.rules.figures import counted

KEYS = ("customer_id", "name", "rep", "amount", "days", "oldest", "contact", "phone")
WIDTHS = (12, 24, 10, 15, 10, 16, 10, 14)


def owing(state: State) -> pd.DataFrame:
    """The customers with money overdue, largest amount first (then longest overdue, id)."""
    if "overdue_receivable" not in state.customers.columns:
        return pd.DataFrame(columns=["customer_id"])
    customers, reps = counted(state)
    amount = customers["overdue_receivable"].astype(float)
    rows = customers.assign(rep_label=reps, amount=amount,
                            days=customers["receivable_days"].astype(float))
    rows = rows[rows["amount"].fillna(0.0) > 0]
    rows = rows.assign(oldest=pd.Timestamp(state.today) - pd.to_timedelta(rows["days"], unit="D"))
    return rows.sort_values(["amount", "days", "customer_id"], ascending=[False, False, True])


def write_debts_sheet(book, state: State):
    sheet = book.add_worksheet(text("sheets.debts.sheet"))
    header = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                              "text_wrap": True, "valign": "top"})
    money = book.add_format({"num_format": "#,##0.00"})
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    bold = book.add_format({"bold": True, "top": 1})
    bold_money = book.add_format({"bold": True, "top": 1, "num_format": "#,##0.00"})
    for col, (key, width) in enumerate(zip(KEYS, WIDTHS)):
        sheet.write_string(0, col, text(f"sheets.debts.{key}"), header)
        sheet.set_column(col, col, width)
    sheet.freeze_panes(1, 0)
    printable(sheet)
    rows = owing(state)
    if rows.empty:
        sheet.write_string(1, 0, text("sheets.debts.none"))
        return sheet
    for r, c in enumerate(rows.itertuples(index=False), start=1):
        sheet.write_string(r, 0, str(c.customer_id))
        sheet.write_string(r, 1, str(c.name))
        sheet.write_string(r, 2, str(c.rep_label))
        sheet.write_number(r, 3, float(c.amount), money)
        sheet.write_number(r, 4, int(c.days))
        sheet.write_datetime(r, 5, c.oldest.to_pydatetime(), date)
        sheet.write_string(r, 6, str(c.contact or ""))
        sheet.write_string(r, 7, str(c.phone or ""))
    sheet.autofilter(0, 0, len(rows), len(KEYS) - 1)
    total = len(rows) + 1
    sheet.write_string(total, 1, text("sheets.debts.total", count=len(rows)), bold)
    sheet.write_number(total, 3, float(rows["amount"].sum()), bold_money)
    colour_columns(book, sheet, 1, len(rows), {"overdue_days": 4})
    return sheet
