"""The owner's figures (统计): counts, revenue tables, top-20% share, top risks."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.config import Config
from pipeline.rules.churn import churn_risk
from pipeline.rules.figures import customer_trend, owner_figures, revenue_by_month, top_share
from pipeline.rules.receivables import receivables
from tests.test_churn import T, every, make_state

REPS = [{"name": "张三"}, {"name": "李四", "active": False}]


def shop() -> tuple[list[dict], list[dict]]:
    customers = [
        {"customer_id": "A1", "name": "王记修理厂", "rep": "张三"},
        {"customer_id": "A2", "name": "顺达车队", "rep": "张三", "latest_satisfaction": 2.0},
        {"customer_id": "A3", "name": "李师傅", "rep": "李四", "grade": "B", "overdue_days": 12},
        {"customer_id": "A4", "name": "新客户", "rep": ""},
        {"customer_id": "A5", "name": "老客户", "rep": "王五"},
        {"customer_id": "A6", "name": "重复行", "rep": "张三", "blocked": True},
    ]
    day = lambda back: T - timedelta(days=back)  # noqa: E731
    orders = every(7, 4, day(36), customer_id="A1") + [
        {"customer_id": "A2", "date": day(10), "amount": 5000.0, "received": 1000.0, "due_date": day(5)},
        {"customer_id": "A3", "date": day(400), "amount": 200.0},
        {"customer_id": "A3", "date": day(30), "amount": 200.0},
        {"customer_id": "A5", "date": day(500), "amount": 800.0},
        {"customer_id": "A6", "date": day(3), "amount": 7000.0},
        {"customer_id": "A1", "date": day(-2), "amount": 9999.0},   # after T: ignored
    ]
    return customers, orders


@pytest.fixture(scope="module")
def figures() -> dict:
    customers, orders = shop()
    state = make_state(customers, orders, reps=REPS)
    for stage in (churn_risk, receivables, owner_figures):
        state, problems = stage(state, Config())
        assert problems == []
    return state.figures


def test_counts(figures):
    assert {k: figures[k] for k in ("customers_total", "ever_bought", "repeat_buyers",
                                    "one_time_buyers", "never_contacted")} == {
        "customers_total": 5, "ever_bought": 4, "repeat_buyers": 2, "one_time_buyers": 2,
        "never_contacted": 1}


def test_per_grade_state_and_rep(figures):
    assert figures["per_grade"] == {"A": 0, "B": 1, "C": 0, "D": 4, "E": 0}
    assert figures["per_state"] == {"潜在": 1, "现实": 3, "流失": 1}
    # 李四 is not 在职 and 王五 is not in 业务员: their customers are unassigned.
    assert figures["per_rep"] == {"未分配": 3, "张三": 2}
    # A3 (李四's, B, follow-up 12 days overdue) is the rep's neglect, not churn (issue #12)
    assert figures["churn_per_rep"] == {"未分配": {"高": 0, "中": 0}, "张三": {"高": 2, "中": 0}}


def test_revenue(figures):
    months = figures["revenue_by_month"]
    assert [m for m, _ in months][0] == "2025-12" and months[-1][0] == "2026-11" and len(months) == 12
    by_month = dict(months)
    assert by_month["2026-11"] == 5000.0                   # A2 on 11-13 (A6 is blocked)
    assert by_month["2026-10"] == 3 * 100.0 + 200.0        # A1 on 10-04, 10-11, 10-18; A3 on 10-24
    assert by_month["2026-09"] == 100.0                    # A1 on 09-27
    assert sum(by_month.values()) == 5600.0                # 400 days ago and after T excluded
    assert figures["revenue_by_rep"] == {"张三": 5400.0, "未分配": 200.0}
    assert figures["top20_share"] == pytest.approx(5000.0 / 5600.0)


def test_receivables(figures):
    assert (figures["receivables_total"], figures["receivables_customers"]) == (4000.0, 1)


def test_top_risks(figures):
    risks = figures["top_risks"]
    assert [r["customer_id"] for r in risks] == ["A2", "A1"]   # 高 by value; A3's neglect is not churn
    assert risks[0] == {"customer_id": "A2", "name": "顺达车队", "rep": "张三", "churn_risk": "高",
                        "churn_reason": "最近一次满意度为2分（满分5分）", "expected_value": 5000.0,
                        "last_order": (T - timedelta(days=10)).isoformat()}


PLAIN = (int, float, str, list, tuple, dict, bool, type(None))


def walk(value, path="figures"):
    """Every value inside ``value`` (keys of dicts too), with where it sits."""
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield f"{path} key {k!r}", k
            yield from walk(v, f"{path}[{k!r}]")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from walk(v, f"{path}[{i}]")


def test_figures_are_plain_values(figures):
    # summary.json and the email templates take them as they are.
    assert json.loads(json.dumps(figures, ensure_ascii=False))["per_rep"] == figures["per_rep"]
    seen = list(walk(figures))
    assert len(seen) > 100                       # the walk reached the nested tables
    for path, value in seen:
        assert type(value) in PLAIN, f"{path} is {type(value).__name__}"


def test_top_risks_are_capped_at_ten():
    customers = [{"customer_id": f"C{i:02d}", "rep": "张三", "latest_satisfaction": 1.0} for i in range(12)]
    orders = [{"customer_id": c["customer_id"], "date": T - timedelta(days=5), "amount": 100.0 * i}
              for i, c in enumerate(customers)]
    state = make_state(customers, orders, reps=REPS)
    for stage in (churn_risk, receivables, owner_figures):
        state, _ = stage(state, Config())
    ids = [r["customer_id"] for r in state.figures["top_risks"]]
    assert ids == [f"C{i:02d}" for i in range(11, 1, -1)]


@pytest.mark.parametrize("revenue, share", [
    ([], 0.0),
    ([100.0], 1.0),
    ([10.0] * 10, 0.2),
    ([1000.0, 10.0, 10.0, 10.0, 10.0], 1000.0 / 1040.0),
    ([90.0, 5.0, 5.0, -50.0, 0.0], 0.9),       # returns and zeros are not buying customers
    ([50.0, 30.0, 20.0, 10.0, 5.0, 5.0], 80.0 / 120.0),  # 20% of 6 = 1.2: the top 2
])
def test_top_share(revenue, share):
    series = pd.Series(revenue, index=[f"C{i}" for i in range(len(revenue))], dtype=float)
    assert top_share(series, 0.2) == pytest.approx(share)


def test_revenue_by_month_edges():
    orders = pd.DataFrame({
        "customer_id": ["C1"] * 4,
        "date": pd.to_datetime(["2025-11-30", "2025-12-01", "2026-11-23", "2026-02-28"]),
        "amount": [1.0, 2.0, 3.0, 4.0]})
    months = dict(revenue_by_month(orders, date(2026, 11, 23)))
    assert "2025-11" not in months
    assert (months["2025-12"], months["2026-11"], months["2026-02"], months["2026-03"]) == (2.0, 3.0, 4.0, 0.0)


# --- the monthly customer trend (issue 14) ------------------------------------------

TREND_T = date(2026, 11, 23)


def _trend(orders, followups=(), customers=None):
    orders = pd.DataFrame(orders or [], columns=["customer_id", "date"]).assign(
        date=lambda f: pd.to_datetime(f["date"]))
    followups = pd.DataFrame(list(followups), columns=["customer_id", "date"]).assign(
        date=lambda f: pd.to_datetime(f["date"]))
    ids = sorted(set(orders["customer_id"]) | set(followups["customer_id"]))
    customers = customers if customers is not None else pd.DataFrame(
        {"customer_id": ids, "created": pd.NaT, "last_contact": pd.NaT})
    return {row["month"]: row for row in customer_trend(orders, followups, customers, TREND_T)}


@pytest.mark.parametrize("orders, month, expected", [
    # one order in June and nothing after: bought once and left
    ([("A", "2026-06-10")], "2026-06", {"bought": 1, "bought_again": 0, "once_left": 1}),
    # two orders on one day are one purchase: still once and left
    ([("A", "2026-06-10"), ("A", "2026-06-10")], "2026-06", {"bought": 1, "once_left": 1}),
    # back after 52 days: not left; counted as bought again in August
    ([("A", "2026-06-10"), ("A", "2026-08-01")], "2026-06", {"once_left": 0}),
    ([("A", "2026-06-10"), ("A", "2026-08-01")], "2026-08", {"bought": 1, "bought_again": 1}),
    # back only after 100 days: left within the window, yet bought again in September
    ([("A", "2026-06-01"), ("A", "2026-09-09")], "2026-06", {"once_left": 1}),
    ([("A", "2026-06-01"), ("A", "2026-09-09")], "2026-09", {"bought_again": 1}),
    # a first order in September: its 90 days are not over on T, so not known yet
    ([("A", "2026-09-01")], "2026-09", {"bought": 1, "once_left": None}),
    # the running month is marked and never has a once-and-left figure
    ([("A", "2026-11-02")], "2026-11", {"to_date": True, "bought": 1, "once_left": None}),
    ([("A", "2026-10-02")], "2026-10", {"to_date": False}),
])
def test_customer_trend(orders, month, expected):
    row = _trend(orders)[month]
    assert {key: row[key] for key in expected} == expected


def test_trend_never_contacted_counts_customers_on_file_until_their_first_touch():
    customers = pd.DataFrame({"customer_id": ["A", "B", "C"],
                              "created": pd.to_datetime(["2026-03-15", "2026-09-05", None]),
                              "last_contact": pd.NaT})
    months = _trend([("C", "2026-01-20")], [("A", "2026-07-10")], customers)
    assert [months[m]["never_contacted"] for m in ("2025-12", "2026-01", "2026-03", "2026-06",
                                                    "2026-07", "2026-09", "2026-11")] == [
        1, 0, 1, 1, 0, 1, 1]       # C until January; A March–June; B from September


def test_trend_of_a_shop_without_orders_or_follow_ups():
    months = _trend([], [], pd.DataFrame({"customer_id": ["A"], "created": pd.NaT,
                                          "last_contact": pd.NaT}))
    assert len(months) == 12 and all(m["bought"] == 0 and m["never_contacted"] == 1
                                     for m in months.values())


_days = st.dates(min_value=date(2025, 6, 1), max_value=TREND_T)


@settings(max_examples=60, deadline=None)
@given(orders=st.lists(st.tuples(st.sampled_from("ABCDE"), _days), max_size=25),
       followups=st.lists(st.tuples(st.sampled_from("ABCDEF"), _days), max_size=10))
def test_trend_counts_hold_together(orders, followups):
    months = _trend(orders, followups)
    ever = {c for c, _ in orders} | {c for c, _ in followups}
    for row in months.values():
        assert 0 <= row["bought_again"] <= row["bought"] <= len({c for c, _ in orders})
        firsts = {c for c in {c for c, _ in orders}
                  if min(d for x, d in orders if x == c).strftime("%Y-%m") == row["month"]}
        assert row["once_left"] is None or row["once_left"] <= len(firsts)
        assert 0 <= row["never_contacted"] <= len(ever)
    assert months["2026-11"]["never_contacted"] == 0      # everyone here was touched by T
