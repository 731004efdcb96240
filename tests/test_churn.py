"""Churn risk rules (spec §3.5) with the spec's numbers and reason sentences, and the
MBG/NBD stage glue (fitted / skipped)."""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import ChurnConfig, Config
from pipeline.model import Register, State
from pipeline.models.churn_model import shop_typical_gap
from pipeline.rules.churn import _chance, _model, _money, churn_risk

T = date(2026, 11, 23)
INTERVALS = {"A": 1, "B": 7, "C": 15, "D": 30, "E": 365}


def history_columns(customers: pd.DataFrame, orders: pd.DataFrame, today: date) -> dict:
    """What the history/grading stages add, computed plainly from the orders (spec §3
    conventions: an order is a distinct order day; 现实 = last order within 365 days)."""
    end = pd.Timestamp(today)
    usable = orders[~orders["blocked"] & orders["date"].notna() & (orders["date"] <= end)]
    days = usable.groupby(["customer_id", "date"], as_index=False)["amount"].sum()
    per = days.groupby("customer_id")
    gaps = days.assign(gap=per["date"].diff().dt.days).groupby("customer_id")["gap"].median()
    recent = days[days["date"] > end - pd.Timedelta(days=365)].groupby("customer_id")["amount"].sum()
    ids = customers["customer_id"]
    count = per.size().reindex(ids).fillna(0).astype(int).to_numpy()
    last = per["date"].max().reindex(ids).reset_index(drop=True)
    lifecycle = np.where(count == 0, "潜在", np.where((end - last).dt.days <= 365, "现实", "流失"))
    return {
        "order_count": count,
        "first_order": per["date"].min().reindex(ids).to_numpy(),
        "last_order": last.to_numpy(),
        "order_gaps_median": gaps.reindex(ids).to_numpy(dtype=float),
        "revenue_window": recent.reindex(ids).fillna(0.0).to_numpy(dtype=float),
        "latest_satisfaction": np.nan,
        "last_contact": last.to_numpy(),
        "lifecycle": lifecycle.astype(object),
        "key_account": False,
        "grade": "D",
        "next_follow_up": pd.NaT,
        "overdue_days": 0,
        "interval_days": 30,
    }


def make_state(customers, orders=(), reps=(), today: date = T) -> State:
    """A State as the churn stage receives it.  A customer dict may carry the history
    columns (grade, overdue_days, latest_satisfaction, lifecycle…) to override them."""
    register = Register.from_records(customers=customers, orders=orders, reps=reps)
    frame = register.customers.assign(**history_columns(register.customers, register.orders, today))
    for column in ("latest_satisfaction", "lifecycle", "grade", "overdue_days", "last_contact",
                   "key_account", "next_follow_up"):
        given_values = [c.get(column) for c in customers]
        if any(v is not None for v in given_values):
            frame[column] = [g if g is not None else old for g, old in zip(given_values, frame[column])]
    frame["interval_days"] = [INTERVALS.get(g, 30) for g in frame["grade"]]
    return State(register=register, today=today, run_date=today, customers=frame)


def every(gap: int, n: int, last: date, customer_id: str = "C1", amount: float = 100.0) -> list[dict]:
    """n orders of one customer, ``gap`` days apart, the last on ``last``."""
    return [{"customer_id": customer_id, "date": last - timedelta(days=gap * k), "amount": amount}
            for k in range(n)]


def run(customers, orders=(), config: Config = Config(), today: date = T) -> State:
    state, problems = churn_risk(make_state(customers, orders, today=today), config)
    assert problems == []
    return state


def one(customers, orders=(), config: Config = Config()) -> pd.Series:
    return run(customers, orders, config).customers.iloc[0]


@pytest.mark.parametrize("gap, since, level, reason", [
    (7, 21, "低", ""),      # 2m = 14, m + 14 = 21: needs more than 21
    (7, 22, "中", "平时约每7天进货一次，已有22天未进货"),
    (7, 35, "中", "平时约每7天进货一次，已有35天未进货"),   # 3m = 21, m + 28 = 35
    (7, 36, "高", "平时约每7天进货一次，已有36天未进货"),
    (30, 60, "低", ""),     # 2m = 60
    (30, 61, "中", "平时约每30天进货一次，已有61天未进货"),
    (30, 90, "中", "平时约每30天进货一次，已有90天未进货"),   # 3m = 90
    (30, 91, "高", "平时约每30天进货一次，已有91天未进货"),
])
def test_broken_rhythm(gap, since, level, reason):
    row = one([{"customer_id": "C1", "name": "王记修理厂"}], every(gap, 4, T - timedelta(days=since)))
    assert (row.churn_risk, row.churn_reason) == (level, reason)
    assert row.churn_reasons == ((reason,) if reason else ())


