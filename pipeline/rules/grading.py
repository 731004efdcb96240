"""Grade A–E (客户等级, spec §3.1).

Columns added to ``state.customers`` (needs history and customer_state):

- ``grade`` (str "A"–"E"; "" when blocked);
- ``grade_basis`` (str): why, as a code the task reasons are written from —
  override / no_need / latent / clear / clear_no_date / clear_stale / repeat /
  lost / one_order / no_orders ("" when blocked); the win-back stage later turns
  ``repeat`` into ``repeat_gone`` (grade D) for a regular buyer judged gone (issue #12);
- ``grade_close`` (datetime64): the expected close the grade was read from (the
  current 预计成交, or a repeat buyer's next expected order), NaT otherwise.

Notes for summary.json: ``customers_per_grade`` ({"A": n, …, "E": n}).

Problems: a clear need with no date, one more than the grace days past, and a
customer with no need and no orders, each on the customer's row of the 客户 sheet.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from pipeline import schema
from pipeline.config import Config, GradingConfig
from pipeline.messages import text
from pipeline.model import Problem, State
from pipeline.rules.customer_state import ACTIVE, LOST
from pipeline.rules.history import as_dates, text_column

NEED_CLEAR, NEED_LATENT, NEED_NONE = schema.NEEDS

# basis code -> (problem kind, column field) for the grades that also report a problem.
PROBLEMS = {
    "clear_no_date": ("grade_close_missing", "expected_close"),
    "clear_stale": ("grade_close_past", "expected_close"),
    "no_orders": ("grade_need_missing", "need"),
}


def grade(state: State, config: Config) -> tuple[State, list[Problem]]:
    customers = state.customers
    today = pd.Timestamp(state.today)
    basis, close = grade_basis(customers)
    days = (close - today).dt.days
    # A repeat buyer past their usual order day is due now; a stated date long past is stale.
    basis = basis.mask((basis == "clear") & (days < -config.grading.past_due_grace_days), "clear_stale")
    grades = grade_letters(customers, basis, days, config.grading)
    customers = customers.assign(grade=grades, grade_basis=basis, grade_close=close)
    notes = {**state.notes, "customers_per_grade": {g: int((grades == g).sum()) for g in schema.GRADES}}
    return replace(state, customers=customers, notes=notes), grade_problems(state, customers, today)


def grade_basis(customers: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Which rule grades each customer, and the expected close it reads."""
    override = text_column(customers["grade_override"]).str.upper()
    need = text_column(customers["current_need"])
    close = customers["current_expected_close"]
    repeat_close = customers["last_order"] + pd.to_timedelta(customers["order_gaps_median"], unit="D")
    repeat = (customers["order_count"] >= 2) & (customers["lifecycle"] == ACTIVE)
    conditions = [
        customers["blocked"].astype(bool),
        override.isin(schema.GRADES),
        need == NEED_NONE,
        need == NEED_LATENT,
        (need == NEED_CLEAR) & close.isna(),
        need == NEED_CLEAR,
        repeat,
        customers["lifecycle"] == LOST,
        customers["order_count"] == 1,
    ]
    codes = ["", "override", "no_need", "latent", "clear_no_date", "clear", "repeat", "lost", "one_order"]
    basis = pd.Series(np.select(conditions, codes, "no_orders"), index=customers.index, dtype=object)
    used_close = close.where(basis == "clear", repeat_close.where(basis == "repeat"))
    return basis, as_dates(used_close)


def grade_letters(customers: pd.DataFrame, basis: pd.Series, days: pd.Series,
                  grading: GradingConfig) -> pd.Series:
    """The letter per basis; ``days`` = days from T to the expected close (negative = past)."""
    dated = basis.isin(["clear", "repeat"])
    conditions = [
        basis == "",
        basis == "override",
        basis == "no_need",
        basis.isin(["clear_stale", "clear_no_date"]),
        dated & (days <= grading.a_days),
        dated & (days <= grading.b_days),
        dated & (days <= grading.c_days),
    ]
    override = text_column(customers["grade_override"]).str.upper()
    choices = ["", override, "E", "C", "A", "B", "C"]
    return pd.Series(np.select(conditions, choices, "D"), index=customers.index, dtype=object)


def grade_problems(state: State, customers: pd.DataFrame, today: pd.Timestamp) -> list[Problem]:
    """One problem per customer whose grade rests on missing or stale data."""
    basis = customers["grade_basis"].loc[lambda b: b.isin(list(PROBLEMS))]
    register = state.register
    sheet = register.sheet_name("customers")
    found = []
    rows = customers.loc[basis.index]
    for code, row, cid, name, close in zip(basis, rows["row"], rows["customer_id"], rows["name"],
                                           rows["grade_close"]):
        kind, field = PROBLEMS[code]
        when = "" if pd.isna(close) else close.date().isoformat()
        days = 0 if pd.isna(close) else (today - close).days
        values = {"id": cid, "name": name, "date": when, "days": days}
        found.append(Problem(sheet=sheet, row=int(row), column=register.header("customers", field),
                             value=when, kind=kind, message=text(f"rules.problem.{kind}", **values),
                             fix=text(f"rules.fix.{kind}", **values)))
    return found
