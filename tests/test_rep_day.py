"""A rep's day (pipeline/rep_day.py and the stage list): spec §3.7."""
from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pytest

from pipeline.config import Config, TasksConfig
from pipeline.dates.care_dates import parse_birthday
from pipeline.model import Register, State
from pipeline.rules.stages import STAGES, run_stages

T = date(2026, 11, 23)   # a Monday, a working day
REPS = [{"name": "张三"}, {"name": "李四"}, {"name": "王总", "role": "主管"},
        {"name": "离职", "active": False}, {"name": "老主管", "role": "主管", "active": False}]


def day(offset: int) -> date:
    return T + timedelta(days=offset)


def run(customers, followups=(), orders=(), reps=REPS, config=Config(), stages=STAGES):
    register = Register.from_records(customers, followups, orders, reps)
    return run_stages(State.start(register, T), config, stages)


def customer(cid, grade, overdue=0, rep="张三", **fields):
    """A customer of ``grade`` (人工等级) whose follow-up is ``overdue`` days late."""
    interval = Config().cadence.interval(grade)
    return {"customer_id": cid, "name": f"客户{cid}", "grade_override": grade, "rep": rep,
            "last_contact": day(-overdue - interval), **fields}


def lost(cid, last_order_offset, rep="张三"):
    return ({"customer_id": cid, "name": f"客户{cid}", "need": "潜在", "rep": rep,
             "last_contact": day(last_order_offset)},
            {"date": day(last_order_offset), "customer_id": cid, "amount": 1.0})


def listed(state, rep):
    return [(t.kind, t.customer_id) for t in next(d for d in state.days if d.rep == rep).tasks]


def test_follow_ups_by_grade_then_key_account_then_overdue_then_id():
    customers = [customer("C1", "B", 5), customer("C2", "A", 0), customer("C3", "A", 3),
                 customer("C4", "A", 3), customer("C5", "A", 1), customer("C6", "E", 40)]
    # C5 is the only key account: it goes first among the A customers.
    orders = [{"date": day(-2), "customer_id": "C5", "amount": 1000.0}]
    state, _ = run(customers, orders=orders)
    assert [cid for _, cid in listed(state, "张三")] == ["C5", "C3", "C4", "C2", "C1", "C6"]


def test_win_backs_after_follow_ups_longest_gone_first_then_care():
    (l1, o1), (l2, o2) = lost("L1", -400), lost("L2", -700)
    birthday = {"birthday": "11月24日", "birthday_parsed": parse_birthday("11月24日")}
    customers = [l1, l2, customer("C1", "D", 2), customer("C2", "B", -3, **birthday)]
    state, _ = run(customers, orders=[o1, o2])
    assert listed(state, "张三") == [("follow_up", "C1"), ("win_back", "L2"), ("win_back", "L1"),
                                     ("care", "C2")]
    win_back = next(t for t in state.tasks if t.customer_id == "L2")
    assert win_back.reasons[0] == f"已流失：最近一次进货是{day(-700).isoformat()}，已700天未进货"


def test_not_due_and_blocked_customers_get_no_task():
    customers = [customer("C1", "B", -2), customer("C2", "A", 4, blocked=True), customer("C3", "D", 0)]
    state, _ = run(customers)
    assert listed(state, "张三") == [("follow_up", "C3")]


def test_task_line_says_who_how_why_and_what_to_record():
    customers = [{"customer_id": "C1", "name": "飞达汽修", "contact": "刘师傅", "phone": "13800138000",
                  "rep": "张三", "need": "明确", "expected_close": date(2026, 12, 1)}]
    followups = [{"date": day(-6), "customer_id": "C1", "content": "要报价刹车片"}]
    orders = [{"date": day(-6), "customer_id": "C1", "amount": 800.0}]
    state, _ = run(customers, followups, orders)
    [task] = state.tasks
    assert (task.rep, task.customer_name, task.contact, task.phone) == ("张三", "飞达汽修", "刘师傅", "13800138000")
    assert (task.grade, task.key_account, task.due, task.overdue_days) == ("A", True, day(-5), 5)
    assert task.reasons == ("A级：需求明确，预计2026-12-01成交",)   # overdue and 重点 are fields, not repeated
    assert task.latest_note == "要报价刹车片"
    assert "跟进记录" in task.record_hint


