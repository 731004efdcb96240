"""Per-customer facts from the logs (pipeline/history.py): spec §3 conventions."""
from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import Config, StateConfig
from pipeline.model import Register, State
from pipeline.rules.history import history

T = date(2026, 11, 23)


def day(offset: int) -> date:
    """T + offset days."""
    return T + timedelta(days=offset)


def facts(customers, followups=(), orders=(), config=Config(), today=T) -> pd.DataFrame:
    register = Register.from_records(customers, followups, orders)
    state, problems = history(State.start(register, today), config)
    assert problems == []
    return state.customers.set_index("customer_id")


ONE = [{"customer_id": "C1", "name": "甲"}]


def test_orders_on_one_day_are_one_occasion_and_amounts_add_up():
    orders = [{"date": day(-10), "customer_id": "C1", "amount": 100.0},
              {"date": day(-10), "customer_id": "C1", "amount": 50.0},
              {"date": day(-3), "customer_id": "C1", "amount": 20.0}]
    c = facts(ONE, orders=orders).loc["C1"]
    assert c.order_count == 2
    assert c.first_order == pd.Timestamp(day(-10)) and c.last_order == pd.Timestamp(day(-3))
    assert c.order_gaps_median == 7
    assert c.revenue_window == 170.0


@pytest.mark.parametrize("offsets, median", [
    ([-1], None),
    ([-30, -20], 10.0),
    ([-30, -20, 0], 15.0),            # gaps 10, 20
    ([-40, -39, -20, -10], 10.0),     # gaps 1, 19, 10
    ([-40, -40, -40], None),          # one day only
])
def test_median_gap_between_order_days(offsets, median):
    orders = [{"date": day(o), "customer_id": "C1", "amount": 1.0} for o in offsets]
    got = facts(ONE, orders=orders).loc["C1", "order_gaps_median"]
    assert (pd.isna(got) if median is None else got == median)


def test_records_after_today_and_blocked_rows_are_ignored():
    orders = [{"date": day(-5), "customer_id": "C1", "amount": 10.0},
              {"date": day(1), "customer_id": "C1", "amount": 99.0},
              {"date": day(-2), "customer_id": "C1", "amount": 77.0, "blocked": True}]
    followups = [{"date": day(-4), "customer_id": "C1", "content": "旧", "need": "潜在"},
                 {"date": day(2), "customer_id": "C1", "content": "未来", "need": "无"},
                 {"date": day(-1), "customer_id": "C1", "content": "坏行", "blocked": True}]
    c = facts(ONE, followups, orders).loc["C1"]
    assert (c.order_count, c.revenue_window) == (1, 10.0)
    assert c.last_order == pd.Timestamp(day(-5))
    assert (c.latest_note, c.current_need) == ("旧", "潜在")
    assert c.last_contact == pd.Timestamp(day(-4))


@pytest.mark.parametrize("offset, counted", [(0, True), (-364, True), (-365, False), (1, False)])
def test_revenue_window_is_the_last_365_days(offset, counted):
    orders = [{"date": day(offset), "customer_id": "C1", "amount": 40.0}]
    assert facts(ONE, orders=orders).loc["C1", "revenue_window"] == (40.0 if counted else 0.0)


def test_revenue_window_follows_config():
    orders = [{"date": day(-100), "customer_id": "C1", "amount": 40.0},
              {"date": day(-10), "customer_id": "C1", "amount": 2.0}]
    config = Config(state=StateConfig(key_account_window_days=100))
    assert facts(ONE, orders=orders, config=config).loc["C1", "revenue_window"] == 2.0


def test_latest_followup_on_equal_dates_is_the_lower_row():
    followups = [{"date": day(-3), "customer_id": "C1", "content": "下面一行", "row": 9,
                  "next_follow_up": day(5)},
                 {"date": day(-3), "customer_id": "C1", "content": "上面一行", "row": 4,
                  "next_follow_up": day(2)},
                 {"date": day(-8), "customer_id": "C1", "content": "更早", "row": 12}]
    c = facts(ONE, followups).loc["C1"]
    assert c.latest_note == "下面一行"
    assert c.rep_next_follow_up == pd.Timestamp(day(5))
    assert c.last_followup == pd.Timestamp(day(-3))


def test_latest_row_without_next_date_means_no_rep_date():
    followups = [{"date": day(-9), "customer_id": "C1", "next_follow_up": day(3)},
                 {"date": day(-2), "customer_id": "C1", "content": "没约时间"}]
    assert pd.isna(facts(ONE, followups).loc["C1", "rep_next_follow_up"])