def test_rhythm_needs_three_order_days():
    # Two orders: no rhythm to break.  Two orders on one day count as one order day.
    last = T - timedelta(days=100)
    orders = every(7, 2, last) + [{"customer_id": "C1", "date": last, "amount": 5.0}]
    assert one([{"customer_id": "C1"}], orders).churn_risk == "低"


def test_rhythm_median_rounds_for_the_sentence():
    # gaps 7 and 8: median 7.5 days, "about every 8 days"; 2m = 15, m + 14 = 21.5
    last = T - timedelta(days=22)
    orders = [{"customer_id": "C1", "date": last - timedelta(days=d), "amount": 1.0} for d in (0, 7, 15)]
    row = one([{"customer_id": "C1"}], orders)
    assert row.churn_reason == "平时约每8天进货一次，已有22天未进货"


def spend_orders(earlier: float, recent: float) -> list[dict]:
    # Two order days only, so the rhythm rule stays out of it.
    return [{"customer_id": "C1", "date": T - timedelta(days=120), "amount": earlier},
            {"customer_id": "C1", "date": T - timedelta(days=10), "amount": recent}]


@pytest.mark.parametrize("earlier, recent, reason", [
    (5000, 1200, "近90天进货¥1,200，比之前90天的¥5,000少了76%"),
    (5000, 2500, ""),          # exactly half: not under half
    (5000, 2499, "近90天进货¥2,499，比之前90天的¥5,000少了50%"),
    (999, 0, ""),              # the earlier 90 days under ¥1,000
    (1000, 0, "近90天没有进货，之前90天进货¥1,000"),
    (1000, -200, "近90天进货-¥200，比之前90天的¥1,000少了120%"),   # a return
])
def test_spend_falling(earlier, recent, reason):
    row = one([{"customer_id": "C1"}], spend_orders(earlier, recent))
    assert row.churn_reason == reason
    assert row.churn_risk == ("中" if reason else "低")


def test_spend_windows_are_half_open():
    # T−90 belongs to the earlier window, T−180 to neither: (T−180, T−90] and (T−90, T].
    orders = [{"customer_id": "C1", "date": T - timedelta(days=180), "amount": 9000.0},
              {"customer_id": "C1", "date": T - timedelta(days=90), "amount": 2000.0},
              {"customer_id": "C1", "date": T - timedelta(days=89), "amount": 900.0}]
    row = one([{"customer_id": "C1"}], orders)
    assert row.churn_reason == "近90天进货¥900，比之前90天的¥2,000少了55%"


@pytest.mark.parametrize("grade, overdue", [("B", 12), ("A", 8), ("C", 16), ("A", 300), ("D", 100)])
def test_neglect_is_not_churn(grade, overdue):
    # Issue #12: an overdue follow-up is the rep's matter (逾期天数, the task's reasons,
    # the 主管's summary), not the customer's; it no longer raises 流失风险.
    orders = [{"customer_id": "C1", "date": T - timedelta(days=5), "amount": 10.0}]
    row = one([{"customer_id": "C1", "grade": grade, "overdue_days": overdue}], orders)
    assert (row.churn_risk, row.churn_reason) == ("低", "")


def shop_with_gap(gap: int, n: int = 5) -> tuple[list[dict], list[dict]]:
    """n regular customers ordering every ``gap`` days, the last order yesterday."""
    customers = [{"customer_id": f"R{k}"} for k in range(n)]
    orders = [o for k in range(n) for o in every(gap, 4, T - timedelta(days=1), customer_id=f"R{k}")]
    return customers, orders


@pytest.mark.parametrize("gap, since, level, reason", [
    (30, 90, "低", ""),                    # 3 × 30 = 90: needs more than 90
    (30, 91, "中", "只在2026年8月买过一次，之后3个月没有再来（本店客户一般约每30天进货一次）"),
    (30, 245, "中", "只在2026年3月买过一次，之后8个月没有再来（本店客户一般约每30天进货一次）"),
    (10, 31, "中", "只在2026年10月买过一次，之后31天没有再来（本店客户一般约每10天进货一次）"),
    (10, 30, "低", ""),
    (30, 366, "", ""),                     # over a year: 流失, the win-back list's
])
def test_one_time_buyer_without_a_model(gap, since, level, reason):
    customers, orders = shop_with_gap(gap)
    once = {"customer_id": "O1", "date": T - timedelta(days=since), "amount": 300.0}
    state = run([{"customer_id": "O1", "name": "一次客"}] + customers, [once] + orders)
    row = state.customers.iloc[0]
    assert state.notes["churn_model"]["fitted"] is False
    assert (row.churn_risk, row.churn_reason) == (level, reason)
    assert np.isnan(row.p_alive)          # no model: no probability is claimed
    assert not row.churn_gone