def test_reasons_say_never_contacted_and_the_reps_own_date():
    customers = [{"customer_id": "C1", "name": "甲", "rep": "张三", "need": "无"},
                 {"customer_id": "C2", "name": "乙", "rep": "张三", "need": "潜在"}]
    followups = [{"date": day(-9), "customer_id": "C2", "next_follow_up": day(0)}]
    state, _ = run(customers, followups)
    reasons = {t.customer_id: t.reasons for t in state.tasks}
    assert reasons["C1"] == ("E级：客户目前没有需求", "从未联系过")
    assert reasons["C2"] == ("D级：潜在需求", f"上次跟进时约定{day(0).isoformat()}再联系")


def add_churn_reasons(state, config):
    """A stand-in for the churn engineer's stage: the column rep_days reads."""
    reasons = pd.Series([("平时约每7天进货一次，已有23天未进货",)] * len(state.customers),
                        index=state.customers.index)
    return replace(state, customers=state.customers.assign(churn_reasons=reasons)), []


def test_churn_reasons_are_added_when_the_churn_stage_ran():
    stages = STAGES[:-2] + [add_churn_reasons] + STAGES[-2:]
    state, _ = run([customer("C1", "C", 2)], stages=stages)
    assert state.tasks[0].reasons[-1] == "平时约每7天进货一次，已有23天未进货"


@pytest.mark.parametrize("cap, listed_ids, over", [(2, ["C1", "C2"], 3), (5, ["C1", "C2", "C3", "C4", "C5"], 0),
                                                    (7, ["C1", "C2", "C3", "C4", "C5"], 0)])
def test_daily_cap_keeps_the_highest_priority_and_counts_the_rest(cap, listed_ids, over):
    customers = [customer(f"C{i}", "A", 10 - i) for i in range(1, 6)]
    state, _ = run(customers, config=Config(tasks=TasksConfig(daily_cap=cap)))
    [zhang] = [d for d in state.days if d.rep == "张三"]
    assert [t.customer_id for t in zhang.tasks] == listed_ids and zhang.over_cap == over
    assert len(state.tasks) == 5
    assert state.notes["tasks_per_rep"]["张三"] == {"customers": len(listed_ids), "waiting": over,
                                                   "overdue": len(listed_ids), "due": 0, "win_back": 0,
                                                   "care": 0, "with_greeting": 0, "unassigned": 0}


def test_unassigned_customers_go_to_every_active_manager():
    customers = [customer("C1", "A", 1, rep=""), customer("C2", "B", 1, rep="查无此人"),
                 customer("C3", "C", 1, rep="离职"), customer("C4", "D", 1, rep="王总"),
                 customer("C5", "D", 1, rep="李四")]
    reps = REPS + [{"name": "赵主管", "role": "主管", "email": "zhao@example.com"}]
    state, problems = run(customers, reps=reps)
    assert problems == []
    days = {d.rep: d for d in state.days}
    assert set(days) == {"张三", "李四", "王总", "赵主管"}          # no RepDay for who left
    assert days["张三"].tasks == () and days["张三"].unassigned == ()
    for manager in ("王总", "赵主管"):
        assert [t.customer_id for t in days[manager].unassigned] == ["C1", "C2", "C3"]
    assert [t.customer_id for t in days["王总"].tasks] == ["C4"]
    assert days["赵主管"].email == "zhao@example.com" and days["赵主管"].role == "主管"
    owners = {t.customer_id: (t.rep, t.owner_rep) for t in state.tasks}
    assert owners["C2"] == ("", "查无此人") and owners["C3"] == ("", "离职") and owners["C5"] == ("李四", "")
    assert state.notes["unassigned_tasks"] == 3


def test_unassigned_tasks_without_any_manager_are_a_problem():
    state, problems = run([customer("C1", "A", 1, rep="")], reps=[{"name": "张三"}])
    [p] = problems
    assert (p.sheet, p.row, p.column, p.kind) == ("业务员", None, "角色", "no_manager")
    assert "1" in p.message
    assert state.tasks[0].rep == ""


def test_the_whole_stage_list_runs_on_an_empty_register():
    state, problems = run([], reps=[])
    assert (state.tasks, state.days, problems) == ((), (), [])
    assert state.notes["customers_per_grade"] == {g: 0 for g in "ABCDE"}