def test_need_and_close_are_latest_non_empty_each_on_its_own():
    customers = [{"customer_id": "C1", "name": "甲", "need": "明确", "expected_close": day(20)},
                 {"customer_id": "C2", "name": "乙", "need": "潜在", "expected_close": day(50)}]
    followups = [{"date": day(-20), "customer_id": "C1", "need": "无"},
                 {"date": day(-10), "customer_id": "C1", "expected_close": day(70)},
                 {"date": day(-5), "customer_id": "C1", "content": "只聊了几句"},
                 {"date": day(-1), "customer_id": "C2", "satisfaction": 4.0}]
    c = facts(customers, followups)
    assert (c.loc["C1", "current_need"], c.loc["C1", "current_expected_close"]) == ("无", pd.Timestamp(day(70)))
    assert (c.loc["C2", "current_need"], c.loc["C2", "current_expected_close"]) == ("潜在", pd.Timestamp(day(50)))


def test_latest_satisfaction_skips_empty_rows():
    followups = [{"date": day(-9), "customer_id": "C1", "satisfaction": 2.0},
                 {"date": day(-5), "customer_id": "C1", "satisfaction": 5.0},
                 {"date": day(-1), "customer_id": "C1"}]
    assert facts(ONE, followups).loc["C1", "latest_satisfaction"] == 5.0


@pytest.mark.parametrize("register_value, followup, order, expected", [
    (day(-3), day(-10), day(-20), day(-3)),
    (day(-30), day(-10), day(-20), day(-10)),
    (day(-30), None, day(-20), day(-20)),
    (day(4), None, day(-20), day(-20)),      # a 最近联系 after T is ignored
    (None, None, None, None),
    (day(0), None, None, day(0)),
])
def test_last_contact_is_the_latest_of_followups_orders_and_register(register_value, followup, order, expected):
    customers = [{"customer_id": "C1", "name": "甲", "last_contact": register_value or pd.NaT}]
    followups = [{"date": followup, "customer_id": "C1"}] if followup else []
    orders = [{"date": order, "customer_id": "C1", "amount": 1.0}] if order else []
    got = facts(customers, followups, orders).loc["C1", "last_contact"]
    assert (pd.isna(got) if expected is None else got == pd.Timestamp(expected))


def test_blocked_customer_gets_empty_facts_and_others_are_untouched():
    customers = [{"customer_id": "C1", "name": "甲", "blocked": True, "need": "明确"},
                 {"customer_id": "C2", "name": "乙"}]
    orders = [{"date": day(-1), "customer_id": "C1", "amount": 5.0}]
    followups = [{"date": day(-1), "customer_id": "C1", "content": "x"}]
    c = facts(customers, followups, orders)
    assert c.loc["C1", "order_count"] == 0 and pd.isna(c.loc["C1", "revenue_window"])
    assert c.loc["C1", "latest_note"] == "" and c.loc["C1", "current_need"] == ""
    assert pd.isna(c.loc["C1", "last_contact"]) and pd.isna(c.loc["C1", "last_order"])
    assert c.loc["C2", "order_count"] == 0 and c.loc["C2", "revenue_window"] == 0.0


def test_logs_naming_unknown_customers_change_nothing():
    orders = [{"date": day(-1), "customer_id": "X9", "amount": 5.0}]
    c = facts(ONE, orders=orders)
    assert list(c.index) == ["C1"] and c.loc["C1", "order_count"] == 0


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["C1", "C2", "C3"]), st.integers(-800, 5),
                          st.floats(0, 1000, allow_nan=False)), max_size=30))
def test_order_facts_match_a_plain_count(orders):
    customers = [{"customer_id": c, "name": c} for c in ("C1", "C2", "C3")]
    records = [{"date": day(o), "customer_id": c, "amount": a} for c, o, a in orders]
    got = facts(customers, orders=records)
    for cid in ("C1", "C2", "C3"):
        days = sorted({o for c, o, _ in orders if c == cid and o <= 0})
        revenue = sum(a for c, o, a in orders if c == cid and -365 < o <= 0)
        assert got.loc[cid, "order_count"] == len(days)
        assert got.loc[cid, "revenue_window"] == pytest.approx(revenue)
        if days:
            assert got.loc[cid, "last_order"] == pd.Timestamp(day(days[-1]))
        gaps = pd.Series(days).diff().dropna()
        assert (pd.isna(got.loc[cid, "order_gaps_median"]) if gaps.empty
                else got.loc[cid, "order_gaps_median"] == gaps.median())
