"""Follow-up cadence (pipeline/cadence.py): spec §3.2 and the 流失 interval of §3.3."""
from datetime import date, timedelta

import pandas as pd
import pytest

from pipeline.config import CadenceConfig, Config
from pipeline.model import Register, State
from pipeline.rules.cadence import cadence
from pipeline.rules.customer_state import customer_state
from pipeline.rules.grading import grade
from pipeline.rules.history import history
from pipeline.rules.stages import run_stages

T = date(2026, 11, 23)
STAGES = [history, customer_state, grade, cadence]


def day(offset: int) -> date:
    return T + timedelta(days=offset)


def run(customers, followups=(), orders=(), config=Config()) -> pd.DataFrame:
    register = Register.from_records(customers, followups, orders)
    state, _ = run_stages(State.start(register, T), config, STAGES)
    return state.customers.set_index("customer_id")


def graded(letter: str, **fields) -> dict:
    return {"customer_id": "C1", "name": "甲", "grade_override": letter, **fields}


@pytest.mark.parametrize("letter, interval", [("A", 1), ("B", 7), ("C", 15), ("D", 30), ("E", 365)])
def test_next_is_last_contact_plus_the_grade_interval(letter, interval):
    followups = [{"date": day(-3), "customer_id": "C1"}]
    c = run([graded(letter)], followups).loc["C1"]
    assert c.interval_days == interval
    assert c.next_follow_up == pd.Timestamp(day(-3 + interval))
    assert c.overdue_days == max(0, 3 - interval)


@pytest.mark.parametrize("contact_offset, overdue", [(-1, 0), (-2, 1), (-9, 8), (0, 0)])
def test_overdue_days_count_from_the_due_day(contact_offset, overdue):
    c = run([graded("A", last_contact=day(contact_offset))]).loc["C1"]
    assert c.overdue_days == overdue


def test_intervals_follow_config():
    config = Config(cadence=CadenceConfig(b=3))
    c = run([graded("B", last_contact=day(-10))], config=config).loc["C1"]
    assert (c.interval_days, c.next_follow_up, c.overdue_days) == (3, pd.Timestamp(day(-7)), 7)


@pytest.mark.parametrize("letter, interval", [("A", 30), ("C", 30), ("E", 365)])
def test_a_lost_customer_waits_at_least_30_days(letter, interval):
    orders = [{"date": day(-400), "customer_id": "C1", "amount": 10.0}]
    c = run([graded(letter)], orders=orders).loc["C1"]
    assert c.lifecycle == "流失" and c.interval_days == interval
    assert c.next_follow_up == pd.Timestamp(day(-400 + interval))


def test_lost_minimum_follows_config():
    orders = [{"date": day(-400), "customer_id": "C1", "amount": 10.0}]
    c = run([graded("A")], orders=orders, config=Config(cadence=CadenceConfig(lost_min_interval=60))).loc["C1"]
    assert c.interval_days == 60


def test_the_reps_own_next_date_wins_even_when_later_or_earlier():
    customers = [graded("A", customer_id="C1"), graded("E", customer_id="C2")]
    followups = [{"date": day(-5), "customer_id": "C1", "next_follow_up": day(10)},
                 {"date": day(-5), "customer_id": "C2", "next_follow_up": day(-2)}]
    c = run(customers, followups)
    assert c.loc["C1", "next_follow_up"] == pd.Timestamp(day(10)) and c.loc["C1", "overdue_days"] == 0
    assert c.loc["C2", "next_follow_up"] == pd.Timestamp(day(-2)) and c.loc["C2", "overdue_days"] == 2


def test_on_equal_dates_the_lower_rows_next_date_wins():
    followups = [{"date": day(-5), "customer_id": "C1", "next_follow_up": day(20), "row": 8},
                 {"date": day(-5), "customer_id": "C1", "next_follow_up": day(3), "row": 2}]
    assert run([graded("D")], followups).loc["C1", "next_follow_up"] == pd.Timestamp(day(20))


def test_a_latest_row_without_a_date_falls_back_to_the_interval():
    followups = [{"date": day(-9), "customer_id": "C1", "next_follow_up": day(20)},
                 {"date": day(-2), "customer_id": "C1"}]
    assert run([graded("B")], followups).loc["C1", "next_follow_up"] == pd.Timestamp(day(5))


@pytest.mark.parametrize("created, expected", [(day(-40), day(-40)), (None, T), (day(2), day(2))])
def test_never_contacted_is_due_from_created_or_today(created, expected):
    c = run([graded("D", created=created or pd.NaT)]).loc["C1"]
    assert c.next_follow_up == pd.Timestamp(expected)
    assert c.overdue_days == max(0, (T - expected).days)


@pytest.mark.parametrize("snooze, expected", [
    (day(10), day(10)),       # after T and after the due day: pushed
    (day(0), day(-2)),        # not after T: ignored
    (day(-1), day(-2)),
    (None, day(-2)),
])
def test_snooze_after_today_pushes_the_next_date(snooze, expected):
    c = run([graded("A", last_contact=day(-3), snooze_until=snooze or pd.NaT)]).loc["C1"]
    assert c.next_follow_up == pd.Timestamp(expected)


def test_snooze_never_pulls_a_later_date_earlier():
    followups = [{"date": day(-1), "customer_id": "C1", "next_follow_up": day(30)}]
    c = run([graded("A", snooze_until=day(10))], followups).loc["C1"]
    assert c.next_follow_up == pd.Timestamp(day(30))


def test_an_order_counts_as_contact():
    orders = [{"date": day(-4), "customer_id": "C1", "amount": 10.0}]
    followups = [{"date": day(-20), "customer_id": "C1"}]
    assert run([graded("B")], followups, orders).loc["C1", "next_follow_up"] == pd.Timestamp(day(3))


def test_blocked_customer_has_no_next_date():
    c = run([graded("A", blocked=True, last_contact=day(-9))]).loc["C1"]
    assert pd.isna(c.next_follow_up) and c.overdue_days == 0 and c.interval_days == 0
