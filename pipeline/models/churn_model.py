"""The statistical part of the churn stage: MBG/NBD and Gamma-Gamma fitted to the register.

Decides whether the shop has enough order history for the model (spec §3.5: at least
``model_min_repeat_customers`` customers with orders on 2 or more days), fits it in
weeks, and gives every customer

- ``p_alive``: the probability they still buy from the shop (NaN when not fitted or
  when they never ordered); one-time buyers get an honest one too (the MBG/NBD lets a
  customer drop out after the first purchase, where the BG/NBD held them at 100%),
- ``expected_orders``: expected order days in the next ``model_horizon_gaps`` × the
  shop's typical gap (NaN when not fitted or never ordered), which the churn levels are
  cut from: a horizon in the shop's own rhythm keeps the thresholds measured on CDNOW
  (a CD shop) meaningful for a parts shop whose customers order every week or two,
- ``p_buy_again``: the probability of at least one order within that horizon (NaN
  likewise), which the reason sentence states,
- ``expected_value``: expected order amount in the next ``value_horizon_days``
  (expected order days × expected amount per order day, Gamma-Gamma).

Without a fit the last year is taken as a run-rate instead, for 现实 customers only:
expected_value = their ``revenue_window`` (the history stage's order amount over the
last ``key_account_window_days``) scaled to the value horizon; 潜在 and 流失
customers get 0.  What was done, and why, goes into
``state.notes["churn_model"]`` (plain values, for summary.json).
"""
from __future__ import annotations

from dataclasses import asdict, replace

import numpy as np
import pandas as pd

from pipeline.messages import text
from pipeline.model import State
from pipeline.models.bgnbd import rfm_summary
from pipeline.models.mbgnbd import expected_purchases, fit_mbgnbd, p_alive, probability_of_buying
from pipeline.models.spend_model import fit_gamma_gamma, value_of_orders
from pipeline.schema import ACTIVE

UNIT_DAYS = 7.0          # the model is fitted in weeks, as in the literature


def known_orders(state: State) -> pd.DataFrame:
    """Orders the rules may use: not blocked, dated on or before T, of a customer row
    that is not blocked.  Columns customer_id, date, amount (NaN amount → 0)."""
    orders = state.register.orders
    customers = state.customers
    ids = customers.loc[~customers["blocked"].astype(bool), "customer_id"]
    keep = (~orders["blocked"].astype(bool) & orders["date"].notna()
            & (orders["date"] <= pd.Timestamp(state.today)) & orders["customer_id"].isin(ids))
    picked = orders.loc[keep, ["customer_id", "date", "amount"]]
    return picked.assign(amount=picked["amount"].astype(float).fillna(0.0))


def apply_model(state: State, config) -> State:
    """``state`` with p_alive, expected_orders and expected_value on customers, and
    notes["churn_model"] saying whether the model was fitted."""
    churn = config.churn
    orders = known_orders(state)
    summary = rfm_summary(orders["customer_id"], orders["date"], state.today,
                          unit_days=UNIT_DAYS, amounts=orders["amount"])
    repeat = int((summary["x"] >= 1).sum())
    note: dict = {"fitted": False, "repeat_customers": repeat,
                  "min_repeat_customers": int(churn.model_min_repeat_customers),
                  "unit_days": UNIT_DAYS, "reason": "", "message": ""}
    run_rate = _run_rate(state, config)
    if repeat < churn.model_min_repeat_customers:
        note.update(reason="too_few_repeat_customers",
                    message=text("churn.model.skipped_few_repeat", found=repeat,
                                 needed=churn.model_min_repeat_customers))
        columns = run_rate
    else:
        columns = _fitted(state, summary, churn, note)
        columns = run_rate if columns is None else _patched(columns, run_rate, state, note)
    customers = state.customers.assign(**columns)
    return replace(state, customers=customers, notes={**state.notes, "churn_model": note})


