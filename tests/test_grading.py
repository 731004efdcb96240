"""Grade A–E (pipeline/grading.py): spec §3.1, rule by rule, with the spec's numbers."""
from dataclasses import replace
from datetime import date, timedelta

import pandas as pd
import pytest

from pipeline.config import Config, GradingConfig
from pipeline.model import Register, SheetLayout, State
from pipeline.rules.customer_state import customer_state
from pipeline.rules.grading import grade
from pipeline.rules.history import history
from pipeline.rules.stages import run_stages

T = date(2026, 11, 23)
STAGES = [history, customer_state, grade]


def day(offset: int) -> date:
    return T + timedelta(days=offset)


def run(customers, followups=(), orders=(), config=Config(), register=None):
    register = register or Register.from_records(customers, followups, orders)
    state, problems = run_stages(State.start(register, T), config, STAGES)
    return state.customers.set_index("customer_id"), problems, state.notes


def clear(offset):
    return [{"customer_id": "C1", "name": "甲", "need": "明确", "expected_close": day(offset)}]


@pytest.mark.parametrize("offset, expected", [
    (0, "A"), (1, "A"), (30, "A"), (31, "B"), (90, "B"), (91, "C"), (180, "C"), (181, "D"), (900, "D"),
    # Up to 30 days past the deal is due now.
    (-1, "A"), (-30, "A"),
])
def test_clear_need_by_days_until_expected_close(offset, expected):
    c, problems, _ = run(clear(offset))
    assert c.loc["C1", "grade"] == expected
    assert problems == []


@pytest.mark.parametrize("offset", [-31, -200])
def test_clear_need_long_past_is_c_with_a_problem(offset):
    c, problems, _ = run(clear(offset))
    assert c.loc["C1", "grade"] == "C"
    [p] = problems
    assert (p.sheet, p.row, p.column, p.kind) == ("客户", 2, "预计成交", "grade_close_past")
    assert p.value == day(offset).isoformat()
    assert str(-offset) in p.message and "C1" in p.message and p.fix


def test_clear_need_without_date_is_c_with_a_problem():
    c, problems, _ = run([{"customer_id": "C1", "name": "甲", "need": "明确", "row": 7}])
    assert c.loc["C1", "grade"] == "C"
    [p] = problems
    assert (p.sheet, p.row, p.column, p.kind, p.value) == ("客户", 7, "预计成交", "grade_close_missing", "")


@pytest.mark.parametrize("grading, offset, expected", [
    (GradingConfig(a_days=10), 10, "A"),
    (GradingConfig(a_days=10), 11, "B"),
    (GradingConfig(b_days=60), 61, "C"),
    (GradingConfig(c_days=120), 121, "D"),
    (GradingConfig(past_due_grace_days=7), -7, "A"),
    (GradingConfig(past_due_grace_days=7), -8, "C"),
])
def test_thresholds_follow_config(grading, offset, expected):
    c, _, _ = run(clear(offset), config=Config(grading=grading))
    assert c.loc["C1", "grade"] == expected


@pytest.mark.parametrize("need, expected", [("无", "E"), ("潜在", "D")])
def test_no_need_is_e_and_latent_need_is_d(need, expected):
    c, problems, _ = run([{"customer_id": "C1", "name": "甲", "need": need, "expected_close": day(5)}])
    assert c.loc["C1", "grade"] == expected and problems == []


@pytest.mark.parametrize("override", ["A", "E", "c"])
def test_override_wins(override):
    customers = [{"customer_id": "C1", "name": "甲", "need": "无", "grade_override": override}]
    c, _, _ = run(customers)
    assert c.loc["C1", "grade"] == override.upper()
    assert c.loc["C1", "grade_basis"] == "override"


def test_override_wins_over_a_missing_date_without_a_problem():
    customers = [{"customer_id": "C1", "name": "甲", "need": "明确", "grade_override": "B"}]
    c, problems, _ = run(customers)
    assert c.loc["C1", "grade"] == "B" and problems == []


