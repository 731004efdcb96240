"""Follow-up cadence (跟进节奏, spec §3.2): when each customer must next be contacted.

Columns added to ``state.customers`` (needs history, rules.customer_state and grading):

- ``interval_days`` (int): the grade's interval (A 1, B 7, C 15, D 30, E 365); a 流失
  customer's is at least ``lost_min_interval``; 0 when blocked;
- ``next_follow_up`` (datetime64): the rep's own 下次跟进 on the latest follow-up row
  if set, else last contact + interval; never contacted → 建档日期, else T; a 暂缓至
  after T pushes it to that day when later.  NaT when blocked;
- ``overdue_days`` (int ≥ 0): T − next follow-up when that is on or before T, else 0.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from pipeline import schema
from pipeline.config import CadenceConfig, Config
from pipeline.model import Problem, State
from pipeline.rules.customer_state import LOST


def cadence(state: State, config: Config) -> tuple[State, list[Problem]]:
    customers = state.customers
    today = pd.Timestamp(state.today)
    interval = intervals(customers, config.cadence)
    due = next_follow_up(customers, interval, today)
    overdue = (today - due).dt.days.clip(lower=0).fillna(0).astype(int)
    added = {"interval_days": interval, "next_follow_up": due, "overdue_days": overdue}
    return replace(state, customers=customers.assign(**added)), []


def intervals(customers: pd.DataFrame, cadence_config: CadenceConfig) -> pd.Series:
    by_grade = {g: cadence_config.interval(g) for g in schema.GRADES}
    interval = customers["grade"].map(by_grade).fillna(0).astype(int)
    lost = customers["lifecycle"] == LOST
    return interval.where(~lost, np.maximum(interval, cadence_config.lost_min_interval))


def next_follow_up(customers: pd.DataFrame, interval: pd.Series, today: pd.Timestamp) -> pd.Series:
    from_contact = customers["last_contact"] + pd.to_timedelta(interval, unit="D")
    never_contacted = customers["created"].fillna(today)
    due = customers["rep_next_follow_up"].fillna(from_contact).fillna(never_contacted)
    snooze = customers["snooze_until"].where(customers["snooze_until"] > today)
    due = due.mask(snooze > due, snooze)
    return due.where(~customers["blocked"].astype(bool)).astype("datetime64[ns]")
