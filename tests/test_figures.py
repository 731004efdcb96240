"""The owner's figures (统计): counts, revenue tables, top-20% share, top risks."""
from __future__ import annotations

import json
from datetime import date, timedelta

import pandas as pd
import pytest

from pipeline.config import Config
from pipeline.rules.churn import churn_risk
from pipeline.rules.figures import owner_figures, revenue_by_month, top_share
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
