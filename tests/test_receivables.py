"""Overdue receivables (欠款): amount past 应收日期 and not received, per customer."""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.model import Register, State
from pipeline.rules.receivables import receivables

T = date(2026, 11, 23)


def stage(orders, customers=({"customer_id": "C1"},), today: date = T) -> pd.DataFrame:
    register = Register.from_records(customers=list(customers), orders=list(orders))
    state = State.start(register, today)
    after, problems = receivables(state)
    assert problems == []
    return after.customers


def order(amount, received=None, due=None, day=-60, **extra) -> dict:
    row = {"customer_id": "C1", "date": T + timedelta(days=day), "amount": amount,
           "due_date": None if due is None else T + timedelta(days=due)}
    if received is not None:
        row["received"] = received
    return {**row, **extra}


@pytest.mark.parametrize("orders, amount, days", [
    ([order(1000, received=400, due=-10)], 600.0, 10),
    ([order(1000, due=-10)], np.nan, np.nan),                  # 已收金额 empty = fully paid
    ([order(1000, received=1000, due=-10)], np.nan, np.nan),   # paid in full
    ([order(1000, received=1200, due=-10)], np.nan, np.nan),   # overpaid: nothing owed
    ([order(1000, received=0, due=0)], 1000.0, 0),             # due on T counts, 0 days past
    ([order(1000, received=0, due=1)], np.nan, np.nan),        # not due yet
    ([order(1000, received=0)], np.nan, np.nan),               # no 应收日期: never overdue
    ([order(1000, received=0, due=-40), order(500, received=100, due=-5)], 1400.0, 40),
    ([order(1000, received=0, due=-40, day=3)], np.nan, np.nan),   # order dated after T
    ([order(1000, received=0, due=-40, blocked=True)], np.nan, np.nan),
])
def test_overdue_per_customer(orders, amount, days):
    row = stage(orders).iloc[0]
    np.testing.assert_equal((row.overdue_receivable, row.receivable_days), (amount, days))


def test_customers_are_kept_apart_and_blocked_rows_skipped():
    customers = [{"customer_id": "C1"}, {"customer_id": "C2"}, {"customer_id": "C3", "blocked": True},
                 {"customer_id": "C4"}]
    orders = [order(300, received=0, due=-3),
              order(800, received=100, due=-20, customer_id="C2"),
              order(900, received=0, due=-20, customer_id="C3")]
    frame = stage(orders, customers).set_index("customer_id")
    assert frame.loc["C1", "overdue_receivable"] == 300.0
    assert frame.loc["C2", ["overdue_receivable", "receivable_days"]].tolist() == [700.0, 20.0]
    assert frame.loc[["C3", "C4"], "overdue_receivable"].isna().all()


def test_no_orders_at_all():
    frame = stage([])
    assert frame["overdue_receivable"].isna().all() and frame["receivable_days"].isna().all()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1e6), st.one_of(st.none(), st.floats(0, 2e6)),
                          st.integers(-400, 30)), max_size=8))
def test_overdue_is_the_sum_of_unpaid_past_due_amounts(rows):
    orders = [order(a, received=r, due=d) for a, r, d in rows]
    row = stage(orders).iloc[0]
    owed = [a - r for a, r, d in rows if r is not None and d <= 0 and a > r]
    if owed:
        assert row.overdue_receivable == pytest.approx(sum(owed))
        assert row.receivable_days == -min(d for a, r, d in rows if r is not None and d <= 0 and a > r)
    else:
        assert np.isnan(row.overdue_receivable) and np.isnan(row.receivable_days)
