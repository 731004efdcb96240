"""BG/NBD model of repeat buying: is a customer still active, and how much will they buy?

The statistical churn rule of spec §3.5 rests on this model (Fader, Hardie & Lee 2005,
"Counting Your Customers the Easy Way: An Alternative to the Pareto/NBD Model",
Marketing Science 24(2); equation numbers below refer to that paper).  While active a
customer buys at a Poisson rate λ, λ ~ Gamma(r, α) across customers; after each
purchase they drop out with probability p, p ~ Beta(a, b) across customers.

A customer's history is summarised as (x, t_x, T): x repeat purchase occasions after
the first, t_x the time of the last one since the first, T the time from the first
purchase to the end of the observation.  Time is in arbitrary units (the pipeline
uses weeks); α scales with the unit, r, a and b do not.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy.special import expit

from pipeline.models.bg_family import ModelNotIdentified  # noqa: F401  (callers catch it from here)
from pipeline.models.bg_family import (as_arrays, count_terms, expected_given_alive,
                                         histories, maximise, simulate)

@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int


def rfm_summary(customer_ids, order_dates, as_of: date, *, unit_days: float = 7.0,
                amounts=None) -> pd.DataFrame:
    """One row per customer who ordered on or before ``as_of`` (index = customer id).

    Columns (float): x = repeat purchase days, t_x = last minus first purchase day,
    T = as_of minus first purchase day, both in units of ``unit_days`` days, and
    monetary = mean amount of the repeat purchase days (0 when x = 0; NaN for everyone
    when no ``amounts`` are given).  Several orders on one day are one purchase
    occasion whose amounts add up (spec §3 conventions); orders after ``as_of`` and
    rows without a date are ignored.  A missing amount counts as 0.

    Every purchase is placed at the end of its day and the observation ends at the
    end of ``as_of``, so a customer who first bought on 1997-01-01 has
    T = 272 / 7 = 38.86 weeks at 1997-09-30: the convention under which the CDNOW
    data reproduce the published parameters (and the paper's example customer
    x = 2, t_x = 30.43, T = 38.86).
    """
    if unit_days <= 0:
        raise ValueError("unit_days must be positive")
    frame = pd.DataFrame({
        "customer_id": pd.Series(customer_ids).reset_index(drop=True),
        "day": pd.to_datetime(pd.Series(order_dates).reset_index(drop=True)).dt.normalize(),
        "amount": (pd.to_numeric(pd.Series(amounts).reset_index(drop=True)).fillna(0.0)
                   if amounts is not None else 0.0),
    })
    end = pd.Timestamp(as_of).normalize()
    frame = frame[frame["day"].notna() & frame["customer_id"].notna() & (frame["day"] <= end)]
    days = frame.groupby(["customer_id", "day"], sort=True)["amount"].sum().reset_index()
    per_customer = days.groupby("customer_id", sort=True)
    first = per_customer["day"].min()
    last = per_customer["day"].max()
    first_amount = per_customer["amount"].first()  # days are sorted: the first day's amount
    x = per_customer.size().astype(float) - 1.0
    unit = pd.Timedelta(days=unit_days)
    summary = pd.DataFrame({
        "x": x,
        "t_x": (last - first) / unit,
        "T": (end - first) / unit,
    }).astype(float)
    if amounts is None:
        summary["monetary"] = np.nan
    else:
        repeat_total = per_customer["amount"].sum() - first_amount
        summary["monetary"] = (repeat_total / x.where(x > 0)).fillna(0.0).astype(float)
    summary.index.name = "customer_id"
    return summary


def _log_likelihood(log_params: np.ndarray, x, t_x, T, weight) -> tuple[float, np.ndarray]:
    """Sum of individual log-likelihoods L = A1·A2·(A3 + δ(x>0)·A4) of the paper's
    section 3, rearranged in log space, and its gradient in the log-parameters.

    Factoring out (α + t_x)^-(r+x) (Fader & Hardie 2013, note 027 on the "#NUM!"
    error) leaves a sum of two terms, "still active" and "dropped out after the last
    purchase" (the latter only for x > 0), whose log is taken with logaddexp so that
    no power of (α + T) ever overflows.  The analytic gradient saves the optimiser
    four likelihood evaluations per step against finite differences.
    """
    r, alpha, a, b = np.exp(log_params)
    repeat = x > 0
    log_ratio = np.log(alpha + T) - np.log(alpha + t_x)
    still_active = -(r + x) * log_ratio
    dropped_out = np.full_like(x, -np.inf)
    dropped_out[repeat] = np.log(a) - np.log(b + x[repeat] - 1.0)
    total = (r * np.log(alpha) - (r + x) * np.log(alpha + t_x)
             + np.logaddexp(still_active, dropped_out))
    # posterior weight of "dropped out"; the two terms' derivatives mix by it
    w_dropped = np.zeros_like(x)
    w_dropped[repeat] = expit(dropped_out[repeat] - still_active[repeat])
    w_active = 1.0 - w_dropped
    d_r = np.log(alpha) - np.log(alpha + t_x) - w_active * log_ratio
    d_alpha = (r / alpha - (r + x) / (alpha + t_x)
               - w_active * (r + x) * (1.0 / (alpha + T) - 1.0 / (alpha + t_x)))
    d_a = w_dropped / a
    d_b = -w_dropped / np.where(repeat, b + x - 1.0, 1.0)
    value = weight @ total + count_terms(r, a, b, x, weight, 0.0, d_r, d_a, d_b)
    gradient = np.array([weight @ d_r, weight @ d_alpha, weight @ d_a, weight @ d_b])
    return float(value), gradient * np.array([r, alpha, a, b])


def fit_bgnbd(x, t_x, T) -> BgNbdParams:
    """Maximum-likelihood BG/NBD parameters for customers' (x, t_x, T) histories.

    Raises ValueError on input a fit cannot be built from (empty, malformed, nobody
    with a repeat purchase): the caller must check there is enough data first.  Its
    subclass ModelNotIdentified means well-formed data the model does not fit (the
    maximum lies at a parameter's limit); a caller treats that as "no model today".
    """
    h = histories(x, t_x, T)
    r, alpha, a, b, log_likelihood = maximise(
        lambda log_params: _log_likelihood(log_params, h.x, h.t_x, h.T, h.weight), h, "BG/NBD")
    return BgNbdParams(r=r, alpha=alpha, a=a, b=b, log_likelihood=log_likelihood, n_customers=int(h.n))


def p_alive(params: BgNbdParams, x, t_x, T) -> np.ndarray:
    """P(still active at T | x, t_x, T) (Fader, Hardie & Lee, note 021 "Computing
    P(alive) using the BG/NBD model"): 1 / (1 + δ(x>0) a/(b+x-1) ((α+T)/(α+t_x))^(r+x)).
    A customer with x = 0 is active with certainty: in the BG/NBD, dropout only
    happens right after a repeat purchase."""
    x, t_x, T = as_arrays(x, t_x, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    result = np.ones_like(x)
    repeat = x > 0
    xr = x[repeat]
    # log odds of "dropped out after the last purchase" against "still active"
    log_odds = (np.log(a) - np.log(b + xr - 1.0)
                + (r + xr) * (np.log(alpha + T[repeat]) - np.log(alpha + t_x[repeat])))
    result[repeat] = expit(-log_odds)
    return result


def expected_purchases(params: BgNbdParams, t, x, t_x, T) -> np.ndarray:
    """Expected number of purchase occasions in (T, T + t] given the history, eq. 10.

    ``t`` is a scalar or an array like x.
    """
    x, t_x, T = as_arrays(x, t_x, T)
    t = np.broadcast_to(np.asarray(t, dtype=float), x.shape)
    if (t < 0).any():
        raise ValueError("the horizon t must be >= 0")
    given_alive = _expected_given_alive(params, t, x, T)
    return given_alive * p_alive(params, x, t_x, T)


def _expected_given_alive(params: BgNbdParams, t, x, T) -> np.ndarray:
    return expected_given_alive(params.r, params.alpha, params.a, params.b, t, x, T, shift=0.0)


def simulate_bgnbd(rng: np.random.Generator, T, r: float, alpha: float, a: float,
                   b: float) -> tuple[np.ndarray, np.ndarray]:
    """Draw (x, t_x) for customers observed for times T under the BG/NBD, vectorised.

    For checking fits and for benchmarks, not used by the nightly run.  The number
    of Poisson purchases in (0, T] and the geometric number of repeat purchases
    before dropout are drawn independently; x is the smaller.  Given n Poisson
    events in (0, T] their times are uniform, so the x-th of them is T·Beta(x, n-x+1).
    """
    return simulate(rng, T, r, alpha, a, b, shift=0)
