"""Issue #12 in a rep's list: a regular buyer judged gone is a win-back, not a daily A call
(spec §3.1 step 5, §3.5), and an overdue follow-up is named in the task, not in 流失风险."""
from __future__ import annotations

import pytest

from pipeline.config import Config
from tests.test_rep_day import customer, day, run


def regular(cid: str, since: int, gap: int = 7, n: int = 4, **fields):
    """A customer without a stated need who ordered every ``gap`` days, last ``since`` days ago."""
    row = {"customer_id": cid, "name": f"客户{cid}", "rep": "张三", **fields}
    orders = [{"date": day(-since - gap * k), "customer_id": cid, "amount": 500.0} for k in range(n)]
    return row, orders


def one_task(state, cid):
    [task] = [t for t in state.tasks if t.customer_id == cid]
    return task


@pytest.mark.parametrize("since, level, kind, grade, interval", [
    # m = 7: 中 when more than max(2m, m + 14) = 21 days, 高 when more than max(3m, m + 28) = 35
    (21, "低", "follow_up", "A", 1),
    (22, "中", "follow_up", "A", 1),     # slipping, but still judged buying: still due now
    (35, "中", "follow_up", "A", 1),
    (36, "高", "win_back", "D", 30),     # probably gone: a win-back at the lost-customer cadence
    (200, "高", "win_back", "D", 30),
])
def test_a_regular_buyer_keeps_the_due_now_grade_only_while_still_buying(since, level, kind, grade, interval):
    row, orders = regular("R1", since)
    state, _ = run([row], orders=orders)
    c = state.customers.iloc[0]
    assert (c.churn_risk, c.grade, c.interval_days, bool(c.win_back)) == (level, grade, interval, kind == "win_back")
    # last contact = the last order: due again interval days later
    assert c.next_follow_up.date() == day(-since + interval)
    assert [t.kind for t in state.tasks if t.customer_id == "R1"] == [kind]   # all due by T

def test_the_win_back_line_says_why():
    row, orders = regular("R1", 60)
    state, _ = run([row], orders=orders)
    task = one_task(state, "R1")
    assert (task.kind, task.grade, task.overdue_days, task.due) == ("win_back", "D", 30, day(-30))
    assert task.reasons == (
        "D级：老客户平时约每7天进货一次，按进货记录判断很可能已不再来进货，需挽回",
        "平时约每7天进货一次，已有60天未进货",
    )
    assert state.notes["regular_buyers_to_win_back"] == 1
    assert state.notes["customers_per_grade"]["D"] == 1 and state.notes["customers_per_grade"]["A"] == 0


def test_an_unhappy_regular_buyer_is_high_but_still_followed_up():
    # 高 from the customer's own complaint, not from the buying: they are still buying,
    # and the rep should call them now, not in a month.
    row, orders = regular("R1", 10, latest_note=None)
    followups = [{"date": day(-2), "customer_id": "R1", "satisfaction": 1}]
    state, _ = run([row], followups, orders)
    c = state.customers.iloc[0]
    assert (c.churn_risk, c.grade, bool(c.win_back)) == ("高", "A", False)


def test_a_stated_need_is_not_overridden():
    row, orders = regular("R1", 60, need="明确", expected_close=day(10))
    state, _ = run([row], orders=orders)
    c = state.customers.iloc[0]
    assert (c.churn_risk, c.grade, c.grade_basis, bool(c.win_back)) == ("高", "A", "clear", False)


@pytest.mark.parametrize("grade, overdue, reason", [
    ("B", 12, "B级客户应每7天跟进，已逾期12天未跟进"),
    ("B", 7, None),                                      # not more than 7
    ("A", 8, "A级客户应每1天跟进，已逾期8天未跟进"),
    ("A", 7, None),
    ("C", 15, None),                                     # not more than its 15-day interval
    ("C", 16, "C级客户应每15天跟进，已逾期16天未跟进"),
    ("D", 100, None),                                    # only grades A–C
])
def test_an_overdue_follow_up_is_named_in_the_task_not_in_the_churn_risk(grade, overdue, reason):
    # one order, before the last contact (so it does not move the follow-up)
    interval = Config().cadence.interval(grade)
    orders = [{"date": day(-overdue - interval - 1), "customer_id": "C1", "amount": 10.0}]
    state, _ = run([customer("C1", grade, overdue)], orders=orders)
    c = state.customers.iloc[0]
    assert (c.churn_risk, c.churn_reason) == ("低", "")
    task = one_task(state, "C1")
    assert task.overdue_days == overdue
    overdue_reasons = [r for r in task.reasons if "逾期" in r]
    assert overdue_reasons == ([reason] if reason else [])


def test_neglect_threshold_is_the_configured_one():
    from dataclasses import replace
    config = Config()
    config = replace(config, churn=replace(config.churn, neglect_min_days=20))
    orders = [{"date": day(-30), "customer_id": "C1", "amount": 10.0}]
    state, _ = run([customer("C1", "B", 12)], orders=orders, config=config)
    assert not [r for r in one_task(state, "C1").reasons if "逾期" in r]
