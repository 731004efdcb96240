"""Customer state, key accounts and completeness (pipeline/customer_state.py): spec §3.3, §3.4."""
from datetime import date, timedelta

import pandas as pd
import pytest

from pipeline import schema
from pipeline.config import Config, StateConfig
from pipeline.model import Register, State
from pipeline.rules.customer_state import customer_state
from pipeline.rules.history import history
from pipeline.rules.stages import run_stages

T = date(2026, 11, 23)


def day(offset: int) -> date:
    return T + timedelta(days=offset)


def run(customers, orders=(), config=Config()) -> tuple[pd.DataFrame, dict]:
    register = Register.from_records(customers, (), orders)
    state, problems = run_stages(State.start(register, T), config, [history, customer_state])
    assert problems == []
    return state.customers.set_index("customer_id"), state.notes


@pytest.mark.parametrize("order_offsets, expected", [
    ([], "潜在"),
    ([-1], "现实"),
    ([-365], "现实"),
    ([-366], "流失"),
    ([-900, -366], "流失"),
    ([-900, -365], "现实"),
    ([3], "潜在"),            # an order after T does not count
])
def test_lifecycle_by_days_since_last_order(order_offsets, expected):
    orders = [{"date": day(o), "customer_id": "C1", "amount": 10.0} for o in order_offsets]
    c, _ = run([{"customer_id": "C1", "name": "甲"}], orders)
    assert c.loc["C1", "lifecycle"] == expected


@pytest.mark.parametrize("lost_after, expected", [(100, "流失"), (101, "现实")])
def test_lost_after_days_follows_config(lost_after, expected):
    orders = [{"date": day(-101), "customer_id": "C1", "amount": 10.0}]
    config = Config(state=StateConfig(lost_after_days=lost_after))
    c, _ = run([{"customer_id": "C1", "name": "甲"}], orders, config)
    assert c.loc["C1", "lifecycle"] == expected


def key_set(revenues: dict[str, float], share: float = 0.8) -> set[str]:
    customers = [{"customer_id": cid, "name": cid} for cid in revenues]
    orders = [{"date": day(-10), "customer_id": cid, "amount": a} for cid, a in revenues.items() if a]
    c, _ = run(customers, orders, Config(state=StateConfig(key_account_share=share)))
    return set(c.index[c["key_account"]])


@pytest.mark.parametrize("revenues, share, keys", [
    # 50 + 30 = 80% of 100: the second one reaches the line, the third is not needed.
    ({"C1": 50, "C2": 30, "C3": 10, "C4": 10}, 0.8, {"C1", "C2"}),
    # 50 + 29 = 79%: the third one is needed to reach 80%.
    ({"C1": 50, "C2": 29, "C3": 11, "C4": 10}, 0.8, {"C1", "C2", "C3"}),
    # Ties by 客户编号: C2 before C3, and C2 makes 80%.
    ({"C1": 60, "C3": 20, "C2": 20}, 0.8, {"C1", "C2"}),
    ({"B": 40, "A": 40, "C": 20}, 0.8, {"A", "B"}),
    # One customer making it all.
    ({"C1": 100, "C2": 0}, 0.8, {"C1"}),
    # Zero or negative revenue (returns) is never key, even at share 1.
    ({"C1": 100, "C2": 0, "C3": -5}, 1.0, {"C1"}),
    ({"C1": 10, "C2": 10, "C3": 10, "C4": 10}, 0.5, {"C1", "C2"}),
    ({"C1": 10, "C2": 10, "C3": 10, "C4": 10}, 0.51, {"C1", "C2", "C3"}),
    ({"C1": 0.1, "C2": 0.1, "C3": 0.1, "C4": 0.1, "C5": 0.1}, 0.8, {"C1", "C2", "C3", "C4"}),
])
def test_key_accounts_by_the_80_percent_rule(revenues, share, keys):
    assert key_set(revenues, share) == keys


def test_nobody_is_key_without_revenue_in_the_window():
    customers = [{"customer_id": "C1", "name": "甲"}]
    orders = [{"date": day(-400), "customer_id": "C1", "amount": 1000.0}]
    c, notes = run(customers, orders)
    assert not c.loc["C1", "key_account"] and notes["key_accounts"] == 0


def test_completeness_counts_the_nine_profile_fields():
    full = {f: "x" for f in schema.PROFILE_FIELDS} | {"customer_id": "C1", "need": "明确"}
    half = {"customer_id": "C2", "name": "乙", "phone": "13800000000", "rep": "张三", "birthday": "  "}
    c, _ = run([full, half])
    assert c.loc["C1", "completeness"] == 1.0
    assert c.loc["C2", "completeness"] == pytest.approx(3 / 9)


def test_blocked_customers_get_empty_state_and_are_not_counted():
    customers = [{"customer_id": "C1", "name": "甲", "blocked": True},
                 {"customer_id": "C2", "name": "乙"}]
    orders = [{"date": day(-1), "customer_id": "C1", "amount": 500.0},
              {"date": day(-1), "customer_id": "C2", "amount": 5.0}]
    c, notes = run(customers, orders)
    assert c.loc["C1", "lifecycle"] == "" and not c.loc["C1", "key_account"]
    assert pd.isna(c.loc["C1", "completeness"])
    assert c.loc["C2", "key_account"]
    assert notes["customers_per_state"] == {"潜在": 0, "现实": 1, "流失": 0}
