"""One customer, one card, and the one definition of the day's counts (issue #14)."""
from __future__ import annotations

import datetime as dt

import pytest

from pipeline.config import Config
from pipeline.read.validate import validate
from pipeline.read.workbook import read_workbook
from pipeline.rules.cards import DayCounts, count_cards, greetings, merge_cards
from tests.mail_fixtures import task
from tests.register_builder import CUSTOMER_HEADER, REPS_HEADER, customer, write_workbook

BIRTHDAY = dict(kind="care", care_event="生日（11月25日）", overdue_days=0,
                reasons=("生日（11月25日）：2026-11-25，还有2天", "B级客户"))


@pytest.mark.parametrize("tasks, counts", [
    # id, kind, overdue days -> the counts
    ([], DayCounts(0, 0, 0, 0, 0, 0, 0)),
    ([("C001", "follow_up", 3)], DayCounts(1, 1, 0, 0, 0, 0, 0)),
    ([("C002", "follow_up", 0)], DayCounts(1, 0, 1, 0, 0, 0, 0)),
    ([("C003", "win_back", 40)], DayCounts(1, 0, 0, 1, 0, 0, 0)),          # a win-back is not "overdue"
    ([("C002", "care", 0)], DayCounts(1, 0, 0, 0, 1, 0, 0)),
    ([("C002", "follow_up", 0), ("C002", "care", 0)], DayCounts(1, 0, 1, 0, 0, 1, 0)),
    ([("C003", "win_back", 40), ("C003", "care", 0)], DayCounts(1, 0, 0, 1, 0, 1, 0)),
    ([("C001", "follow_up", 3), ("C002", "follow_up", 0), ("C003", "win_back", 40),
      ("C002", "care", 0), ("C001", "care", 0), ("C004", "care", 0)], DayCounts(4, 1, 1, 1, 1, 2, 0)),
])
def test_counts_add_up_to_the_customers(tasks, counts):
    built = [task(cid, rep="王强", **(BIRTHDAY if kind == "care" else dict(kind=kind, overdue_days=days)))
             for cid, kind, days in tasks]
    found = count_cards(built)
    assert found == counts
    assert found.overdue + found.due + found.win_back + found.care == found.customers


def test_a_greeting_folds_into_the_customers_card_with_its_reason():
    follow = task("C002", rep="王强")
    [card] = merge_cards([follow, task("C002", rep="王强", **BIRTHDAY)])
    assert card.kind == "follow_up" and card.customer_id == "C002"
    assert card.reasons == ("B级客户", "生日（11月25日）：2026-11-25，还有2天")   # the grade is said once
    assert [g.care_event for g in greetings(card)] == ["生日（11月25日）"]
    assert merge_cards([card]) == [card]                                        # idempotent


def test_the_same_customer_in_two_lists_stays_two_cards():
    # The unassigned list ("") and a rep's list are different lists.
    cards = merge_cards([task("C007", rep=""), task("C007", rep="王强")])
    assert [c.rep for c in cards] == ["", "王强"]


def test_the_waiting_count_is_passed_through():
    assert count_cards([task("C001", rep="王强")], waiting=7).waiting == 7


@pytest.mark.parametrize("header", ["微信号", "微信", "WeChat", "wechat", "微信號"])
def test_the_wechat_column_is_read_under_its_usual_names(tmp_path, header):
    rows = [customer("C1", "甲") + [13800138000], customer("C2", "乙") + [" wx_abc "]]
    path = write_workbook(tmp_path / "r.xlsx", {"客户": [CUSTOMER_HEADER + [header], *rows],
                                                "业务员": [REPS_HEADER, ["王强", "w@x.com", "业务员", "是"]]})
    register, _ = validate(read_workbook(path), Config(), dt.date(2026, 11, 23))
    assert register.customers["wechat"].tolist() == ["13800138000", "wx_abc"]
