"""No daily calls to the gone (spec §3.1 step 5, §3.5): a regular buyer judged probably gone
gets a win-back at the lost-customer cadence instead of a daily A follow-up.

A repeat buyer without a stated need is graded from their expected next order (grade
basis ``repeat``), so one whose next order is long past reads "A, due now" — next to a
churn reason saying they have not ordered for months.  Once the churn stage's buying
rules judge them 高 (``churn_gone``), this stage re-grades them D with basis
``repeat_gone``, gives them the lost-customer interval (at least
``cadence.lost_min_interval`` days) from their last contact, and marks them
``win_back``: the rep's list shows a 挽回 line with the churn reasons.

Columns changed: grade, grade_basis, interval_days, next_follow_up, overdue_days;
added: ``win_back`` (bool: 流失 customers and the regular buyers judged gone).
Notes: customers_per_grade is recounted.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from pipeline import schema
from pipeline.config import Config
from pipeline.model import Problem, State
from pipeline.rules.cadence import next_follow_up
from pipeline.rules.customer_state import LOST

GONE_GRADE = "D"


def win_back(state: State, config: Config) -> tuple[State, list[Problem]]:
    customers = state.customers
    today = pd.Timestamp(state.today)
    gone = ((customers["grade_basis"] == "repeat") & customers["churn_gone"].astype(bool)
            & ~customers["blocked"].astype(bool))
    interval = max(config.cadence.interval(GONE_GRADE), config.cadence.lost_min_interval)
    changed = customers.loc[gone]
    changed = changed.assign(grade=GONE_GRADE, grade_basis="repeat_gone", interval_days=interval)
    changed = changed.assign(next_follow_up=next_follow_up(changed, changed["interval_days"], today))
    changed = changed.assign(overdue_days=(today - changed["next_follow_up"]).dt.days
                             .clip(lower=0).fillna(0).astype(int))
    customers = customers.copy()
    for column in ("grade", "grade_basis", "interval_days", "next_follow_up", "overdue_days"):
        customers.loc[gone, column] = changed[column]
    customers["win_back"] = np.asarray(gone | (customers["lifecycle"] == LOST), dtype=bool)
    grades = customers["grade"]
    notes = {**state.notes, "customers_per_grade": {g: int((grades == g).sum()) for g in schema.GRADES},
             "regular_buyers_to_win_back": int(gone.sum())}
    return replace(state, customers=customers, notes=notes), []
