"""Churn risk (流失风险, spec §3.5): which 现实 customers are drifting away, and why.

Each rule that fires adds one short reason sentence a rep understands; the risk is the
highest level among the customer's reasons (高 > 中), 低 for a 现实 customer with no
reason, and empty for 潜在 and 流失 customers and blocked rows.

Rules, in the order their reasons are listed:
- broken rhythm (中/高; at most 中 when the statistical model is fitted, because the
  model alone decides 高 among the order-history rules),
- spend falling (中), neglected follow-up (中), unhappy (高),
- the model: probability still active under the threshold (高).

Reads the columns the history and grading stages add (order_count = order days,
last_order, order_gaps_median in days, revenue_window, latest_satisfaction, lifecycle,
grade, overdue_days, interval_days) and the register's orders.  Adds p_alive and
expected_value (see ``pipeline.models.churn_model``), churn_risk,
churn_reasons (tuple of str, in the configured language, for emails and the report) and
churn_reason (the register's 风险原因: the sentences in the register's language joined by "；").
Everything is column-wise: 50,000 customers take well under a second plus the fit.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from pipeline.messages import REGISTER_LANGUAGE, language, speaking, text
from pipeline.model import Problem, State
from pipeline.models.churn_model import apply_model, known_orders
from pipeline.rules.customer_state import ACTIVE

HIGH, MEDIUM, LOW = "高", "中", "低"
_RANK_LEVEL = np.array([LOW, MEDIUM, HIGH], dtype=object)   # rank 0 / 1 / 2
_NEGLECT_GRADES = ("A", "B", "C")


def churn_risk(state: State, config) -> tuple[State, list[Problem]]:
    """The churn stage: fit (or skip) the model, then apply the rules."""
    state = apply_model(state, config)
    customers = state.customers
    fitted = bool(state.notes["churn_model"]["fitted"])
    applies = ((customers["lifecycle"] == ACTIVE) & ~customers["blocked"].astype(bool)).to_numpy()
    today = pd.Timestamp(state.today)
    rules = (
        _rhythm(customers, config.churn, today, capped=fitted),
        _spend(customers, known_orders(state), config.churn, today),
        _neglected(customers, config.churn),
        _unhappy(customers, config.churn),
        _model(customers, config.churn),   # p_alive is NaN throughout when not fitted
    )
    rank = np.zeros(len(customers), dtype=int)
    fired_rules = []
    for fired, reason in rules:
        fired = np.where(applies, fired, 0)
        rank = np.maximum(rank, fired)
        fired_rules.append((fired > 0, reason))
    reasons = _reasons([_sentences(*f) for f in fired_rules], len(customers))
    # 风险原因 is a register column: in the register's words whatever the email language.
    same = language() == REGISTER_LANGUAGE
    with speaking(REGISTER_LANGUAGE):
        written = reasons if same else _reasons([_sentences(*f) for f in fired_rules], len(customers))
        joiner = text("churn.reason.joiner")
    customers = customers.assign(
        churn_risk=np.where(applies, _RANK_LEVEL[rank], ""),
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


def _rhythm(c: pd.DataFrame, churn, today: pd.Timestamp, *, capped: bool):
    """Broken rhythm: d days since the last order against the median gap m."""
    gap = c["order_gaps_median"].astype(float).to_numpy()
    days = (today - c["last_order"]).dt.days.astype(float).to_numpy()
    eligible = ((c["order_count"].astype(float).to_numpy() >= churn.rhythm_min_orders)
                & np.isfinite(gap) & np.isfinite(days))
    with np.errstate(invalid="ignore"):
        medium = eligible & (days > np.maximum(churn.rhythm_medium_factor * gap,
                                               gap + churn.rhythm_medium_extra_days))
        high = eligible & (days > np.maximum(churn.rhythm_high_factor * gap,
                                             gap + churn.rhythm_high_extra_days))
    fired = np.where(high & (not capped), 2, np.where(medium, 1, 0))
    return fired, (lambda i: text(
        "churn.reason.rhythm", gap=_round(gap[i]), days=int(days[i])))


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


def _neglected(c: pd.DataFrame, churn):
    """Grades A–C overdue by more than their interval and more than the minimum."""
    grade = c["grade"].astype(object).to_numpy()
    overdue = c["overdue_days"].astype(float).fillna(0.0).to_numpy()
    interval = c["interval_days"].astype(float).to_numpy()
    with np.errstate(invalid="ignore"):
        fired = (np.isin(grade, _NEGLECT_GRADES) & (overdue > interval)
                 & (overdue > churn.neglect_min_days))
    return fired.astype(int), (lambda i: text(
        "churn.reason.neglected", grade=grade[i], interval=int(interval[i]), overdue=int(overdue[i])))


def _unhappy(c: pd.DataFrame, churn):
    score = c["latest_satisfaction"].astype(float).to_numpy()
    with np.errstate(invalid="ignore"):
        fired = score <= churn.unhappy_satisfaction
    return 2 * fired.astype(int), (lambda i: text(
        "churn.reason.unhappy", score=f"{score[i]:g}"))


def _model(c: pd.DataFrame, churn):
    alive = c["p_alive"].astype(float).to_numpy()
    with np.errstate(invalid="ignore"):
        fired = alive < churn.model_alive_threshold
    return 2 * fired.astype(int), (lambda i: _model_reason(alive[i]))


def _model_reason(alive: float) -> str:
    # Rounded down, so a customer under a 30% threshold never reads "30%".
    percent = int(np.floor(alive * 100.0))
    if percent < 1:
        return text("churn.reason.model_below_one")
    return text("churn.reason.model", percent=percent)
