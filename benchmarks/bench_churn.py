"""Time the churn stage (model fit included), receivables and figures at shop-chain size.

Builds a synthetic State of 50,000 customers and 500,000 orders with numpy, with the
columns the history and grading stages add, and times each stage.  The churn stage
must take under 30 s (issue #6).  Run: python benchmarks/bench_churn.py [customers] [orders]
"""
from __future__ import annotations

import sys
import time
from datetime import date

import numpy as np
import pandas as pd

from pipeline.config import Config
from pipeline.model import Register, State
from pipeline.rules.churn import churn_risk
from pipeline.rules.figures import owner_figures
from pipeline.rules.receivables import receivables

T = date(2026, 11, 23)
BUDGET_SECONDS = 30.0


def synthetic_state(n_customers: int, n_orders: int, seed: int = 1) -> State:
    rng = np.random.default_rng(seed)
    ids = np.array([f"K{i:06d}" for i in range(n_customers)], dtype=object)
    end = np.datetime64(T, "D")
    # Each customer buys at their own rate from their own first day; some stop.
    weight = rng.gamma(0.8, 1.0, n_customers)
    owner = rng.choice(n_customers, size=n_orders, p=weight / weight.sum())
    first = rng.integers(0, 1100, n_customers)
    stop = np.where(rng.random(n_customers) < 0.4, rng.integers(0, 1100, n_customers), 0)
    stop = np.minimum(stop, first)
    back = stop[owner] + (rng.random(n_orders) * (first - stop)[owner]).astype(int)
    amount = np.round(rng.gamma(2.0, 400.0, n_orders), 2)
    received = np.where(rng.random(n_orders) < 0.1, np.round(amount * 0.5, 2), np.nan)
    orders = pd.DataFrame({
        "row": np.arange(n_orders) + 2, "blocked": False,
        "date": (end - back.astype("timedelta64[D]")).astype("datetime64[ns]"),
        "customer_id": ids[owner], "order_no": "", "amount": amount, "received": received,
        "due_date": (end - back.astype("timedelta64[D]") + np.timedelta64(30, "D")).astype("datetime64[ns]"),
    })
    empty = Register.from_records()
    customers = empty.customers.iloc[:0].reindex(range(n_customers))
    customers = customers.assign(row=np.arange(n_customers) + 2, blocked=False, customer_id=ids,
                                 name=[f"客户{i}" for i in range(n_customers)],
                                 rep=rng.choice(["张三", "李四", "王五", ""], n_customers).astype(object))
    customers = customers.assign(**history(customers, orders))
    reps = pd.DataFrame({"row": [2, 3, 4], "blocked": False, "name": ["张三", "李四", "王五"],
                         "email": "", "role": "业务员", "active": True})
    register = Register(customers=customers, followups=empty.followups, orders=orders, reps=reps)
    return State(register=register, today=T, run_date=T, customers=customers)


def history(customers: pd.DataFrame, orders: pd.DataFrame) -> dict:
    """The columns the history/grading stages add, computed roughly."""
    rng = np.random.default_rng(2)
    end = pd.Timestamp(T)
    days = orders.groupby(["customer_id", "date"], as_index=False)["amount"].sum()
    days = days.sort_values(["customer_id", "date"])
    per = days.groupby("customer_id")
    gaps = days.assign(gap=per["date"].diff().dt.days).groupby("customer_id")["gap"].median()
    ids = customers["customer_id"]
    count = per.size().reindex(ids).fillna(0).to_numpy(dtype=int)
    last = per["date"].max().reindex(ids).reset_index(drop=True)
    since = (end - last).dt.days.to_numpy(dtype=float)
    grade = rng.choice(list("ABCDE"), len(ids))
    return {
        "order_count": count, "last_order": last.to_numpy(),
        "first_order": per["date"].min().reindex(ids).to_numpy(),
        "order_gaps_median": gaps.reindex(ids).to_numpy(dtype=float),
        "revenue_window": 0.0,
        "latest_satisfaction": np.where(rng.random(len(ids)) < 0.3, rng.integers(1, 6, len(ids)), np.nan),
        "last_contact": last.to_numpy(),
        "lifecycle": np.where(count == 0, "潜在", np.where(since <= 365, "现实", "流失")).astype(object),
        "key_account": False, "grade": grade.astype(object), "next_follow_up": pd.NaT,
        "overdue_days": rng.integers(0, 40, len(ids)),
        "interval_days": pd.Series(grade).map({"A": 1, "B": 7, "C": 15, "D": 30, "E": 365}).to_numpy(),
    }


def timed(label: str, stage, state: State, config: Config) -> tuple[State, float]:
    start = time.perf_counter()
    state, _ = stage(state, config)
    seconds = time.perf_counter() - start
    print(f"{label:<14} {seconds:7.2f} s")
    return state, seconds


def main() -> int:
    n_customers = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    n_orders = int(sys.argv[2]) if len(sys.argv) > 2 else 500_000
    start = time.perf_counter()
    state = synthetic_state(n_customers, n_orders)
    print(f"built {n_customers} customers, {n_orders} orders in {time.perf_counter() - start:.1f} s")
    config = Config()
    state, churn_seconds = timed("churn_risk", churn_risk, state, config)
    state, _ = timed("receivables", receivables, state, config)
    state, _ = timed("owner_figures", owner_figures, state, config)
    note = state.notes["churn_model"]
    print("model fitted:", note["fitted"], {k: round(v, 3) for k, v in note.get("mbgnbd", {}).items()})
    print("risk levels:", state.customers["churn_risk"].value_counts().to_dict())
    ok = churn_seconds < BUDGET_SECONDS
    print(f"churn stage {'within' if ok else 'OVER'} the {BUDGET_SECONDS:.0f} s budget")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
