"""Churn risk (流失风险, spec §3.5): how likely each 现实 customer is to keep buying, and why.

高 = probably gone, 中 = slipping, 低 = steady, for every 现实 customer, one-time buyers
included; empty for 潜在 and 流失 customers and blocked rows.  Each rule that fires adds
one short reason sentence a rep understands; the level is the highest of its reasons.

Rules, in the order their reasons are listed:
- buying, with the purchase model fitted (MBG/NBD, ``pipeline.models.churn_model``):
  expected order days over the next ``model_horizon_gaps`` typical gaps of the shop under
  ``model_high_below`` or P(still buying) under ``model_gone_below`` → 高, expected
  order days under ``model_medium_below`` → 中 (defaults measured on the CDNOW log at three as-of
  dates, benchmarks/cdnow_check.py); the reason tells the buying and P(still buying);
- buying, without a model: broken rhythm (≥ 3 orders: 中/高 from the median gap) and a
  one-time buyer whose order is older than ``one_time_gap_factor`` × the shop's
  typical gap (中);
- spend falling (中), unhappy (高).
An overdue follow-up (rep neglect) is not churn: it is named in the task instead
(``pipeline.rules.rep_day``).

Reads the history, state and grading columns (order_count, last_order,
order_gaps_median, latest_satisfaction, lifecycle) and the register's orders.  Adds
p_alive, expected_orders and expected_value (see ``pipeline.models.churn_model``),
churn_risk, churn_gone (bool: the buying rules say 高, which turns a regular buyer's
follow-up into a win-back, ``pipeline.rules.win_back``), churn_reasons (tuple of str)
in the configured language, for emails and the report) and churn_reason (the register's
风险原因: the sentences in the register's language joined by "；").  Everything is column-wise.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from pipeline.messages import REGISTER_LANGUAGE, language, speaking, text
from pipeline.model import Problem, State
from pipeline.models.churn_model import apply_model, known_orders, shop_typical_gap
from pipeline.rules.customer_state import ACTIVE

HIGH, MEDIUM, LOW = "高", "中", "低"
_RANK_LEVEL = np.array([LOW, MEDIUM, HIGH], dtype=object)   # rank 0 / 1 / 2
_DAYS_PER_MONTH = 365.25 / 12


def churn_risk(state: State, config) -> tuple[State, list[Problem]]:
    """The churn stage: fit (or skip) the model, then apply the rules."""
    state = apply_model(state, config)
    customers = state.customers
    fitted = bool(state.notes["churn_model"]["fitted"])
    applies = ((customers["lifecycle"] == ACTIVE) & ~customers["blocked"].astype(bool)).to_numpy()
    today = pd.Timestamp(state.today)
    horizon = state.notes["churn_model"].get("model_horizon_days", 0)
    buying = ((_model(customers, config.churn, today, horizon),) if fitted else
              (_rhythm(customers, config.churn, today), _one_time(customers, config.churn, today)))
    rules = (*buying,
             _spend(customers, known_orders(state), config.churn, today),
             _unhappy(customers, config.churn))
    rank = np.zeros(len(customers), dtype=int)
    gone = np.zeros(len(customers), dtype=bool)
    fired_rules = []
    for number, (fired, reason) in enumerate(rules):
        fired = np.where(applies, fired, 0)
        rank = np.maximum(rank, fired)
        if number < len(buying):
            gone |= fired == 2
        fired_rules.append((fired > 0, reason))
    reasons = _reasons([_sentences(*f) for f in fired_rules], len(customers))
    # 风险原因 is a register column: in the register's words whatever the email language.
    same = language() == REGISTER_LANGUAGE
    with speaking(REGISTER_LANGUAGE):
        written = reasons if same else _reasons([_sentences(*f) for f in fired_rules], len(customers))
        joiner = text("churn.reason.joiner")
    customers = customers.assign(
        churn_risk=np.where(applies, _RANK_LEVEL[rank], ""),
        churn_gone=gone,
        churn_reasons=pd.Series(reasons, index=customers.index, dtype=object),
        churn_reason=[joiner.join(r) for r in written],
    )
    return replace(state, customers=customers), []


def _sentences(fired: np.ndarray, make) -> np.ndarray:
    """An object array with ``make(i)`` where the rule fired, "" elsewhere."""
    out = np.full(len(fired), "", dtype=object)
    for i in np.flatnonzero(fired):
        out[i] = make(i)
    return out


def _reasons(columns: list[np.ndarray], n: int) -> list[tuple[str, ...]]:
    stacked = np.column_stack(columns) if columns else np.empty((n, 0), dtype=object)
    return [tuple(s for s in row if s) for row in stacked]


def _round(value: float) -> int:
    """Half up, as people round (Python's round() goes to even)."""
    return int(np.floor(value + 0.5))


def _money(amount: float) -> str:
    # Returns can make a window's total negative: "-¥200", as accountants write it.
    whole = _round(amount)
    sign = "-" if whole < 0 else ""
    return sign + text("churn.money", amount=f"{abs(whole):,}")


def _days_since_last(c: pd.DataFrame, today: pd.Timestamp) -> np.ndarray:
    return (today - c["last_order"]).dt.days.astype(float).to_numpy()


def _rhythm(c: pd.DataFrame, churn, today: pd.Timestamp):
    """Broken rhythm (no model): d days since the last order against the median gap m."""
    gap = c["order_gaps_median"].astype(float).to_numpy()
    days = _days_since_last(c, today)
    eligible = ((c["order_count"].astype(float).to_numpy() >= churn.rhythm_min_orders)
                & np.isfinite(gap) & np.isfinite(days))
    with np.errstate(invalid="ignore"):
        medium = eligible & (days > np.maximum(churn.rhythm_medium_factor * gap,
                                               gap + churn.rhythm_medium_extra_days))
        high = eligible & (days > np.maximum(churn.rhythm_high_factor * gap,
                                             gap + churn.rhythm_high_extra_days))
    fired = np.where(high, 2, np.where(medium, 1, 0))
    return fired, (lambda i: text(
        "churn.reason.rhythm", gap=_round(gap[i]), days=int(days[i])))


def _one_time(c: pd.DataFrame, churn, today: pd.Timestamp):
    """A one-time buyer (no model) whose order is several of the shop's gaps old → 中."""
    typical = shop_typical_gap(c)
    days = _days_since_last(c, today)
    once = c["order_count"].astype(float).to_numpy() == 1
    with np.errstate(invalid="ignore"):
        fired = once & np.isfinite(days) & (days > churn.one_time_gap_factor * typical)
    last = c["last_order"]
    return fired.astype(int), (lambda i: text(
        "churn.reason.one_time_rhythm", bought=_once(last.iloc[i], days[i]), gap=_round(typical)))


def _once(last: pd.Timestamp, days: float) -> str:
    """只在2026年3月买过一次，之后8个月没有再来 (the since-part in days under two months)."""
    month = text("churn.month", year=last.year, month=last.month)
    if days < 60:
        since = text("churn.since_days", days=int(days))
    else:
        since = text("churn.since_months", months=_round(days / _DAYS_PER_MONTH))
    return text("churn.reason.once", month=month, since=since)


def _spend(c: pd.DataFrame, orders: pd.DataFrame, churn, today: pd.Timestamp):
    """Spend falling: the last window's amount under a share of the window before."""
    window = pd.Timedelta(days=churn.spend_window_days)
    recent_rows = orders["date"] > today - window
    earlier_rows = (orders["date"] > today - 2 * window) & ~recent_rows
    recent = _per_customer(c, orders[recent_rows])
    earlier = _per_customer(c, orders[earlier_rows])
    fired = (earlier >= churn.spend_min_amount) & (recent < churn.spend_drop_ratio * earlier)
    return fired.astype(int), (lambda i: _spend_reason(churn.spend_window_days, recent[i], earlier[i]))


def _spend_reason(window: int, recent: float, earlier: float) -> str:
    if recent == 0:
        return text("churn.reason.spend_none", window=window, earlier=_money(earlier))
    return text("churn.reason.spend", window=window, recent=_money(recent), earlier=_money(earlier),
                drop=_round(100.0 * (1.0 - recent / earlier)))


def _per_customer(c: pd.DataFrame, orders: pd.DataFrame) -> np.ndarray:
    totals = orders.groupby("customer_id")["amount"].sum()
    return totals.reindex(c["customer_id"]).astype(float).fillna(0.0).to_numpy()


def _unhappy(c: pd.DataFrame, churn):
    score = c["latest_satisfaction"].astype(float).to_numpy()
    with np.errstate(invalid="ignore"):
        fired = score <= churn.unhappy_satisfaction
    return 2 * fired.astype(int), (lambda i: text(
        "churn.reason.unhappy", score=f"{score[i]:g}"))


def _model(c: pd.DataFrame, churn, today: pd.Timestamp, horizon: float):
    """Levels from the fitted model: expected order days ahead under the thresholds."""
    expected = c["expected_orders"].astype(float).to_numpy()
    alive = c["p_alive"].astype(float).to_numpy()
    again = c["p_buy_again"].astype(float).to_numpy()
    with np.errstate(invalid="ignore"):
        gone = (expected < churn.model_high_below) | (alive < churn.model_gone_below)
        fired = np.where(gone, 2,
                         np.where(expected < churn.model_medium_below, 1, 0))
    count = c["order_count"].astype(float).to_numpy()
    gap = c["order_gaps_median"].astype(float).to_numpy()
    days = _days_since_last(c, today)
    last = c["last_order"]

    def reason(i: int) -> str:
        bought = (_once(last.iloc[i], days[i]) if count[i] == 1 else
                  text("churn.reason.rhythm", gap=_round(gap[i]), days=int(days[i])))
        # Gone: the chance they still buy from us at all.  Otherwise the chance of an order
        # within the horizon, which a rep reads more easily than expected orders (0.1 次).
        if alive[i] < churn.model_gone_below:
            return text("churn.reason.model_gone", bought=bought, chance=_chance(alive[i]))
        return text("churn.reason.model", bought=bought, chance=_chance(again[i]), horizon=int(horizon))
    return fired, reason


def _chance(alive: float) -> str:
    # Rounded down, so nobody reads a rounder, safer number than the model says.
    percent = int(np.floor(alive * 100.0))
    if percent < 1:
        return text("churn.chance_below_one")
    return text("churn.chance", percent=min(percent, 99))