def test_shop_typical_gap_is_the_median_of_repeat_buyers_own_gaps():
    frame = pd.DataFrame({"blocked": [False, False, False, True, False],
                          "order_gaps_median": [10.0, 30.0, 50.0, 1.0, np.nan]})
    assert shop_typical_gap(frame) == 30.0
    assert np.isnan(shop_typical_gap(frame.iloc[4:]))


def test_one_time_buyer_in_a_shop_without_repeat_buyers_is_not_judged():
    once = [{"customer_id": "O1", "date": T - timedelta(days=200), "amount": 300.0}]
    row = one([{"customer_id": "O1"}], once)
    assert (row.churn_risk, row.churn_reason) == ("低", "")


@pytest.mark.parametrize("score, level, reason", [
    (1.0, "高", "最近一次满意度为1分（满分5分）"),
    (2.0, "高", "最近一次满意度为2分（满分5分）"),
    (3.0, "低", ""),
    (np.nan, "低", ""),
])
def test_unhappy(score, level, reason):
    orders = [{"customer_id": "C1", "date": T - timedelta(days=5), "amount": 10.0}]
    row = one([{"customer_id": "C1", "latest_satisfaction": score}], orders)
    assert (row.churn_risk, row.churn_reason) == (level, reason)


def test_level_is_the_highest_reason_and_sentences_are_joined():
    orders = every(7, 4, T - timedelta(days=22)) + [
        {"customer_id": "C1", "date": T - timedelta(days=150), "amount": 6000.0}]
    row = one([{"customer_id": "C1", "grade": "B", "overdue_days": 12, "latest_satisfaction": 2.0}],
              orders)
    assert row.churn_risk == "高"
    assert row.churn_reasons == (
        "平时约每7天进货一次，已有22天未进货",
        "近90天进货¥400，比之前90天的¥6,000少了93%",
        "最近一次满意度为2分（满分5分）",
    )
    assert not row.churn_gone             # 高 from being unhappy, not from the buying
    assert row.churn_reason == "；".join(row.churn_reasons)


@pytest.mark.parametrize("lifecycle", ["流失", "潜在"])
def test_rules_apply_to_active_customers_only(lifecycle):
    # Everything fires for this history, but the customer is not 现实.
    orders = every(7, 4, T - timedelta(days=36))
    row = one([{"customer_id": "C1", "lifecycle": lifecycle, "grade": "A", "overdue_days": 30,
                "latest_satisfaction": 1.0}], orders)
    assert (row.churn_risk, row.churn_reasons, row.churn_reason) == ("", (), "")


def test_lost_customer_by_history_has_no_risk():
    row = one([{"customer_id": "C1"}], every(7, 10, T - timedelta(days=400)))
    assert row.lifecycle == "流失"
    assert (row.churn_risk, row.churn_reason) == ("", "")


def test_blocked_row_gets_nothing():
    orders = every(7, 4, T - timedelta(days=36))
    row = one([{"customer_id": "C1", "blocked": True, "latest_satisfaction": 1.0}], orders)
    assert (row.churn_risk, row.churn_reason) == ("", "")
    assert np.isnan(row.p_alive) and np.isnan(row.expected_value)


def test_orders_after_T_are_ignored():
    orders = every(7, 4, T - timedelta(days=36)) + [
        {"customer_id": "C1", "date": T + timedelta(days=3), "amount": 99999.0}]
    row = one([{"customer_id": "C1"}], orders)
    assert row.churn_risk == "高"
    assert row.expected_value == pytest.approx(400.0)


@settings(max_examples=60, deadline=None)
@given(gap=st.integers(1, 120), since=st.integers(0, 500))
def test_rhythm_level_matches_the_thresholds(gap, since):
    state = run([{"customer_id": "C1"}], every(gap, 3, T - timedelta(days=since)))
    row = state.customers.iloc[0]
    if row.lifecycle != "现实":
        assert row.churn_risk == ""
    elif since > max(3 * gap, gap + 28):
        assert row.churn_risk == "高"
    elif since > max(2 * gap, gap + 14):
        assert row.churn_risk == "中"
    else:
        assert row.churn_risk == "低"


