"""Care tasks (pipeline/care.py): spec §3.6, with the real lunar calendar and holidays."""
from datetime import date

import pytest

from pipeline.config import CareConfig, Config
from pipeline.dates.care_dates import parse_birthday
from pipeline.model import Register, State
from pipeline.rules.stages import STAGES, run_stages

REPS = [{"name": "张三"}, {"name": "王总", "role": "主管"}]
NO_FESTIVALS = Config(care=CareConfig(festivals=()))


def run(customers, today, config=NO_FESTIVALS, orders=()):
    register = Register.from_records(customers, (), orders, REPS)
    state, problems = run_stages(State.start(register, today), config, STAGES)
    return state


def person(cid="C1", birthday="", grade="B", **fields):
    # Contacted today, so no follow-up task: only care tasks are listed.
    return {"customer_id": cid, "name": f"客户{cid}", "rep": "张三", "grade_override": grade,
            "birthday": birthday, "birthday_parsed": parse_birthday(birthday),
            "last_contact": fields.pop("today"), **fields}


def care(state):
    """The greetings of the day, card by card (a customer's greetings share one card)."""
    return [(t.customer_id, t.due, t.care_event) for card in state.tasks
            for t in (card, *card.also) if t.kind == "care"]


MID_AUTUMN_2027 = date(2027, 9, 15)


@pytest.mark.parametrize("today, listed", [
    (date(2027, 9, 11), False),      # 4 days before
    (date(2027, 9, 13), True),       # a Monday, 2 days before (the weekend before is also covered)
    (date(2027, 9, 14), True),
    (MID_AUTUMN_2027, True),         # the day itself
    # 中秋 itself is a public holiday, so the next working day still lists it.
    (date(2027, 9, 16), True),
    (date(2027, 9, 17), False),
])
def test_lunar_birthday_listed_from_three_days_before_through_the_day(today, listed):
    state = run([person(birthday="农历八月十五", today=today)], today)
    expected = [("C1", MID_AUTUMN_2027, "生日（农历八月十五）")] if listed else []
    assert care(state) == expected


def test_care_task_line_says_when_and_why():
    today = date(2027, 9, 13)
    state = run([person(birthday="农历八月十五", today=today, grade="A")], today)
    [task] = [t for t in state.tasks if t.kind == "care"]
    assert task.reasons[0] == "生日（农历八月十五）：2027-09-15，还有2天"
    assert task.reasons[1] == "A级：主管设定的人工等级"
    assert (task.rep, task.overdue_days, task.due) == ("张三", 0, MID_AUTUMN_2027)
    assert "问候" in task.record_hint


def test_the_year_without_official_holidays_is_noted():
    state = run([], date(2027, 9, 13))
    assert state.notes["unknown_holiday_years"] == [2027]
    assert run([], date(2026, 11, 23)).notes["unknown_holiday_years"] == []


@pytest.mark.parametrize("today, due, listed", [
    # 2026 国庆: days off 1–7 October; 30 September is the last working day before.
    (date(2026, 9, 30), None, False),                      # 5 October is more than 3 days ahead
    (date(2026, 10, 8), date(2026, 10, 5), True),          # first working day after: still listed
    (date(2026, 10, 9), None, False),                      # the day after that: gone
])
def test_a_birthday_over_a_holiday_is_listed_on_the_next_working_day(today, due, listed):
    state = run([person(birthday="10月5日", today=today)], today)
    assert care(state) == ([("C1", due, "生日（10月5日）")] if listed else [])
    if listed:
        task = state.tasks[-1]
        assert task.reasons[0] == "生日（10月5日）：2026-10-05，在休息日，已过3天"


def test_a_weekend_birthday_is_listed_on_monday_even_with_no_days_ahead():
    config = Config(care=CareConfig(days_ahead=0, festivals=()))
    monday = date(2026, 11, 23)
    state = run([person(birthday="1980-11-22", today=monday)], monday, config)
    assert care(state) == [("C1", date(2026, 11, 22), "生日（1980年11月22日）")]
    assert run([person(birthday="11月25日", today=monday)], monday, config).tasks == ()


@pytest.mark.parametrize("grade, revenue, listed", [
    ("A", 0, True), ("B", 0, True), ("C", 0, True), ("D", 0, False), ("E", 0, False),
    ("D", 500.0, True),              # a key account is greeted whatever its grade
])
def test_care_for_grades_a_to_c_and_key_accounts(grade, revenue, listed):
    today = date(2026, 11, 23)
    orders = [{"date": date(2026, 11, 20), "customer_id": "C1", "amount": revenue}] if revenue else []
    state = run([person(birthday="11月24日", grade=grade, today=today)], today, orders=orders)
    assert bool(care(state)) == listed


def test_care_grades_follow_config():
    today = date(2026, 11, 23)
    config = Config(care=CareConfig(festivals=(), grades=("D",)))
    customers = [person("C1", "11月24日", "D", today=today), person("C2", "11月24日", "A", today=today)]
    assert [cid for cid, _, _ in care(run(customers, today, config))] == ["C1"]


def test_festivals_for_every_cared_customer_soonest_first():
    today = date(2026, 9, 22)          # 中秋 2026 is 25 September, 国庆 1 October
    config = Config(care=CareConfig(festivals=("国庆", "中秋"), days_ahead=9))
    customers = [person("C1", "9月23日", "B", today=today), person("C2", grade="A", today=today),
                 person("C3", grade="D", today=today), person("C4", grade="C", blocked=True, today=today)]
    state = run(customers, today, config)
    # One card per customer, in the order of their soonest greeting; on a card soonest first.
    assert [t.customer_id for t in state.tasks] == ["C1", "C2"]
    assert care(state) == [
        ("C1", date(2026, 9, 23), "生日（9月23日）"), ("C1", date(2026, 9, 25), "中秋节"),
        ("C1", date(2026, 10, 1), "国庆节"),
        ("C2", date(2026, 9, 25), "中秋节"), ("C2", date(2026, 10, 1), "国庆节")]


def test_spring_festival_by_default():
    today = date(2027, 2, 4)           # 春节 2027 is 6 February
    state = run([person(grade="C", today=today)], today, Config())
    assert care(state) == [("C1", date(2027, 2, 6), "春节")]


def test_care_tasks_of_unassigned_customers_go_to_the_manager():
    today = date(2026, 11, 23)
    state = run([person(birthday="11月23日", rep="", today=today)], today)
    [manager] = [d for d in state.days if d.rep == "王总"]
    assert [(t.kind, t.care_event) for t in manager.unassigned] == [("care", "生日（11月23日）")]


def test_solar_29_february_falls_on_28_february():
    today = date(2027, 2, 26)
    state = run([person(birthday="2000-02-29", today=today)], today)
    assert care(state) == [("C1", date(2027, 2, 28), "生日（2000年2月29日）")]
