"""Overdue receivables (欠款, spec §2 and §3.5): order amounts past their 应收日期 and not received.

A credit problem, not churn: it is shown on the customer (欠款) and in the owner's
figures.  An order counts when it is dated on or before T and its 应收日期 is on or
before T; what is outstanding is 金额 − 已收金额, where an empty 已收金额 means fully
paid (the shop only fills it in for orders on credit).  Overpaid orders count as 0.
Orders without an 应收日期 are never overdue.

Adds to customers: ``overdue_receivable`` (float, the outstanding amount; NaN when
nothing is overdue, so the register cell stays empty) and ``receivable_days``
(float, days the oldest overdue order is past its 应收日期, 0 when it fell due on T;
NaN when nothing is overdue).  Blocked customer rows get NaN: the rules skip them.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from pipeline.model import Problem, State


def overdue_orders(orders: pd.DataFrame, today) -> pd.DataFrame:
    """The orders with money overdue on ``today``: customer_id, due_date, outstanding."""
    T = pd.Timestamp(today)
    amount = orders["amount"].astype(float)
    received = orders["received"].astype(float)
    outstanding = (amount - received.fillna(amount)).clip(lower=0.0).fillna(0.0)
    keep = (~orders["blocked"].astype(bool) & orders["date"].notna() & (orders["date"] <= T)
            & orders["due_date"].notna() & (orders["due_date"] <= T) & (outstanding > 0))
    return pd.DataFrame({"customer_id": orders.loc[keep, "customer_id"],
                         "due_date": orders.loc[keep, "due_date"],
                         "outstanding": outstanding[keep]})


def receivables(state: State, config=None) -> tuple[State, list[Problem]]:
    """The receivables stage (``config`` is unused; every stage takes it)."""
    overdue = overdue_orders(state.register.orders, state.today)
    per_id = overdue.groupby("customer_id").agg(amount=("outstanding", "sum"),
                                                 oldest=("due_date", "min"))
    customers = state.customers
    ids = customers["customer_id"]
    blocked = customers["blocked"].astype(bool).to_numpy()
    amount = per_id["amount"].reindex(ids).to_numpy(dtype=float)
    oldest = per_id["oldest"].reindex(ids).reset_index(drop=True)
    days = (pd.Timestamp(state.today) - oldest).dt.days.astype(float).to_numpy()
    customers = customers.assign(overdue_receivable=np.where(blocked, np.nan, amount),
                                 receivable_days=np.where(blocked, np.nan, days))
    return replace(state, customers=customers), []