# --- the model ---------------------------------------------------------------------

def population(n: int, seed: int = 7) -> tuple[list[dict], list[dict]]:
    """n customers buying at their own weekly-ish rates over two years, some stopping."""
    rng = np.random.default_rng(seed)
    customers, orders = [], []
    for k in range(n):
        cid = f"P{k:04d}"
        customers.append({"customer_id": cid, "name": f"客户{k}"})
        start = int(rng.integers(200, 730))
        gap = int(rng.integers(5, 60))
        stop = int(rng.integers(0, start)) if rng.random() < 0.4 else 0
        for back in range(start, stop - 1, -gap):
            orders.append({"customer_id": cid, "date": T - timedelta(days=back),
                           "amount": float(rng.gamma(2.0, 300.0))})
    return customers, orders


@pytest.fixture(scope="module")
def fitted_population():
    customers, orders = population(260)
    # C1 bought weekly for a year and stopped 8 weeks ago: the classic case.
    customers.append({"customer_id": "C1", "name": "王记修理厂"})
    orders += every(7, 52, T - timedelta(days=56), amount=500.0)
    # C2 bought on three days and last came 36 days ago: rhythm says 高 on its own.
    customers.append({"customer_id": "C2", "name": "李师傅"})
    orders += every(7, 3, T - timedelta(days=36), customer_id="C2")
    return customers, orders


def test_model_fitted_decides_the_level(fitted_population):
    customers, orders = fitted_population
    state = run(customers, orders)
    note = state.notes["churn_model"]
    assert note["fitted"] is True and note["repeat_customers"] >= 200
    assert set(note["mbgnbd"]) >= {"r", "alpha", "a", "b", "log_likelihood", "n_customers"}
    assert "bgnbd" not in note
    horizon = note["model_horizon_days"]
    assert horizon == round(3 * note["shop_typical_gap_days"])
    c1 = state.customers.set_index("customer_id").loc["C1"]
    assert c1.p_alive < 0.15
    assert (c1.churn_risk, c1.churn_gone) == ("高", True)
    assert c1.churn_reasons[0] == ("平时约每7天进货一次，已有56天未进货；按进货记录估算仍在合作的可能性"
                                   f"{_chance(c1.p_alive)}")
    medium = state.customers[state.customers["churn_reasons"].map(
        lambda r: bool(r) and "再来进货" in r[0])].iloc[0]
    assert medium.churn_risk in ("中", "高")
    assert medium.churn_reasons[0].endswith(f"按进货记录估算，未来{int(horizon)}天内再来进货的可能性"
                                            f"{_chance(medium.p_buy_again)}")
    active = state.customers[state.customers["lifecycle"] == "现实"]
    assert active["p_alive"].between(0, 1).all()
    assert (active["expected_value"] >= 0).all()
    # every 现实 customer has a level from the model; 低 has no reason
    assert set(active["churn_risk"]) <= {"高", "中", "低"}
    assert (active.loc[active["churn_risk"] == "低", "churn_reason"] == "").all()


def test_a_one_time_buyer_of_long_ago_is_not_steady_under_the_model(fitted_population):
    customers, orders = fitted_population
    once = {"customer_id": "O1", "date": T - timedelta(days=245), "amount": 800.0}
    state = run(customers + [{"customer_id": "O1", "name": "一次客"}], orders + [once])
    o1 = state.customers.set_index("customer_id").loc["O1"]
    assert o1.p_alive < 0.5 and o1.churn_risk in ("高", "中")
    assert o1.churn_reasons[0].startswith("只在2026年3月买过一次，之后8个月没有再来；按进货记录估算")


def test_under_the_model_the_rhythm_rule_does_not_add_its_own_level(fitted_population):
    customers, orders = fitted_population
    never = Config(churn=ChurnConfig(model_high_below=0.0, model_medium_below=0.0))
    state = run(customers, orders, never)
    c2 = state.customers.set_index("customer_id").loc["C2"]
    assert state.notes["churn_model"]["fitted"] is True
    assert (c2.churn_risk, c2.churn_reason) == ("低", "")


def test_model_skipped_with_too_few_repeat_buyers():
    state = run([{"customer_id": "C1"}], every(7, 4, T - timedelta(days=36), amount=250.0))
    note = state.notes["churn_model"]
    assert (note["fitted"], note["reason"], note["repeat_customers"]) == (False, "too_few_repeat_customers", 1)
    assert "少于200位" in note["message"]
    row = state.customers.iloc[0]
    assert np.isnan(row.p_alive)
    assert row.churn_risk == "高"         # without the model, rhythm decides 高
    # run-rate: last year's ¥1,000 over the next 365 days
    assert row.expected_value == pytest.approx(1000.0)
    assert np.isnan(row.expected_orders)
    assert row.churn_gone                 # the rhythm rule's 高 is a buying judgement