def orders_at(*offsets, cid="C1"):
    return [{"date": day(o), "customer_id": cid, "amount": 100.0} for o in offsets]


@pytest.mark.parametrize("order_offsets, expected", [
    # Repeat buyer: expected close = last order + median gap.
    ([-40, -20], "A"),           # next order expected today
    ([-50, -10], "A"),           # 30 days ahead
    ([-200, -150], "A"),         # expected 100 days ago: past counts as A (due to order now)
    ([-51, -10], "B"),           # 31 days ahead
    ([-110, -10], "B"),          # 90 days ahead
    ([-111, -10], "C"),          # 91 days ahead
    ([-200, -10], "C"),          # 180 days ahead
    ([-201, -10], "D"),          # 181 days ahead
    ([-60, -50, -40, -10], "A"),  # gaps 10, 10, 30: median 10 → expected 0 days ahead
    ([-10, -10], "D"),           # two orders one day are one occasion
    ([-30], "D"),                # one order
    ([-800, -366], "D"),         # 流失
])
def test_empty_need_grades_by_order_history(order_offsets, expected):
    c, problems, _ = run([{"customer_id": "C1", "name": "甲"}], orders=orders_at(*order_offsets))
    assert c.loc["C1", "grade"] == expected and problems == []


def test_empty_need_and_no_orders_is_d_with_a_problem():
    c, problems, _ = run([{"customer_id": "C1", "name": "甲", "row": 4}])
    assert c.loc["C1", "grade"] == "D"
    [p] = problems
    assert (p.row, p.column, p.kind) == (4, "需求", "grade_need_missing")


def test_latest_followup_changes_the_grade():
    customers = clear(10) + [{"customer_id": "C2", "name": "乙", "need": "潜在"},
                             {"customer_id": "C3", "name": "丙", "need": "明确", "expected_close": day(10)}]
    followups = [
        {"date": day(-5), "customer_id": "C1", "need": "无"},
        {"date": day(-2), "customer_id": "C1", "content": "没提需求"},      # empty need erases nothing
        {"date": day(-3), "customer_id": "C2", "need": "明确", "expected_close": day(100)},
        {"date": day(-1), "customer_id": "C3", "expected_close": day(150)},  # only the date moves
    ]
    c, _, _ = run(customers, followups)
    assert list(c.loc[["C1", "C2", "C3"], "grade"]) == ["E", "C", "C"]


def test_problem_names_the_header_the_user_typed():
    register = Register.from_records(clear(-60))
    layout = register.layout["customers"]
    headers = {**layout.headers, "expected_close": "預計成交"}
    register = replace(register, layout={**register.layout, "customers": SheetLayout(
        sheet="客戶", headers=headers, columns=layout.columns, n_columns=layout.n_columns)})
    _, [p], _ = run(None, register=register)
    assert (p.sheet, p.column) == ("客戶", "預計成交")


def test_blocked_customer_gets_no_grade_and_no_problem():
    customers = [{"customer_id": "C1", "name": "甲", "need": "明确", "blocked": True},
                 {"customer_id": "C2", "name": "乙", "need": "无"}]
    c, problems, notes = run(customers)
    assert c.loc["C1", "grade"] == "" and problems == []
    assert notes["customers_per_grade"] == {"A": 0, "B": 0, "C": 0, "D": 0, "E": 1}


def test_grade_close_is_the_date_the_grade_was_read_from():
    customers = clear(45) + [{"customer_id": "C2", "name": "乙"}]
    c, _, _ = run(customers, orders=orders_at(-30, -10, cid="C2"))
    assert c.loc["C1", "grade_close"] == pd.Timestamp(day(45))
    assert c.loc["C2", "grade_close"] == pd.Timestamp(day(10))
    assert (c.loc["C1", "grade_basis"], c.loc["C2", "grade_basis"]) == ("clear", "repeat")
