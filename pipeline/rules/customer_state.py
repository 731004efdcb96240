"""Customer state (客户状态, §3.3), key accounts (重点客户, §3.4), profile completeness.

Columns added to ``state.customers`` (needs the history columns):

- ``lifecycle`` (str): "潜在" no orders yet, "现实" last order within
  ``lost_after_days`` (T − last order ≤ 365), "流失" longer ago; "" when blocked;
- ``key_account`` (bool): the 80/20 rule — rank by ``revenue_window`` (highest first,
  ties by 客户编号), take customers until together they make at least
  ``key_account_share`` of the window's revenue; no revenue in the window, never key;
- ``completeness`` (float 0–1): share of the nine profile fields filled; NaN when blocked.

Notes for summary.json: ``customers_per_state`` ({"潜在": n, "现实": n, "流失": n}) and
``key_accounts`` (n), over the customers not blocked.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from pipeline import schema
from pipeline.config import Config
from pipeline.model import Problem, State
from pipeline.rules.history import text_column
from pipeline.schema import ACTIVE, LOST, POTENTIAL

# Cumulative shares are float sums of money; a share that is 80% up to rounding is 80%.
_SHARE_TOLERANCE = 1e-9


def customer_state(state: State, config: Config) -> tuple[State, list[Problem]]:
    customers = state.customers
    blocked = customers["blocked"].astype(bool)
    added = {
        "lifecycle": lifecycle(customers, pd.Timestamp(state.today), config.state.lost_after_days),
        "key_account": key_accounts(customers, config.state.key_account_share),
        "completeness": completeness(customers).where(~blocked),
    }
    counted = added["lifecycle"].loc[~blocked]
    notes = {**state.notes,
             "customers_per_state": {s: int((counted == s).sum()) for s in (POTENTIAL, ACTIVE, LOST)},
             "key_accounts": int(added["key_account"].sum())}
    return replace(state, customers=customers.assign(**added), notes=notes), []


def lifecycle(customers: pd.DataFrame, today: pd.Timestamp, lost_after_days: int) -> pd.Series:
    since_last = (today - customers["last_order"]).dt.days
    values = np.select(
        [customers["blocked"].astype(bool), customers["order_count"] == 0, since_last <= lost_after_days],
        ["", POTENTIAL, ACTIVE], LOST)
    return pd.Series(values, index=customers.index, dtype=object)


def key_accounts(customers: pd.DataFrame, share: float) -> pd.Series:
    earning = ~customers["blocked"].astype(bool) & (customers["revenue_window"] > 0)
    ranked = pd.DataFrame({"id": text_column(customers["customer_id"]),
                           "revenue": customers["revenue_window"]}).loc[earning]
    ranked = ranked.sort_values(["revenue", "id"], ascending=[False, True], kind="stable")
    total = ranked["revenue"].sum()
    # Taken while the ones above them do not yet make the share: the customer who
    # crosses the line is key, the next one is not.
    before = ranked["revenue"].cumsum() - ranked["revenue"]
    taken = ranked.index[before < share * total * (1 - _SHARE_TOLERANCE)]
    return pd.Series(customers.index.isin(taken), index=customers.index)


def completeness(customers: pd.DataFrame) -> pd.Series:
    filled = sum((text_column(customers[name]).str.strip() != "").astype(int)
                 for name in schema.PROFILE_FIELDS)
    return filled / len(schema.PROFILE_FIELDS)