def test_model_threshold_is_configurable():
    customers, orders = population(30, seed=3)
    state = run(customers, orders, Config(churn=ChurnConfig(model_min_repeat_customers=20)))
    assert state.notes["churn_model"]["fitted"] is True
    skipped = run(customers, orders, Config(churn=ChurnConfig(model_min_repeat_customers=31)))
    assert skipped.notes["churn_model"]["fitted"] is False


def test_customers_without_orders_expect_nothing(fitted_population):
    customers, orders = fitted_population
    state = run(customers + [{"customer_id": "N1", "name": "新客户"}], orders)
    n1 = state.customers.set_index("customer_id").loc["N1"]
    assert n1.lifecycle == "潜在" and n1.churn_risk == ""
    assert np.isnan(n1.p_alive) and n1.expected_value == 0


def test_stage_keeps_the_input_state_unchanged():
    state = make_state([{"customer_id": "C1"}], every(7, 4, T - timedelta(days=36)))
    before = state.customers.copy()
    after, _ = churn_risk(state, Config())
    pd.testing.assert_frame_equal(state.customers, before)
    assert "churn_risk" in after.customers and "churn_model" not in state.notes
    assert after.register is state.register


def test_lost_customer_under_a_fitted_model_has_no_risk(fitted_population):
    customers, orders = fitted_population
    # L1 bought weekly for a year and stopped 400 days ago: the model gives up on them,
    # but 流失 customers are the win-back list's, not the churn list's.
    orders = orders + every(7, 52, T - timedelta(days=400), customer_id="L1")
    state = run(customers + [{"customer_id": "L1", "name": "老主顾"}], orders)
    l1 = state.customers.set_index("customer_id").loc["L1"]
    assert state.notes["churn_model"]["fitted"] is True
    assert l1.lifecycle == "流失" and l1.p_alive < 0.3
    assert (l1.churn_risk, l1.churn_reasons, l1.churn_reason) == ("", (), "")


@pytest.mark.parametrize("expected, alive, fired", [
    (0.0, 0.5, 2), (0.1199, 0.5, 2),
    (0.12, 0.5, 1), (0.3199, 0.5, 1),   # config defaults: under 0.12 → 高, under 0.32 → 中
    (0.32, 0.5, 0), (12.0, 0.5, 0),
    (12.0, 0.1499, 2), (12.0, 0.15, 0), # P(still buying) under 0.15 → 高 however much they'd buy
    (np.nan, np.nan, 0),                # not fitted, or never ordered
])
def test_model_levels(expected, alive, fired):
    frame = pd.DataFrame({"expected_orders": [expected], "p_alive": [alive], "p_buy_again": [0.1],
                          "order_count": [2],
                          "order_gaps_median": [30.0], "last_order": [pd.Timestamp(T)]})
    levels, _ = _model(frame, ChurnConfig(), pd.Timestamp(T), 90.0)
    assert levels.tolist() == [fired]


@pytest.mark.parametrize("alive, words", [
    (0.2999, "约29%"),    # rounded down: never a rounder, safer number than the model's
    (0.01, "约1%"), (0.005, "不到1%"), (0.9999, "约99%"),
])
def test_chance_in_words(alive, words):
    assert _chance(alive) == words


@pytest.mark.parametrize("amount, written", [
    (1200.5, "¥1,201"), (2.5, "¥3"), (1999.4, "¥1,999"), (-200.0, "-¥200"), (-0.4, "¥0"),
])
def test_money_rounds_half_up(amount, written):
    assert _money(amount) == written


@settings(max_examples=40, deadline=None)
@given(gap=st.integers(3, 60), since=st.integers(0, 400))
def test_one_time_rule_matches_the_threshold(gap, since):
    # Without a model: 中 exactly when the only order is more than 3 typical gaps old.
    customers, orders = shop_with_gap(gap)
    once = {"customer_id": "O1", "date": T - timedelta(days=since), "amount": 300.0}
    row = run([{"customer_id": "O1"}] + customers, [once] + orders).customers.iloc[0]
    if since > 365:
        assert row.churn_risk == ""
    else:
        assert row.churn_risk == ("中" if since > 3 * gap else "低")