def _fitted(state: State, summary: pd.DataFrame, churn, note: dict) -> dict | None:
    """Model columns from a fit, or None (with the reason in ``note``) if it fails."""
    x, t_x, T, monetary = (summary[c].to_numpy() for c in ("x", "t_x", "T", "monetary"))
    try:
        model = fit_mbgnbd(x, t_x, T)
    except ValueError as error:
        note.update(reason="fit_failed",
                    message=text("churn.model.skipped_fit_failed", error=str(error)))
        return None
    try:
        gg = fit_gamma_gamma(x, monetary)
        note["gamma_gamma"] = asdict(gg)
    except ValueError as error:
        gg = None
        note["gamma_gamma"] = None
        note["spend_message"] = text("churn.model.spend_fallback", error=str(error))
    horizon_days = model_horizon_days(state.customers, churn)
    note.update(fitted=True, mbgnbd=asdict(model),
                value_horizon_days=int(churn.value_horizon_days),
                shop_typical_gap_days=shop_typical_gap(state.customers),
                model_horizon_days=horizon_days)
    # Non-finite results are expected for extreme fits and replaced in _patched.
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        alive = p_alive(model, x, t_x, T)
        orders_ahead = expected_purchases(model, churn.value_horizon_days / UNIT_DAYS, x, t_x, T)
        value = value_of_orders(orders_ahead, gg, x, monetary)
        expected_orders = expected_purchases(model, horizon_days / UNIT_DAYS, x, t_x, T)
        buy_again = probability_of_buying(model, horizon_days / UNIT_DAYS, x, t_x, T)
    per_id = pd.DataFrame({"p_alive": alive, "expected_orders": expected_orders, "p_buy_again": buy_again,
                           "expected_value": value}, index=summary.index)
    return _per_customer(state.customers, per_id)


def shop_typical_gap(customers: pd.DataFrame) -> float:
    """The shop's typical days between orders: the median of its repeat buyers' own
    median gaps (NaN when nobody has ordered on two days)."""
    gaps = customers.loc[~customers["blocked"].astype(bool), "order_gaps_median"].astype(float).dropna()
    return float(gaps.median()) if len(gaps) else float("nan")


def model_horizon_days(customers: pd.DataFrame, churn) -> float:
    """The horizon the churn levels read expected orders over: ``model_horizon_gaps``
    typical gaps, whole days (at least 1; a year when no gap is known)."""
    typical = shop_typical_gap(customers)
    if not np.isfinite(typical):
        return 365.0
    return float(max(1, int(np.floor(churn.model_horizon_gaps * typical + 0.5))))


def _patched(columns: dict, run_rate: dict, state: State, note: dict) -> dict:
    """Where the model's numbers are not finite (the series behind eq. 10 can overflow
    for extreme fits), use the run-rate estimate for that customer and count them."""
    blocked = state.customers["blocked"].astype(bool).to_numpy()
    value = columns["expected_value"]
    bad = ~np.isfinite(value) & ~blocked
    # Returns can make a mean order amount negative; nobody is worth less than nothing.
    columns["expected_value"] = np.clip(np.where(bad, run_rate["expected_value"], value), 0.0, None)
    note["run_rate_customers"] = int(bad.sum())
    return columns


def _per_customer(customers: pd.DataFrame, per_id: pd.DataFrame) -> dict:
    """Map per-customer-id values onto the customer rows: no orders → p_alive NaN and
    nothing expected; blocked rows → NaN throughout (the rules skip them)."""
    ids = customers["customer_id"]
    blocked = customers["blocked"].astype(bool).to_numpy()
    result = {}
    ordered = ids.isin(per_id.index).to_numpy()
    for column, no_orders in (("p_alive", np.nan), ("expected_orders", np.nan), ("p_buy_again", np.nan),
                              ("expected_value", 0.0)):
        values = per_id[column].reindex(ids).to_numpy(dtype=float)
        result[column] = np.where(blocked, np.nan, np.where(ordered, values, no_orders))
    return result


def _run_rate(state: State, config) -> dict:
    """The last window's order amount scaled to the value horizon (现实 only; others 0,
    blocked rows NaN)."""
    customers = state.customers
    blocked = customers["blocked"].astype(bool).to_numpy()
    active = (customers["lifecycle"] == ACTIVE).to_numpy()
    scale = config.churn.value_horizon_days / config.state.key_account_window_days
    value = (customers["revenue_window"].astype(float).fillna(0.0) * scale).clip(lower=0.0)
    nothing = np.full(len(customers), np.nan)
    return {"p_alive": nothing, "expected_orders": nothing, "p_buy_again": nothing,
            "expected_value": np.where(blocked, np.nan, np.where(active, value.to_numpy(), 0.0))}
